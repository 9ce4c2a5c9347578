/** Figures of one target on one query, summed over the rounds. */
export interface Cell {
  target: string;
  query: string;
  requests: number;
  errors: number;
  seconds: number;
  latencies: number[];
  cpuMs: { gateway: number; node: number; postgres: number };
  statements: Record<string, number>;
  firstError?: string;
}

export interface CellSummary {
  target: string;
  query: string;
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  requests: number;
  cpuMsPerRequest: { gateway: number; node: number; postgres: number; total: number };
  statementsPerRequest: number;
  statementsBySchema: Record<string, number>;
  firstError?: string;
}

const round = (n: number, digits = 2) => Number(n.toFixed(digits));

export function summarise(cell: Cell): CellSummary {
  const sorted = [...cell.latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const per = (n: number) => (cell.requests ? n / cell.requests : NaN);
  const statements = Object.values(cell.statements).reduce((a, b) => a + b, 0);
  return {
    target: cell.target,
    query: cell.query,
    reqPerSec: round(cell.requests / cell.seconds, 1),
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    errors: cell.errors,
    requests: cell.requests,
    cpuMsPerRequest: {
      gateway: round(per(cell.cpuMs.gateway)),
      node: round(per(cell.cpuMs.node)),
      postgres: round(per(cell.cpuMs.postgres)),
      total: round(per(cell.cpuMs.gateway + cell.cpuMs.node + cell.cpuMs.postgres)),
    },
    statementsPerRequest: round(per(statements)),
    statementsBySchema: Object.fromEntries(Object.entries(cell.statements).map(([k, v]) => [k, round(per(v))])),
    ...(cell.firstError ? { firstError: cell.firstError } : {}),
  };
}

/** JSON with object keys sorted, so that two gateways' answers compare whatever order they wrote fields in. */
export function normalised(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sort) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => [k, sort(x)])) : v;
  return JSON.stringify(sort(value));
}
