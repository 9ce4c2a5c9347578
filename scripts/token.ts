import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { JWK } from 'jose';
import { DEFAULT_AUDIENCE, DEVELOPMENT_ISSUER, ensureDevelopmentKey, signToken } from '../gateway/identity/development-key.js';
import type { Role } from '../lib/server/request-context.js';

/**
 * `npm run token -- --role <role> [--enterprise CODE] [--country CC] [--subject S] [--ttl 1h]`: prints a
 * token for the development key (made in DATA_DIR/dev-keys, default data/, if the gateway has not made it
 * yet). The token is the last line, so scripts can take `| tail -1`.
 */
export async function tokenCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      role: { type: 'string' },
      enterprise: { type: 'string' },
      country: { type: 'string' },
      subject: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
      key: { type: 'string' },
    },
  });
  const dataDir = env.DATA_DIR ?? 'data';
  const privateJwk = values.key ? (JSON.parse(readFileSync(values.key, 'utf8')) as JWK) : (await ensureDevelopmentKey(dataDir)).privateJwk;
  const subject = values.subject ?? `dev-${values.role ?? 'anonymous'}`;
  const issuer = env.JWT_ISSUER ?? DEVELOPMENT_ISSUER;
  const audience = env.JWT_AUDIENCE ?? DEFAULT_AUDIENCE;
  const token = await signToken(privateJwk, {
    subject,
    role: values.role as Role | undefined,
    enterprise: values.enterprise,
    country: values.country,
    issuer,
    audience,
    ttl: values.ttl,
  });
  const claims = [values.role && `role ${values.role}`, values.enterprise && `enterprise ${values.enterprise}`, values.country && `country ${values.country}`].filter(Boolean).join(', ');
  return [
    `# subject ${subject}${claims ? `, ${claims}` : ' (no role: anonymous)'}; issuer ${issuer}, audience ${audience}, valid ${values.ttl}; key ${privateJwk.kid}`,
    `# send it as: Authorization: Bearer <token>`,
    token,
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    for (const line of await tokenCommand(process.argv.slice(2))) process.stdout.write(`${line}\n`);
  } catch (error) {
    process.stderr.write(`token: ${(error as Error).message}\n`);
    process.exit(2);
  }
}
