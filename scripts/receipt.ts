import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeProtectedHeader, type JSONWebKeySet, type JWK } from 'jose';
import { readDirectoryFile, buildDirectory } from '../gateway/directory/registry-directory.js';
import { describeReceipt, verifyReceipt, type ReceiptFailure } from '../gateway/receipts/receipt-format.js';
import { JWKS_PATH } from '../gateway/receipts/receipt-keys-route.js';
import { DEFAULT_RECEIPT_TTL_SECONDS, publicJwks, receiptKeyDir, receiptKeysFromEnv, rotateReceiptKeys } from '../gateway/receipts/receipt-keys.js';
import { receiptTtlFromEnv } from '../gateway/receipts/receipt-issuer.js';

/**
 * `npm run receipt -- verify <receipt> [--keys jwks.json] [--url gateway]`: checks a verification receipt
 * offline and prints what it attests. `keys` prints public receipt keys for offline use, `rotate` makes
 * a new signing key. docs/receipts.md.
 */
export const RECEIPT_EXIT: Record<'valid' | ReceiptFailure | 'keys-unavailable' | 'usage', number> = {
  valid: 0,
  signature: 1,
  expired: 2,
  'not-yet-valid': 3,
  'unknown-key': 4,
  'not-a-receipt': 5,
  'wrong-registry': 6,
  'keys-unavailable': 7,
  usage: 64,
};

const HELP = `npm run receipt -- <command> [options]

  verify <receipt|->       check a receipt (the compact JWS, or - to read it from stdin) and print what it attests
      --keys <file>          a JWKS file with the issuer's public keys (offline)
      --url <gateway>        or the issuing gateway (http://host:4000): fetches <url>${JWKS_PATH} and caches it
      --cache-dir <dir>      where fetched keys are kept (default <DATA_DIR>/receipt-key-cache); used offline
  keys                     print a public JWKS for offline use
      --url <gateway>        a gateway's published keys (default: this registry's own, from RECEIPT_KEY_FILE,
                             RECEIPT_KEY or <DATA_DIR>/receipt-keys/keys.json)
      --directory <file>     a bundle: every directory entry's receiptKeys (fetched or inline), each key bound to
                             its registry's country, plus --url's or this registry's own keys
      --out <file>           write it to a file instead of stdout
  rotate                   make a new signing key; the previous one stays published (public part only) until
                           its receipts have expired (RECEIPT_TTL, default 30d), then a later rotate drops it
      --key-file <file>      the key file (default RECEIPT_KEY_FILE, else <DATA_DIR>/receipt-keys/keys.json)

exit codes of verify: 0 valid, 1 signature does not verify (tampered), 2 expired, 3 not yet valid,
4 unknown key, 5 not a receipt, 6 key of another registry, 7 keys unavailable, 64 usage`;

interface Output {
  out: string[];
  err: string[];
  code: number;
}

export async function receiptCommand(argv: string[], env: NodeJS.ProcessEnv = process.env, stdin: () => string = () => readFileSync(0, 'utf8')): Promise<Output> {
  const result: Output = { out: [], err: [], code: 0 };
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        keys: { type: 'string' },
        url: { type: 'string' },
        'cache-dir': { type: 'string' },
        directory: { type: 'string' },
        out: { type: 'string' },
        'key-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usage(result, (error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === 'help') return { ...result, out: [HELP] };
  const dataDir = env.DATA_DIR || 'data';
  try {
    switch (command) {
      case 'verify': {
        if (rest.length !== 1) return usage(result, 'verify takes one receipt (or - to read it from stdin)');
        const token = (rest[0] === '-' ? stdin() : rest[0]!).trim();
        let jwks: JSONWebKeySet;
        try {
          jwks = await keysForVerify(token, values.keys, values.url, values['cache-dir'] ?? join(dataDir, 'receipt-key-cache'));
        } catch (error) {
          if (error instanceof UsageError) return usage(result, error.message);
          return { ...result, err: [`receipt: cannot get the keys: ${(error as Error).message}`], code: RECEIPT_EXIT['keys-unavailable'] };
        }
        const check = await verifyReceipt(token, jwks);
        if (!check.ok) return { ...result, err: [`INVALID receipt (${check.failure}): ${check.message}`], code: RECEIPT_EXIT[check.failure] };
        return { ...result, out: [`VALID receipt, signed by key ${check.kid} (${check.alg})`, ...describeReceipt(check.claims, check.kid)] };
      }
      case 'keys': {
        const own = values.url ? await fetchJwks(jwksUrlOf(values.url)) : await ownKeys(dataDir, env);
        const bundle = values.directory ? { keys: [...own.keys, ...(await directoryKeys(values.directory))] } : own;
        const text = JSON.stringify(bundle, null, 2);
        if (values.out) {
          writeFileSync(values.out, text + '\n');
          return { ...result, err: [`wrote ${bundle.keys.length} public key(s) to ${values.out}`] };
        }
        return { ...result, out: [text] };
      }
      case 'rotate': {
        const file = values['key-file'] ?? env.RECEIPT_KEY_FILE ?? join(receiptKeyDir(dataDir), 'keys.json');
        const keep = env.RECEIPT_TTL ? receiptTtlFromEnv(env) : DEFAULT_RECEIPT_TTL_SECONDS;
        const rotated = await rotateReceiptKeys(file, { keepSeconds: keep });
        return {
          ...result,
          out: [
            `${file}: new signing key ${rotated.kid}`,
            `retired (still published): ${rotated.retired.join(', ') || 'none'}; dropped (their receipts have expired): ${rotated.dropped.join(', ') || 'none'}`,
            'running gateways using this file sign with it within a second (no restart); partners refetch /.well-known/jwks.json within 5 minutes',
          ],
        };
      }
      default:
        return usage(result, command ? `unknown command ${JSON.stringify(command)}` : 'no command given');
    }
  } catch (error) {
    return { ...result, err: [`receipt: ${(error as Error).message}`], code: error instanceof UsageError ? RECEIPT_EXIT.usage : RECEIPT_EXIT['keys-unavailable'] };
  }
}

