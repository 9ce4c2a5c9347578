import type { Generated, Selectable } from 'kysely';

/**
 * A recall campaign on a product model. Its code is the model code, 'R' and the campaign's number
 * within the model (`sequence`, 4 digits), so like every key it starts with the country segment.
 */
export interface RecallCampaignTable {
  code: string;
  model_code: string;
  sequence: number;
  /** Inclusive serial range, both null when the whole model is recalled. */
  serial_from: string | null;
  serial_to: string | null;
  defect: string;
  remedy: string;
  opened_at: Generated<Date>;
  closed_at: Date | null;
}

export type RecallCampaignRow = Selectable<RecallCampaignTable>;
