import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { registryError } from '../../lib/errors.js';
import type { UnitRow, UnitsDb } from './unit-table.js';

/**
 * Idempotent issuance: a client that lost the answer to `registerUnits` retries with the same
 * `requestKey` and gets the units of the first call back instead of new ones. Keys are scoped to the
 * caller (two manufacturers may pick the same key); the request's fingerprint tells a retry from a reuse.
 */
const REQUEST_KEY = /^[A-Za-z0-9._:-]{1,100}$/;

export interface IssuanceRequest {
  requester: string;
  key: string;
  fingerprint: string;
}

export function readRequestKey(key: string | null | undefined, requester: string, input: { model: string; serials: string[] | null; count: number | null }): IssuanceRequest | null {
  if (key === null || key === undefined) return null;
  if (!REQUEST_KEY.test(key)) {
    throw registryError('BAD_USER_INPUT', 'requestKey must be 1 to 100 characters of A-Z, a-z, 0-9, ".", "_", ":" and "-"', { field: 'requestKey' });
  }
  const fingerprint = createHash('sha256').update(JSON.stringify([input.model, input.serials, input.count])).digest('hex');
  return { requester, key, fingerprint };
}

/** The units a key already issued (in issue order), null when the key is new; a conflict when the input differs. */
export async function replayIssuance(db: Kysely<UnitsDb> | Transaction<UnitsDb>, request: IssuanceRequest): Promise<UnitRow[] | null> {
  const row = await db
    .selectFrom('issuance')
    .select(['fingerprint', 'codes'])
    .where('requester', '=', request.requester)
    .where('request_key', '=', request.key)
    .executeTakeFirst();
  if (!row) return null;
  if (row.fingerprint !== request.fingerprint) {
    throw registryError('REQUEST_KEY_CONFLICT', `requestKey ${request.key} was already used for a different registerUnits input; use a new key for a new request`, { requestKey: request.key });
  }
  const codes = JSON.parse(row.codes) as string[];
  const units = await db.selectFrom('unit').selectAll().where('code', 'in', codes).execute();
  const byCode = new Map(units.map((u) => [u.code, u]));
  return codes.map((code) => byCode.get(code)!);
}

/**
 * Runs `issue` in one transaction with the key's claim. The claim is an insert on the key's primary key:
 * a concurrent retry waits on it, then finds the committed issuance and replays it (a rolled-back first
 * attempt leaves no claim), so one key registers once.
 */
export async function issueOnce(db: Kysely<UnitsDb>, request: IssuanceRequest | null, issue: (trx: Transaction<UnitsDb>) => Promise<UnitRow[]>): Promise<UnitRow[]> {
  return db.transaction().execute(async (trx) => {
    if (!request) return issue(trx);
    const claimed = await trx
      .insertInto('issuance')
      .values({ requester: request.requester, request_key: request.key, fingerprint: request.fingerprint, codes: '[]' })
      .onConflict((oc) => oc.columns(['requester', 'request_key']).doNothing())
      .returning('request_key')
      .executeTakeFirst();
    if (!claimed) return (await replayIssuance(trx, request))!;
    const units = await issue(trx);
    await trx
      .updateTable('issuance')
      .set({ codes: JSON.stringify(units.map((u) => u.code)) })
      .where('requester', '=', request.requester)
      .where('request_key', '=', request.key)
      .execute();
    return units;
  });
}
