import { normaliseCode } from '../../lib/identity-code/identity-code.js';
import { parseRetryAfter } from './retry.js';

/**
 * The GraphQL calls the batch check makes, one attempt each: every answer is classed as a value, a failure
 * worth retrying (network, 5xx, 429, a garbled answer) or a final refusal, and its shape is checked before
 * anything in it is believed. Retrying is the caller's business (chunked-check.ts).
 */

export type Verdict = 'ADMIT' | 'REFUSE' | 'UNKNOWN';
const VERDICTS: readonly string[] = ['ADMIT', 'REFUSE', 'UNKNOWN'];

export interface Registry {
  country: string;
  name: string;
}

export interface Verification {
  /** As the gateway answers it: the canonical code, or the input itself when malformed. */
  code: string;
  /** Canonical code, null when malformed (from `Verification.canonical` when the gateway has it). */
  canonical: string | null;
  verdict: Verdict;
  reasons: { code: string; message: string }[];
  /** Which registry answered (`Verification.answeredBy` when the gateway has it, else derived by the caller). */
  answeredBy: Registry | null;
}

/** Why a call did not give an answer: a code (the gateway's `extensions.code`, or ours) and words. */
export interface Problem {
  code: string;
  message: string;
}

export type Attempt<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'retry'; problem: Problem; rateLimited: boolean; retryAfterMs: number | null }
  | { kind: 'fail'; problem: Problem };

export interface GatewayClient {
  verifyMany(codes: string[]): Promise<Attempt<Verification[]>>;
}

export interface ClientOptions {
  url: string;
  /** The whole Authorization header value, or null for an anonymous caller. */
  authorization: string | null;
  timeoutMs: number;
}

export interface GatewayFacts {
  registries: Registry[];
  /** Whether the gateway has `Verification.input`, `canonical` and `answeredBy` (contract additions). */
  extendedVerification: boolean;
}

const EXTENDED_SELECTION = 'code input canonical verdict reasons { code message } answeredBy { country name }';
const BASIC_SELECTION = 'code verdict reasons { code message }';

export class HttpGatewayClient implements GatewayClient {
  private extended = false;

  constructor(private readonly options: ClientOptions) {}

  /**
   * Learns the registries (to name the one that answered) and whether the gateway has the newer
   * Verification fields: it asks for them on an empty verifyMany and falls back when validation refuses.
   * This first call also tells a wrong URL or a refused token apart before any code is sent.
   */
  async start(): Promise<Attempt<GatewayFacts>> {
    const probe = await this.post(`query CheckStart { registries { country name } verifyMany(codes: []) { ${EXTENDED_SELECTION} } }`, {});
    let extended = true;
    let attempt = probe;
    if (probe.kind === 'fail' && probe.problem.code === 'GRAPHQL_VALIDATION_FAILED') {
      extended = false;
      attempt = await this.post('query CheckStart { registries { country name } }', {});
    }
    if (attempt.kind !== 'ok') return attempt;
    const registries = (attempt.value as { registries?: unknown }).registries;
    if (!Array.isArray(registries) || !registries.every(isRegistry)) return badAnswer('registries is not a list of { country name }');
    this.extended = extended;
    return { kind: 'ok', value: { registries, extendedVerification: extended } };
  }

  async verifyMany(codes: string[]): Promise<Attempt<Verification[]>> {
    const selection = this.extended ? EXTENDED_SELECTION : BASIC_SELECTION;
    const attempt = await this.post(`query CheckManifest($codes: [String!]!) { verifyMany(codes: $codes) { ${selection} } }`, { codes });
    if (attempt.kind !== 'ok') return attempt;
    const answers = (attempt.value as { verifyMany?: unknown }).verifyMany;
    if (!Array.isArray(answers) || answers.length !== codes.length) {
      return badAnswer(`verifyMany answered ${Array.isArray(answers) ? answers.length : 'no list of'} verifications for ${codes.length} codes`);
    }
    const verifications: Verification[] = [];
    for (const [index, answer] of answers.entries()) {
      const verification = readVerification(answer, codes[index]!, this.extended);
      if (typeof verification === 'string') return badAnswer(`verification ${index + 1} of the chunk: ${verification}`);
      verifications.push(verification);
    }
    return { kind: 'ok', value: verifications };
  }

