import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { serveMetrics } from '../lib/metrics/metrics-endpoint.js';
import { startFederation, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';

/** One sample of a scrape: the metric's value for exactly these labels (0 when absent). */
type Scrape = (name: string, labels?: Record<string, string>) => number;

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await fetch(url, { headers });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (match) samples.set(`${match[1]}${match[2] ?? ''}`, Number(match[3]));
  }
  return (name, labels = {}) => {
    const key = Object.keys(labels).length ? `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}` : name;
    return samples.get(key) ?? 0;
  };
}

const metricsUrl = (graphqlUrl: string) => graphqlUrl.replace(/\/graphql$/, '/metrics');

describe('metrics: GET /metrics counts what happened', () => {
  let fed: Federation;
  let cn: string[];
  let de: string[];
  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }, { country: 'DE' }], {
      // The DE circuit opens after two failed fetches and stays open for the rest of the test.
      limits: { breakAfterFailures: 2, halfOpenAfterMs: 600_000 },
      // Anonymous callers get 5 points a minute: a verifyMany of 6 codes is refused.
      gatewayLimits: { anonymousRate: { points: 5, windowSeconds: 60 } },
    });
    cn = await seedNode(fed.nodes[0]!, 'CNAAAA', 'CNAAAA000001', 2);
    de = await seedNode(fed.nodes[1]!, 'DEBBBB', 'DEBBBB000001', 2);
  });
  afterAll(() => fed?.stop());

  it('counts requests by operation and outcome, verdicts by verdict and reason, rate-limit refusals and SQL statements', async () => {
    const gateway = metricsUrl(fed.gateway.url);
    const before = await scrape(gateway);
    const unregistered = `${cn[0]!.slice(0, 12)}99999999999999999`;
    const shipment = await fed.query('query Shipment($c: [String!]!) { verifyMany(codes: $c) { verdict reasons { code } } }', {
      c: [cn[0], cn[1], de[0], unregistered, 'ZZAAAA000001AAAAAAAAAAAAAAAAA'],
    });
    expect(shipment.data.verifyMany.map((v: { verdict: string }) => v.verdict)).toEqual(['ADMIT', 'ADMIT', 'ADMIT', 'REFUSE', 'UNKNOWN']);
    const mistake = await fed.query('{ unit(code: "not-a-code") { code } }');
    expect(mistake.errors?.[0]?.extensions?.code).toBe('MALFORMED_CODE');
    const refused = await fed.query('query($c: [String!]!) { verifyMany(codes: $c) { verdict } }', { c: [1, 2, 3, 4, 5, 6].map((n) => `${cn[0]!.slice(0, 28)}${n}`) }, null);
    expect(refused.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    const after = await scrape(gateway);

    const delta = (name: string, labels?: Record<string, string>) => after(name, labels) - before(name, labels);
    expect(delta('robot_registry_graphql_requests_total', { service: 'gateway', operation: 'verifyMany', outcome: 'ok' })).toBe(1);
    expect(delta('robot_registry_graphql_requests_total', { service: 'gateway', operation: 'unit', outcome: 'client_error' })).toBe(1);
    expect(delta('robot_registry_graphql_requests_total', { service: 'gateway', operation: 'verifyMany', outcome: 'client_error' })).toBe(1);
    expect(delta('robot_registry_graphql_request_duration_seconds_count', { service: 'gateway', operation: 'verifyMany' })).toBe(2);
    expect(delta('robot_registry_limit_rejections_total', { limit: 'RATE_LIMITED' })).toBe(1);
    expect(delta('robot_registry_verdicts_total', { verdict: 'ADMIT', reason: 'NONE' })).toBe(3);
    expect(delta('robot_registry_verdicts_total', { verdict: 'REFUSE', reason: 'NOT_REGISTERED' })).toBe(1);
    expect(delta('robot_registry_verdicts_total', { verdict: 'UNKNOWN', reason: 'UNKNOWN_COUNTRY' })).toBe(1);
    expect(delta('robot_registry_registry_fetch_duration_seconds_count', { registry: 'DE registry', outcome: 'ok' })).toBeGreaterThan(0);
    expect(after('robot_registry_registry_circuit_state', { registry: 'DE registry' })).toBe(0);
    expect(after('robot_registry_registry_up', { registry: 'DE registry' })).toBe(1);
    // The subgraphs run in this process too, so the same scrape shows their side (a node's own /metrics is below).
    expect(delta('robot_registry_graphql_requests_total', { service: 'units', operation: '_entities', outcome: 'ok' })).toBeGreaterThan(0);
    expect(delta('robot_registry_db_statement_duration_seconds_count', { kind: 'select', outcome: 'ok' })).toBeGreaterThan(0);
    expect(after('robot_registry_db_connections_in_use')).toBe(0);
    expect(after('robot_registry_db_connections_waiting')).toBe(0);
    expect(delta('robot_registry_http_requests_total', { service: 'gateway', route: '/graphql', status: '429' })).toBe(1);
  });

  it("is served by a node's subgraphs too", async () => {
    const node = await scrape(metricsUrl(fed.nodes[0]!.urls.units!));
    expect(node('robot_registry_graphql_requests_total', { service: 'units', operation: '_entities', outcome: 'ok' })).toBeGreaterThan(0);
  });

  it('counts fetch errors to a partner that went down, and shows its circuit open', async () => {
    const gateway = metricsUrl(fed.gateway.url);
    const before = await scrape(gateway);
    await fed.nodes[1]!.stop();
    for (let i = 0; i < 3; i++) {
      const result = await fed.query('query($c: String!) { verify(code: $c) { verdict reasons { code } } }', { c: de[1] });
      expect(result.data.verify).toEqual({ verdict: 'UNKNOWN', reasons: [{ code: 'REGISTRY_UNAVAILABLE' }] });
    }
    const after = await scrape(gateway);
    const delta = (name: string, labels?: Record<string, string>) => after(name, labels) - before(name, labels);
    expect(delta('robot_registry_registry_fetch_errors_total', { registry: 'DE registry', reason: 'failed' })).toBeGreaterThan(0);
    expect(delta('robot_registry_registry_fetch_errors_total', { registry: 'DE registry', reason: 'refused' })).toBeGreaterThan(0);
    expect(delta('robot_registry_verdicts_total', { verdict: 'UNKNOWN', reason: 'REGISTRY_UNAVAILABLE' })).toBe(3);
    expect(after('robot_registry_registry_circuit_state', { registry: 'DE registry' })).toBe(2);
    expect(after('robot_registry_registry_up', { registry: 'DE registry' })).toBe(0);
    expect(after('robot_registry_registry_circuit_state', { registry: 'CN registry' })).toBe(0);
  });

  it('is refused without the token once METRICS_TOKEN is set, and served with it', async () => {
    const gateway = metricsUrl(fed.gateway.url);
    const previous = process.env.METRICS_TOKEN;
    process.env.METRICS_TOKEN = 'scrape-token-for-the-test';
    try {
      expect((await fetch(gateway)).status).toBe(401);
      expect((await fetch(gateway, { headers: { authorization: 'Bearer another-token' } })).status).toBe(401);
      expect((await fetch(metricsUrl(fed.nodes[0]!.urls.units!))).status).toBe(401);
      const served = await scrape(gateway, { authorization: 'Bearer scrape-token-for-the-test' });
      expect(served('robot_registry_verdicts_total', { verdict: 'ADMIT', reason: 'NONE' })).toBeGreaterThan(0);
    } finally {
      if (previous === undefined) delete process.env.METRICS_TOKEN;
      else process.env.METRICS_TOKEN = previous;
    }
  });
});

