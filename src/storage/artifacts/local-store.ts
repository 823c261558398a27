import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FluxError } from '../../core/index.js';
import type { ArtifactData, ArtifactEntry, ArtifactStore } from './artifact-store.js';
import { safeRelativePath } from './safe-path.js';

/** Artifact store on a local folder: atomic writes (temp file, fsync, rename), streamed reads. */
export class LocalArtifactStore implements ArtifactStore {
  readonly uri: string;
  private readonly root: string;
  private realRoot: string | undefined;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.uri = `file://${this.root}`;
  }

  private async rootReal(): Promise<string> {
    if (this.realRoot === undefined) {
      await fsp.mkdir(this.root, { recursive: true });
      this.realRoot = await fsp.realpath(this.root);
    }
    return this.realRoot;
  }

  async verify(): Promise<void> {
    let real: string;
    try {
      real = await this.rootReal();
      await fsp.access(real, fs.constants.W_OK);
    } catch (e) {
      this.realRoot = undefined;
      throw new FluxError('INVALID_PARAMETER_VALUE', `artifact root ${this.uri} cannot be used as a folder (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }

  /**
   * Resolves a relative path to an absolute one inside the root, refusing symlinks anywhere on
   * the way (a symlink planted inside the store must not lead outside it).
   */
  private async resolve(rel: string): Promise<{ abs: string; segments: string[] }> {
    const segments = safeRelativePath(rel);
    const root = await this.rootReal();
    let current = root;
    for (const seg of segments) {
      current = path.join(current, seg);
      const st = await fsp.lstat(current).catch(() => undefined);
      if (st === undefined) break;
      if (st.isSymbolicLink()) {
        throw new FluxError('INVALID_PARAMETER_VALUE', `path '${rel}' goes through a symbolic link, which the artifact store refuses`);
      }
    }
    return { abs: path.join(root, ...segments), segments };
  }

  async put(rel: string, data: ArtifactData): Promise<{ size: number }> {
    const { abs, segments } = await this.resolve(rel);
    if (segments.length === 0) throw new FluxError('INVALID_PARAMETER_VALUE', 'artifact path must name a file');
    const dir = path.dirname(abs);
    await fsp.mkdir(dir, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
      // A file stands where a folder of the path should be: the caller's mistake, not ours.
      if (e.code === 'EEXIST' || e.code === 'ENOTDIR') {
        throw new FluxError('INVALID_PARAMETER_VALUE', `artifact path '${rel}' goes through a file, not a folder`);
      }
      throw e;
    });
    const existing = await fsp.lstat(abs).catch(() => undefined);
    if (existing?.isDirectory()) throw new FluxError('INVALID_PARAMETER_VALUE', `artifact path '${rel}' is a directory`);
    const tmp = path.join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
    let size = 0;
    const out = fs.createWriteStream(tmp, { flags: 'wx' });
    try {
      const source = typeof data === 'string' || Buffer.isBuffer(data) ? Readable.from([Buffer.from(data)]) : data;
      await pipeline(
        source,
        async function* count(chunks: AsyncIterable<Uint8Array>) {
          for await (const chunk of chunks) {
            size += chunk.length;
            yield chunk;
          }
        },
        out,
      );
      const fh = await fsp.open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, abs);
      await syncDir(dir);
    } catch (e) {
      // The stream opens its file lazily: when the copy fails early, the open may still be under
      // way and would create the temp file after the rm below. Wait until the stream has closed.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      await fsp.rm(tmp, { force: true });
      throw e;
    }
    return { size };
  }

  async get(rel: string): Promise<Readable> {
    const { abs } = await this.resolve(rel);
    const st = await fsp.stat(abs).catch(() => undefined);
    if (st === undefined || !st.isFile()) throw new FluxError('RESOURCE_DOES_NOT_EXIST', `artifact '${rel}' does not exist`);
    return fs.createReadStream(abs);
  }

  async read(rel: string): Promise<Buffer> {
    const { abs } = await this.resolve(rel);
    try {
      return await fsp.readFile(abs);
    } catch {
      throw new FluxError('RESOURCE_DOES_NOT_EXIST', `artifact '${rel}' does not exist`);
    }
  }

  async exists(rel: string): Promise<boolean> {
    const { abs } = await this.resolve(rel);
    return fsp.stat(abs).then(
      () => true,
      () => false,
    );
  }

  async list(dir: string): Promise<ArtifactEntry[]> {
    const { abs, segments } = await this.resolve(dir);
    const entries = await fsp.readdir(abs, { withFileTypes: true }).catch(() => []);
    const prefix = segments.join('/');
    const out: ArtifactEntry[] = [];
    for (const e of entries) {
      if (e.name.startsWith('.tmp-') || e.isSymbolicLink()) continue;
      const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
      if (e.isDirectory()) out.push({ path: rel, isDir: true });
      else if (e.isFile()) out.push({ path: rel, isDir: false, size: (await fsp.stat(path.join(abs, e.name))).size });
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  async delete(rel: string): Promise<void> {
    const { abs, segments } = await this.resolve(rel);
    if (segments.length === 0) throw new FluxError('INVALID_PARAMETER_VALUE', 'refusing to delete the artifact store root');
    await fsp.rm(abs, { recursive: true, force: true });
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r').catch(() => undefined);
  if (fh === undefined) return;
  try {
    await fh.sync();
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    await fh.close();
  }
}
