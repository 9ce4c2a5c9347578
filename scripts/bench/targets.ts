import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_AUDIENCE, DEVELOPMENT_ISSUER, ensureDevelopmentKey, signToken } from '../../gateway/identity/development-key.js';
import { loadSdl, repoRoot } from '../../lib/schema/contract.js';
import { startChild, type BenchChild } from './child-process.js';
import type { OurGatewayConfig } from './gateway-process.js';

/**
 * What the benchmark measures: two registry nodes over the same database (one requiring signatures, one
 * unsigned for the peers) and the gateways in front of them, each a process of its own.
 */
export interface Target {
  name: string;
  kind: 'ours' | 'peer' | 'direct';
  /** Where requests go. */
  url: string;
  headers: Record<string, string>;
  /** The gateway's process (absent for the subgraph called directly). */
  gateway?: BenchChild<{ url: string }>;
  /** The node behind it. */
  node: BenchChild<NodeReady>;
}

export interface NodeReady {
  urls: Record<string, string>;
}

const here = (file: string) => join(repoRoot(), 'dist', 'scripts', 'bench', file);
const peersDir = () => join(repoRoot(), 'bench');

/** `bench/` holds the peers and the load generator; installed from its own lockfile on first use. */
export function ensurePeersInstalled(): void {
  if (existsSync(join(peersDir(), 'node_modules', '.package-lock.json'))) return;
  console.log('installing the peers in bench/ (npm ci --prefix bench), once');
  execFileSync('npm', ['ci', '--prefix', peersDir(), '--no-audit', '--no-fund'], { stdio: 'inherit' });
}

export interface LoadGenerator {
  runLoad(options: { url: string; connections: number; seconds: number; headers?: Record<string, string>; body: (i: number) => string }): Promise<{
    requests: number;
    errors: number;
    seconds: number;
    latencies: Float64Array;
    firstError?: string;
  }>;
  postOnce(url: string, body: string, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
}

export async function loadGenerator(): Promise<LoadGenerator> {
  return (await import(pathToFileURL(join(peersDir(), 'load.js')).href)) as LoadGenerator;
}

export function startNode(databaseUrl: string, signingSecretHex?: string, env: NodeJS.ProcessEnv = process.env): Promise<BenchChild<NodeReady>> {
  return startChild<NodeReady>(here('node-process.js'), [], {
    ...env,
    BENCH_DATABASE_URL: databaseUrl,
    ...(signingSecretHex ? { BENCH_SIGNING_SECRET: signingSecretHex } : {}),
  });
}

export const BENCH_SUBJECT = 'bench-client';

/** Our gateway with everything on: a signed-in caller, signed requests to the signing node, every limit. */
export async function startOurGateway(
  node: BenchChild<NodeReady>,
  signingSecretHex: string,
  options: { keyDir?: string; limits?: OurGatewayConfig['limits'] } = {},
): Promise<Target> {
  const keyDir = options.keyDir ?? mkdtempSync(join(tmpdir(), 'bench-keys-'));
  const config: OurGatewayConfig = { subgraphs: node.ready.urls, secure: { signingSecretHex, keyDir, subject: BENCH_SUBJECT }, limits: options.limits };
  const started = await startChild<{ url: string }>(here('gateway-process.js'), [], { ...process.env, BENCH_GATEWAY: JSON.stringify(config) });
  // A key directory made here goes with the gateway; one given by the caller is the caller's.
  const gateway = options.keyDir ? started : removingOnStop(started, keyDir);
  const { privateJwk } = await ensureDevelopmentKey(keyDir);
  const token = await signToken(privateJwk, { subject: BENCH_SUBJECT, role: 'authority', issuer: DEVELOPMENT_ISSUER, audience: DEFAULT_AUDIENCE, ttl: '7d' });
  return { name: 'ours', kind: 'ours', url: gateway.ready.url, headers: { authorization: `Bearer ${token}` }, gateway, node };
}

/** Our gateway without identity or signing, in front of the unsigned node: what those two cost. */
export async function startOurOpenGateway(node: BenchChild<NodeReady>): Promise<Target> {
  const config: OurGatewayConfig = { subgraphs: node.ready.urls };
  const gateway = await startChild<{ url: string }>(here('gateway-process.js'), [], { ...process.env, BENCH_GATEWAY: JSON.stringify(config) });
  return { name: 'ours, no signing/auth', kind: 'ours', url: gateway.ready.url, headers: {}, gateway, node };
}

/** The supergraph with the unsigned node's URLs: what the peers are given. */
function peerSupergraph(node: BenchChild<NodeReady>): { dir: string; file: string } {
  const sdl = loadSdl('supergraph').replace(/registry:\/\/([a-z-]+)/g, (_, name: string) => node.ready.urls[name] ?? 'http://127.0.0.1:9/graphql');
  const dir = mkdtempSync(join(tmpdir(), 'bench-supergraph-'));
  writeFileSync(join(dir, 'supergraph.graphql'), sdl);
  return { dir, file: join(dir, 'supergraph.graphql') };
}

/** The child's stop() also removes a temporary directory made for it. */
function removingOnStop<T>(child: BenchChild<T>, dir: string): BenchChild<T> {
  return { ...child, stop: () => child.stop().finally(() => rmSync(dir, { recursive: true, force: true })) };
}

export async function startPeers(node: BenchChild<NodeReady>): Promise<Target[]> {
  const supergraph = peerSupergraph(node);
  const peer = async (name: string, script: string, env: Record<string, string> = {}): Promise<Target> => {
    const gateway = await startChild<{ url: string }>(join(peersDir(), 'peers', script), [], { ...process.env, BENCH_SUPERGRAPH: supergraph.file, ...env });
    return { name, kind: 'peer', url: gateway.ready.url, headers: {}, gateway, node };
  };
  const first = await peer('stock @apollo/gateway', 'apollo-gateway.js');
  // Read by each peer as it starts; gone when the first one stops.
  first.gateway = removingOnStop(first.gateway!, supergraph.dir);
  return [
    first,
    await peer('Hive Gateway (JS planner)', 'hive-gateway.js'),
    await peer('Hive Gateway + Rust planner', 'hive-gateway.js', { BENCH_PLANNER: 'rust' }),
  ];
}

export function directTarget(node: BenchChild<NodeReady>): Target {
  return { name: 'units subgraph direct', kind: 'direct', url: node.ready.urls.units!, headers: {}, node };
}

export const newSigningSecret = () => randomBytes(32).toString('hex');
