/**
 * Structured logging (pino). Lines carry only allow-listed, PHI-free fields:
 * ids (queueId, sessionId), stage/event codes, listener/connector names,
 * remote IPs, domains, sizes, reply codes. Never subjects, bodies, full
 * addresses, passwords or remote reply text. Event codes are listed in
 * docs/events.md.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  /** Human-readable output; default: when stdout is a terminal. */
  readonly pretty?: boolean | undefined;
  /** Write somewhere other than stdout (tests). */
  readonly destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  const base = { level: options.level, base: { service: 'sealgate' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (pretty && !options.destination) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard', ignore: 'pid,hostname,service' } } });
  }
  if (options.destination) return pino(base, options.destination as pino.DestinationStream);
  // synchronous stdout writes, so no line is lost when the process is killed
  return pino(base, pino.destination({ dest: 1, sync: true }));
}
