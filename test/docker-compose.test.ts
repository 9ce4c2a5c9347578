import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildDirectory } from '../gateway/directory/registry-directory.js';
import { DATA_SUBGRAPHS } from '../lib/schema/contract.js';
import { repoRoot } from '../lib/schema/contract.js';

/** No Docker engine runs here, so the compose file is checked against the code instead of run. */
const root = repoRoot();
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
const services = compose.services as Record<string, any>;
const source = (path: string) => readFileSync(join(root, path), 'utf8');

/** Environment variables the code reads, found in the sources that the containers run. */
const envRead = new Set(
  ['scripts/registry-node.ts', 'scripts/gateway.ts', 'scripts/process-defaults.ts', 'lib/database/database.ts']
    .flatMap((file) => [...source(file).matchAll(/env(?:\.|\[')([A-Z_]+)/g)].map((m) => m[1]!))
    .concat(DATA_SUBGRAPHS.map((sg) => `${sg.toUpperCase().replace('-', '_')}_URL`)),
);

/** Every --flag of a command is an option the entry point parses. */
function expectFlagsKnown(command: string[]): void {
  const script = source(command[1]!.replace(/^dist\//, '').replace(/\.js$/, '.ts'));
  for (const flag of command.filter((arg) => arg.startsWith('--'))) expect(script, `${command[1]} ${flag}`).toMatch(new RegExp(`'?${flag.slice(2)}'?: \\{ type:`));
}

function healthPort(service: any): number {
  const test = service.healthcheck.test.join(' ');
  return Number(/localhost:(\d+)\/health\/ready/.exec(test)![1]);
}

describe('docker-compose.yml', () => {
  it('runs Postgres, the four subgraphs and the gateway as separate services with health checks', () => {
    expect(Object.keys(services).sort()).toEqual(['gateway', 'postgres', ...DATA_SUBGRAPHS].sort());
    for (const [name, service] of Object.entries(services)) expect(service.healthcheck?.test, name).toBeDefined();
  });

  it('starts each subgraph with the entry point and port the code uses', () => {
    const password = services.postgres.environment.POSTGRES_PASSWORD;
    const db = services.postgres.environment.POSTGRES_DB;
    for (const name of DATA_SUBGRAPHS) {
      const service = services[name];
      expect(service.command).toEqual(['node', 'dist/scripts/registry-node.js', '--only', name]);
      expect(existsSync(join(root, 'scripts/registry-node.ts'))).toBe(true);
      expectFlagsKnown(service.command);
      expect(Number(service.environment.PORT)).toBe(healthPort(service));
      expect(service.environment.DATABASE_URL).toBe(`postgres://postgres:${password}@postgres:5432/${db}`);
      expect(service.depends_on.postgres.condition).toBe('service_healthy');
      for (const key of Object.keys(service.environment)) expect(envRead.has(key), `${name} sets ${key}, which no code reads`).toBe(true);
      // Siblings' URLs point at the services that really listen there.
      for (const other of DATA_SUBGRAPHS.filter((o) => o !== name)) {
        const url = new URL(service.environment[`${other.toUpperCase().replace('-', '_')}_URL`]);
        expect(url.hostname).toBe(other);
        expect(Number(url.port)).toBe(Number(services[other].environment.PORT));
      }
    }
  });

  it('gives the gateway a valid directory that names the subgraph services and their ports', () => {
    const gateway = services.gateway;
    expect(gateway.command).toEqual(['node', 'dist/scripts/gateway.js']);
    expect(existsSync(join(root, 'scripts/gateway.ts'))).toBe(true);
    expect(gateway.ports).toEqual([`${gateway.environment.PORT}:${gateway.environment.PORT}`]);
    expect(Number(gateway.environment.PORT)).toBe(healthPort(gateway));
    for (const key of Object.keys(gateway.environment)) expect(envRead.has(key), `gateway sets ${key}`).toBe(true);
    for (const name of DATA_SUBGRAPHS) expect(gateway.depends_on[name].condition).toBe('service_healthy');
    const directory = buildDirectory(JSON.parse(source(gateway.environment.DIRECTORY_FILE)));
    for (const name of DATA_SUBGRAPHS) {
      const url = new URL(directory.home.subgraphs[name]);
      expect(url.hostname).toBe(name);
      expect(Number(url.port)).toBe(Number(services[name].environment.PORT));
    }
  });

  it('builds from a Dockerfile that compiles the entry points and ships the schema and config', () => {
    const dockerfile = source('Dockerfile');
    expect(dockerfile).toContain('npm ci');
    expect(dockerfile).toContain('npm run build');
    expect(dockerfile).toMatch(/COPY schema schema/);
    expect(dockerfile).toMatch(/COPY config config/);
    expect(source('tsconfig.build.json')).toContain('"scripts"');
    // The image's default command is an entry point that exists.
    const cmd = JSON.parse(/^CMD (.+)$/m.exec(dockerfile)![1]!) as string[];
    expect(existsSync(join(root, cmd[1]!.replace(/^dist\//, '').replace(/\.js$/, '.ts')))).toBe(true);
  });
});
