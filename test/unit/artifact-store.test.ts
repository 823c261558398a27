import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { FluxError, type ErrorCode } from '../../src/core/index.js';
import { LocalArtifactStore, openArtifactStore } from '../../src/storage/artifacts/index.js';
import { tmpDir } from '../helpers/backends.js';

let root: string;
let outside: string;
let store: LocalArtifactStore;

beforeEach(() => {
  const base = tmpDir('fluxops-artifacts-');
  root = path.join(base, 'store');
  outside = path.join(base, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'top secret');
  store = new LocalArtifactStore(root);
});

describe('local artifact store: writes', () => {
  it('writes strings, buffers, streams and async iterables, reporting the size', async () => {
    expect(await store.put('a.txt', 'hello')).toEqual({ size: 5 });
    expect(await store.put('dir/b.bin', Buffer.from([1, 2, 3]))).toEqual({ size: 3 });
    expect(await store.put('dir/sub/c.txt', Readable.from([Buffer.from('ab'), Buffer.from('cd')]))).toEqual({ size: 4 });
    async function* chunks(): AsyncIterable<Uint8Array> {
      yield new TextEncoder().encode('x');
      yield new TextEncoder().encode('yz');
    }
    expect(await store.put('d.txt', chunks())).toEqual({ size: 3 });
    expect((await store.read('a.txt')).toString()).toBe('hello');
    expect([...(await store.read('dir/b.bin'))]).toEqual([1, 2, 3]);
    expect((await store.read('dir/sub/c.txt')).toString()).toBe('abcd');
    expect((await store.read('d.txt')).toString()).toBe('xyz');
    expect(tempFiles(root)).toEqual([]);
  });

  it('replaces a file whole and leaves no temporary files', async () => {
    await store.put('model/weights.json', 'old');
    await store.put('model/weights.json', 'new content');
    expect((await store.read('model/weights.json')).toString()).toBe('new content');
    expect(fs.readdirSync(path.join(root, 'model'))).toEqual(['weights.json']);
    expect(tempFiles(root)).toEqual([]);
  });

  it('a stream that fails midway leaves neither a partial file nor a temporary one, and keeps the old content', async () => {
    const failing = () =>
      new Readable({
        read() {
          this.push(Buffer.alloc(64 * 1024, 'a'));
          this.destroy(new Error('connection reset'));
        },
      });
    await expect(store.put('fresh.bin', failing())).rejects.toThrow(/connection reset/);
    expect(fs.existsSync(path.join(root, 'fresh.bin'))).toBe(false);
    expect(await store.exists('fresh.bin')).toBe(false);

    await store.put('kept.txt', 'original');
    await expect(store.put('kept.txt', failing())).rejects.toThrow(/connection reset/);
    expect((await store.read('kept.txt')).toString()).toBe('original');
    expect(tempFiles(root)).toEqual([]);
  });

  it('a stream that fails at once leaves no temporary file behind, however fast it fails', async () => {
    // eslint-disable-next-line require-yield
    const failsAtOnce = async function* (): AsyncIterable<Uint8Array> {
      throw new Error('no data');
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => expect(store.put(`burst/f${i}.bin`, failsAtOnce())).rejects.toThrow(/no data/)));
    expect(tempFiles(root)).toEqual([]);
    expect(await store.list('burst')).toEqual([]);
  });

  it('refuses to write over a directory, under a file, or to the root', async () => {
    await store.put('dir/file.txt', 'x');
    await rejectsWith(store.put('dir', 'x'), 'INVALID_PARAMETER_VALUE', /directory/);
    await rejectsWith(store.put('dir/file.txt/child', 'x'), 'INVALID_PARAMETER_VALUE', /goes through a file/);
    await rejectsWith(store.put('dir/file.txt/a/b/c', 'x'), 'INVALID_PARAMETER_VALUE', /goes through a file/);
    expect((await store.read('dir/file.txt')).toString()).toBe('x');
    await rejectsWith(store.put('', 'x'), 'INVALID_PARAMETER_VALUE');
    expect(tempFiles(root)).toEqual([]);
  });
});

describe('local artifact store: reads, lists and deletes', () => {
  it('streams a large file back unchanged', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) % 251;
    await store.put('big/blob.bin', big);
    const stream = await store.get('big/blob.bin');
    expect(stream).toBeInstanceOf(Readable);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(chunks.length).toBeGreaterThan(1); // really streamed, not one buffer
    expect(Buffer.concat(chunks).equals(big)).toBe(true);
  });

  it('reports missing artifacts as RESOURCE_DOES_NOT_EXIST', async () => {
    await rejectsWith(store.get('missing.txt'), 'RESOURCE_DOES_NOT_EXIST');
    await rejectsWith(store.read('missing.txt'), 'RESOURCE_DOES_NOT_EXIST');
    await store.put('dir/x.txt', 'x');
    await rejectsWith(store.get('dir'), 'RESOURCE_DOES_NOT_EXIST');
    expect(await store.exists('missing.txt')).toBe(false);
    expect(await store.exists('dir/x.txt')).toBe(true);
  });

  it('lists the direct children of a folder with sizes, sorted', async () => {
    await store.put('run/model/fluxops-model.json', '{}');
    await store.put('run/metrics.csv', 'a,b\n');
    await store.put('run/b.txt', 'bb');
    expect(await store.list('run')).toEqual([
      { path: 'run/b.txt', isDir: false, size: 2 },
      { path: 'run/metrics.csv', isDir: false, size: 4 },
      { path: 'run/model', isDir: true },
    ]);
    expect(await store.list('run/model')).toEqual([{ path: 'run/model/fluxops-model.json', isDir: false, size: 2 }]);
    expect(await store.list('')).toEqual([{ path: 'run', isDir: true }]);
    expect(await store.list('nothing/here')).toEqual([]);
  });

  it('deletes files and whole folders; deleting what is absent is fine; the root is refused', async () => {
    await store.put('run/a.txt', 'a');
    await store.put('run/model/m.json', 'm');
    await store.put('other.txt', 'o');
    await store.delete('run/a.txt');
    expect(await store.exists('run/a.txt')).toBe(false);
    await store.delete('run');
    expect(await store.exists('run/model/m.json')).toBe(false);
    expect(await store.list('')).toEqual([{ path: 'other.txt', isDir: false, size: 1 }]);
    await store.delete('never/was');
    await rejectsWith(store.delete(''), 'INVALID_PARAMETER_VALUE', /root/);
    await rejectsWith(store.delete('.'), 'INVALID_PARAMETER_VALUE', /root/);
  });
});

