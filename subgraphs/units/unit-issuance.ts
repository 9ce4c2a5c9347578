import type { Transaction } from 'kysely';
import type { RequestContext } from '../../lib/server/request-context.js';
import { registryError } from '../../lib/errors.js';
import { normaliseCode } from '../../lib/identity-code/identity-code.js';
import type { SiblingClient } from '../../lib/subgraph/sibling-client.js';
import { existingCodes, insertUnits, lockSerialCounter, setSerialCounter } from './unit-repository.js';
import type { UnitRow, UnitsDb } from './unit-table.js';

export const MAX_UNITS_PER_CALL = 1_000;
const SERIAL = /^[0-9A-Z]{17}$/;

/** Checks with the owners that the model and its enterprise may have units registered now. */
export async function assertModelOpen(siblings: SiblingClient, model: string, ctx: RequestContext): Promise<void> {
  const enterpriseCode = model.slice(0, 6);
  const [[found], [enterprise]] = await Promise.all([
    siblings.lookup<{ status: string }>('product-models', 'ProductModel', [model], 'status', ctx),
    siblings.lookup<{ status: string }>('enterprises', 'Enterprise', [enterpriseCode], 'status', ctx),
  ]);
  if (!found) throw registryError('UNKNOWN_MODEL', `product model ${model} is not registered; register it before its units`, { input: model });
  if (found.status !== 'ACTIVE') {
    throw registryError('MODEL_NOT_ACTIVE', `product model ${model} is ${found.status}; no new units can be registered`, { input: model, status: found.status });
  }
  if (enterprise && enterprise.status !== 'ACTIVE') {
    throw registryError('ENTERPRISE_NOT_ACTIVE', `enterprise ${enterpriseCode} is ${enterprise.status}; no new units can be registered`, { input: enterpriseCode, status: enterprise.status });
  }
}

/** Validates explicit serials: normalised, 17 characters of [0-9A-Z], no repeats. */
export function readSerials(serials: readonly string[]): string[] {
  if (serials.length === 0) throw registryError('BAD_USER_INPUT', 'serials is empty');
  if (serials.length > MAX_UNITS_PER_CALL) {
    throw registryError('LIMIT_EXCEEDED', `at most ${MAX_UNITS_PER_CALL} units per call, got ${serials.length}`, { max: MAX_UNITS_PER_CALL });
  }
  const seen = new Set<string>();
  return serials.map((input, index) => {
    const serial = normaliseCode(input);
    if (!SERIAL.test(serial)) {
      throw registryError('BAD_USER_INPUT', `serials[${index}] ${JSON.stringify(input.slice(0, 40))} is not 17 characters of 0-9 and A-Z`, { index });
    }
    if (seen.has(serial)) throw registryError('BAD_USER_INPUT', `serials[${index}] ${serial} is given twice`, { index });
    seen.add(serial);
    return serial;
  });
}

/** Registers explicit serials, all or none (the caller's transaction). */
export async function registerSerials(trx: Transaction<UnitsDb>, model: string, serials: string[]): Promise<UnitRow[]> {
  const taken = await existingCodes(trx, serials.map((s) => model + s));
  if (taken.size > 0) throw alreadyRegistered([...taken]);
  try {
    return ordered(await insertUnits(trx, model, serials), serials.map((s) => model + s));
  } catch (error) {
    // A concurrent registration won the race between our check and our insert.
    if ((error as { code?: string }).code === '23505') throw alreadyRegistered([]);
    throw error;
  }
}

export function checkCount(count: number): number {
  if (!Number.isInteger(count) || count < 1 || count > MAX_UNITS_PER_CALL) {
    throw registryError('BAD_USER_INPUT', `count must be between 1 and ${MAX_UNITS_PER_CALL}, got ${count}`);
  }
  return count;
}

/**
 * Issues the next `count` free numeric serials of the model. The counter row is locked for the
 * transaction, so two manufacturers' calls never hand out the same serial; serials taken explicitly
 * in the meantime are skipped.
 */
export async function issueSerials(trx: Transaction<UnitsDb>, model: string, count: number): Promise<UnitRow[]> {
  let next = await lockSerialCounter(trx, model);
  const serials: string[] = [];
  while (serials.length < count) {
    const candidates = Array.from({ length: count - serials.length }, (_, i) => String(next + i).padStart(17, '0'));
    if (candidates.at(-1)!.length > 17) throw registryError('LIMIT_EXCEEDED', `product model ${model} has no free numeric serials left`);
    next += candidates.length;
    const taken = await existingCodes(trx, candidates.map((s) => model + s));
    serials.push(...candidates.filter((s) => !taken.has(model + s)));
  }
  await setSerialCounter(trx, model, next);
  return ordered(await insertUnits(trx, model, serials), serials.map((s) => model + s));
}

function ordered(rows: UnitRow[], codes: string[]): UnitRow[] {
  const byCode = new Map(rows.map((r) => [r.code, r]));
  return codes.map((code) => byCode.get(code)!);
}

function alreadyRegistered(codes: string[]) {
  const list = codes.slice(0, 20).join(', ');
  return registryError(
    'ALREADY_REGISTERED',
    codes.length ? `${codes.length} unit(s) already registered: ${list}${codes.length > 20 ? ', ...' : ''}; nothing was written` : 'some units were registered concurrently; nothing was written',
    { codes: codes.slice(0, 100) },
  );
}
