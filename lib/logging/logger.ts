import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import { repeatLimitHook } from './repeat-limit.js';

/**
 * The one logger of every process. JSON lines in production (NODE_ENV=production or LOG_FORMAT=json),
 * readable lines in development. Every line about a request comes from `ctx.log`, a child of this one
 * carrying the request id (and, once identities exist, the caller), so nobody passes them by hand.
 *
 * Levels (docs/operations.md): a request refused for the client's own reason is `info` (no stack), once,
 * by the process facing the client; a dependency that did not answer is `warn`; an infrastructure failure
 * or a bug is `error` with the error as `err`; `fatal` only when the process exits. Repeated identical
 * warnings, errors and refusals are rate-limited (repeat-limit.ts).
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
  /** Identical warnings, errors and refusals are written once per window (LOG_REPEAT_SECONDS, default 10; 0: all). */
  repeatWindowMs?: number;
}

// Credentials never reach a line, even when someone logs a header map or a fetch init by mistake; nor do
// owner references or request variables (owners, names, notes), nor a database error's row values
// (`detail`: "Failing row contains ...", PGlite's `params`).
const REDACT = [
  'authorization', 'headers.authorization', 'req.headers.authorization', 'init.headers.authorization', '*.headers.authorization',
  'cookie', 'headers.cookie', '*.headers.cookie', 'headers["x-api-key"]', '*.headers["x-api-key"]',
  'token', '*.token', 'secret', '*.secret', 'password', '*.password', 'apiKey', '*.apiKey',
  'owner', '*.owner', 'owners', '*.owners', 'variables', '*.variables',
  'err.detail', 'err.params', 'err.parameters', 'err.cause.detail', 'err.cause.params',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  const env = process.env;
  const level = options.level ?? env.LOG_LEVEL ?? (env.VITEST ? 'silent' : 'info');
  const format = options.format ?? (env.LOG_FORMAT === 'json' || env.NODE_ENV === 'production' ? 'json' : env.LOG_FORMAT === 'pretty' ? 'pretty' : options.destination ? 'json' : 'pretty');
  const destination =
    options.destination ?? (format === 'pretty' ? pretty({ colorize: process.stdout.isTTY, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l', sync: true }) : pino.destination({ sync: true }));
  const repeatWindowMs = options.repeatWindowMs ?? repeatWindowFromEnv(env);
  return pino(
    {
      name: options.name,
      level,
      base: { pid: undefined, hostname: undefined },
      serializers: { err: pino.stdSerializers.errWithCause },
      redact: { paths: REDACT, censor: '[redacted]' },
      ...(repeatWindowMs > 0 ? { hooks: { logMethod: repeatLimitHook({ windowMs: repeatWindowMs }) } } : {}),
    },
    destination,
  );
}

function repeatWindowFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.LOG_REPEAT_SECONDS?.trim();
  if (!raw) return env.VITEST ? 0 : 10_000; // tests count lines; logging.test.ts turns it on
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`LOG_REPEAT_SECONDS must be a number of seconds (0: write every line), got "${raw}"`);
  return seconds * 1000;
}

/** The process-wide logger; entry points may replace it once at start-up (`setRootLogger`). */
let root: Logger = createLogger();

export function rootLogger(): Logger {
  return root;
}

export function setRootLogger(logger: Logger): void {
  root = logger;
}
