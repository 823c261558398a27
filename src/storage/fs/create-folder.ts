import fs from 'node:fs';
import path from 'node:path';
import { FluxError } from '../../core/index.js';

/**
 * Creates a folder and its missing parents, one segment at a time, and checks it is writable.
 *
 * Not `mkdir -p` (`fs.mkdirSync(…, { recursive: true })`): on file systems such as /proc a
 * mkdir answers ENOENT although the parent exists, and Node's recursive mkdir then retries
 * forever at 100 % CPU. Walking up to the first existing ancestor and creating each missing
 * segment once ends every case with one error that names the folder.
 *
 * `what` names the folder for people, e.g. "the FluxOps home"; failures read
 * "cannot create <what> '<dir>': <reason>" and are INVALID_PARAMETER_VALUE (a bad path is the
 * caller's input, CLI exit code 2).
 */
export function createFolder(dir: string, what: string): string {
  const abs = path.resolve(dir);
  const fail = (reason: string): FluxError => new FluxError('INVALID_PARAMETER_VALUE', `cannot create ${what} '${abs}': ${reason}`, { path: abs });
  const missing: string[] = [];
  for (let current = abs; ; ) {
    let st: fs.Stats;
    try {
      st = fs.statSync(current);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTDIR: an ancestor is a file; walking up finds and names it.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fail(folderErrorReason(code, current));
      missing.unshift(current);
      const parent = path.dirname(current);
      if (parent === current) throw fail('the file system has no root folder'); // unreachable on a sane system
      current = parent;
      continue;
    }
    if (!st.isDirectory()) throw fail(folderErrorReason('ENOTDIR', current));
    break;
  }
  for (const segment of missing) {
    try {
      fs.mkdirSync(segment);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Another process made it meanwhile: fine if it is a folder.
      if (code === 'EEXIST' && fs.statSync(segment, { throwIfNoEntry: false })?.isDirectory() === true) continue;
      throw fail(folderErrorReason(code, segment));
    }
  }
  try {
    fs.accessSync(abs, fs.constants.W_OK | fs.constants.X_OK);
  } catch (e) {
    throw fail(folderErrorReason((e as NodeJS.ErrnoException).code, abs));
  }
  return abs;
}

/** The reason part of a folder failure, for an errno code met at `at`. */
export function folderErrorReason(code: string | undefined, at: string): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOTDIR':
      return `'${at}' is a file, not a folder`;
    case 'EEXIST':
      return `'${at}' exists and is not a folder`;
    case 'ENOENT':
      // mkdir in an existing folder answering ENOENT: a virtual file system such as /proc.
      return `the file system at '${path.dirname(at)}' does not allow creating folders`;
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'the disk quota is exhausted';
    case 'ENAMETOOLONG':
      return 'the path is too long';
    case 'ELOOP':
      return 'the path has a loop of symbolic links';
    default:
      return `the system refused it (${code ?? 'unknown error'})`;
  }
}
