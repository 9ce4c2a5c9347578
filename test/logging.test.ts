import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../lib/database/database.js';
import { startGateway, type RunningGateway } from '../gateway/gateway-server.js';
import { startRegistryNode, type RunningNode } from '../subgraphs/registry-node.js';
import { captureLogs, LEVEL, type LogLine } from './support/log-capture.js';
import { createTestDatabase } from './support/test-database.js';

const UNIT = 'CNAAAA000001AAAAAAAAAAAAAAAAA';
const SECRET = 'Bearer s3cret-token-never-logged';

interface LoggedFederation {
  gateway: RunningGateway;
  node: RunningNode;
  database: Database;
  /** Lines of the gateway and of the node's subgraphs, in the order they were written. */
  lines: LogLine[];
  raw: string[];
  post(query: string, requestId: string): Promise<Response>;
  stop(): Promise<void>;
}

/** One CN node and a gateway in front of it, both logging into memory. */
async function startLogged(): Promise<LoggedFederation> {
  const { logger, lines, raw } = captureLogs();
  const testDb = await createTestDatabase();
  const database = await openDatabase(testDb.config);
  const node = await startRegistryNode({ node: { country: 'CN', name: 'CN registry' }, database, logger });
  const directory = { registries: [{ name: 'CN registry', countries: ['CN'], home: true, subgraphs: node.urls }] };
  const gateway = await startGateway({ directory, logger });
  return {
    gateway,
    node,
    database,
    lines,
    raw,
    post: (query, requestId) =>
      fetch(gateway.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': requestId, authorization: SECRET },
        body: JSON.stringify({ query }),
      }),
    async stop() {
      await gateway.stop();
      await node.stop();
      await database.close().catch(() => undefined);
      await testDb.drop();
    },
  };
}

const of = (lines: LogLine[], requestId: string) => lines.filter((line) => line.requestId === requestId);

describe('logging: every line about a request carries its id', () => {
  let fed: LoggedFederation;
  beforeAll(async () => {
    fed = await startLogged();
  });
  afterAll(() => fed?.stop());

  it('writes one access line per request, in the gateway and in each subgraph it reached', async () => {
    const response = await fed.post(`query Scan { unit(code: "${UNIT}") { code state } }`, 'access-line-1');
    expect(response.status).toBe(200);
    const lines = of(fed.lines, 'access-line-1').filter((line) => line.msg === 'request');
    const gateway = lines.filter((line) => line.service === 'gateway');
    expect(gateway).toEqual([
      expect.objectContaining({ level: LEVEL.info, method: 'POST', path: '/graphql', status: 200, operation: 'Scan', ms: expect.any(Number) }),
    ]);
    const subgraphs = lines.filter((line) => line.service !== 'gateway');
    expect(subgraphs.map((line) => line.service)).toContain('units');
    for (const line of subgraphs) expect(line).toMatchObject({ level: LEVEL.info, status: 200, path: '/graphql', country: 'CN' });
  });

  it("logs a client's own mistake at info, with its code and without a stack", async () => {
    const response = await fed.post('{ unit(code: "not-a-code") { code } }', 'client-mistake-1');
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    const code = body.errors[0]!.extensions.code;
    const refused = of(fed.lines, 'client-mistake-1').filter((line) => line.code === code);
    expect(refused.length).toBeGreaterThan(0);
    for (const line of refused) {
      expect(line.level).toBe(LEVEL.info);
      expect(line.err).toBeUndefined();
    }
  });

  it('never writes an Authorization header value', async () => {
    await fed.post(`{ unit(code: "${UNIT}") { code } }`, 'with-credentials-1');
    expect(of(fed.lines, 'with-credentials-1').length).toBeGreaterThan(0);
    expect(fed.raw.join('')).not.toContain('s3cret-token-never-logged');
  });
});

describe('logging: an internal failure', () => {
  it('is logged with the request id and the error, by the subgraph and by the gateway, while the client sees a masked message', async () => {
    const fed = await startLogged();
    try {
      await fed.database.close();
      const response = await fed.post(`{ unit(code: "${UNIT}") { code state } }`, 'failed-scan-7');
      const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe('INTERNAL_SERVER_ERROR');

      const errors = of(fed.lines, 'failed-scan-7').filter((line) => line.level === LEVEL.error);
      const subgraph = errors.find((line) => line.service === 'units');
      expect(subgraph?.err?.message).toBeTruthy();
      expect(subgraph?.err?.stack).toBeTruthy();
      // What the client was spared (the database's own words) is what the log keeps.
      expect(body.errors[0]!.message).not.toContain(subgraph!.err!.message);
      const gateway = errors.find((line) => line.service === 'gateway');
      expect(gateway).toMatchObject({ msg: 'internal error', err: { message: expect.any(String) } });
      expect(fed.raw.join('')).not.toContain('s3cret-token-never-logged');
    } finally {
      await fed.stop();
    }
  });
});

describe('logging: the logger itself', () => {
  it('redacts an Authorization header even when a header map is logged by mistake', () => {
    const { logger, raw } = captureLogs();
    logger.info({ headers: { authorization: SECRET }, req: { headers: { authorization: SECRET } } }, 'headers');
    expect(raw).toHaveLength(1);
    expect(raw[0]).not.toContain('s3cret-token-never-logged');
  });
});