describe('local artifact store: paths that could leave the store', () => {
  const badPaths: Array<[string, RegExp]> = [
    ['..', /\.\./],
    ['../outside/secret.txt', /\.\./],
    ['a/../../outside/secret.txt', /\.\./],
    ['a/..', /\.\./],
    ['/etc/passwd', /relative/],
    ['C:/Windows/win.ini', /relative/],
    ['a\\..\\..\\outside\\secret.txt', /backslash/],
    ['a\u0000b', /control character/],
    ['a\nb', /control character/],
  ];

  it.each(badPaths)('refuses %j for every operation', async (bad, message) => {
    await rejectsWith(store.put(bad, 'x'), 'INVALID_PARAMETER_VALUE', message);
    await rejectsWith(store.get(bad), 'INVALID_PARAMETER_VALUE', message);
    await rejectsWith(store.read(bad), 'INVALID_PARAMETER_VALUE', message);
    await rejectsWith(store.exists(bad), 'INVALID_PARAMETER_VALUE', message);
    await rejectsWith(store.list(bad), 'INVALID_PARAMETER_VALUE', message);
    await rejectsWith(store.delete(bad), 'INVALID_PARAMETER_VALUE', message);
    expect(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe('top secret');
  });

  it('refuses a folder symlink planted inside the store that points outside, for reads and writes', async () => {
    await store.put('run/ok.txt', 'ok');
    fs.symlinkSync(outside, path.join(root, 'run', 'escape'), 'dir');
    await rejectsWith(store.get('run/escape/secret.txt'), 'INVALID_PARAMETER_VALUE', /symbolic link/);
    await rejectsWith(store.read('run/escape/secret.txt'), 'INVALID_PARAMETER_VALUE', /symbolic link/);
    await rejectsWith(store.exists('run/escape/secret.txt'), 'INVALID_PARAMETER_VALUE', /symbolic link/);
    await rejectsWith(store.list('run/escape'), 'INVALID_PARAMETER_VALUE', /symbolic link/);
    await rejectsWith(store.put('run/escape/planted.txt', 'evil'), 'INVALID_PARAMETER_VALUE', /symbolic link/);
    await rejectsWith(store.put('run/escape/secret.txt', 'overwritten'), 'INVALID_PARAMETER_VALUE', /symbolic link/);
    await rejectsWith(store.delete('run/escape/secret.txt'), 'INVALID_PARAMETER_VALUE', /symbolic link/);
    expect(fs.readdirSync(outside)).toEqual(['secret.txt']);
    expect(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe('top secret');
    // The link is not listed as content of the store.
    expect(await store.list('run')).toEqual([{ path: 'run/ok.txt', isDir: false, size: 2 }]);
  });

  it('refuses a file symlink planted inside the store, for reads and writes', async () => {
    await store.put('run/ok.txt', 'ok');
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'run', 'link.txt'));
    await rejectsWith(store.get('run/link.txt'), 'INVALID_PARAMETER_VALUE', /symbolic link/);
    await rejectsWith(store.read('run/link.txt'), 'INVALID_PARAMETER_VALUE', /symbolic link/);
    await rejectsWith(store.put('run/link.txt', 'overwritten'), 'INVALID_PARAMETER_VALUE', /symbolic link/);
    expect(fs.readFileSync(path.join(outside, 'secret.txt'), 'utf8')).toBe('top secret');
    expect(fs.lstatSync(path.join(root, 'run', 'link.txt')).isSymbolicLink()).toBe(true);
  });

  it('works when the store root itself is reached through a symlink', async () => {
    const linkedRoot = path.join(path.dirname(root), 'linked-root');
    fs.mkdirSync(root, { recursive: true });
    fs.symlinkSync(root, linkedRoot, 'dir');
    const viaLink = new LocalArtifactStore(linkedRoot);
    await viaLink.put('a/b.txt', 'through the link');
    expect((await store.read('a/b.txt')).toString()).toBe('through the link');
  });
});

describe('openArtifactStore', () => {
  it('opens folders and file: URIs, and refuses schemes it does not support yet', () => {
    const dir = tmpDir();
    expect(openArtifactStore(dir).uri).toBe(`file://${dir}`);
    expect(openArtifactStore(`file://${dir}`).uri).toBe(`file://${dir}`);
    expect(() => openArtifactStore('s3://bucket/prefix')).toThrow(/not supported/);
  });
});

function tempFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((p) => path.basename(p).startsWith('.tmp-'));
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
