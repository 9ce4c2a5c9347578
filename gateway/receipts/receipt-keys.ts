import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK } from 'jose';
import { RECEIPT_ALGORITHMS } from './receipt-format.js';

/**
 * The receipt signing keys: a key pair of their own, never the login keys (gateway/identity), so a
 * receipt can never pass as a token. A key file is a JWKS (or one JWK): the first key with a private
 * part signs; every key is published, so receipts signed by a previous key keep verifying until it is
 * removed. A retired key carries `retired` (when it stopped signing) so `rotate` knows when to drop it.
 */
export interface ReceiptKeyRing {
  kid: string;
  alg: string;
  /** Signs with the newest key. */
  privateKey: Awaited<ReturnType<typeof importJWK>>;
  /** Public parts of every key, newest first: what /.well-known/jwks.json serves. */
  publicKeys: JWK[];
  /** Where the keys came from, for the start-up log. */
  source: string;
  /** The key file, when they came from one: the gateway re-reads it when it changes (rotation). */
  file?: string;
}

export class ReceiptKeyError extends Error {}

type StoredJwk = JWK & { retired?: string };
const PUBLIC_MEMBERS = ['kty', 'crv', 'x', 'y', 'kid', 'alg'] as const;

/** The development key folder under the data folder. */
export function receiptKeyDir(dataDir: string): string {
  return join(dataDir, 'receipt-keys');
}

/**
 * RECEIPT_KEY (a JWK or JWKS, inline) or RECEIPT_KEY_FILE; without either, development makes (once) and
 * keeps a key in <dataDir>/receipt-keys/keys.json, and production has no receipts (null).
 */
export async function receiptKeysFromEnv({ dataDir, env = process.env }: { dataDir: string; env?: NodeJS.ProcessEnv }): Promise<ReceiptKeyRing | null> {
  const { RECEIPT_KEY: inline, RECEIPT_KEY_FILE: file } = env;
  if (inline && file) throw new ReceiptKeyError('set RECEIPT_KEY or RECEIPT_KEY_FILE, not both');
  if (inline) return keyRingFrom(parseJson(inline, 'RECEIPT_KEY'), 'RECEIPT_KEY');
  if (file) {
    // The login keys must never sign receipts: a receipt would then verify as a token.
    const loginKeys = [env.JWKS_FILE, join(dataDir, 'dev-keys')].filter((f): f is string => !!f).map((f) => resolve(f));
    if (loginKeys.some((f) => resolve(file) === f || resolve(file).startsWith(f + '/'))) {
      throw new ReceiptKeyError(`RECEIPT_KEY_FILE=${file} holds login keys; receipts need a key pair of their own (npm run receipt -- rotate --key-file <new file>)`);
    }
    return loadReceiptKeyFile(file);
  }
  if (env.NODE_ENV === 'production') return null;
  const devFile = join(receiptKeyDir(dataDir), 'keys.json');
  if (!existsSync(devFile)) await rotateReceiptKeys(devFile);
  return loadReceiptKeyFile(devFile, `${devFile} (development key)`);
}

export async function loadReceiptKeyFile(file: string, source = file): Promise<ReceiptKeyRing> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ReceiptKeyError(`cannot read the receipt key file: ${(error as Error).message}`);
  }
  return { ...(await keyRingFrom(parseJson(text, file), source)), file };
}

/** A fresh key that lives as long as the process: for tests and embedding, never for receipts that must outlive it. */
export async function ephemeralReceiptKeys(): Promise<ReceiptKeyRing> {
  return keyRingFrom({ keys: [await newKey()] }, 'ephemeral key (receipts verify only while this process runs)');
}

export async function keyRingFrom(input: unknown, source: string): Promise<ReceiptKeyRing> {
  const keys = jwkList(input, source);
  const signing = keys.find((k) => k.d !== undefined);
  if (!signing) throw new ReceiptKeyError(`${source} has no private key ("d") to sign receipts with`);
  if (!signing.alg || !RECEIPT_ALGORITHMS.includes(signing.alg)) {
    throw new ReceiptKeyError(`${source}: the signing key needs "alg" EdDSA or ES256 (got ${JSON.stringify(signing.alg)})`);
  }
  const kids = new Set<string>();
  for (const k of keys) {
    if (typeof k.kid !== 'string' || !k.kid) throw new ReceiptKeyError(`${source}: every key needs a "kid"`);
    if (kids.has(k.kid)) throw new ReceiptKeyError(`${source}: kid ${JSON.stringify(k.kid)} is used twice`);
    kids.add(k.kid);
  }
  let privateKey;
  try {
    privateKey = await importJWK(signing, signing.alg);
  } catch (error) {
    throw new ReceiptKeyError(`${source}: the signing key ${signing.kid} cannot be used: ${(error as Error).message}`);
  }
  return { kid: signing.kid!, alg: signing.alg, privateKey, publicKeys: keys.map(publicPart), source };
}

/** The public JWKS of a key ring, each key marked with the registry it signs for. */
export function publicJwks(ring: ReceiptKeyRing, registryCountry?: string): JSONWebKeySet {
  return { keys: ring.publicKeys.map((k) => ({ ...k, use: 'sig', ...(registryCountry ? { reg: registryCountry } : {}) })) };
}

/**
 * Rotation: a new Ed25519 key goes first and signs from now on; the previous signer keeps only its
 * public part, marked `retired`; retired keys older than `keepSeconds` (the longest receipt lifetime)
 * are dropped, since every receipt they signed has expired. Creates the file when it does not exist.
 */
export async function rotateReceiptKeys(file: string, options: { keepSeconds?: number; now?: Date } = {}): Promise<{ kid: string; retired: string[]; dropped: string[] }> {
  const now = options.now ?? new Date();
  const existing: StoredJwk[] = existsSync(file) ? jwkList(parseJson(await readFile(file, 'utf8'), file), file) : [];
  const keepMs = (options.keepSeconds ?? DEFAULT_RECEIPT_TTL_SECONDS) * 1000;
  const retired: string[] = [];
  const dropped: string[] = [];
  const kept = existing.flatMap((k): StoredJwk[] => {
    if (k.d !== undefined) {
      retired.push(k.kid!);
      return [{ ...publicPart(k), retired: now.toISOString() }];
    }
    if (k.retired && Date.parse(k.retired) + keepMs < now.getTime()) {
      dropped.push(k.kid!);
      return [];
    }
    return [k];
  });
  const key = await newKey(now);
  mkdirSync(dirname(file), { recursive: true });
  // Written beside and renamed, so a gateway starting meanwhile never reads half a file.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ keys: [key, ...kept] }, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
  return { kid: key.kid!, retired, dropped };
}

/** 30 days: long enough for a shipment to cross a border and be checked again, short enough to rotate keys. */
export const DEFAULT_RECEIPT_TTL_SECONDS = 30 * 86_400;

async function newKey(now = new Date()): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { extractable: true });
  const kid = `receipt-${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;
  return { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' };
}

function publicPart(k: JWK): JWK {
  return Object.fromEntries(PUBLIC_MEMBERS.filter((m) => k[m] !== undefined).map((m) => [m, k[m]])) as JWK;
}

function jwkList(input: unknown, source: string): StoredJwk[] {
  const list = Array.isArray((input as JSONWebKeySet)?.keys) ? (input as JSONWebKeySet).keys : input && typeof input === 'object' && 'kty' in input ? [input as JWK] : null;
  if (!list || list.length === 0) throw new ReceiptKeyError(`${source} must hold a JWK or a JWKS ({ "keys": [...] }) with at least one key`);
  return list as StoredJwk[];
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ReceiptKeyError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
}
