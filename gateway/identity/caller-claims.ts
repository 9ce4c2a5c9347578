import { isInternalSubject } from '../../lib/access/access-policy.js';
import { ROLES, type Caller, type Role } from '../../lib/server/request-context.js';

const ENTERPRISE = /^[0-9A-Z]{6}$/;
const COUNTRY = /^[0-9A-Z]{2}$/;

/** Roles that act for one country segment, and so must name it. */
const COUNTRY_ROLES: readonly Role[] = ['customs', 'partner'];

export interface CallerClaims {
  subject?: unknown;
  role?: unknown;
  enterprise?: unknown;
  country?: unknown;
}

/**
 * Turns claims (a token's payload or an API key's record) into a Caller, or returns the problem.
 * A missing role is anonymous; a role with a missing or malformed claim is refused, not downgraded,
 * because a silently anonymous manufacturer would fail later with a confusing "not allowed".
 */
export function callerFromClaims(claims: CallerClaims): Caller | { problem: string } {
  const { subject, role, enterprise, country } = claims;
  if (typeof subject !== 'string' || subject.trim() === '') return { problem: 'no subject ("sub" claim)' };
  if (/[\u0000-\u001F\u007F-\u009F]/.test(subject) || subject.length > 200) return { problem: 'subject ("sub" claim) holds a control character or is over 200 characters' };
  if (isInternalSubject(subject)) return { problem: `subject ${JSON.stringify(subject)} is reserved for the registry's internal calls` };
  if (role === undefined || role === null) return { subject, role: null };
  if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role)) {
    return { problem: `unknown role ${JSON.stringify(role)}; roles are ${ROLES.join(', ')}` };
  }
  const caller: Caller = { subject, role: role as Role };
  if (role === 'manufacturer') {
    if (enterprise === undefined) return { problem: 'role manufacturer needs an "enterprise" claim (6 characters [0-9A-Z])' };
    if (typeof enterprise !== 'string' || !ENTERPRISE.test(enterprise)) {
      return { problem: `"enterprise" claim ${JSON.stringify(enterprise)} is not 6 characters [0-9A-Z]` };
    }
    caller.enterprise = enterprise;
  }
  if (COUNTRY_ROLES.includes(role as Role)) {
    if (country === undefined) return { problem: `role ${role} needs a "country" claim (2 characters [0-9A-Z])` };
    if (typeof country !== 'string' || !COUNTRY.test(country)) {
      return { problem: `"country" claim ${JSON.stringify(country)} is not 2 characters [0-9A-Z]` };
    }
    caller.country = country;
  }
  return caller;
}

export function isProblem(value: Caller | { problem: string }): value is { problem: string } {
  return 'problem' in value;
}
