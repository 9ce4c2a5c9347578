import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { rootLogger } from '../../lib/logging/logger.js';

export interface JwksFileOptions {
  /** An unknown `kid` re-reads the file at most once per this many ms (default 30 s). */
  cooldownMs?: number;
  /** The file is re-read when the set in memory is older than this (default 10 min): removed keys stop working. */
  maxAgeMs?: number;
  now?: () => number;
  /** How the file is read (tests count reads through it). */
  read?: (path: string) => Promise<string>;
}

export interface JwksFileKeySet {
  getKey: JWTVerifyGetKey;
  /** Reads the file now; rejects when it is missing or not a key set (start-up calls this to fail fast). */
  load(): Promise<JSONWebKeySet>;
}

/**
 * A JWKS file as jose's key lookup, with rotation: a token whose `kid` is not in the set triggers one
 * re-read (shared by concurrent requests), then none until the cooldown has passed, so a flood of
 * tokens with made-up kids costs one file read per cooldown, never one per request.
 */
export function jwksFileKeySet(path: string, options: JwksFileOptions = {}): JwksFileKeySet {
  const cooldownMs = options.cooldownMs ?? 30_000;
  const maxAgeMs = options.maxAgeMs ?? 600_000;
  const now = options.now ?? Date.now;
  const read = options.read ?? ((file: string) => readFile(file, 'utf8'));
  let current: { lookup: JWTVerifyGetKey; readAt: number } | undefined;
  let reading: Promise<void> | undefined;

  async function load(): Promise<JSONWebKeySet> {
    const text = await read(path);
    let set: unknown;
    try {
      set = JSON.parse(text);
    } catch {
      throw new Error(`JWKS file ${path} is not valid JSON`);
    }
    if (!set || typeof set !== 'object' || !Array.isArray((set as JSONWebKeySet).keys)) {
      throw new Error(`JWKS file ${path} has no "keys" array`);
    }
    if ((set as JSONWebKeySet).keys.some((key) => 'd' in key)) {
      throw new Error(`JWKS file ${path} contains a private key; it must hold public keys only`);
    }
    current = { lookup: createLocalJWKSet(set as JSONWebKeySet), readAt: now() };
    return set as JSONWebKeySet;
  }

  function refresh(): Promise<void> {
    reading ??= load()
      .then(
        () => undefined,
        (error: Error) => {
          // A broken file while rotating must not lock everyone out: the last good set keeps serving.
          if (!current) throw error;
          current.readAt = now();
          rootLogger().error({ err: error }, `JWKS file re-read failed; keeping the last good key set`);
        },
      )
      .finally(() => (reading = undefined));
    return reading;
  }

  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (reading) await reading;
    if (!current || now() - current.readAt >= maxAgeMs) await refresh();
    try {
      return await current!.lookup(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      if (reading) await reading;
      else if (now() - current!.readAt >= cooldownMs) await refresh();
      else throw error;
      return current!.lookup(header, token);
    }
  };

  return { getKey, load };
}
