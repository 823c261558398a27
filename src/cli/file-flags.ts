import fs from 'node:fs';
import path from 'node:path';
import { FluxError } from '../core/index.js';
import { folderErrorReason } from '../storage/fs/index.js';

/**
 * Checks of the files named by flags (`--data`, `--input`, `--output`), so a folder given where a
 * file is expected, or a file that is not there, is one sentence naming the flag (exit code 2)
 * instead of Node's `EISDIR: illegal operation on a directory, read`.
 */
export function checkInputFile(flag: string, file: string): void {
  const st = statOf(flag, file);
  if (st === undefined) throw bad(flag, file, 'no such file');
  if (st.isDirectory()) throw bad(flag, file, 'it is a folder; give a CSV file');
  if (!st.isFile()) throw bad(flag, file, 'it is not a regular file');
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch (e) {
    throw bad(flag, file, folderErrorReason((e as NodeJS.ErrnoException).code, file));
  }
}

/** Reads a file named by a flag as UTF-8 text, with the checks of `checkInputFile`. */
export function readInputFile(flag: string, file: string): string {
  checkInputFile(flag, file);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw bad(flag, file, folderErrorReason((e as NodeJS.ErrnoException).code, file));
  }
}

/** A file to be written: not a folder, and in a folder that exists. */
export function checkOutputFile(flag: string, file: string): void {
  const st = statOf(flag, file);
  if (st?.isDirectory() === true) throw bad(flag, file, 'it is a folder; give the path of a file to write');
  const dir = path.dirname(path.resolve(file));
  const dirStat = statOf(flag, dir);
  if (dirStat === undefined) throw bad(flag, file, `its folder '${dir}' does not exist`);
  if (!dirStat.isDirectory()) throw bad(flag, file, `'${dir}' is a file, not a folder`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw bad(flag, file, folderErrorReason((e as NodeJS.ErrnoException).code, dir));
  }
}

function statOf(flag: string, file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOTDIR: a file stands where a folder of the path should be, so the file is not there either.
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw bad(flag, file, folderErrorReason(code, file));
  }
}

function bad(flag: string, file: string, reason: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', `${flag} '${file}': ${reason}`, { flag });
}
