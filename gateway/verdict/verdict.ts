import { normaliseCode, type ParsedCode } from '../../lib/identity-code/identity-code.js';

/**
 * The customs verdict, as a pure function of the facts each subgraph of the owning registry reported.
 * A fact is null when its subgraph could not answer; since a registered unit always has an enterprise,
 * a model and a lifecycle, a missing fact about a registered unit means "unavailable", not "absent".
 */
export type Verdict = 'ADMIT' | 'REFUSE' | 'UNKNOWN';
export type ReasonCode =
  | 'MALFORMED_CODE'
  | 'UNKNOWN_COUNTRY'
  | 'REGISTRY_UNAVAILABLE'
  | 'NOT_REGISTERED'
  | 'ENTERPRISE_SUSPENDED'
  | 'ENTERPRISE_REVOKED'
  | 'MODEL_WITHDRAWN'
  | 'OPEN_RECALL'
  | 'STOLEN'
  | 'SCRAPPED';

/** A reason, with references to what it is about (each only on the codes its comment names). */
export interface Reason {
  code: ReasonCode;
  severity: 'BLOCKING' | 'WARNING';
  message: string;
  /** OPEN_RECALL: the campaigns not yet remedied on the unit. */
  recalls?: string[];
  /** NOT_REGISTERED, REGISTRY_UNAVAILABLE: the registry concerned, by the code's country segment. */
  registry?: { country: string };
  /** ENTERPRISE_SUSPENDED, ENTERPRISE_REVOKED. */
  enterprise?: string;
  /** MODEL_WITHDRAWN. */
  model?: string;
  /** UNKNOWN_COUNTRY: the segment no registry serves. */
  country?: string;
}

export interface VerificationFacts {
  registration?: { registered: boolean } | null;
  enterpriseStatus?: string | null;
  modelStatus?: string | null;
  openRecallCampaigns?: string[] | null;
  lifecycleState?: string | null;
  remediedRecalls?: string[] | null;
}

export function judge(parsed: ParsedCode, facts: VerificationFacts, registryName: string | null): { verdict: Verdict; reasons: Reason[] } {
  const reasons = collectReasons(parsed, facts, registryName);
  const verdict: Verdict = reasons.some((r) => r.severity === 'BLOCKING')
    ? 'REFUSE'
    : reasons.some((r) => r.code === 'UNKNOWN_COUNTRY' || r.code === 'REGISTRY_UNAVAILABLE')
      ? 'UNKNOWN'
      : 'ADMIT';
  return { verdict, reasons };
}

function collectReasons(parsed: ParsedCode, facts: VerificationFacts, registryName: string | null): Reason[] {
  const malformed = parsed.problems.filter((p) => p.kind !== 'UNKNOWN_COUNTRY');
  if (malformed.length) {
    return [{ code: 'MALFORMED_CODE', severity: 'BLOCKING', message: `malformed code: ${malformed.map((p) => p.message).join('; ')}` }];
  }
  const code = parsed.canonical ?? normaliseCode(parsed.input);
  if (parsed.problems.length || registryName === null) {
    return [{ code: 'UNKNOWN_COUNTRY', severity: 'WARNING', message: `no registry in the directory serves country segment "${code.slice(0, 2)}"; the code cannot be checked`, country: code.slice(0, 2) }];
  }
  const registry = { country: code.slice(0, 2) };
  const registration = facts.registration;
  if (!registration) return [unavailable(registryName, registry, 'registration')];
  if (!registration.registered) {
    return [{ code: 'NOT_REGISTERED', severity: 'BLOCKING', message: `${code} is well-formed but not registered with ${registryName}`, registry }];
  }
  const reasons: Reason[] = [];
  const missing = (['enterpriseStatus', 'modelStatus', 'openRecallCampaigns', 'lifecycleState', 'remediedRecalls'] as const).filter(
    (fact) => facts[fact] === null || facts[fact] === undefined,
  );
  if (missing.length) reasons.push(unavailable(registryName, registry, missing.join(', ')));

  if (facts.enterpriseStatus === 'SUSPENDED') {
    reasons.push({ code: 'ENTERPRISE_SUSPENDED', severity: 'BLOCKING', message: `enterprise ${code.slice(0, 6)} is suspended`, enterprise: code.slice(0, 6) });
  } else if (facts.enterpriseStatus === 'REVOKED') {
    reasons.push({ code: 'ENTERPRISE_REVOKED', severity: 'BLOCKING', message: `enterprise ${code.slice(0, 6)} has had its registration revoked`, enterprise: code.slice(0, 6) });
  }
  if (facts.modelStatus === 'WITHDRAWN') {
    reasons.push({ code: 'MODEL_WITHDRAWN', severity: 'BLOCKING', message: `product model ${code.slice(0, 12)} has been withdrawn from the market`, model: code.slice(0, 12) });
  }
  const remedied = new Set(facts.remediedRecalls ?? []);
  const open = (facts.openRecallCampaigns ?? []).filter((c) => !remedied.has(c));
  if (open.length) {
    reasons.push({ code: 'OPEN_RECALL', severity: 'BLOCKING', message: `under open recall not yet remedied on this unit: ${open.join(', ')}`, recalls: open });
  }
  if (facts.lifecycleState === 'STOLEN') {
    reasons.push({ code: 'STOLEN', severity: 'BLOCKING', message: 'reported stolen and not recovered' });
  }
  if (facts.lifecycleState === 'SCRAPPED' || facts.lifecycleState === 'RECYCLED') {
    reasons.push({ code: 'SCRAPPED', severity: 'BLOCKING', message: `${facts.lifecycleState.toLowerCase()}: scrapped robots must never return to the market` });
  }
  return reasons;
}

function unavailable(registryName: string, registry: { country: string }, what: string): Reason {
  return { code: 'REGISTRY_UNAVAILABLE', severity: 'WARNING', message: `${registryName} could not answer (${what}); verify again later`, registry };
}