describe('metrics: who may read them without a token', () => {
  /** The status serveMetrics answers a GET from `address` with, under `env`. */
  async function statusFor(address: string, env: NodeJS.ProcessEnv): Promise<number> {
    let status = 0;
    const req = { method: 'GET', headers: {}, socket: { remoteAddress: address } } as unknown as IncomingMessage;
    const res = { writeHead: (code: number) => void (status = code), end: () => undefined } as unknown as ServerResponse;
    await serveMetrics(req, res, env);
    return status;
  }

  it('serves this machine only in development, and nobody in production', async () => {
    expect(await statusFor('127.0.0.1', {})).toBe(200);
    expect(await statusFor('::1', {})).toBe(200);
    expect(await statusFor('192.0.2.10', {})).toBe(403);
    expect(await statusFor('127.0.0.1', { NODE_ENV: 'production' })).toBe(404);
    expect(await statusFor('127.0.0.1', { NODE_ENV: 'production', METRICS_TOKEN: 'configured' })).toBe(401);
  });
});

describe('metrics: METRICS=off', () => {
  it('counts nothing and answers /metrics with 404', async () => {
    // Read once when the module loads: a fresh copy of the metrics modules, loaded with METRICS=off.
    vi.resetModules();
    vi.stubEnv('METRICS', 'off');
    try {
      const endpoint = await import('../lib/metrics/metrics-endpoint.js');
      const { metricsRegistry } = await import('../lib/metrics/registry.js');
      const { countHttpRequest } = await import('../lib/metrics/request-metrics.js');
      const { observeStatement } = await import('../lib/metrics/database-metrics.js');
      countHttpRequest('gateway', '/graphql', 200);
      observeStatement('select 1', 2);
      const metrics = await metricsRegistry.getMetricsAsJSON();
      const values = (name: string) => metrics.find((m) => m.name === name)?.values;
      expect(values('robot_registry_http_requests_total')).toEqual([]);
      expect(values('robot_registry_db_statement_duration_seconds')).toEqual([]);
      expect(metrics.filter((m) => m.name.startsWith('robot_registry_process_') || m.name.startsWith('robot_registry_nodejs_'))).toEqual([]);
      let status = 0;
      const req = { method: 'GET', headers: {}, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
      const res = { writeHead: (code: number) => void (status = code), end: () => undefined } as unknown as ServerResponse;
      await endpoint.serveMetrics(req, res, {});
      expect(status).toBe(404);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });
});
