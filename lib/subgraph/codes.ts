import { isCanonicalCode, parseCode, type CodeKind } from '../identity-code/identity-code.js';
import { registryError } from '../errors.js';
import type { NodeIdentity } from './subgraph-module.js';

/**
 * Reads a code given to a root field. Malformed: a MALFORMED_CODE error with the problems.
 * Returns the canonical code, which may belong to another country (the caller answers null then).
 */
export function readCode(input: string, kind: CodeKind) {
  const parsed = parseCode(input, { kind });
  if (!parsed.valid || parsed.canonical === null) {
    throw registryError('MALFORMED_CODE', `malformed ${describe(kind)} code ${JSON.stringify(input.slice(0, 64))}: ${parsed.problems.map((p) => p.message).join('; ')}`, {
      input: input.slice(0, 64),
      problems: parsed.problems,
    });
  }
  return parsed.canonical;
}

/** Reads a code for a write: it must be well-formed and belong to this node's country. */
export function readHomeCode(input: string, kind: CodeKind, node: NodeIdentity): string {
  const code = readCode(input, kind);
  if (!ownsCode(code, node)) {
    throw registryError(
      'FOREIGN_COUNTRY',
      `${describe(kind)} code ${code} belongs to country ${code.slice(0, 2)}; this registry (${node.name}) only registers ${node.country} codes`,
      { country: code.slice(0, 2) },
    );
  }
  return code;
}

/**
 * Reads the key of an entity representation. Representations come from a gateway, so anything that is
 * not an exact canonical code of ours simply has no entity here (null), never an error.
 */
export function referenceCode(value: unknown, kind: CodeKind, node: NodeIdentity): string | null {
  // Called once per representation (1,000 per verifyMany): a plain check, not a full parse.
  return isCanonicalCode(value, kind) && ownsCode(value, node) ? value : null;
}

export function ownsCode(code: string, node: NodeIdentity): boolean {
  return code.slice(0, 2) === node.country;
}

function describe(kind: CodeKind): string {
  return kind === 'unit' ? 'unit' : kind === 'productModel' ? 'product model' : 'enterprise';
}
