import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { rootLogger } from '../../lib/logging/logger.js';
import { unauthenticated } from '../../lib/server/http-refusal.js';
import type { Caller, Role } from '../../lib/server/request-context.js';
import { callerFromClaims, isProblem } from './caller-claims.js';

/**
 * API keys for machine clients: `rrk_<id>_<secret>`. The id is public (logs, lookup, revocation); only
 * the SHA-256 of the secret is stored. The key file is configuration, like the registry directory:
 * an operator creates and revokes keys with a command, replicas of the gateway share one file (a volume
 * or a config map), and the gateway needs no database of its own to check a key.
 */
export interface ApiKeyRecord {
  id: string;
  /** Who holds it ("DE customs post 7"); becomes the caller's subject. */
  name: string;
  role: Role;
  enterprise?: string;
  country?: string;
  /** Hex SHA-256 of the secret part. */
  sha256: string;
  created: string;
}

export interface ApiKeyFile {
  keys: ApiKeyRecord[];
}

const KEY = /^rrk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export class ApiKeyError extends Error {}

/**
 * Reads the key file and re-reads it when it changes (one stat per API-key request: cheap, and a revoked
 * key stops working on the next request, on every replica, without a watcher to race).
 */
export class ApiKeyStore {
  private keys = new Map<string, ApiKeyRecord>();
  private version = '';
  private loading: Promise<void> | undefined;

  constructor(readonly file: string) {}

  /** Reads the file now; rejects when it exists but is invalid (start-up fails fast on a broken file). */
  async load(): Promise<void> {
    const version = await fileVersion(this.file);
    this.keys = version === 'absent' ? new Map() : new Map(parseKeyFile(await readFile(this.file, 'utf8'), this.file).keys.map((k) => [k.id, k]));
    this.version = version;
  }

  /** The caller an API key stands for, or a 401 naming what is wrong with it. */
  async authenticate(key: string): Promise<Caller> {
    const match = KEY.exec(key.trim());
    if (!match) throw unauthenticated('API key refused: malformed (expected rrk_<16 hex>_<43-character secret>, as printed by npm run api-key)');
    const [, id, secret] = match as unknown as [string, string, string];
    await this.refresh();
    const record = this.keys.get(id);
    // Hash and compare even for an unknown id, so the answer takes as long either way.
    const expected = Buffer.from(record?.sha256 ?? '0'.repeat(64), 'hex');
    const matches = timingSafeEqual(sha256(secret), expected);
    if (!record) throw unauthenticated(`API key refused: no key with id rrk_${id} (never created, or revoked)`);
    if (!matches) throw unauthenticated(`API key refused: wrong secret for key rrk_${id}`);
    const caller = callerFromClaims({ subject: record.name, role: record.role, enterprise: record.enterprise, country: record.country });
    if (isProblem(caller)) throw unauthenticated(`API key rrk_${id} refused: ${caller.problem}`);
    return caller;
  }

  private refresh(): Promise<void> {
    this.loading ??= (async () => {
      const version = await fileVersion(this.file);
      if (version === this.version) return;
      try {
        await this.load();
      } catch (error) {
        // A half-edited file must not lock every machine client out: the last good keys keep working.
        this.version = version;
        rootLogger().error({ err: error }, `API key file ${this.file} refused; the last good keys stay in force`);
      }
    })().finally(() => (this.loading = undefined));
    return this.loading;
  }
}

export interface NewApiKey {
  name: string;
  role: Role;
  enterprise?: string;
  country?: string;
}

/** Adds a key to the file (written whole, then renamed, so a reading gateway never sees half a file). */
export async function createApiKey(file: string, input: NewApiKey, now = new Date()): Promise<{ key: string; record: ApiKeyRecord }> {
  const checked = callerFromClaims({ subject: input.name, ...input });
  if (isProblem(checked)) throw new ApiKeyError(checked.problem);
  const current = (await fileVersion(file)) === 'absent' ? { keys: [] } : parseKeyFile(await readFile(file, 'utf8'), file);
  if (current.keys.some((k) => k.name === input.name)) throw new ApiKeyError(`a key named ${JSON.stringify(input.name)} exists already; names identify callers in logs`);
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const record: ApiKeyRecord = {
    id,
    name: input.name,
    role: checked.role as Role,
    ...(checked.enterprise ? { enterprise: checked.enterprise } : {}),
    ...(checked.country ? { country: checked.country } : {}),
    sha256: sha256(secret).toString('hex'),
    created: now.toISOString(),
  };
  await writeKeyFile(file, { keys: [...current.keys, record] });
  return { key: `rrk_${id}_${secret}`, record };
}

/** Removes a key by its id (with or without the rrk_ prefix); returns whether it was there. */
export async function revokeApiKey(file: string, id: string): Promise<boolean> {
  const bare = id.replace(/^rrk_/, '').slice(0, 16);
  if ((await fileVersion(file)) === 'absent') return false;
  const current = parseKeyFile(await readFile(file, 'utf8'), file);
  const keys = current.keys.filter((k) => k.id !== bare);
  if (keys.length === current.keys.length) return false;
  await writeKeyFile(file, { keys });
  return true;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

async function writeKeyFile(file: string, content: ApiKeyFile): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(content, null, 2) + '\n', { mode: 0o600 });
  await rename(temporary, file);
}

async function fileVersion(file: string): Promise<string> {
  try {
    const s = await stat(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw error;
  }
}

function parseKeyFile(text: string, file: string): ApiKeyFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiKeyError(`API key file ${file} is not valid JSON`);
  }
  const keys = (parsed as ApiKeyFile | null)?.keys;
  if (!Array.isArray(keys)) throw new ApiKeyError(`API key file ${file} has no "keys" array`);
  keys.forEach((k, i) => {
    const problem =
      typeof k?.id !== 'string' || !/^[0-9a-f]{16}$/.test(k.id) ? 'id is not 16 hex characters'
      : typeof k.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(k.sha256) ? 'sha256 is not 64 hex characters'
      : typeof k.name !== 'string' || !k.name ? 'no name'
      : undefined;
    if (problem) throw new ApiKeyError(`API key file ${file}: keys[${i}]: ${problem}`);
  });
  return { keys };
}
