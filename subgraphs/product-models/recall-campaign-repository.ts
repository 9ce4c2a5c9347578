import { enqueueAlerts } from '../../lib/alerts/outbox.js';
import { sql, type Kysely } from 'kysely';
import { SCHEMA, type ProductModelsDb, type ProductModelStatus } from './product-model-table.js';
import type { RecallCampaignRow } from './recall-campaign-table.js';

/** Campaign numbers are 4 digits within a model. */
export const MAX_CAMPAIGNS_PER_MODEL = 9999;

const campaignTable = sql.table(`${SCHEMA}.recall_campaign`);
const modelTable = sql.table(`${SCHEMA}.product_model`);

/**
 * Whether campaign `c` covers the unit whose code is `unit`: same model, and the serial (characters
 * 13-29) inside the inclusive range when there is one. Serials are fixed-length [0-9A-Z], so string
 * order is the right order; collate "C" keeps it byte order whatever the database's default collation.
 */
const covers = (unit: string) => sql`c.model_code = substr(${sql.ref(unit)}, 1, 12)
  and (c.serial_from is null
    or (substr(${sql.ref(unit)}, 13) collate "C" >= c.serial_from and substr(${sql.ref(unit)}, 13) collate "C" <= c.serial_to))`;

/** Campaigns of many models in one statement, newest first within each model. */
export function findRecallsOfModels(db: Kysely<ProductModelsDb>, models: readonly string[]): Promise<RecallCampaignRow[]> {
  return db
    .selectFrom('recall_campaign')
    .selectAll()
    .where(sql<boolean>`model_code = any(${[...models]}::text[])`)
    .orderBy('model_code')
    .orderBy('sequence', 'desc')
    .execute();
}

export type UnitRecallRow = RecallCampaignRow & { unit_code: string };

/** Every campaign (open or closed) covering each of many units, in one statement; oldest first per unit. */
export async function findRecallsOfUnits(db: Kysely<ProductModelsDb>, units: readonly string[]): Promise<UnitRecallRow[]> {
  const result = await sql<UnitRecallRow>`
    select k.unit_code, c.* from unnest(${[...units]}::text[]) as k(unit_code)
    join ${campaignTable} c on ${covers('k.unit_code')}
    order by k.unit_code, c.sequence`.execute(db);
  return result.rows;
}

export interface VerificationFactsRow {
  unit_code: string;
  /** Null when the model is not registered. */
  model_status: ProductModelStatus | null;
  /** Open campaigns covering the unit, oldest first; empty when none. */
  open_recall_campaigns: string[];
}

/** The model's status and the open campaigns covering each unit, for many units in one statement. */
export async function findVerificationFacts(db: Kysely<ProductModelsDb>, units: readonly string[]): Promise<VerificationFactsRow[]> {
  const result = await sql<VerificationFactsRow>`
    select k.unit_code, m.status as model_status,
      coalesce(array_agg(c.code order by c.sequence) filter (where c.code is not null), '{}'::text[]) as open_recall_campaigns
    from unnest(${[...units]}::text[]) as k(unit_code)
    left join ${modelTable} m on m.code = substr(k.unit_code, 1, 12)
    left join ${campaignTable} c on c.closed_at is null and ${covers('k.unit_code')}
    group by k.unit_code, m.status`.execute(db);
  return result.rows;
}

export interface NewRecallCampaign {
  model: string;
  serialFrom: string | null;
  serialTo: string | null;
  defect: string;
  remedy: string;
}

export type OpenRecallOutcome =
  | { kind: 'opened'; campaign: RecallCampaignRow }
  | { kind: 'unknown-model' }
  | { kind: 'numbers-exhausted' };

/**
 * Numbers the campaign within its model and stores it. The model row is locked for the transaction,
 * so concurrent campaigns on one model queue up and never take the same number.
 */
export function insertRecallCampaign(db: Kysely<ProductModelsDb>, campaign: NewRecallCampaign): Promise<OpenRecallOutcome> {
  return db.transaction().execute(async (trx): Promise<OpenRecallOutcome> => {
    const model = await trx.selectFrom('product_model').select('code').where('code', '=', campaign.model).forUpdate().executeTakeFirst();
    if (!model) return { kind: 'unknown-model' };
    const last = await trx
      .selectFrom('recall_campaign')
      .select((eb) => eb.fn.max('sequence').as('sequence'))
      .where('model_code', '=', campaign.model)
      .executeTakeFirst();
    const sequence = Number(last?.sequence ?? 0) + 1;
    if (sequence > MAX_CAMPAIGNS_PER_MODEL) return { kind: 'numbers-exhausted' };
    const row = await trx
      .insertInto('recall_campaign')
      .values({
        code: `${campaign.model}R${String(sequence).padStart(4, '0')}`,
        model_code: campaign.model,
        sequence,
        serial_from: campaign.serialFrom,
        serial_to: campaign.serialTo,
        defect: campaign.defect,
        remedy: campaign.remedy,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await enqueueAlerts(trx, [{ kind: 'RECALL_OPENED', subject: row.model_code, occurredAt: row.opened_at, facts: recallFacts(row) }]);
    return { kind: 'opened', campaign: row };
  });
}

export type CloseRecallOutcome =
  | { kind: 'closed'; campaign: RecallCampaignRow }
  | { kind: 'unknown-recall' }
  | { kind: 'already-closed'; campaign: RecallCampaignRow };

/** Closes an open campaign in one statement; only when nothing changed is the row read to say why. */
export async function closeRecallCampaign(db: Kysely<ProductModelsDb>, code: string): Promise<CloseRecallOutcome> {
  // A transaction for the outbox: the alert commits with the closing (docs/alerts.md).
  const closed = await db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('recall_campaign')
      .set({ closed_at: sql`greatest(now(), opened_at)` })
      .where('code', '=', code)
      .where('closed_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    if (row) await enqueueAlerts(trx, [{ kind: 'RECALL_CLOSED', subject: row.model_code, occurredAt: row.closed_at!, facts: recallFacts(row) }]);
    return row;
  });
  if (closed) return { kind: 'closed', campaign: closed };
  const existing = await db.selectFrom('recall_campaign').selectAll().where('code', '=', code).executeTakeFirst();
  return existing ? { kind: 'already-closed', campaign: existing } : { kind: 'unknown-recall' };
}

/** What an alert says about a campaign. */
function recallFacts(row: RecallCampaignRow): Record<string, unknown> {
  return { recall: row.code, serialFrom: row.serial_from, serialTo: row.serial_to, defect: row.defect, remedy: row.remedy, openedAt: row.opened_at, closedAt: row.closed_at };
}
