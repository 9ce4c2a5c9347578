import type { Generated, Selectable } from 'kysely';

/**
 * The Postgres schema of push alerts (docs/alerts.md). One schema shared by the node's writers: each
 * subgraph appends to `alert_outbox` inside its own write transaction (lib/alerts/outbox.ts), and the
 * dispatcher of the node reads it. It holds no subgraph's data, only what partners are told.
 */
export const ALERTS_SCHEMA = 'alerts';

export const ALERT_KINDS = [
  'UNIT_STOLEN',
  'UNIT_RECOVERED',
  'UNIT_SCRAPPED',
  'UNIT_EXPORTED',
  'UNIT_IMPORTED',
  'RECALL_OPENED',
  'RECALL_CLOSED',
  'ENTERPRISE_SUSPENDED',
  'MODEL_WITHDRAWN',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/** One change partners may be told about, written in the transaction of the change itself. */
export interface AlertOutboxTable {
  /** The alert's id (a UUID): what a receiver deduplicates on. */
  id: string;
  /** Position in the outbox, in commit-lock order; the dispatcher fans out in this order. */
  position: Generated<string>;
  kind: AlertKind;
  /** The code the alert is about: a unit (29), a product model (12) or an enterprise (6). */
  subject: string;
  /** 1, 2, 3... per subject, gapless in the outbox: a receiver orders a subject's alerts by it. */
  sequence: number;
  /** The model (first 12 characters) of a unit or model alert; null for an enterprise alert. */
  model: string | null;
  enterprise: string;
  /** Countries the unit crossed a border with (EXPORTED to, IMPORTED from), for `importsInto` scopes. */
  countries: string[];
  occurred_at: Date;
  facts: Record<string, unknown>;
  fanned_out: Generated<boolean>;
  created_at: Generated<Date>;
}

export interface AlertSubjectSequenceTable {
  subject: string;
  last_sequence: number;
}

/**
 * Which units crossed a border with which country (written with their EXPORTED and IMPORTED alerts), so a
 * recall or withdrawal of a model reaches the partners whose country has units of it.
 */
export interface AlertUnitCrossingTable {
  unit: string;
  country: string;
  model: string;
  enterprise: string;
}

export interface AlertSubscriptionTable {
  id: string;
  /** The partner's country (its token's `country` claim). */
  country: string;
  subscriber: string;
  url: string;
  /** HMAC-SHA256 key for the signature header; shown once, at creation. */
  secret: string;
  imports_into: string | null;
  models: string[] | null;
  kinds: AlertKind[];
  created_at: Generated<Date>;
}

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'DEAD';

export interface AlertDeliveryTable {
  id: Generated<string>;
  subscription_id: string;
  alert_id: string;
  subject: string;
  sequence: number;
  status: DeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: Date;
  /** While set and in the future, one dispatcher is sending it: the others leave it alone. */
  lease_until: Date | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

/** The delivery log: one row per attempt. */
export interface AlertAttemptTable {
  id: Generated<string>;
  delivery_id: string;
  at: Date;
  http_status: number | null;
  error: string | null;
  latency_ms: number;
}

export interface AlertsDb {
  alert_outbox: AlertOutboxTable;
  alert_subject_sequence: AlertSubjectSequenceTable;
  alert_subscription: AlertSubscriptionTable;
  alert_unit_crossing: AlertUnitCrossingTable;
  alert_delivery: AlertDeliveryTable;
  alert_attempt: AlertAttemptTable;
}

export type AlertOutboxRow = Selectable<AlertOutboxTable>;
export type AlertSubscriptionRow = Selectable<AlertSubscriptionTable>;
export type AlertDeliveryRow = Selectable<AlertDeliveryTable>;
export type AlertAttemptRow = Selectable<AlertAttemptTable>;
