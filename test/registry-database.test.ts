import { describe, expect, it } from 'vitest';
import { registryDatabase } from '../scripts/process-defaults.js';

describe('the database npm run registry opens', () => {
  it('takes DATABASE_URL when no flag names one, and says so', () => {
    const chosen = registryDatabase({}, { DATABASE_URL: 'postgres://u:secret@db.example:6543/cn', DATA_DIR: 'data/x' }, 'CN');
    expect(chosen.config).toEqual({ url: 'postgres://u:secret@db.example:6543/cn' });
    expect(chosen.describe).toBe('Postgres at db.example:6543/cn (DATABASE_URL)');
    expect(chosen.describe).not.toContain('secret');
  });

  it('lets flags win over the environment', () => {
    const env = { DATABASE_URL: 'postgres://db/env' };
    expect(registryDatabase({ databaseUrl: 'postgres://db/flag' }, env, 'CN').config).toEqual({ url: 'postgres://db/flag' });
    expect(registryDatabase({ dataDir: 'data/mine' }, env, 'CN')).toEqual({ config: { dataDir: 'data/mine' }, describe: 'embedded PGlite in data/mine (--data-dir)' });
  });

  it('falls back to DATA_DIR, then to the country directory, naming the embedded database', () => {
    expect(registryDatabase({}, { DATA_DIR: 'data/d', DATABASE_URL: '  ' }, 'DE').config).toEqual({ dataDir: 'data/d' });
    const fallback = registryDatabase({}, {}, 'DE');
    expect(fallback.config).toEqual({ dataDir: 'data/registry-DE' });
    expect(fallback.describe).toMatch(/embedded PGlite in data\/registry-DE \(default; set DATABASE_URL for Postgres\)/);
  });
});