class UsageError extends Error {}

function usage(result: Output, message: string): Output {
  return { ...result, err: [`receipt: ${message}`, '', HELP], code: RECEIPT_EXIT.usage };
}

/** The keys file (public parts only), or the gateway's published keys, cached for use offline. */
async function keysForVerify(token: string, keysFile: string | undefined, url: string | undefined, cacheDir: string): Promise<JSONWebKeySet> {
  if (keysFile) return publicOnly(readJwks(readFileSync(keysFile, 'utf8'), keysFile));
  if (!url) throw new UsageError('give the issuer\'s keys: --keys <jwks.json> (offline) or --url <gateway>');
  const source = jwksUrlOf(url);
  const cacheFile = join(cacheDir, `${source.replace(/^https?:\/\//, '').replace(/[^A-Za-z0-9.-]+/g, '_')}.json`);
  const cached = existsSync(cacheFile) ? readJwks(readFileSync(cacheFile, 'utf8'), cacheFile) : null;
  let kid: unknown;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    kid = undefined;
  }
  // Offline first: a cached set that holds the receipt's key needs no network.
  if (cached?.keys.some((k) => k.kid === kid)) return cached;
  try {
    const fresh = await fetchJwks(source);
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(cacheFile, JSON.stringify(fresh, null, 2) + '\n');
    return fresh;
  } catch (error) {
    if (cached) return cached;
    throw error;
  }
}

function jwksUrlOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(url)} is not a URL (e.g. http://127.0.0.1:4000)`);
  }
  if (parsed.pathname.endsWith('.json')) return parsed.href;
  return `${parsed.origin}${parsed.pathname.replace(/\/graphql\/?$/, '').replace(/\/+$/, '')}${JWKS_PATH}`;
}

async function fetchJwks(url: string): Promise<JSONWebKeySet> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000), headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const text = await response.text();
  if (text.length > 100_000) throw new Error(`${url} answered more than 100 kB: not a key set`);
  return publicOnly(readJwks(text, url));
}

async function ownKeys(dataDir: string, env: NodeJS.ProcessEnv): Promise<JSONWebKeySet> {
  const ring = await receiptKeysFromEnv({ dataDir, env });
  if (!ring) throw new Error('this registry has no receipt key (set RECEIPT_KEY_FILE or RECEIPT_KEY), or give --url <gateway>');
  return publicJwks(ring, env.COUNTRY?.trim() || 'CN');
}

/** Every directory entry's receiptKeys, each key bound (`reg`) to the entry's first country. */
async function directoryKeys(file: string): Promise<JWK[]> {
  // Credentials are not needed to read keys: variables the file names are given placeholders.
  const directory = buildDirectory(readDirectoryFile(file), { env: new Proxy({}, { get: () => 'x'.repeat(64) }) });
  const keys: JWK[] = [];
  for (const entry of directory.registries) {
    if (!entry.receiptKeys) continue;
    const set = 'url' in entry.receiptKeys ? await fetchJwks(entry.receiptKeys.url) : publicOnly({ keys: [...entry.receiptKeys.keys] });
    keys.push(...set.keys.map((k) => ({ ...k, reg: entry.countries[0] })));
  }
  return keys;
}

function readJwks(text: string, source: string): JSONWebKeySet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not JSON: ${(error as Error).message}`);
  }
  const keys = (value as JSONWebKeySet)?.keys;
  if (!Array.isArray(keys)) throw new Error(`${source} is not a JWKS (no "keys" array)`);
  return { keys };
}

/** Private members are dropped: a verifier needs, and should hold, public keys only. */
function publicOnly(set: JSONWebKeySet): JSONWebKeySet {
  return { keys: set.keys.map(({ d, p, q, dp, dq, qi, ...rest }) => rest) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { out, err, code } = await receiptCommand(process.argv.slice(2));
  for (const line of out) process.stdout.write(`${line}\n`);
  for (const line of err) process.stderr.write(`${line}\n`);
  process.exitCode = code;
}
