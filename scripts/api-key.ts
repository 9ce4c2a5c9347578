import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { createApiKey, revokeApiKey } from '../gateway/identity/api-key-store.js';
import type { Role } from '../lib/server/request-context.js';

/**
 * `npm run api-key -- --role customs --country DE --name "DE customs post 7"`: creates an API key for a
 * machine client and prints it once; the key file (API_KEYS_FILE, default DATA_DIR/api-keys.json) keeps
 * only its SHA-256. `--revoke <id>` removes one. Running gateways pick the change up on the next request.
 */
export async function apiKeyCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      role: { type: 'string' },
      enterprise: { type: 'string' },
      country: { type: 'string' },
      name: { type: 'string' },
      revoke: { type: 'string' },
    },
  });
  const file = env.API_KEYS_FILE ?? join(env.DATA_DIR ?? 'data', 'api-keys.json');
  if (values.revoke) {
    if (!(await revokeApiKey(file, values.revoke))) throw new Error(`no key ${values.revoke} in ${file}`);
    return [`# revoked ${values.revoke} in ${file}`];
  }
  if (!values.name) throw new Error('--name is required: it names the holder in logs ("DE customs post 7")');
  if (!values.role) throw new Error('--role is required (authority, manufacturer, customs, partner, analyst)');
  const { key, record } = await createApiKey(file, { name: values.name, role: values.role as Role, enterprise: values.enterprise, country: values.country });
  return [
    `# API key rrk_${record.id} for ${JSON.stringify(record.name)} (role ${record.role}${record.enterprise ? `, enterprise ${record.enterprise}` : ''}${record.country ? `, country ${record.country}` : ''}) added to ${file}`,
    '# shown once, only its hash is stored; send it as: Authorization: ApiKey <key>  (or x-api-key: <key>)',
    key,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    for (const line of await apiKeyCommand(process.argv.slice(2))) process.stdout.write(`${line}\n`);
  } catch (error) {
    process.stderr.write(`api-key: ${(error as Error).message}\n`);
    process.exit(2);
  }
}
