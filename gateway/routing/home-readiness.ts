import type { RegistryEntry } from '../directory/registry-directory.js';

/** One of the home node's subgraphs as its own /health/ready saw it. */
export interface SubgraphReadiness {
  subgraph: string;
  ready: boolean;
  /** Why not, from its answer (its database is down, say), or why it gave none. */
  reason?: string;
}

/** A readiness check that takes longer than this counts as not ready: a probe must answer promptly. */
export const READY_TIMEOUT_MS = 2_000;

/**
 * Asks each of the home node's subgraphs (its data subgraphs and audit log) for its /health/ready, which
 * checks its database. A `{ __typename }` would not: the gateway stayed ready through a database outage.
 */
export async function homeReadiness(home: RegistryEntry, timeoutMs = READY_TIMEOUT_MS): Promise<SubgraphReadiness[]> {
  const urls: [string, string][] = [...Object.entries(home.subgraphs), ...(home.audit ? [['audit', home.audit] as [string, string]] : [])];
  return Promise.all(
    urls.map(async ([subgraph, url]): Promise<SubgraphReadiness> => {
      try {
        const response = await fetch(new URL('/health/ready', url), { signal: AbortSignal.timeout(timeoutMs) });
        if (response.ok) return { subgraph, ready: true };
        const body = (await response.json().catch(() => ({}))) as { reason?: unknown; status?: unknown };
        return { subgraph, ready: false, reason: String(body.reason ?? body.status ?? `HTTP ${response.status}`) };
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError';
        return { subgraph, ready: false, reason: timedOut ? `no answer within ${timeoutMs} ms` : 'not answering' };
      }
    }),
  );
}