  private async post(query: string, variables: Record<string, unknown>): Promise<Attempt<unknown>> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.options.authorization) headers.authorization = this.options.authorization;
    let status: number;
    let retryAfterMs: number | null;
    let text: string;
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = response.status;
      retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      text = await response.text();
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const message = (error as Error).name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : cause?.code ?? cause?.message ?? (error as Error).message;
      return { kind: 'retry', problem: { code: 'NETWORK_ERROR', message }, rateLimited: false, retryAfterMs: null };
    }
    const payload = parseJson(text);
    const first = payload?.errors?.[0];
    const problem: Problem = {
      code: typeof first?.extensions?.code === 'string' ? first.extensions.code : `HTTP_${status}`,
      message: typeof first?.message === 'string' ? first.message : `HTTP ${status}${payload ? '' : `: ${text.slice(0, 200)}`}`,
    };
    if (status === 429) {
      // A request that alone costs more than the caller's whole window can never pass: a smaller --chunk can.
      const { max, actual } = first?.extensions ?? {};
      if (typeof max === 'number' && typeof actual === 'number' && actual > max) {
        return { kind: 'fail', problem: { ...problem, message: `${problem.message} (use --chunk ${max} or less)` } };
      }
      return { kind: 'retry', problem, rateLimited: true, retryAfterMs };
    }
    if (status >= 500 || status === 408) return { kind: 'retry', problem, rateLimited: false, retryAfterMs };
    if (!payload) return status === 200 ? badAnswer(`not JSON: ${text.slice(0, 200)}`) : { kind: 'fail', problem };
    if (payload.errors?.length || payload.data == null) {
      if (problem.code === 'REGISTRY_UNAVAILABLE' || problem.code === 'INTERNAL_SERVER_ERROR') return { kind: 'retry', problem, rateLimited: false, retryAfterMs };
      if (problem.code === 'PAYLOAD_TOO_LARGE') problem.message += ' (use a smaller --chunk)';
      return { kind: 'fail', problem };
    }
    return { kind: 'ok', value: payload.data };
  }
}

function parseJson(text: string): { data?: unknown; errors?: { message?: unknown; extensions?: Record<string, unknown> }[] } | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

function badAnswer(message: string): Attempt<never> {
  return { kind: 'retry', problem: { code: 'BAD_ANSWER', message: `the gateway's answer is not what was asked: ${message}` }, rateLimited: false, retryAfterMs: null };
}

const isRegistry = (value: unknown): value is Registry =>
  typeof value === 'object' && value !== null && typeof (value as Registry).country === 'string' && typeof (value as Registry).name === 'string';

/** The answer for `sent`, or what is wrong with it. Answers are matched by position, so each is checked to be about `sent`. */
function readVerification(answer: unknown, sent: string, extended: boolean): Verification | string {
  if (typeof answer !== 'object' || answer === null) return 'not an object';
  const a = answer as Record<string, unknown>;
  if (typeof a.code !== 'string') return 'no code';
  if (typeof a.verdict !== 'string' || !VERDICTS.includes(a.verdict)) return `unknown verdict ${JSON.stringify(a.verdict)}`;
  if (!Array.isArray(a.reasons) || !a.reasons.every((r) => typeof r?.code === 'string' && typeof r?.message === 'string')) return 'reasons are not a list of { code message }';
  const reasons = (a.reasons as { code: string; message: string }[]).map((r) => ({ code: r.code, message: r.message }));
  const malformed = reasons.some((r) => r.code === 'MALFORMED_CODE');
  if (extended) {
    if (a.input !== sent) return `answers for ${JSON.stringify(a.input)}, sent ${JSON.stringify(sent)}`;
    if (a.canonical !== null && typeof a.canonical !== 'string') return 'canonical is neither a code nor null';
    if (a.answeredBy !== null && !isRegistry(a.answeredBy)) return 'answeredBy is not { country name }';
    return { code: a.code, canonical: a.canonical as string | null, verdict: a.verdict as Verdict, reasons, answeredBy: a.answeredBy as Registry | null };
  }
  if (a.code !== sent && a.code !== normaliseCode(sent)) return `answers for ${JSON.stringify(a.code)}, sent ${JSON.stringify(sent)}`;
  return { code: a.code, canonical: malformed ? null : a.code, verdict: a.verdict as Verdict, reasons, answeredBy: null };
}
