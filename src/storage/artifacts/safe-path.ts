import { FluxError } from '../../core/index.js';

/**
 * Normalises an artifact path and refuses anything that could leave the store: absolute paths,
 * drive letters, `..` segments, backslashes, NUL and control characters. Returns the segments.
 */
export function safeRelativePath(input: string, field = 'path'): string[] {
  if (typeof input !== 'string') throw new FluxError('INVALID_PARAMETER_VALUE', `${field} must be a string`);
  if (input.length > 1024) throw new FluxError('INVALID_PARAMETER_VALUE', `${field} is longer than 1024 characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\\]/.test(input)) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${field} '${printable(input)}' contains a backslash or control character`);
  }
  if (input.startsWith('/') || /^[a-zA-Z]:/.test(input)) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${field} '${printable(input)}' must be relative, not absolute`);
  }
  const segments = input.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${field} '${printable(input)}' must not contain '..'`);
  }
  // File systems (and object stores' key rules) cap a name at 255 bytes; refuse it here, as the
  // client's mistake, rather than fail in the store.
  const long = segments.find((seg) => Buffer.byteLength(seg) > 255);
  if (long !== undefined) {
    throw new FluxError('INVALID_PARAMETER_VALUE', `${field} has a segment longer than 255 bytes ('${printable(long).slice(0, 40)}…')`);
  }
  return segments;
}

function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f]/g, '?').slice(0, 200);
}
