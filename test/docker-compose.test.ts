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

/** Every --flag of a command is an option the entry point parses. */
function expectFlagsKnown(command: string[]): void {
  const script = source(command[1]!.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
  for (const flag of command.filter((arg) => arg.startsWith('--'))) expect(script, `${command[1]} ${flag}`).toMatch(new RegExp(`'?${flag.slice(2)}'?: \\{ type:`));
}

function healthPort(service: any): number {
  const test = service.healthcheck.test.join(' ');
  return Number(/localhost:(\d+)\/health\/ready/.exec(test)![1]);
}

/** The services that run our code (a subgraph or the gateway), found by their command, not their name. */
const ours = Object.entries(services).filter(([, s]) => (s.command ?? []).some((arg: string) => /dist\/scripts\/(registry-node|gateway)\.js/.test(arg)));
const secret = 'a1'.repeat(32);
const shell = { [SIGNING_SECRET_ENV]: secret, JWT_ISSUER: 'https://idp.example/' };

const folders: string[] = [];
const children: ReturnType<typeof spawn>[] = [];
afterAll(async () => {
  const stopping = children.filter((child) => child.exitCode === null && child.signalCode === null);
  await Promise.all(stopping.map((child) => new Promise((resolve) => child.once('exit', resolve).kill('SIGTERM'))));
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('docker-compose.yml', () => {
  it('runs Postgres, Redis, the five subgraphs and the gateway as separate services with health checks', () => {
    expect(Object.keys(services).sort()).toEqual(['gateway', 'postgres', 'redis', ...NODE_SUBGRAPHS].sort());
    for (const [name, service] of Object.entries(services)) expect(service.healthcheck?.test, name).toBeDefined();
    expect(ours.map(([name]) => name).sort()).toEqual(['gateway', ...NODE_SUBGRAPHS].sort());
  });

  it('starts each subgraph with the entry point and port the code uses', () => {
    const password = services.postgres.environment.POSTGRES_PASSWORD;
    const db = services.postgres.environment.POSTGRES_DB;
    for (const name of NODE_SUBGRAPHS) {
      const service = services[name];
      expect(service, `service ${name}`).toBeDefined();
      expect(service.command).toEqual(['node', 'dist/scripts/registry-node.js', '--only', name]);
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
      for (const without of [{ JWT_ISSUER: shell.JWT_ISSUER }, { ...shell, [SIGNING_SECRET_ENV]: '' }]) {
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
    expect(gateway.command).toEqual(['node', 'dist/scripts/gateway.js']);
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

  it('configures caller identity as the gateway needs it in production', async () => {
    const gateway = services.gateway;
    const env = processEnv(gateway, shell);
    expect(env.NODE_ENV, 'the image runs in production mode').toBe('production');
    expect(() => processEnv(gateway, { [SIGNING_SECRET_ENV]: secret }), 'JWT_ISSUER is required').toThrow(/JWT_ISSUER/);
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
    const [, script, ...args] = services.audit.command as string[];
    // The service's environment, but the embedded database, a free port and this process's memory for nonces.
    const env = { ...processEnv(services.audit, shell), PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_FORMAT: 'json', PATH: process.env.PATH ?? '' };
    for (const key of ['DATABASE_URL', 'REDIS_URL'] as const) delete (env as Record<string, string>)[key];
    const child = spawn(process.execPath, [join(root, script!), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
