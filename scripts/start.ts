import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { developmentSigningSecret, SIGNING_SECRET_ENV } from '../lib/security/signing-secret.js';
import { DEFAULT_AUDIENCE, DEVELOPMENT_ISSUER, ensureDevelopmentKey, signToken } from '../gateway/identity/development-key.js';
import { fileURLToPath } from 'node:url';
import { createLogger, rootLogger, setRootLogger } from '../lib/logging/logger.js';
import { seedDemoData } from './demo/seed.js';
import { registryCounts, startBanner, type RegistryCounts } from './start-banner.js';
import { DEFAULT_GATEWAY_PORT, DEFAULT_HOME, hostFrom, parsePort } from './process-defaults.js';
import { isReadyMessage, reportReady, type ReadyMessage } from './ready-message.js';
import { EXIT_CODES, stopTimeoutFromEnv } from '../lib/server/shutdown.js';

/**
 * `npm start`: two processes, supervised. The home registry node (four subgraphs, the only process
 * that opens the database: PGlite allows one) starts first; once it reports its URLs, the gateway
 * starts with them as its home entry; demo data is seeded through the gateway. SIGINT/SIGTERM stop the
 * gateway first (in-flight requests finish against a live node), then the node. If either dies, the
 * other is stopped and the launcher exits non-zero.
 */
setRootLogger(createLogger({ name: 'launcher' }));
const log = rootLogger();
const env = process.env;
const host = hostFrom(env);
let port: number;
try {
  port = parsePort(env.PORT, DEFAULT_GATEWAY_PORT, 'PORT');
} catch (error) {
  log.fatal((error as Error).message);
  process.exit(2);
}
const country = env.COUNTRY ?? DEFAULT_HOME.country;
// One data folder: the node's embedded database in <DATA_DIR>/registry, the gateway's development keys beside it.
const dataDir = env.DATA_DIR || 'data';
const nodeDataDir = join(dataDir, 'registry');
// The gateway signs every call to the node with a secret they share; in development one is made in the data
// folder. Production must bring its own (the node refuses to start without one).
if (!env[SIGNING_SECRET_ENV] && env.NODE_ENV !== 'production') env[SIGNING_SECRET_ENV] = developmentSigningSecret(dataDir).toString('hex');
const script = (name: string) => fileURLToPath(new URL(`./${name}.js`, import.meta.url));
// Traces (docs/operations.md): the SDK must load before the application, hence --import; not even loaded without an endpoint.
const tracing = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() ? ['--import', new URL('../lib/telemetry/register.js', import.meta.url).href] : [];

type Role = 'registry node' | 'gateway';
const children = new Map<Role, ChildProcess>();
let stopping = false;

/** Forks an entry point and resolves with its ready message; rejects if it exits first. */
function start<R extends ReadyMessage['role']>(role: Role, file: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  // Own process group: Ctrl+C reaches only the launcher, which stops the children in order.
  const child = fork(script(file), args, { env: { ...env, ...extraEnv }, execArgv: [...process.execArgv, ...tracing], detached: true, stdio: 'inherit' });
  children.set(role, child);
  child.once('exit', (code, signal) => {
    children.delete(role);
    if (!stopping) void fail(`the ${role} (pid ${child.pid}) exited unexpectedly (${signal ?? `code ${code}`})`);
  });
  return new Promise<Extract<ReadyMessage, { role: R }>>((resolve, reject) => {
    child.on('message', (message) => isReadyMessage(message) && resolve(message as Extract<ReadyMessage, { role: R }>));
    child.once('exit', () => reject(new Error(`the ${role} exited before it was ready`)));
  });
}

/** Stops one child with SIGTERM and waits for it; resolves with its exit status. */
function stopChild(role: Role): Promise<number> {
  const child = children.get(role);
  if (!child) return Promise.resolve(EXIT_CODES.clean);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code ?? EXIT_CODES.failed));
    child.kill('SIGTERM');
  });
}

/** The gateway first (its in-flight requests finish against a live node), then the node; the worst status. */
async function stopAll(): Promise<number> {
  const gatewayCode = await stopChild('gateway');
  const nodeCode = await stopChild('registry node');
  const codes = [gatewayCode, nodeCode];
  if (codes.every((code) => code === EXIT_CODES.clean)) return EXIT_CODES.clean;
  return codes.includes(EXIT_CODES.drainDeadline) ? EXIT_CODES.drainDeadline : EXIT_CODES.failed;
}

async function fail(reason: string): Promise<never> {
  stopping = true;
  log.error(`${reason}; stopping the other process`);
  await stopAll();
  process.exit(1);
}

