import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The key the gateway and its home node share to sign internal requests (HMAC-SHA256). */
export interface SigningOptions {
  secret: Buffer;
}

export const SIGNING_SECRET_ENV = 'NODE_SIGNING_SECRET';
const MIN_BYTES = 32;
const SECRET_FILE = 'signing-secret';

/** Hex (64+ hex digits) or base64/base64url decoding to at least 32 bytes; throws naming the problem. */
export function parseSigningSecret(text: string, source = SIGNING_SECRET_ENV): Buffer {
  const value = text.trim();
  let bytes: Buffer;
  if (/^[0-9a-fA-F]+$/.test(value) && value.length % 2 === 0) bytes = Buffer.from(value, 'hex');
  else if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) bytes = Buffer.from(value, 'base64');
  else throw new Error(`${source} must be hex or base64 (got ${value.length} characters of something else)`);
  if (bytes.length < MIN_BYTES) throw new Error(`${source} must hold at least ${MIN_BYTES} bytes, got ${bytes.length} (try: openssl rand -hex 32)`);
  return bytes;
}

/** Signing options from NODE_SIGNING_SECRET, or undefined when it is not set. */
export function signingFromEnv(env: NodeJS.ProcessEnv = process.env): SigningOptions | undefined {
  const text = env[SIGNING_SECRET_ENV];
  return text ? { secret: parseSigningSecret(text) } : undefined;
}

/**
 * For development (`npm start`): a secret kept in the data folder, made on first start, so the gateway
 * and the node it launches share one without anyone configuring it. Production sets NODE_SIGNING_SECRET.
 */
export function developmentSigningSecret(dataDir: string): Buffer {
  const file = join(dataDir, SECRET_FILE);
  if (existsSync(file)) return parseSigningSecret(readFileSync(file, 'utf8'), file);
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(MIN_BYTES);
  // 'wx' fails if another process wrote it first; then read theirs.
  try {
    writeFileSync(file, `${secret.toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    chmodSync(file, 0o600);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return parseSigningSecret(readFileSync(file, 'utf8'), file);
  }
}
