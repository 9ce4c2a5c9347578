import { createLogger, type Logger } from '../../lib/logging/logger.js';

export interface LogLine {
  level: number;
  msg?: string;
  requestId?: string;
  service?: string;
  err?: { message: string; stack?: string; type?: string };
  [field: string]: unknown;
}

/** A JSON logger whose lines land in memory, synchronously, for a test to read back after a response. */
export function captureLogs(level = 'debug'): { logger: Logger; lines: LogLine[]; raw: string[] } {
  const raw: string[] = [];
  const lines: LogLine[] = [];
  const destination = {
    write(chunk: string) {
      raw.push(chunk);
      lines.push(JSON.parse(chunk) as LogLine);
    },
  };
  return { logger: createLogger({ destination, level, format: 'json' }), lines, raw };
}

export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;
