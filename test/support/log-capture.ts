import { createLogger, type Logger } from '../../lib/logging/logger.js';

export interface LogLine {
  level: number;
  msg?: string;
  requestId?: string;
  service?: string;
  err?: { message: string; stack?: string; type?: string };
  [field: string]: unknown;
}

/**
 * A JSON logger whose lines land in memory, synchronously, for a test to read back after a response.
 * Repeated identical lines are all written unless `repeatWindowMs` turns the rate limit on.
 */
export function captureLogs(level = 'debug', options: { repeatWindowMs?: number } = {}): { logger: Logger; lines: LogLine[]; raw: string[] } {
  const raw: string[] = [];
  const lines: LogLine[] = [];
  const destination = {
    write(chunk: string) {
      raw.push(chunk);
      lines.push(JSON.parse(chunk) as LogLine);
    },
  };
  return { logger: createLogger({ destination, level, format: 'json', repeatWindowMs: options.repeatWindowMs ?? 0 }), lines, raw };
}

export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;