function killAll(): void {
  for (const child of children.values()) child.kill('SIGKILL');
}

// Each child cuts its own drain at STOP_TIMEOUT_MS; this is the backstop should one hang regardless.
let stopTimeoutMs: number;
try {
  stopTimeoutMs = stopTimeoutFromEnv(env);
} catch (error) {
  log.fatal((error as Error).message);
  process.exit(2);
}
let firstSignalAt = 0;
const onSignal = (signal: string) => {
  if (stopping) {
    // `npm start` forwards the terminal's Ctrl+C, so one press can arrive twice; only a later one forces.
    if (Date.now() - firstSignalAt < 1_000) return;
    log.warn(`${signal} again: killing both processes without waiting (exit ${EXIT_CODES.forced})`);
    killAll();
    process.exit(EXIT_CODES.forced);
  }
  stopping = true;
  firstSignalAt = Date.now();
  const started = performance.now();
  log.info(`${signal}: stopping the gateway (in-flight requests finish), then the registry node`);
  setTimeout(() => {
    log.error(`the processes did not stop within ${2 * stopTimeoutMs + 5_000} ms: killing them (exit ${EXIT_CODES.drainDeadline})`);
    killAll();
    process.exit(EXIT_CODES.drainDeadline);
  }, 2 * stopTimeoutMs + 5_000).unref();
  void stopAll().then((code) => {
    log.info({ drainMs: Math.round(performance.now() - started), exitCode: code }, `stopped (exit ${code})`);
    process.exit(code);
  });
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// Started by a program over IPC (a test): if that program goes away, so do we.
if (process.connected) process.once('disconnect', () => !stopping && onSignal('SIGTERM'));
// Under `npm start` our parent is npm's `sh -c`, which a SIGTERM to npm kills without passing it on: when
// the parent goes (we are re-parented), stop as on SIGTERM rather than run on as an orphan.
const parentAtStart = process.ppid;
setInterval(() => process.ppid !== parentAtStart && !stopping && onSignal('parent process gone'), 200).unref();

let node: Extract<ReadyMessage, { role: 'registry-node' }>;
let gateway: Extract<ReadyMessage, { role: 'gateway' }>;
try {
  node = await start<'registry-node'>(
    'registry node',
    'registry-node',
    ['--country', country, '--name', env.REGISTRY_NAME ?? DEFAULT_HOME.name, '--host', host, '--port', String(port === 0 ? 0 : port + 1)],
    { DATA_DIR: nodeDataDir },
  );
  const home = { name: node.name, countries: [node.country], home: true, subgraphs: node.urls };
  gateway = await start<'gateway'>('gateway', 'gateway', ['--home', JSON.stringify(home), '--examples'], { PORT: String(port), HOST: host, DATA_DIR: dataDir });
} catch (error) {
  if (stopping) await new Promise(() => undefined); // a signal or a failure is already stopping everything
  await fail((error as Error).message);
}

let seeded: boolean;
let counts: RegistryCounts | null = null;
try {
  // The demo is written as the authority, with a short-lived token for the development key. Production has
  // no development key: its registry starts empty.
  if (env.NODE_ENV === 'production') seeded = false;
  else {
    const { privateJwk } = await ensureDevelopmentKey(dataDir);
    const token = await signToken(privateJwk, { subject: 'demo-seed', role: 'authority', issuer: env.JWT_ISSUER ?? DEVELOPMENT_ISSUER, audience: env.JWT_AUDIENCE ?? DEFAULT_AUDIENCE, ttl: '10m' });
    seeded = await seedDemoData(gateway!.url, { authorization: `Bearer ${token}` });
    counts = await registryCounts(gateway!.url, country, { authorization: `Bearer ${token}` }).catch(() => null);
  }
} catch (error) {
  if (stopping) await new Promise(() => undefined);
  await fail(`cannot seed the demo data: ${(error as Error).message}`);
}
reportReady({ type: 'ready', role: 'launcher', pid: process.pid, gateway: { pid: gateway!.pid, url: gateway!.url }, node: { pid: node!.pid, urls: node!.urls } });

console.log(
  startBanner({
    url: gateway!.url,
    country,
    counts,
    seeded: seeded!,
    database: env.DATABASE_URL?.trim() ? 'Postgres (DATABASE_URL)' : `embedded PGlite in ${nodeDataDir}`,
    directoryFile: env.DIRECTORY_FILE?.trim() || undefined,
    gatewayPid: gateway!.pid,
    nodePid: node!.pid,
    nodeUrls: node!.urls as Record<string, string>,
  }),
);
