import type { Kysely } from 'kysely';
import { registryError } from '../../lib/errors.js';
import { normaliseCode } from '../../lib/identity-code/identity-code.js';
import { ownsCode, readHomeCode } from '../../lib/subgraph/codes.js';
import type { NodeIdentity } from '../../lib/subgraph/subgraph-module.js';
import { readText } from '../../lib/subgraph/text.js';
import type { ProductModelsDb } from './product-model-table.js';
import { closeRecallCampaign, insertRecallCampaign, MAX_CAMPAIGNS_PER_MODEL } from './recall-campaign-repository.js';
import type { RecallCampaignRow } from './recall-campaign-table.js';
import type { OpenRecallInput } from './resolvers-types.generated.js';

/** Model code (12) + 'R' + campaign number within the model (4 digits). */
const RECALL_CODE = /^[0-9A-Z]{12}R[0-9]{4}$/;
const SERIAL = /^[0-9A-Z]{17}$/;
const MAX_TEXT_LENGTH = 1000;


/** Opens a campaign on a registered model of this registry; the whole input is checked before anything is written. */
export async function openRecall(db: Kysely<ProductModelsDb>, node: NodeIdentity, input: OpenRecallInput): Promise<RecallCampaignRow> {
  const model = readHomeCode(input.model, 'productModel', node);
  const range = readSerialRange(input.serialFrom, input.serialTo);
  const defect = readText(input.defect, 'defect', MAX_TEXT_LENGTH, 'recall defect');
  const remedy = readText(input.remedy, 'remedy', MAX_TEXT_LENGTH, 'recall remedy');
  const outcome = await insertRecallCampaign(db, { model, ...range, defect, remedy });
  switch (outcome.kind) {
    case 'opened':
      return outcome.campaign;
    case 'unknown-model':
      throw registryError('UNKNOWN_MODEL', `product model ${model} is not registered; a recall needs a registered model`, { input: model });
    case 'numbers-exhausted':
      throw registryError('LIMIT_EXCEEDED', `product model ${model} already has ${MAX_CAMPAIGNS_PER_MODEL} recall campaigns`, { max: MAX_CAMPAIGNS_PER_MODEL });
  }
}

export async function closeRecall(db: Kysely<ProductModelsDb>, node: NodeIdentity, input: string): Promise<RecallCampaignRow> {
  const code = readRecallCode(input, node);
  const outcome = await closeRecallCampaign(db, code);
  switch (outcome.kind) {
    case 'closed':
      return outcome.campaign;
    case 'unknown-recall':
      throw registryError('UNKNOWN_RECALL', `recall campaign ${code} does not exist`, { input: code });
    case 'already-closed':
      // The closing time goes in the message only: the gateway passes a fixed set of extension keys.
      throw registryError('RECALL_CLOSED', `recall campaign ${code} was already closed at ${outcome.campaign.closed_at?.toISOString()}`, { input: code });
  }
}

/** Reads a campaign code given to a mutation: normalised like identity codes, and of this registry. */
export function readRecallCode(input: string, node: NodeIdentity): string {
  const code = normaliseCode(input);
  if (!RECALL_CODE.test(code)) {
    throw registryError(
      'MALFORMED_CODE',
      `malformed recall campaign code ${JSON.stringify(input.slice(0, 64))}: expected the 12-character model code, R and 4 digits (e.g. CNA1B2H10000R0001)`,
      { input: input.slice(0, 64) },
    );
  }
  if (!ownsCode(code, node)) {
    throw registryError('FOREIGN_COUNTRY', `recall campaign ${code} belongs to country ${code.slice(0, 2)}; this registry (${node.name}) only manages ${node.country} campaigns`, {
      country: code.slice(0, 2),
    });
  }
  return code;
}

/** The key of a RecallCampaign representation: an exact campaign code of this registry, else no entity. */
export function recallReferenceCode(value: unknown, node: NodeIdentity): string | null {
  return typeof value === 'string' && RECALL_CODE.test(value) && ownsCode(value, node) ? value : null;
}

function readSerialRange(from: string | null | undefined, to: string | null | undefined): { serialFrom: string | null; serialTo: string | null } {
  const hasFrom = from !== null && from !== undefined;
  const hasTo = to !== null && to !== undefined;
  if (!hasFrom && !hasTo) return { serialFrom: null, serialTo: null };
  if (hasFrom !== hasTo) throw registryError('BAD_USER_INPUT', 'give both serialFrom and serialTo for a range, or neither to recall the whole model');
  const serialFrom = readSerial(from!, 'serialFrom');
  const serialTo = readSerial(to!, 'serialTo');
  // Fixed-length [0-9A-Z]: string order is serial order (and the database compares in the same "C" order).
  if (serialFrom > serialTo) throw registryError('BAD_USER_INPUT', `serialFrom ${serialFrom} is after serialTo ${serialTo}`, { field: 'serialFrom' });
  return { serialFrom, serialTo };
}

function readSerial(input: string, field: string): string {
  const serial = normaliseCode(input);
  if (!SERIAL.test(serial)) {
    throw registryError('BAD_USER_INPUT', `${field} ${JSON.stringify(input.slice(0, 40))} is not 17 characters of 0-9 and A-Z`, { field });
  }
  return serial;
}

