import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway-server.js';
import { startFederation, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';
import { TEST_SIGNING } from './support/signing.js';


/** Resolves with the outcome of the gateway's next re-read of its directory file. */
function nextFileRead(gateway: RunningGateway) {
  return new Promise<{ applied: boolean }>((resolve) => {
    const off = gateway.store.onFileRead((result) => {
      off();
      resolve(result);
    });
  });
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
    const read = nextFileRead(gateway);
    writeFileSync(file, JSON.stringify(fed.directoryInput));
    expect((await read).applied).toBe(true);
    const after = await query(`{ unit(code: "${de[0]}") { code } registries { country } }`);
    expect(after.data).toEqual({ unit: { code: de[0] }, registries: [{ country: 'CN' }, { country: 'DE' }] });
  });

  it('keeps the last good directory when the file becomes invalid', async () => {
    const read = nextFileRead(gateway);
    writeFileSync(file, '{ "registries": [ { "name": ');
    expect((await read).applied).toBe(false);
    const still = await query(`{ unit(code: "${de[0]}") { code } }`);
    expect(still).toEqual({ data: { unit: { code: de[0] } } });
  });
});
