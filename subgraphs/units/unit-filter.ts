import { readCode } from '../../lib/subgraph/codes.js';
import type { UnitFilter as UnitFilterInput } from './resolvers-types.generated.js';

/** A checked filter: canonical codes, every condition optional. */
export interface UnitFilter {
  model: string | null;
  enterprise: string | null;
  /** Inclusive. */
  registeredFrom: Date | null;
  /** Exclusive. */
  registeredBefore: Date | null;
}

export const NO_FILTER: UnitFilter = Object.freeze({ model: null, enterprise: null, registeredFrom: null, registeredBefore: null });

/**
 * Codes are normalised like everywhere else and a malformed one is a MALFORMED_CODE error, not an
 * empty page: an analyst who mistyped a code should hear so. A well-formed code of another country,
 * or a model outside the given enterprise, simply matches nothing.
 */
export function readUnitFilter(input: UnitFilterInput | null | undefined): UnitFilter {
  if (!input) return NO_FILTER;
  return {
    model: input.model === null || input.model === undefined ? null : readCode(input.model, 'productModel'),
    enterprise: input.enterprise === null || input.enterprise === undefined ? null : readCode(input.enterprise, 'enterprise'),
    registeredFrom: input.registeredFrom ?? null,
    registeredBefore: input.registeredBefore ?? null,
  };
}
