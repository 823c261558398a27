import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance } from 'fastify';
import { ERROR_CODES, FluxError, type ErrorCode } from '../core/index.js';

export interface ErrorBody {
  error_code: string;
  message: string;
}

/** Maps Fastify's own failures (parsing, validation, limits) onto the error registry. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'MALFORMED_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_REQUEST',
  FST_ERR_BAD_URL: 'MALFORMED_REQUEST',
  FST_ERR_VALIDATION: 'INVALID_PARAMETER_VALUE',
};

export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof FluxError) return { status: err.httpStatus, body: { error_code: err.code, message: err.message }, internal: err.httpStatus >= 500 };
  const fe = err as Partial<FastifyError> & { type?: string };
  if (fe.validation !== undefined) {
    return { status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: `invalid request: ${fe.message ?? 'validation failed'}` }, internal: false };
  }
  const mapped = fe.code !== undefined ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped !== undefined) return { status: ERROR_CODES[mapped], body: { error_code: mapped, message: fe.message ?? mapped }, internal: false };
  if (err instanceof SyntaxError || fe.type === 'entity.parse.failed') {
    return { status: 400, body: { error_code: 'MALFORMED_REQUEST', message: `malformed JSON: ${(err as Error).message}` }, internal: false };
  }
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return { status: 400, body: { error_code: 'MALFORMED_REQUEST', message: 'request body is nested too deeply' }, internal: false };
  }
  const status = typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500 ? fe.statusCode : 500;
  if (status < 500) return { status, body: { error_code: 'BAD_REQUEST', message: fe.message ?? 'bad request' }, internal: false };
  return { status: 500, body: { error_code: 'INTERNAL_ERROR', message: 'internal error; the server log has details under this request id' }, internal: true };
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (broken request lines or headers,
 * lying or conflicting lengths, oversized headers, a client that stops mid-body) are answered on
 * the socket with the same `{error_code, message}` shape as every other refusal.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request was not received in time']
        : [400, 'Bad Request', `malformed HTTP request${err.code ? ` (${err.code})` : ''}`];
  const body = JSON.stringify({ error_code: status === 400 ? 'MALFORMED_REQUEST' : 'BAD_REQUEST', message });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/** One handler turns anything thrown into `{error_code, message}`; stacks never reach clients. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const { status, body, internal } = toErrorResponse(err);
    if (internal) req.log.error({ err }, 'request failed');
    else req.log.debug({ code: body.error_code, msg: body.message }, 'request rejected');
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ error_code: 'ENDPOINT_NOT_FOUND', message: `no route for ${req.method} ${req.url.split('?')[0]}` });
  });
}
