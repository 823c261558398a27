/**
 * The one error registry. Every failure that reaches a client carries one of these codes; the
 * HTTP status lives here and nowhere else. Codes follow MLflow's names where MLflow has one, so
 * the MLflow adapter can pass errors through unchanged.
 */
export const ERROR_CODES = {
  INVALID_PARAMETER_VALUE: 400,
  BAD_REQUEST: 400,
  MALFORMED_REQUEST: 400,
  INVALID_STATE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  INVALID_DATA: 400,
  UNSUPPORTED_MODEL_FORMAT: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  SCHEMA_TOO_NEW: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class FluxError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable detail (for example the offending field); never a stack. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'FluxError';
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code];
  }
}

export function isFluxError(e: unknown): e is FluxError {
  return e instanceof FluxError;
}

/** Shorthands for the codes thrown most often. */
export const invalid = (message: string, details?: Record<string, unknown>): FluxError =>
  new FluxError('INVALID_PARAMETER_VALUE', message, details);
export const notFound = (message: string): FluxError => new FluxError('RESOURCE_DOES_NOT_EXIST', message);
export const alreadyExists = (message: string): FluxError => new FluxError('RESOURCE_ALREADY_EXISTS', message);
