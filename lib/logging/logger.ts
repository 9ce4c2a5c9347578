import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

/**
 * The one logger of every process. JSON lines in production (NODE_ENV=production or LOG_FORMAT=json),
 * readable lines in development. Every line about a request comes from `ctx.log`, a child of this one
 * carrying the request id (and, once identities exist, the caller), so nobody passes them by hand.
 *
 * Levels: a request refused for the client's own reason is `info` (no stack); a dependency that did
 * not answer is `warn`; an infrastructure failure or a bug is `error` with the error as `err`.
 */
export type Logger = PinoLogger;

export interface LoggerOptions {
  /** Process or service name, on every line (`gateway`, `registry-node`, `units`...). */
  name?: string;
  /** trace, debug, info, warn, error, fatal, silent. Default LOG_LEVEL, else info (silent under vitest). */
  level?: string;
  /** Where lines go: tests pass a stream to read them back. Default stdout. */
  destination?: DestinationStream;
  format?: 'json' | 'pretty';
}

// Credentials never reach a line, even when someone logs a header map or a fetch init by mistake.
const REDACT = ['authorization', 'headers.authorization', 'req.headers.authorization', 'init.headers.authorization', '*.headers.authorization'];

export function createLogger(options: LoggerOptions = {}): Logger {
  const env = process.env;
  const level = options.level ?? env.LOG_LEVEL ?? (env.VITEST ? 'silent' : 'info');
  const format = options.format ?? (env.LOG_FORMAT === 'json' || env.NODE_ENV === 'production' ? 'json' : env.LOG_FORMAT === 'pretty' ? 'pretty' : options.destination ? 'json' : 'pretty');
  const destination =
    options.destination ?? (format === 'pretty' ? pretty({ colorize: process.stdout.isTTY, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l', sync: true }) : pino.destination({ sync: true }));
  return pino(
    {
      name: options.name,
      level,
      base: { pid: undefined, hostname: undefined },
      serializers: { err: pino.stdSerializers.errWithCause },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    destination,
  );
}

/** The process-wide logger; entry points may replace it once at start-up (`setRootLogger`). */
let root: Logger = createLogger();

export function rootLogger(): Logger {
  return root;
}

export function setRootLogger(logger: Logger): void {
  root = logger;
}
