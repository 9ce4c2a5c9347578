import { describe, expect, it } from 'vitest';
import { DirectoryStore } from '../gateway/directory/directory-store.js';

/** What an operator is warned about when a directory is applied (accepted, but worth fixing). */
describe('directory warnings', () => {
  const home = {
    name: 'Home',
    countries: ['CN'],
    home: true,
    subgraphs: Object.fromEntries(['enterprises', 'product-models', 'units', 'lifecycle'].map((s, i) => [s, `http://127.0.0.1:${4101 + i}/graphql`])),
  };
  const partner = (scheme: string, host: string) => ({
    name: 'DE registry',
    countries: ['DE'],
    subgraphs: Object.fromEntries(['enterprises', 'product-models', 'units', 'lifecycle'].map((s) => [s, `${scheme}://${host}/${s}`])),
    credentials: { header: 'authorization', prefix: 'Bearer ', fromEnv: 'DE_TOKEN' },
  });
  const env = { DE_TOKEN: 's3cret' };

  it('warns when a partner credential would travel over plain http to another host, not over https or to loopback', async () => {
    const store = await DirectoryStore.create({ registries: [home] }, { env, checkConformance: false });
    const plain = await store.apply({ registries: [home, partner('http', 'de.example')] });
    expect(plain.applied).toBe(true);
    expect(plain.warnings).toEqual(
      ['enterprises', 'product-models', 'units', 'lifecycle'].map((s) => `"DE registry" ${s}: its credential is sent over plain http to de.example; use an https:// URL`),
    );
    expect((await store.apply({ registries: [home, partner('https', 'de.example')] })).warnings).toEqual([]);
    expect((await store.apply({ registries: [home, partner('http', '127.0.0.1:5600')] })).warnings).toEqual([]);
    // Without a credential there is nothing to read on the way.
    const { credentials: _none, ...open } = partner('http', 'de.example');
    expect((await store.apply({ registries: [home, open] })).warnings).toEqual([]);
  });
});
