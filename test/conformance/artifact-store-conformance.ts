import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FluxError, type ErrorCode } from '../../src/core/index.js';
import type { ArtifactStore } from '../../src/storage/artifacts/index.js';

/** One artifact-store backend the conformance suite runs against. */
export interface ArtifactStoreBackend {
  /** Which backend, where: printed before the suite runs. */
  label: string;
  /**
   * A fresh, empty store for one test, and a store on the root just above it, through which the
   * tests plant a file outside the store and check that nothing else ever lands there.
   */
  fresh(): Promise<{ store: ArtifactStore; parent: ArtifactStore; storeName: string }>;
  /**
   * Cases an emulator (not the store) gets wrong, by title, with the reason. They are skipped for
   * that backend only, and the reason is printed, so the gap is visible in every run.
   */
  knownGaps?: Record<string, string> | undefined;
}

const MiB = 1024 * 1024;

/**
 * The artifact store contract, written once and run against every backend (local folder, S3,
 * Azure Blob). Cases that only a medium has (symlinks, temp files, fsync) stay in that backend's
 * own tests.
 */
export function describeArtifactStoreConformance(backend: ArtifactStoreBackend): void {
  let store: ArtifactStore;
  let parent: ArtifactStore;
  let storeName: string;

  beforeAll(() => {
    console.log(`artifact store conformance: running on ${backend.label}`);
    for (const [title, why] of Object.entries(backend.knownGaps ?? {})) console.log(`artifact store conformance: skipping '${title}' on this backend: ${why}`);
  });
  /** `it`, except for a case this backend's emulator is known to get wrong. */
  const test = (title: string, fn: () => Promise<void>): void => {
    if (backend.knownGaps?.[title] !== undefined) it.skip(`${title} (emulator gap: ${backend.knownGaps[title]})`, fn);
    else it(title, fn);
  };

  beforeEach(async () => {
    ({ store, parent, storeName } = await backend.fresh());
    await parent.put('outside/secret.txt', 'top secret');
  });

  /** Nothing but the store's own folder and the planted file exists above the store. */
  async function expectNothingOutside(): Promise<void> {
    const top = (await parent.list('')).map((e) => e.path);
    expect(top.filter((p) => p !== storeName && p !== 'outside')).toEqual([]);
    expect(await parent.list('outside')).toEqual([{ path: 'outside/secret.txt', isDir: false, size: 10 }]);
    expect((await parent.read('outside/secret.txt')).toString()).toBe('top secret');
  }

  describe(`artifact store conformance (${backend.label}): writes and reads`, () => {
    it('opens with verify() and names its root', async () => {
      await store.verify();
      expect(store.uri).toMatch(/^(file|s3|azure|wasbs):\/\//);
    });

    it('round-trips strings, buffers, streams, async iterables and empty files, reporting the size', async () => {
      expect(await store.put('a.txt', 'héllo')).toEqual({ size: 6 });
      expect(await store.put('dir/b.bin', Buffer.from([0, 1, 2, 255]))).toEqual({ size: 4 });
      expect(await store.put('dir/sub/c.txt', Readable.from([Buffer.from('ab'), Buffer.from('cd')]))).toEqual({ size: 4 });
      async function* chunks(): AsyncIterable<Uint8Array> {
        yield new TextEncoder().encode('x');
        yield new TextEncoder().encode('yz');
      }
      expect(await store.put('d.txt', chunks())).toEqual({ size: 3 });
      expect(await store.put('empty.txt', '')).toEqual({ size: 0 });
      expect(await store.put('empty-stream.txt', Readable.from([]))).toEqual({ size: 0 });
      expect((await store.read('a.txt')).toString()).toBe('héllo');
      expect([...(await store.read('dir/b.bin'))]).toEqual([0, 1, 2, 255]);
      expect((await store.read('dir/sub/c.txt')).toString()).toBe('abcd');
      expect((await store.read('d.txt')).toString()).toBe('xyz');
      expect((await store.read('empty.txt')).length).toBe(0);
      expect((await store.read('empty-stream.txt')).length).toBe(0);
      expect((await readStream(await store.get('dir/sub/c.txt'))).toString()).toBe('abcd');
    });

    it('normalises paths as the local store does (empty and "." segments go)', async () => {
      await store.put('./run//model/./m.json', 'm');
      expect((await store.read('run/model/m.json')).toString()).toBe('m');
      expect(await store.list('run/')).toEqual([{ path: 'run/model', isDir: true }]);
    });

    it('keeps names with spaces, unicode, percent signs and URL characters as they are', async () => {
      const names = ['with space/ü ñ 文件.txt', 'pct/%2e%2e/%2F.txt', 'url/a?b=c&d#e+f.txt', "quote/it's.txt"];
      for (const n of names) await store.put(n, n);
      for (const n of names) expect((await store.read(n)).toString()).toBe(n);
      expect(await store.list('pct')).toEqual([{ path: 'pct/%2e%2e', isDir: true }]);
      expect(await store.list('pct/%2e%2e')).toEqual([{ path: 'pct/%2e%2e/%2F.txt', isDir: false, size: 18 }]);
      expect(await store.list('url')).toEqual([{ path: 'url/a?b=c&d#e+f.txt', isDir: false, size: 19 }]);
      await expectNothingOutside();
    });

    it('replaces a file whole', async () => {
      await store.put('model/weights.json', 'old');
      await store.put('model/weights.json', 'new content');
      expect((await store.read('model/weights.json')).toString()).toBe('new content');
      expect(await store.list('model')).toEqual([{ path: 'model/weights.json', isDir: false, size: 11 }]);
    });

    it('a stream that fails midway leaves no file and keeps the old content', async () => {
      const failing = () =>
        new Readable({
          read() {
            this.push(Buffer.alloc(64 * 1024, 'a'));
            this.destroy(new Error('connection reset'));
          },
        });
      await expect(store.put('fresh.bin', failing())).rejects.toThrow(/connection reset/);
      expect(await store.exists('fresh.bin')).toBe(false);
      await store.put('kept.txt', 'original');
      await expect(store.put('kept.txt', failing())).rejects.toThrow(/connection reset/);
      expect((await store.read('kept.txt')).toString()).toBe('original');
      expect(await store.list('')).toEqual([{ path: 'kept.txt', isDir: false, size: 8 }]);
    });

    it('streams a large generated file through in parts and back unchanged', async () => {
      const size = 20 * MiB + 12345;
      const written = createHash('sha256');
      const { size: put } = await store.put('big/blob.bin', generated(size, written));
      expect(put).toBe(size);
      const stream = await store.get('big/blob.bin');
      expect(stream).toBeInstanceOf(Readable);
      const read = createHash('sha256');
      let chunks = 0;
      let total = 0;
      for await (const chunk of stream) {
        read.update(chunk as Buffer);
        total += (chunk as Buffer).length;
        chunks++;
      }
      expect(chunks).toBeGreaterThan(1); // really streamed, not one buffer
      expect(total).toBe(size);
      expect(read.digest('hex')).toBe(written.digest('hex'));
      expect(await store.list('big')).toEqual([{ path: 'big/blob.bin', isDir: false, size }]);
    });

    it('takes concurrent puts to different keys', async () => {
      const n = 40;
      const body = (i: number) => `${i}:`.padEnd(1000 + i * 97, String.fromCharCode(97 + (i % 26)));
      await Promise.all(Array.from({ length: n }, (_, i) => store.put(`conc/f${String(i).padStart(2, '0')}.txt`, i % 2 === 0 ? body(i) : Readable.from([Buffer.from(body(i))]))));
      const entries = await store.list('conc');
      expect(entries.map((e) => e.path)).toEqual(Array.from({ length: n }, (_, i) => `conc/f${String(i).padStart(2, '0')}.txt`));
      for (let i = 0; i < n; i++) expect((await store.read(`conc/f${String(i).padStart(2, '0')}.txt`)).toString()).toBe(body(i));
    });

    test('keeps one whole value when concurrent puts race on one key', async () => {
      const body = (i: number) => `${i}:`.padEnd(100_000 + i * 97, String.fromCharCode(97 + (i % 26)));
      const values = Array.from({ length: 8 }, (_, i) => body(i));
      await Promise.all(values.map((v) => store.put('race.txt', v)));
      expect(values).toContain((await store.read('race.txt')).toString());
    });
  });

  describe(`artifact store conformance (${backend.label}): lists, exists, deletes`, () => {
    it('lists the direct children of a folder with sizes, sorted', async () => {
      await store.put('run/model/fluxops-model.json', '{}');
      await store.put('run/model/deep/x.txt', 'x');
      await store.put('run/metrics.csv', 'a,b\n');
      await store.put('run/b.txt', 'bb');
      await store.put('runner.txt', 'r');
      expect(await store.list('run')).toEqual([
        { path: 'run/b.txt', isDir: false, size: 2 },
        { path: 'run/metrics.csv', isDir: false, size: 4 },
        { path: 'run/model', isDir: true },
      ]);
      expect(await store.list('run/model')).toEqual([
        { path: 'run/model/deep', isDir: true },
        { path: 'run/model/fluxops-model.json', isDir: false, size: 2 },
      ]);
      expect(await store.list('')).toEqual([
        { path: 'run', isDir: true },
        { path: 'runner.txt', isDir: false, size: 1 },
      ]);
      expect(await store.list('ru')).toEqual([]);
      expect(await store.list('nothing/here')).toEqual([]);
      expect(await store.list('run/b.txt')).toEqual([]);
    });

    test('lists a folder that holds only folders', async () => {
      await store.put('run/model/deep/er/x.txt', 'x');
      await store.put('run/model/deep/est/y.txt', 'y');
      expect(await store.list('')).toEqual([{ path: 'run', isDir: true }]);
      expect(await store.list('run')).toEqual([{ path: 'run/model', isDir: true }]);
      expect(await store.list('run/model/deep')).toEqual([
        { path: 'run/model/deep/er', isDir: true },
        { path: 'run/model/deep/est', isDir: true },
      ]);
      expect(await store.exists('run/model')).toBe(true);
    });

    it('lists more than 1000 children (pagination) and deletes them all', async () => {
      const files = 1010;
      const names = Array.from({ length: files }, (_, i) => `many/f${String(i).padStart(4, '0')}.txt`);
      const dirs = ['many/sub-a', 'many/sub-b', 'many/zz'];
      await inParallel([...names, ...dirs.map((d) => `${d}/x.txt`)], 16, (p) => store.put(p, 'x'));
      const listed = await store.list('many');
      expect(listed.length).toBe(files + dirs.length);
      expect(listed.filter((e) => e.isDir).map((e) => e.path)).toEqual(dirs);
      expect(listed.filter((e) => !e.isDir).map((e) => e.path)).toEqual(names);
      expect(new Set(listed.map((e) => e.path)).size).toBe(listed.length);
      await store.delete('many');
      expect(await store.list('many')).toEqual([]);
      expect(await store.exists('many')).toBe(false);
    });

    it('says what exists: files and folders holding files, not prefixes of names', async () => {
      await store.put('run/model/m.json', 'm');
      expect(await store.exists('run/model/m.json')).toBe(true);
      expect(await store.exists('run/model')).toBe(true);
      expect(await store.exists('run')).toBe(true);
      expect(await store.exists('')).toBe(true);
      expect(await store.exists('ru')).toBe(false);
      expect(await store.exists('run/model/m')).toBe(false);
      expect(await store.exists('missing.txt')).toBe(false);
    });

    it('reports missing artifacts as RESOURCE_DOES_NOT_EXIST on get and read, folders included', async () => {
      await store.put('dir/x.txt', 'x');
      for (const p of ['missing.txt', 'dir/missing.txt', 'dir', '']) {
        await rejectsWith(store.get(p), 'RESOURCE_DOES_NOT_EXIST');
        await rejectsWith(store.read(p), 'RESOURCE_DOES_NOT_EXIST');
      }
    });

    it('deletes files and whole folders, not siblings sharing a name prefix; absent is fine; the root is refused', async () => {
      await store.put('run/a.txt', 'a');
      await store.put('run/model/m.json', 'm');
      await store.put('run-2/keep.txt', 'k');
      await store.put('runner.txt', 'r');
      await store.delete('run/a.txt');
      expect(await store.exists('run/a.txt')).toBe(false);
      expect(await store.exists('run/model/m.json')).toBe(true);
      await store.delete('run');
      expect(await store.exists('run/model/m.json')).toBe(false);
      expect(await store.list('')).toEqual([
        { path: 'run-2', isDir: true },
        { path: 'runner.txt', isDir: false, size: 1 },
      ]);
      await store.delete('never/was');
      await rejectsWith(store.delete(''), 'INVALID_PARAMETER_VALUE', /root/);
      await rejectsWith(store.delete('.'), 'INVALID_PARAMETER_VALUE', /root/);
      await rejectsWith(store.put('', 'x'), 'INVALID_PARAMETER_VALUE');
      await expectNothingOutside();
    });
  });

  describe(`artifact store conformance (${backend.label}): paths that could leave the store`, () => {
    const badPaths: Array<[string, RegExp]> = [
      ['..', /\.\./],
      ['../outside/secret.txt', /\.\./],
      ['a/../../outside/secret.txt', /\.\./],
      ['a/..', /\.\./],
      ['/etc/passwd', /relative/],
      ['/outside/secret.txt', /relative/],
      ['C:/Windows/win.ini', /relative/],
      ['a\\..\\..\\outside\\secret.txt', /backslash/],
      ['..\\outside\\secret.txt', /backslash/],
      ['a\u0000b', /control character/],
      ['a\nb', /control character/],
    ];

    it.each(badPaths)('refuses %j for every operation', async (bad, message) => {
      await rejectsWith(store.put(bad, 'x'), 'INVALID_PARAMETER_VALUE', message);
      await rejectsWith(store.put(bad, Readable.from([Buffer.from('x')])), 'INVALID_PARAMETER_VALUE', message);
      await rejectsWith(store.get(bad), 'INVALID_PARAMETER_VALUE', message);
      await rejectsWith(store.read(bad), 'INVALID_PARAMETER_VALUE', message);
      await rejectsWith(store.exists(bad), 'INVALID_PARAMETER_VALUE', message);
      await rejectsWith(store.list(bad), 'INVALID_PARAMETER_VALUE', message);
      await rejectsWith(store.delete(bad), 'INVALID_PARAMETER_VALUE', message);
      await expectNothingOutside();
    });

    it('treats percent-encoded dots as plain names that stay inside the store', async () => {
      // The local store does not decode paths, so %2e%2e is a name, not '..'; every store agrees.
      await store.put('%2e%2e/%2e%2e/outside/secret.txt', 'planted');
      await store.put('%2e%2e/here.txt', 'here');
      await store.put('a/%2E%2E%2f%2E%2E%2foutside/x.txt', 'planted');
      await store.put('a/here.txt', 'here');
      expect((await store.read('%2e%2e/%2e%2e/outside/secret.txt')).toString()).toBe('planted');
      expect(await store.list('')).toEqual([
        { path: '%2e%2e', isDir: true },
        { path: 'a', isDir: true },
      ]);
      await store.delete('%2e%2e');
      expect(await store.list('')).toEqual([{ path: 'a', isDir: true }]);
      await expectNothingOutside();
    });

    it('refuses overlong paths and names', async () => {
      await rejectsWith(store.put('a/'.repeat(600), 'x'), 'INVALID_PARAMETER_VALUE', /longer than 1024/);
      await rejectsWith(store.put(`${'n'.repeat(256)}.txt`, 'x'), 'INVALID_PARAMETER_VALUE', /255 bytes/);
    });
  });
}

/** A deterministic byte stream of `size` bytes made on the fly (never held whole), hashed as it goes. */
function generated(size: number, hash: ReturnType<typeof createHash>): Readable {
  const chunk = 256 * 1024;
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(chunk, size - sent);
      const buf = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) buf[i] = ((sent + i) * 31 + ((sent + i) >>> 13)) & 0xff;
      sent += n;
      hash.update(buf);
      this.push(buf);
    },
  });
}

async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function inParallel<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(FluxError);
  expect((error as FluxError).code).toBe(code);
  if (message !== undefined) expect((error as FluxError).message).toMatch(message);
}
