import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { FluxError, type ErrorCode } from '../../src/core/index.js';
import { LocalArtifactStore } from '../../src/storage/artifacts/index.js';
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

// The generic contract (round trips, large files, lists, deletes, path refusals) is the conformance
// suite's (test/conformance/artifact-store-conformance.ts); what only a folder has stays here:
// temporary files, files against folders, symbolic links.
describe('local artifact store: writes', () => {
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

describe('local artifact store: symbolic links', () => {
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
