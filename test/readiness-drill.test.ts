import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway-server.js';
import { openDatabase, type Database } from '../lib/database/database.js';
import { startRegistryNode, type RunningNode } from '../subgraphs/registry-node.js';
import { TEST_SIGNING } from './support/signing.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';
// A Postgres drill: once, when the suite runs on Postgres, on a server of its own (never the shared one).
const runs = !!process.env.DATABASE_URL && existsSync(`${PG_BIN}/pg_ctl`);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A Postgres of the test's own: initdb into a temporary folder, its own port, run as the postgres user. */
async function ownPostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'readiness-pg-'));
  chmodSync(dir, 0o700);
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
  chownSync(dir, uid, gid);
  const port = await freePort();
  const asPostgres = (args: string[]) =>
    execFileSync('su', ['postgres', '-c', args.map((a) => `'${a}'`).join(' ')], { stdio: 'pipe' });
  asPostgres([`${PG_BIN}/initdb`, '-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres']);
  const ctl = (...args: string[]) => asPostgres([`${PG_BIN}/pg_ctl`, '-D', join(dir, 'data'), '-w', ...args]);
  const start = () => ctl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, '-l', join(dir, 'log'), 'start');
  start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop: () => ctl('-m', 'fast', 'stop'),
    remove() {
      try {
        ctl('-m', 'immediate', 'stop');
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Issue 9, "Readiness that means something": the gateway is ready only while the home node's subgraphs
 * are, and each subgraph's readiness checks its database. The home node's own Postgres is stopped and
 * started again under a running gateway and node.
 */
describe.runIf(runs)('readiness through a stop and start of the home node\'s database', () => {
  let pg: Awaited<ReturnType<typeof ownPostgres>>;
  let database: Database;
  let node: RunningNode;
  let gateway: RunningGateway;
  const ready = async () => {
    const response = await fetch(gateway.url.replace('/graphql', '/health/ready'));
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    pg = await ownPostgres();
    database = await openDatabase({ url: pg.url });
    node = await startRegistryNode({ node: { country: 'CN', name: 'CN registry' }, database, signing: TEST_SIGNING });
    gateway = await startGateway({
      directory: { registries: [{ name: 'CN registry', countries: ['CN'], home: true, subgraphs: node.urls }] },
      signing: TEST_SIGNING,
      limits: false,
    });
  });
  afterAll(async () => {
    await gateway?.stop();
    await node?.stop();
    await database?.close().catch(() => undefined);
    pg?.remove();
  });

  it('is ready while the database answers', async () => {
    const { status, body } = await ready();
    expect(status).toBe(200);
    expect(body.home).toEqual(['enterprises', 'product-models', 'units', 'lifecycle', 'audit'].map((subgraph) => ({ subgraph, ready: true })));
  });

  it('answers 503 naming every home subgraph while the database is stopped, and stays live', async () => {
    pg.stop();
    const { status, body } = await ready();
    expect(status).toBe(503);
    expect(body.status).toBe('unavailable');
    expect(body.reason).toMatch(/^home registry "CN registry" is not ready: enterprises \(.+\), product-models \(.+\), units \(.+\), lifecycle \(.+\), audit \(.+\)$/);
    expect(body.home.every((s: { ready: boolean }) => !s.ready)).toBe(true);
    const unitsReady = await fetch(node.urls.units!.replace('/graphql', '/health/ready'));
    expect(unitsReady.status).toBe(503);
    expect((await fetch(gateway.url.replace('/graphql', '/health/live'))).status).toBe(200);
  });

  it('is ready again once the database is back, without a restart', async () => {
    pg.start();
    const { status, body } = await ready();
    expect(body.reason).toBeUndefined();
    expect(status).toBe(200);
  });
});

describe('gateway readiness when the home node loses its database (any database)', () => {
  it('answers 503 naming the home subgraphs that are not ready', async () => {
    const { startFederation } = await import('./support/federation.js');
    const fed = await startFederation([{ country: 'CN' }]);
    try {
      const url = fed.gateway.url.replace('/graphql', '/health/ready');
      expect((await fetch(url)).status).toBe(200);
      await fed.databases[0]!.close();
      const response = await fetch(url);
      const body = (await response.json()) as any;
      expect(response.status).toBe(503);
      expect(body.reason).toMatch(/^home registry "CN registry" is not ready: enterprises \(/);
      expect(body.home.map((s: { subgraph: string; ready: boolean }) => [s.subgraph, s.ready])).toEqual(
        ['enterprises', 'product-models', 'units', 'lifecycle', 'audit'].map((s) => [s, false]),
      );
    } finally {
      await fed.stop().catch(() => undefined);
    }
  });
});
