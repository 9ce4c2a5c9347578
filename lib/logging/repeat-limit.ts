import type { LogFn, Logger } from 'pino';

/**
 * Rate limit for repeated identical lines, as a pino `hooks.logMethod`. A partner that is down, or a
 * client sending the same bad request in a loop, would otherwise write one line per request: the first
 * line of a kind is written, identical ones within `windowMs` are counted, and when the window closes
 * one line says how many were left out. Access lines ('request') are never limited: one per request.
 *
 * Limited: warnings and errors (not fatal), and any line carrying a `code` (a refused request).
 * "Identical" means same level, service, message, code and error message; the request id is ignored.
 */
export interface RepeatLimitOptions {
  windowMs: number;
  /** Distinct kinds tracked at once; past this, new kinds are written unlimited (bounded memory). */
  maxKinds?: number;
}

const WARN = 40;
const FATAL = 60;

interface Kind {
  until: number;
  suppressed: number;
  timer?: NodeJS.Timeout;
}

export function repeatLimitHook(options: RepeatLimitOptions) {
  const kinds = new Map<string, Kind>();
  const maxKinds = options.maxKinds ?? 1_000;

  return function logMethod(this: Logger, args: Parameters<LogFn>, method: LogFn, level: number): void {
    const [first, second] = args as unknown[];
    const fields = typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : undefined;
    const msg = fields ? second : first;
    const eligible = (level >= WARN && level < FATAL) || (fields !== undefined && 'code' in fields);
    if (!eligible || msg === 'request') return void method.apply(this, args);

    const err = (fields?.err ?? (first instanceof Error ? first : undefined)) as { message?: unknown } | undefined;
    const bindings = this.bindings() as { service?: unknown; name?: unknown };
    const key = JSON.stringify([level, bindings.service ?? bindings.name, msg, fields?.code, typeof err?.message === 'string' ? err.message.slice(0, 200) : null]);
    const now = Date.now();
    const kind = kinds.get(key);
    if (kind && now < kind.until) {
      kind.suppressed += 1;
      kind.timer ??= summarise(this, method, key, kind, typeof msg === 'string' ? msg : '', fields?.code);
      return;
    }
    if (!kind && kinds.size >= maxKinds) return void method.apply(this, args);
    kinds.set(key, { until: now + options.windowMs, suppressed: 0 });
    method.apply(this, args);
  };

  /** At the window's end, one line for what was left out; the next identical line is written again. */
  function summarise(logger: Logger, method: LogFn, key: string, kind: Kind, msg: string, code: unknown): NodeJS.Timeout {
    const timer = setTimeout(() => {
      kinds.delete(key);
      const seconds = Math.round(options.windowMs / 100) / 10;
      method.apply(logger, [{ suppressed: kind.suppressed, ...(code !== undefined ? { code } : {}) }, `${msg} (repeated ${kind.suppressed} more times in ${seconds} s; those lines were not written)`]);
    }, Math.max(0, kind.until - Date.now()));
    timer.unref();
    return timer;
  }
}
