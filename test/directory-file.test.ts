import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway-server.js';
import { startFederation, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';
import { TEST_SIGNING } from './support/signing.js';

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A gateway started from a directory file, edited while it runs. */
describe('directory file hot reload', () => {
  let fed: Federation;
  let gateway: RunningGateway;
  let dir: string;
  let file: string;
  let de: string[];
  const query = async (q: string) => (await (await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) })).json()) as any;

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN' }, { country: 'DE' }]);
    de = await seedNode(fed.nodes[1]!, 'DEBBBB', 'DEBBBB000001', 1);
    dir = mkdtempSync(join(tmpdir(), 'directory-'));
    file = join(dir, 'registries.json');
    writeFileSync(file, JSON.stringify({ registries: [fed.directoryInput.registries[0]] }));
    gateway = await startGateway({ directory: JSON.parse(JSON.stringify({ registries: [fed.directoryInput.registries[0]] })), directoryFile: file, signing: TEST_SIGNING });
  });
  afterAll(async () => {
    await gateway?.stop();
    await fed?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds a registry written into the file, without a restart', async () => {
    const before = await query(`{ unit(code: "${de[0]}") { code } }`);
    expect(before.errors[0].extensions.code).toBe('UNKNOWN_COUNTRY');
    writeFileSync(file, JSON.stringify(fed.directoryInput));
    const after = await eventually(() => query(`{ unit(code: "${de[0]}") { code } registries { country } }`), (r) => !r.errors);
    expect(after.data).toEqual({ unit: { code: de[0] }, registries: [{ country: 'CN' }, { country: 'DE' }] });
  });

  it('keeps the last good directory when the file becomes invalid', async () => {
    writeFileSync(file, '{ "registries": [ { "name": ');
    await new Promise((r) => setTimeout(r, 2_500));
    const still = await query(`{ unit(code: "${de[0]}") { code } }`);
    expect(still).toEqual({ data: { unit: { code: de[0] } } });
  });
});
