import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stderr, so stdout stays free for command output (NDJSON, reports). */
/** `level` is `cfg.logLevel` (LOG_LEVEL, validated by the config); the default only serves tools without a config. */
export function createLogger(name: string, level = 'info'): Logger {
  return pino({ name, level, base: { service: name } }, pino.destination(2));
}
