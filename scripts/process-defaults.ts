import { describeUrl, type DatabaseConfig } from '../lib/database/database.js';
import type { NodeSubgraphName } from '../lib/schema/contract.js';

/**
 * The one set of defaults of every entry point (npm start, npm run registry, npm run gateway, the
 * containers). HOST is 127.0.0.1 unless set: nothing listens on other interfaces by accident.
 */
export const DEFAULT_HOST = '127.0.0.1';
/** The gateway's port; under `npm start` the node's subgraphs take PORT+1 to PORT+4. */
export const DEFAULT_GATEWAY_PORT = 4000;
/** `npm run registry`'s first subgraph port (the four take port to port+3). */
export const DEFAULT_REGISTRY_PORT = 5000;
export const DEFAULT_HOME = { country: 'CN', name: 'China national robot registry' };
/** The embedded database of `npm start`'s home node (`npm run registry` uses data/registry-<country>). */
export const HOME_DATA_DIR = 'data/registry';

export function hostFrom(env: NodeJS.ProcessEnv): string {
  return env.HOST?.trim() || DEFAULT_HOST;
}

/** A TCP port from a flag or variable; 0 means "any free port" (tests). */
export function parsePort(value: string | undefined, fallback: number, what: string): number {
  if (value === undefined || value.trim() === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${what} must be a port number (0-65535), not "${value}"`);
  return port;
}

/** The node's four subgraphs on consecutive ports from `first`; 0 gives each a free port. */
export function subgraphPorts(first: number, names: readonly NodeSubgraphName[]): Partial<Record<NodeSubgraphName, number>> {
  return Object.fromEntries(names.map((name, i) => [name, first === 0 ? 0 : first + i]));
}

/**
 * The database of `npm run registry`: --database-url, --data-dir, DATABASE_URL, DATA_DIR, then
 * data/registry-<country>, first given wins; `describe` says which was taken, for the start-up line.
 */
export function registryDatabase(
  flags: { databaseUrl?: string; dataDir?: string },
  env: NodeJS.ProcessEnv,
  country: string,
): { config: DatabaseConfig; describe: string } {
  const url = flags.databaseUrl?.trim();
  if (url) return { config: { url }, describe: `Postgres at ${describeUrl(url)} (--database-url)` };
  const dir = flags.dataDir?.trim();
  if (dir) return { config: { dataDir: dir }, describe: `embedded PGlite in ${dir} (--data-dir)` };
  const envUrl = env.DATABASE_URL?.trim();
  if (envUrl) return { config: { url: envUrl }, describe: `Postgres at ${describeUrl(envUrl)} (DATABASE_URL)` };
  const envDir = env.DATA_DIR?.trim();
  if (envDir) return { config: { dataDir: envDir }, describe: `embedded PGlite in ${envDir} (DATA_DIR)` };
  const fallback = `data/registry-${country}`;
  return { config: { dataDir: fallback }, describe: `embedded PGlite in ${fallback} (default; set DATABASE_URL for Postgres)` };
}
