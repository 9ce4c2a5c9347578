import type { PassportFacts } from './passport-facts.js';

export interface TimelineEntry {
  /** ISO instant. */
  at: string;
  /** What happened, in words. */
  event: string;
  detail?: string;
}

/**
 * The public lifecycle timeline, oldest first: what the public view knows with a date (the maker's,
 * model's and unit's registration, each recall's opening and closing), ending with the state at the
 * moment of the check. Individual lifecycle events (owners, border crossings, repairs) are for
 * signed-in readers and never appear here.
 */
export function timelineOf(facts: PassportFacts): TimelineEntry[] {
  const unit = facts.unit;
  if (!unit) return [];
  const entries: TimelineEntry[] = [];
  if (unit.enterprise) entries.push({ at: unit.enterprise.registeredAt, event: 'Maker registered', detail: `${unit.enterprise.name} (${unit.enterprise.display})` });
  if (unit.model) entries.push({ at: unit.model.registeredAt, event: 'Model registered', detail: `${unit.model.name} (${unit.model.display})` });
  entries.push({ at: unit.registeredAt, event: 'Unit registered', detail: unit.display });
  for (const recall of facts.recalls) {
    entries.push({ at: recall.openedAt, event: `Recall ${recall.code} opened`, detail: recall.defect });
    if (recall.closedAt) entries.push({ at: recall.closedAt, event: `Recall ${recall.code} closed` });
  }
  entries.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const remedied = facts.recalls.filter((r) => r.status === 'REMEDIED').map((r) => r.code);
  entries.push({
    at: facts.checkedAt,
    event: `State ${unit.state}`,
    detail: remedied.length ? `as of this check; remedied here: ${remedied.join(', ')}` : 'as of this check',
  });
  return entries;
}
