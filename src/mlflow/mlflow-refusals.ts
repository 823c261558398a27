import { FluxError } from '../core/index.js';
import { safeRelativePath } from '../storage/artifacts/index.js';
import { pythonStrOf, pythonTypeName, pythonValue } from './python-repr.js';

/**
 * MLflow's refusals of request fields, worded as its server words them, since MLflow's clients
 * and tests match on the text.
 */

export function missing(name: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', `Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`, { field: name });
}

/** Longest rendering of a refused value an error message carries. */
const SHOWN_MAX = 1000;

/**
 * MLflow's refusal of a field's value: `Invalid value <str(value)> for parameter '<name>'
 * supplied. Hint: Value was of type '<type>'.`, the value printed as Python prints the parsed
 * JSON (see `pythonRepr`). `rawToken` is the field's JSON text as sent, when at hand.
 */
export function invalidValue(name: string, v: unknown, rawToken?: string): FluxError {
  const py = pythonValue(v, rawToken);
  const full = pythonStrOf(py);
  const shown = full.length > SHOWN_MAX ? `${full.slice(0, SHOWN_MAX)}…` : full;
  return new FluxError(
    'INVALID_PARAMETER_VALUE',
    `Invalid value ${shown} for parameter '${name}' supplied. Hint: Value was of type '${pythonTypeName(py)}'. See the API docs for more information about request parameters.`,
    { field: name },
  );
}

/**
 * An artifact path of an MLflow request (`artifacts/list`, the UI download routes), as MLflow
 * checks it: refused with exactly `Invalid path` when it, or any percent-decoding of it, holds a
 * `..` segment, is absolute, has a backslash, a control character or a `#`. Returns the segments.
 */
export function mlflowArtifactPath(path: string): string[] {
  const refuse = (): FluxError => new FluxError('INVALID_PARAMETER_VALUE', 'Invalid path', { field: 'path' });
  const check = (p: string): void => {
    if (p.includes('#')) throw refuse();
    try {
      safeRelativePath(p);
    } catch {
      throw refuse();
    }
  };
  // Clients may encode a path more than once: look through every layer (a bounded number).
  let current = path;
  for (let layer = 0; ; layer++) {
    check(current);
    if (layer === 5) throw refuse();
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      break; // a '%' that starts no escape: the text is what it is
    }
    if (next === current) break;
    current = next;
  }
  try {
    return safeRelativePath(path);
  } catch {
    throw refuse();
  }
}

export function invalid(message: string): FluxError {
  return new FluxError('INVALID_PARAMETER_VALUE', message);
}
