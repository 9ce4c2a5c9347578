import { readFileSync } from 'node:fs';
import { DATA_SUBGRAPHS, type DataSubgraphName } from '../../lib/schema/contract.js';

/**
 * The registry directory: which registry node owns which country segments, and where its subgraphs
 * answer. The country table is configuration, not code (design: "The identity code").
 */
export interface RegistryEntry {
  name: string;
  /** Country segments (2 characters of [0-9A-Z]) this registry owns. */
  countries: string[];
  /** Writes go to the home registry; exactly one entry is home. */
  home: boolean;
  subgraphs: Record<DataSubgraphName, string>;
}

export interface RegistryDirectory {
  readonly registries: readonly RegistryEntry[];
  readonly home: RegistryEntry;
  registryFor(country: string): RegistryEntry | undefined;
}

export class DirectoryError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid registry directory:\n- ${problems.join('\n- ')}`);
  }
}

const COUNTRY = /^[0-9A-Z]{2}$/;

/** Validates entries and builds the lookup; throws DirectoryError listing every problem found. */
export function buildDirectory(input: unknown): RegistryDirectory {
  const problems: string[] = [];
  const list = (input as { registries?: unknown })?.registries;
  if (!Array.isArray(list) || list.length === 0) throw new DirectoryError(['"registries" must be a non-empty array']);
  const byCountry = new Map<string, RegistryEntry>();
  const registries: RegistryEntry[] = [];
  list.forEach((raw: Record<string, unknown>, i) => {
    const where = `registries[${i}]`;
    const name = typeof raw?.name === 'string' && raw.name.trim() ? raw.name.trim() : null;
    if (!name) problems.push(`${where}.name must be a non-empty string`);
    const countries = Array.isArray(raw?.countries) ? raw.countries : [];
    if (countries.length === 0) problems.push(`${where}.countries must list at least one country segment`);
    for (const c of countries) {
      if (typeof c !== 'string' || !COUNTRY.test(c)) problems.push(`${where}.countries: ${JSON.stringify(c)} is not 2 characters of 0-9 and A-Z`);
    }
    const subgraphs = (raw?.subgraphs ?? {}) as Record<string, unknown>;
    for (const sg of DATA_SUBGRAPHS) {
      const url = subgraphs[sg];
      if (typeof url !== 'string' || !isHttpUrl(url)) problems.push(`${where}.subgraphs.${sg} must be an http(s) URL`);
    }
    const entry: RegistryEntry = {
      name: name ?? where,
      countries: countries.filter((c): c is string => typeof c === 'string'),
      home: raw?.home === true,
      subgraphs: subgraphs as Record<DataSubgraphName, string>,
    };
    for (const c of entry.countries) {
      const owner = byCountry.get(c);
      if (owner) problems.push(`country ${c} is claimed by both "${owner.name}" and "${entry.name}"`);
      else byCountry.set(c, entry);
    }
    registries.push(entry);
  });
  const homes = registries.filter((r) => r.home);
  if (homes.length !== 1) problems.push(`exactly one registry must have "home": true, found ${homes.length}`);
  if (problems.length) throw new DirectoryError(problems);
  const home = homes[0]!;
  return {
    registries: [home, ...registries.filter((r) => r !== home)],
    home,
    registryFor: (country) => byCountry.get(country),
  };
}

export function loadDirectoryFile(path: string): RegistryDirectory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new DirectoryError([`cannot read ${path}: ${(error as Error).message}`]);
  }
  try {
    return buildDirectory(JSON.parse(text));
  } catch (error) {
    if (error instanceof DirectoryError) throw error;
    throw new DirectoryError([`${path} is not valid JSON: ${(error as Error).message}`]);
  }
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
