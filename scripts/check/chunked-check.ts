import { MAX_CODES_PER_REQUEST } from '../../lib/limits/request-limits.js';
import { normaliseCode } from '../../lib/identity-code/identity-code.js';
import type { Attempt, GatewayClient, Problem, Verification } from './gateway-client.js';
import { backoffDelay, PauseGate, type RetryPolicy } from './retry.js';

/**
 * Checks any number of codes through verifyMany: each distinct code once (written forms that normalise
 * alike count as one), in chunks the gateway accepts, a few chunks at a time. A chunk that keeps failing
 * gives its codes a `failed` outcome instead of stopping the run; codes a registry could not answer for
 * (UNKNOWN, REGISTRY_UNAVAILABLE) are sent again a few times before that answer is kept.
 */

export type Outcome = { kind: 'verified'; verification: Verification } | { kind: 'failed'; problem: Problem };

export interface CheckOptions {
  client: GatewayClient;
  policy: RetryPolicy;
  /** Chunks in flight at once (the gateway refuses a caller's ninth request in flight). */
  concurrency: number;
  /** Codes per verifyMany, at most the gateway's 1,000. */
  chunkSize: number;
  /** Called as codes get their final outcome, with how many manifest rows they stand for. */
  onProgress?: (rows: number) => void;
  /** Called when a 429 makes every worker wait, or a chunk is retried. */
  onNotice?: (message: string) => void;
}

// Request bodies above 2 MiB are refused: chunks of long (junk) inputs are cut well below it.
const MAX_CHUNK_BYTES = 1024 * 1024;

/** The key two inputs share when the registry must answer them alike. */
export const dedupeKey = (input: string): string => normaliseCode(input);

/** The outcome for every input, by dedupeKey. */
export async function checkCodes(inputs: readonly string[], options: CheckOptions): Promise<Map<string, Outcome>> {
  const rowsPerKey = new Map<string, number>();
  const representative: string[] = [];
  for (const input of inputs) {
    const key = dedupeKey(input);
    const rows = rowsPerKey.get(key);
    if (rows === undefined) representative.push(input);
    rowsPerKey.set(key, (rows ?? 0) + 1);
  }
  const chunks = splitIntoChunks(representative, Math.min(options.chunkSize, MAX_CODES_PER_REQUEST));
  const outcomes = new Map<string, Outcome>();
  const gate = new PauseGate(options.policy);
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++]!;
      const results = await checkChunk(chunk, options, gate);
      let rows = 0;
      chunk.forEach((input, i) => {
        const key = dedupeKey(input);
        outcomes.set(key, results[i]!);
        rows += rowsPerKey.get(key)!;
      });
      options.onProgress?.(rows);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, chunks.length)) }, worker));
  return outcomes;
}

export function splitIntoChunks(codes: readonly string[], size: number): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const code of codes) {
    const cost = Buffer.byteLength(JSON.stringify(code)) + 1;
    if (current.length > 0 && (current.length >= size || bytes + cost > MAX_CHUNK_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(code);
    bytes += cost;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** One chunk to the end: its outcomes in chunk order. */
async function checkChunk(chunk: string[], options: CheckOptions, gate: PauseGate): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(chunk.length);
  let pending = chunk.map((_, i) => i);
  for (let round = 0; ; round++) {
    const attempt = await sendWithRetry(pending.map((i) => chunk[i]!), options, gate);
    if (attempt.kind !== 'ok') {
      // An earlier round's UNKNOWN answer is still an answer: keep it rather than call the code failed.
      for (const i of pending) outcomes[i] ??= { kind: 'failed', problem: attempt.problem };
      return outcomes;
    }
    attempt.value.forEach((verification, j) => (outcomes[pending[j]!] = { kind: 'verified', verification }));
    pending = pending.filter((i) => isRegistryUnavailable(outcomes[i]!));
    if (pending.length === 0 || round >= options.policy.retries) return outcomes;
    options.onNotice?.(`${pending.length} code(s) answered REGISTRY_UNAVAILABLE: sending them again`);
    await options.policy.sleep(backoffDelay(round, options.policy));
  }
}

const isRegistryUnavailable = (outcome: Outcome) =>
  outcome.kind === 'verified' && outcome.verification.verdict === 'UNKNOWN' && outcome.verification.reasons.some((r) => r.code === 'REGISTRY_UNAVAILABLE');

/** One verifyMany until it answers: failures back off, 429s pause every worker for Retry-After. */
async function sendWithRetry(codes: string[], options: CheckOptions, gate: PauseGate): Promise<Attempt<Verification[]>> {
  const { policy } = options;
  let failures = 0;
  let rateLimitWaits = 0;
  for (;;) {
    await gate.wait();
    const attempt = await options.client.verifyMany(codes);
    if (attempt.kind !== 'retry') return attempt;
    if (attempt.rateLimited) {
      if (++rateLimitWaits > policy.maxRateLimitWaits) return { kind: 'fail', problem: attempt.problem };
      const wait = attempt.retryAfterMs ?? backoffDelay(Math.min(rateLimitWaits, 6), policy);
      // Workers refused together report one pause, not one each.
      if (wait - gate.remaining() > 1000) options.onNotice?.(`${attempt.problem.code}: waiting ${formatSeconds(wait)} as the gateway asks (Retry-After)`);
      gate.pause(wait);
      continue;
    }
    if (failures >= policy.retries) return { kind: 'fail', problem: attempt.problem };
    const wait = attempt.retryAfterMs ?? backoffDelay(failures, policy);
    failures++;
    options.onNotice?.(`${attempt.problem.code} (${attempt.problem.message}): retry ${failures} of ${policy.retries} in ${formatSeconds(wait)}`);
    await policy.sleep(wait);
  }
}

const formatSeconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
