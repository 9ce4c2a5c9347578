import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildDirectory } from '../gateway/directory/registry-directory.js';
import { identityFromEnv } from '../gateway/identity/identity-from-env.js';
import { startFederation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';
import { metricsRegistry } from '../lib/metrics/registry.js';
import { DATA_SUBGRAPHS, NODE_SUBGRAPHS, repoRoot } from '../lib/schema/contract.js';
import { parseSigningSecret, SIGNING_SECRET_ENV } from '../lib/security/signing-secret.js';

/** No Docker engine runs here, so the compose file is checked against the code instead of run. */
const root = repoRoot();
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
const services = compose.services as Record<string, any>;
const source = (path: string) => readFileSync(join(root, path), 'utf8');
const envName = (subgraph: string) => `${subgraph.toUpperCase().replace('-', '_')}_URL`;

/** Environment variables the code reads, found in the sources that the containers run. */
const envRead = new Set(
  [
    'scripts/registry-node.ts',
    'scripts/gateway.ts',
    'scripts/process-defaults.ts',
    'lib/database/database.ts',
    'lib/security/nonce-store.ts',
    'gateway/limits/limits-config.ts',
    'gateway/identity/identity-from-env.ts',
    'lib/metrics/metrics-endpoint.ts',
    'lib/telemetry/register.ts',
  ]
    .flatMap((file) => {
      const text = source(file);
      // env.NAME, env['NAME'], and `const { NAME: x } = env`.
      const destructured = [...text.matchAll(/const \{([^}]+)\} = env\b/g)].flatMap((m) => [...m[1]!.matchAll(/\b([A-Z][A-Z_]+)\b/g)].map((k) => k[1]!));
      return [...text.matchAll(/env(?:\.|\[')([A-Z_]+)/g)].map((m) => m[1]!).concat(destructured);
    })
    .concat(DATA_SUBGRAPHS.map(envName), SIGNING_SECRET_ENV),
);

/**
 * Compose's interpolation of `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}` and
 * `${NAME?error}` from the shell's environment; a missing required variable stops `docker compose up`.
 */
function interpolate(value: unknown, env: Record<string, string>): string {
  return String(value).replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (all, name: string, colon: string, op: string, arg: string) => {
    if (all === '$$') return '$';
    const set = colon ? Boolean(env[name]) : name in env;
    if (set) return env[name]!;
    if (op === '?') throw new Error(`required variable ${name} is missing a value: ${arg}`);
    return op === '-' ? arg : '';
  });
}

/** A service's environment as its process sees it: compose's values over the image's ENV lines. */
function processEnv(service: any, shell: Record<string, string>): Record<string, string> {
  const image = Object.fromEntries([...source('Dockerfile').matchAll(/^ENV (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  return { ...image, ...Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, interpolate(v, shell)])) };
}

/** How our services start node: with the tracing set-up loaded first (a no-op without an OTLP endpoint). */
const NODE = ['node', '--import', './dist/lib/telemetry/register.js'];
const sourceOf = (built: string) => built.replace(/^(\.\/)?dist\//, '').replace(/\.js$/, '.ts');

/** Every --flag after the entry point is an option the entry point parses. */
function expectFlagsKnown(command: string[]): void {
  const [entry, ...args] = command.slice(NODE.length);
  const script = source(sourceOf(entry!));
  for (const flag of args.filter((arg) => arg.startsWith('--'))) expect(script, `${entry} ${flag}`).toMatch(new RegExp(`'?${flag.slice(2)}'?: \\{ type:`));
}

function healthPort(service: any): number {
  const test = service.healthcheck.test.join(' ');
  return Number(/localhost:(\d+)\/health\/ready/.exec(test)![1]);
}

/** The services that run our code (a subgraph or the gateway), found by their command, not their name. */
const ours = Object.entries(services).filter(([, s]) => (s.command ?? []).some((arg: string) => /dist\/scripts\/(registry-node|gateway)\.js/.test(arg)));
const secret = 'a1'.repeat(32);
const metricsToken = 'b2'.repeat(32);
const shell = { [SIGNING_SECRET_ENV]: secret, JWT_ISSUER: 'https://idp.example/', METRICS_TOKEN: metricsToken };

const folders: string[] = [];
const children: ReturnType<typeof spawn>[] = [];
afterAll(async () => {
  const stopping = children.filter((child) => child.exitCode === null && child.signalCode === null);
  await Promise.all(stopping.map((child) => new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM'))));
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('docker-compose.yml', () => {
  it('runs Postgres, Redis, the five subgraphs and the gateway as separate services with health checks', () => {
    expect(Object.keys(services).sort()).toEqual(['gateway', 'grafana', 'jaeger', 'postgres', 'prometheus', 'redis', ...NODE_SUBGRAPHS].sort());
    for (const [name, service] of Object.entries(services)) expect(service.healthcheck?.test, name).toBeDefined();
    expect(ours.map(([name]) => name).sort()).toEqual(['gateway', ...NODE_SUBGRAPHS].sort());
  });

  it('starts each subgraph with the entry point and port the code uses', () => {
    const password = services.postgres.environment.POSTGRES_PASSWORD;
    const db = services.postgres.environment.POSTGRES_DB;
    for (const name of NODE_SUBGRAPHS) {
      const service = services[name];
      expect(service, `service ${name}`).toBeDefined();
      expect(service.command).toEqual([...NODE, 'dist/scripts/registry-node.js', '--only', name]);
      expect(existsSync(join(root, sourceOf(NODE[2]!))), `${NODE[2]} is built from a source`).toBe(true);
      expect(existsSync(join(root, 'scripts/registry-node.ts'))).toBe(true);
      expectFlagsKnown(service.command);
      expect(Number(service.environment.PORT)).toBe(healthPort(service));
      expect(service.environment.DATABASE_URL).toBe(`postgres://postgres:${password}@postgres:5432/${db}`);
      expect(service.depends_on.postgres.condition).toBe('service_healthy');
      for (const key of Object.keys(service.environment)) expect(envRead.has(key), `${name} sets ${key}, which no code reads`).toBe(true);
    }
    // Siblings' URLs point at the services that really listen there (the audit log calls no sibling).
    for (const name of DATA_SUBGRAPHS) {
      for (const other of DATA_SUBGRAPHS.filter((o) => o !== name)) {
        const url = new URL(services[name].environment[envName(other)]);
        expect(url.hostname).toBe(other);
        expect(Number(url.port)).toBe(Number(services[other].environment.PORT));
      }
    }
  });

  it('gives the gateway and every subgraph the signing secret from the environment, and refuses to start without it', () => {
    for (const [name, service] of ours) {
      expect(service.environment?.[SIGNING_SECRET_ENV], `${name} sets ${SIGNING_SECRET_ENV}`).toBeDefined();
      const env = processEnv(service, shell);
      expect(env[SIGNING_SECRET_ENV], `${name} takes ${SIGNING_SECRET_ENV} from the environment`).toBe(secret);
      expect(parseSigningSecret(env[SIGNING_SECRET_ENV]!)).toHaveLength(32);
      // Unset or empty: compose stops with a message naming the variable, rather than run unsigned.
      for (const without of [{ JWT_ISSUER: shell.JWT_ISSUER, METRICS_TOKEN: metricsToken }, { ...shell, [SIGNING_SECRET_ENV]: '' }]) {
        expect(() => processEnv(service, without), name).toThrow(new RegExp(`${SIGNING_SECRET_ENV}.*openssl rand`));
      }
    }
  });

  it('runs Redis with a health check and points the gateway and every subgraph at it', () => {
    const redis = services.redis;
    expect(redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    const port = Number(/--port (\d+)/.exec((redis.command ?? []).join(' '))?.[1] ?? 6379);
    expect(envRead.has('REDIS_URL')).toBe(true);
    for (const [name, service] of ours) {
      const value = processEnv(service, shell).REDIS_URL;
      expect(value, `${name} sets REDIS_URL`).toBeDefined();
      const url = new URL(value!);
      expect([url.protocol, url.hostname, Number(url.port || 6379)], name).toEqual(['redis:', 'redis', port]);
      expect(service.depends_on?.redis?.condition, `${name} waits for Redis`).toBe('service_healthy');
    }
  });

  it('gives the gateway a valid directory that names the subgraph services, the audit log and their ports', () => {
    const gateway = services.gateway;
    expect(gateway.command).toEqual([...NODE, 'dist/scripts/gateway.js']);
    expect(existsSync(join(root, 'scripts/gateway.ts'))).toBe(true);
    expect(gateway.ports).toEqual([`${gateway.environment.PORT}:${gateway.environment.PORT}`]);
    expect(Number(gateway.environment.PORT)).toBe(healthPort(gateway));
    for (const key of Object.keys(gateway.environment)) expect(envRead.has(key), `gateway sets ${key}, which no code reads`).toBe(true);
    for (const name of NODE_SUBGRAPHS) expect(gateway.depends_on[name]?.condition, `gateway waits for ${name}`).toBe('service_healthy');
    const directory = buildDirectory(JSON.parse(source(gateway.environment.DIRECTORY_FILE)));
    for (const name of DATA_SUBGRAPHS) {
      const url = new URL(directory.home.subgraphs[name]);
      expect(url.hostname).toBe(name);
      expect(Number(url.port)).toBe(Number(services[name].environment.PORT));
    }
    expect(directory.home.audit, 'the home entry names subgraphs.audit').toBeDefined();
    const audit = new URL(directory.home.audit!);
    expect([audit.hostname, Number(audit.port)]).toEqual(['audit', Number(services.audit.environment.PORT)]);
  });

  it("gives the audit service, which sends partners' push alerts, the gateway's directory file (its alertUrls), mounted read-only", () => {
    const { gateway, audit } = services;
    expect(audit.environment.DIRECTORY_FILE).toBe(gateway.environment.DIRECTORY_FILE);
    expect(audit.volumes).toContain('./config:/app/config:ro');
    expect(posix.relative('/app/config', posix.join('/app', audit.environment.DIRECTORY_FILE)).startsWith('..')).toBe(false);
  });

  it('configures caller identity as the gateway needs it in production', async () => {
    const gateway = services.gateway;
    const env = processEnv(gateway, shell);
    expect(env.NODE_ENV, 'the image runs in production mode').toBe('production');
    expect(() => processEnv(gateway, { [SIGNING_SECRET_ENV]: secret, METRICS_TOKEN: metricsToken }), 'JWT_ISSUER is required').toThrow(/JWT_ISSUER/);
    // The JWKS file is read from the mounted ./config (read-only), where the operator puts the provider's keys.
    const jwksFile = env.JWKS_FILE;
    expect(jwksFile, 'gateway sets JWKS_FILE').toBeDefined();
    const mount = (gateway.volumes as string[]).map((v) => v.split(':')).find(([from, to]) => from === './config' && posix.relative(to!, posix.join('/app', jwksFile!)).split('/')[0] !== '..');
    expect(mount, `./config is mounted where ${jwksFile} is read`).toBeDefined();
    // What the code itself decides: identity from the container's environment, the example key set in place of the operator's.
    const dataDir = mkdtempSync(join(tmpdir(), 'compose-identity-'));
    folders.push(dataDir);
    const identity = await identityFromEnv({ dataDir, env: { ...env, JWKS_FILE: join(root, 'config/jwks.example.json') } });
    expect(identity.description).toContain(`issuer ${shell.JWT_ISSUER}`);
    expect(identity.description).toContain(`audience ${env.JWT_AUDIENCE}`);
    // And without the compose settings the same code refuses to start in production.
    await expect(identityFromEnv({ dataDir, env: { NODE_ENV: 'production' } })).rejects.toThrow(/JWKS_FILE or JWKS_URL, JWT_ISSUER, JWT_AUDIENCE/);
  });

  it('runs the audit log on its own with --only audit, as its service does', async () => {
    await promisify(execFile)(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: root });
    const dataDir = mkdtempSync(join(tmpdir(), 'compose-audit-'));
    folders.push(dataDir);
    const [, ...args] = services.audit.command as string[];
    // The service's environment, but the embedded database, a free port, this process's memory for nonces and
    // no trace export (there is no Jaeger here); the command as it is, --import of the tracing set-up included.
    const env = { ...processEnv(services.audit, shell), PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_FORMAT: 'json', PATH: process.env.PATH ?? '' };
    for (const key of ['DATABASE_URL', 'REDIS_URL', 'OTEL_EXPORTER_OTLP_ENDPOINT'] as const) delete (env as Record<string, string>)[key];
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (text) => {
        if (!text.startsWith('{"')) return;
        const match = /^audit of CN .*: (http\S+)$/.exec((JSON.parse(text) as { msg?: string }).msg ?? '');
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`registry-node --only audit exited (${code}): ${stderr}`)));
    });
    const ready = await fetch(new URL('/health/ready', url));
    expect(ready.status).toBe(200);
  });

  it('builds from a Dockerfile that compiles the entry points and ships the schema and config', () => {
    const dockerfile = source('Dockerfile');
    expect(dockerfile).toContain('npm ci');
    expect(dockerfile).toContain('npm run build');
    expect(dockerfile).toMatch(/COPY schema schema/);
    expect(dockerfile).toMatch(/COPY config config/);
    expect(dockerfile).toMatch(/COPY vendor vendor/); // GS1's EPCIS schema, read by capture at run time
    expect(source('tsconfig.build.json')).toContain('"scripts"');
    // The image's default command is an entry point that exists.
    const cmd = JSON.parse(/^CMD (.+)$/m.exec(dockerfile)![1]!) as string[];
    expect(existsSync(join(root, cmd[1]!.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
  });
});

describe('docker-compose.yml: Prometheus, Grafana and Jaeger', () => {
  const prometheus = services.prometheus;
  const grafana = services.grafana;
  /** Where a bind mount of `from` (a path in the repository) lands in the service's container. */
  const mountOf = (service: any, from: string) => (service.volumes as string[]).map((v) => v.split(':')).find(([host]) => host === from)?.[1];
  const prometheusConfigPath = /--config\.file=(\S+)/.exec(prometheus.command.join(' '))![1]!;
  const scrapeConfig = parse(source('config/prometheus/prometheus.yml')) as { scrape_configs: { job_name: string; authorization?: { credentials_file?: string }; static_configs: { targets: string[] }[] }[] };
  const provisioningDir = mountOf(grafana, './config/grafana/provisioning')!;
  const dashboardsDir = mountOf(grafana, './config/grafana/dashboards')!;
  const datasources = parse(source('config/grafana/provisioning/datasources/prometheus.yml')).datasources as { uid: string; type: string; url: string }[];
  const providers = parse(source('config/grafana/provisioning/dashboards/registry.yml')).providers as { options: { path: string } }[];
  const dashboard = JSON.parse(source('config/grafana/dashboards/registry.json')) as { panels: { title: string; type: string; datasource?: { uid: string }; targets?: { expr: string; datasource?: { uid: string } }[] }[] };
  const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr, uid: t.datasource?.uid ?? p.datasource?.uid })));

  it('gives every service the metrics token, and Prometheus the same token as the bearer of every scrape', () => {
    for (const [name, service] of ours) expect(processEnv(service, shell).METRICS_TOKEN, `${name} sets METRICS_TOKEN`).toBe(metricsToken);
    // Without it compose stops, naming the variable: in production /metrics is off without a token.
    expect(() => processEnv(services.gateway, { ...shell, METRICS_TOKEN: '' })).toThrow(/METRICS_TOKEN.*openssl rand/);
    expect(compose.secrets.metrics_token).toEqual({ environment: 'METRICS_TOKEN' });
    expect(prometheus.secrets).toContain('metrics_token');
    for (const job of scrapeConfig.scrape_configs) expect(job.authorization?.credentials_file, job.job_name).toBe('/run/secrets/metrics_token');
    expect(mountOf(prometheus, './config/prometheus/prometheus.yml')).toBe(prometheusConfigPath);
  });

  it('scrapes the gateway and every subgraph process on the port it listens on', () => {
    const targets = scrapeConfig.scrape_configs.flatMap((job) => job.static_configs.flatMap((c) => c.targets)).sort();
    expect(targets).toEqual(ours.map(([name, service]) => `${name}:${service.environment.PORT}`).sort());
  });

  it('provisions Grafana with the compose Prometheus and the dashboard, which uses that data source', () => {
    expect(provisioningDir).toBe('/etc/grafana/provisioning');
    expect(providers.map((p) => p.options.path)).toEqual([dashboardsDir]);
    expect(datasources).toHaveLength(1);
    const [datasource] = datasources;
    expect(datasource!.type).toBe('prometheus');
    const url = new URL(datasource!.url);
    expect([url.hostname, url.port]).toEqual(['prometheus', '9090']);
    expect(prometheus.ports).toEqual(['127.0.0.1:9090:9090']);
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) expect(query.uid, query.panel).toBe(datasource!.uid);
    const home = grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH as string;
    expect(existsSync(join(root, 'config/grafana/dashboards', posix.relative(dashboardsDir, home)))).toBe(true);
    expect(grafana.depends_on.prometheus.condition).toBe('service_healthy');
    // Every named volume a service uses is declared.
    for (const [name, service] of Object.entries(services)) {
      for (const volume of (service.volumes ?? []) as string[]) {
        const from = volume.split(':')[0]!;
        if (!from.startsWith('.') && !from.startsWith('/')) expect(compose.volumes, `${name} uses volume ${from}`).toHaveProperty(from);
      }
    }
  });

  it('shows traffic, latency, errors, per-registry health and the verdict mix', () => {
    const all = queries.map((q) => q.expr).join('\n');
    for (const metric of ['robot_registry_graphql_requests_total', 'robot_registry_graphql_request_duration_seconds_bucket', 'robot_registry_registry_circuit_state', 'robot_registry_registry_up', 'robot_registry_registry_fetch_errors_total', 'robot_registry_verdicts_total']) {
      expect(all, metric).toContain(metric);
    }
    expect(all).toMatch(/outcome[!=~]+"[^"]*(error|unavailable)/);
  });

  it('sends traces from every service to the Jaeger service', () => {
    expect(services.jaeger).toBeDefined();
    for (const [name, service] of ours) {
      const url = new URL(processEnv(service, shell).OTEL_EXPORTER_OTLP_ENDPOINT!);
      expect([url.hostname, url.port], name).toEqual(['jaeger', '4318']);
    }
  });

  it("queries only metrics and labels that the gateway's and a subgraph's /metrics expose", async () => {
    const fed = await startFederation([{ country: 'CN' }]);
    try {
      const [code] = await seedNode(fed.nodes[0]!, 'CNAAAA', 'CNAAAA000001', 1);
      const verified = await fed.query('query($c: [String!]!) { verifyMany(codes: $c) { verdict } registries { reachable } }', { c: [code] });
      expect(verified.errors).toBeUndefined();
      const exposed = new Map<string, string>(); // metric name -> type
      for (const url of [fed.gateway.url, fed.nodes[0]!.urls.units!]) {
        const response = await fetch(url.replace(/\/graphql$/, '/metrics'));
        expect(response.status).toBe(200);
        for (const line of (await response.text()).split('\n')) {
          const type = /^# TYPE (\S+) (\S+)$/.exec(line);
          if (type) exposed.set(type[1]!, type[2]!);
        }
      }
      /** The exposed metric a queried series belongs to (a histogram's _bucket, _sum, _count are its own). */
      const metricOf = (name: string) => {
        if (exposed.has(name)) return name;
        const base = /^(.+)_(bucket|sum|count)$/.exec(name)?.[1];
        return base !== undefined && ['histogram', 'summary'].includes(exposed.get(base) ?? '') ? base : undefined;
      };
      // Labels as the metrics are defined (a metric with no sample yet shows none on /metrics).
      const labelsOf = (metric: string) => (metricsRegistry.getSingleMetric(metric) as unknown as { labelNames?: string[] } | undefined)?.labelNames ?? [];
      for (const { panel, expr } of queries) {
        const names = [...new Set(expr.match(/\brobot_registry_\w+/g) ?? [])];
        expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
        for (const name of names) expect(metricOf(name), `${panel}: ${name} is not on /metrics`).toBeDefined();
        // Labels the query groups or filters by: on the samples of its metrics (Prometheus adds job and instance).
        const used = [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim())).concat([...expr.matchAll(/[{,]\s*(\w+)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]!));
        const known = new Set(['le', 'job', 'instance', ...names.flatMap((n) => labelsOf(metricOf(n)!))]);
        for (const label of used) expect(known.has(label), `${panel}: label ${label} of ${names.join(', ')}`).toBe(true);
      }
    } finally {
      await fed.stop();
    }
  });
});
