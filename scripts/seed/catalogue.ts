/**
 * What a seed run registers besides units: enterprises, product models, how many units each model gets
 * (and from which serial on), and the recall campaigns that put the wanted share of units under open
 * recall. All decided up front from the options, so counters and campaigns are exact before any unit
 * is written.
 */
export interface SeedEnterprise {
  code: string;
  name: string;
}

export interface SeedModel {
  code: string;
  name: string;
  category: string;
  /** Units this run registers for the model, serials `firstSerial` .. firstSerial + unitCount - 1. */
  unitCount: number;
  firstSerial: number;
}

export interface SeedRecall {
  model: string;
  /** Filled in once the model's existing campaigns are known (append). */
  sequence: number;
  serialFrom: string;
  serialTo: string;
}

export interface Catalogue {
  enterprises: SeedEnterprise[];
  /** In code order, which is also the order units are generated in (sorted inserts keep indexes compact). */
  models: SeedModel[];
  recalls: SeedRecall[];
}

const CATEGORIES = ['humanoid', 'industrial arm', 'delivery', 'cleaning', 'agricultural', 'medical', 'inspection'];
const BASE36 = 36;
const MAX_ENTERPRISES = BASE36 ** 3;

/** Enterprise codes: country + 'S' + 3 base-36 digits; model codes: enterprise + 'M' + 5 base-36 digits. */
export function planCatalogue(options: { country: string; units: number; enterprises: number; models: number }): Catalogue {
  const { country, units } = options;
  if (options.enterprises > MAX_ENTERPRISES) throw new Error(`--enterprises is at most ${MAX_ENTERPRISES}`);
  const modelCount = Math.max(1, Math.min(options.models, units));
  const enterpriseCount = Math.max(1, Math.min(options.enterprises, modelCount));
  const enterprises = Array.from({ length: enterpriseCount }, (_, i) => ({
    code: `${country}S${digits(i, 3)}`,
    name: `Seed Robotics ${String(i + 1).padStart(4, '0')}`,
  }));
  const models = Array.from({ length: modelCount }, (_, k) => ({
    code: `${enterprises[k % enterpriseCount]!.code}M${digits(Math.floor(k / enterpriseCount), 5)}`,
    name: `Seed model ${String(k + 1).padStart(5, '0')}`,
    category: CATEGORIES[k % CATEGORIES.length]!,
    unitCount: Math.floor(units / modelCount) + (k < units % modelCount ? 1 : 0),
    firstSerial: 1,
  }));
  models.sort((a, b) => (a.code < b.code ? -1 : 1));
  return { enterprises, models, recalls: [] };
}

/**
 * Campaigns over the first serials of successive models until `share` of the run's units is covered:
 * whole runs of a model, then part of one. Ranges cover only this run's serials, so an appended run
 * never recalls units registered before it.
 */
export function planRecalls(models: readonly SeedModel[], totalUnits: number, share: number): SeedRecall[] {
  let remaining = Math.round(totalUnits * share);
  const recalls: SeedRecall[] = [];
  // From the last model backwards: the first models keep no campaign, which tests can rely on.
  for (let k = models.length - 1; k >= 0 && remaining > 0; k--) {
    const model = models[k]!;
    const covered = Math.min(model.unitCount, remaining);
    if (covered === 0) continue;
    recalls.push({ model: model.code, sequence: 0, serialFrom: serial(model.firstSerial), serialTo: serial(model.firstSerial + covered - 1) });
    remaining -= covered;
  }
  return recalls;
}

/** Numeric serials, 17 digits, as `registerUnits(count)` issues them. */
export function serial(n: number): string {
  return String(n).padStart(17, '0');
}

function digits(n: number, width: number): string {
  return n.toString(BASE36).toUpperCase().padStart(width, '0');
}
