import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Structured JSON logs. Level from FLUXOPS_LOG_LEVEL (default info; 'silent' in tests). */
export function createLogger(options: LoggerOptions = {}, toStderr = false): Logger {
  const opts = { level: process.env.FLUXOPS_LOG_LEVEL ?? 'info', base: { service: 'fluxops' }, ...options };
  // The CLI keeps stdout for what it tells the user and sends JSON logs to stderr.
  return toStderr ? pino(opts, pino.destination(2)) : pino(opts);
}
