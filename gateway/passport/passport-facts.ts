import type { ApolloServer } from '@apollo/server';
import { formatCode } from '../../lib/identity-code/identity-code.js';
import type { LimitsContext } from '../limits/limits-plugin.js';
import { operationRefusal, type OperationResponse } from '../in-process/operation-refusal.js';

/**
 * What a passport shows, gathered by one operation of the gateway's own schema run as an anonymous
 * caller: the same limits, rate budget and access policy as any anonymous POST /graphql, so the page can
 * never show a field the public may not read. This shape is also the JSON view (passport-json.ts).
 * `parseCode` gives the problems with their positions; `verify` the canonical code, the verdict and the
 * registry that was asked for the facts (`answeredBy`, contract 1.1).
 */
export const PASSPORT_OPERATION = /* GraphQL */ `
  query Passport($code: String!) {
    parse: parseCode(code: $code) { problems { kind message position } }
    verify(code: $code) {
      canonical
      answeredBy { country name reachable }
      verdict
      receipt
      checkedAt
      reasons { code severity message }
      unit {
        code display serial registeredAt state
        model { code display name category status registeredAt }
        enterprise { code display name status registeredAt }
        recalls { code defect remedy serialFrom serialTo openedAt closedAt }
        openRecalls { code }
      }
    }
  }
`;

export type Verdict = 'ADMIT' | 'REFUSE' | 'UNKNOWN';

export interface PassportFacts {
  /** The code exactly as written in the URL (percent-decoded). */
  input: string;
  /** Canonical 29-character code; null when malformed. */
  code: string | null;
  /** CC-EEEE-MMMMMM-SSSSSSSSSSSSSSSSS; null when malformed. */
  display: string | null;
  verdict: Verdict;
  /** Each reason of the verdict; `code` is the stable ReasonCode. */
  reasons: { code: string; severity: 'BLOCKING' | 'WARNING'; message: string }[];
  /** The code's problems: LENGTH, CHARACTER (1-based `position` in the normalised code), UNKNOWN_COUNTRY. */
  problems: { kind: string; message: string; position: number | null }[];
  /** Null when not registered, malformed, or the owning registry could not answer. */
  unit: PassportUnit | null;
  /** Every recall campaign covering the unit, oldest first, with its state on this unit. */
  recalls: PassportRecall[];
  /** The registry that owns the code's country; null when no registry in the directory does. */
  answeredBy: { country: string; name: string; reachable: boolean } | null;
  checkedAt: string;
  /** The signed receipt of this verdict (docs/receipts.md); null when the gateway issues none. */
  receipt: string | null;
}

export interface PassportUnit {
  code: string;
  display: string;
  serial: string;
  state: string;
  registeredAt: string;
  model: { code: string; display: string; name: string; category: string; status: string; registeredAt: string } | null;
  enterprise: { code: string; display: string; name: string; status: string; registeredAt: string } | null;
}

export interface PassportRecall {
  code: string;
  /** OPEN: open and not remedied on this unit; REMEDIED: open but remedied here; CLOSED: campaign closed. */
  status: 'OPEN' | 'REMEDIED' | 'CLOSED';
  defect: string;
  remedy: string;
  serialFrom: string | null;
  serialTo: string | null;
  openedAt: string;
  closedAt: string | null;
}

/** Facts, or why there are none: the refusal as GraphQL gave it (rate limit, bad input, outage). */
export type PassportAnswer =
  | { ok: true; facts: PassportFacts }
  | { ok: false; status: number; code: string; message: string; retryAfter?: string };

export async function loadPassport(apollo: ApolloServer<LimitsContext>, input: string, context: LimitsContext): Promise<PassportAnswer> {
  // Anonymous whatever the request carried: the passport is the public view (signed-in roles use the API).
  const contextValue: LimitsContext = { ...context, caller: null };
  const response = await apollo.executeOperation(
    { query: PASSPORT_OPERATION, operationName: 'Passport', variables: { code: input } },
    { contextValue },
  );
  const result = response.body.kind === 'single' ? response.body.singleResult : null;
  const data = result?.data as PassportData | null | undefined;
  if (data?.verify && data.parse) return { ok: true, facts: factsFrom(input, data) };
  return refusalOf(response);
}

interface PassportData {
  parse: { problems: PassportFacts['problems'] } | null;
  verify: {
    canonical: string | null;
    answeredBy: PassportFacts['answeredBy'];
    verdict: Verdict;
    checkedAt: string;
    receipt?: string | null;
    reasons: PassportFacts['reasons'];
    unit: (Omit<PassportUnit, 'model' | 'enterprise'> & {
      model: PassportUnit['model'];
      enterprise: PassportUnit['enterprise'];
      recalls: Omit<PassportRecall, 'status'>[] | null;
      openRecalls: { code: string }[] | null;
    }) | null;
  } | null;
}

function factsFrom(input: string, data: PassportData): PassportFacts {
  const { parse, verify } = data as Required<{ [K in keyof PassportData]: NonNullable<PassportData[K]> }>;
  const unit = verify.unit;
  const open = new Set((unit?.openRecalls ?? []).map((r) => r.code));
  const recalls = (unit?.recalls ?? []).map(
    (r): PassportRecall => ({ ...r, status: r.closedAt ? 'CLOSED' : open.has(r.code) ? 'OPEN' : 'REMEDIED' }),
  );
  // Null only when malformed: a code of a country no registry serves is well-formed (answeredBy is null then).
  const code = verify.canonical;
  return {
    input,
    code,
    display: code ? formatCode(code) : null,
    verdict: verify.verdict,
    reasons: verify.reasons,
    problems: parse.problems,
    unit: unit
      ? { code: unit.code, display: unit.display, serial: unit.serial, state: unit.state, registeredAt: unit.registeredAt, model: unit.model ?? null, enterprise: unit.enterprise ?? null }
      : null,
    recalls,
    answeredBy: verify.answeredBy ?? null,
    checkedAt: verify.checkedAt,
    receipt: verify.receipt ?? null,
  };
}

/**
 * Charges a QR label to the caller's anonymous budget like any request (no registry is asked): the
 * image costs CPU, so it is rate-limited as the page is.
 */
export async function admitLabel(apollo: ApolloServer<LimitsContext>, canonical: string, context: LimitsContext): Promise<(PassportAnswer & { ok: false }) | null> {
  const response = await apollo.executeOperation(
    { query: 'query PassportLabel($code: String!) { parseCode(code: $code) { canonical } }', operationName: 'PassportLabel', variables: { code: canonical } },
    { contextValue: { ...context, caller: null } },
  );
  const result = response.body.kind === 'single' ? response.body.singleResult : null;
  if (result?.data && !result.errors?.length) return null;
  return refusalOf(response);
}

function refusalOf(response: OperationResponse): PassportAnswer & { ok: false } {
  const { status, code, message, retryAfter } = operationRefusal(response);
  return { ok: false, status, code, message, retryAfter };
}
