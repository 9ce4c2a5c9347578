import { Kind, parse, type ConstDirectiveNode } from 'graphql';
import type { DataSubgraphName } from '../../lib/schema/contract.js';
import { CONTRACT_ADDITIONS, CONTRACT_VERSION } from './contract-additions.js';

/**
 * A node declares the partner contract version it implements in its subgraph SDL, with a federation
 * `@link` to the contract's URL (no imports: the link names a version, it brings in no directives):
 *
 *   extend schema @link(url: "https://specs.robot-registry.org/partner-contract/v1.1")
 *
 * buildSubgraphSchema keeps such a link in `_service { sdl }`, and composition accepts (and drops) it.
 * No declaration reads as 1.0: nodes written before declarations existed.
 */
export const CONTRACT_URL_PREFIX = 'https://specs.robot-registry.org/partner-contract/v';
/** The oldest version this gateway federates, unless a directory entry raises it (`minContractVersion`). */
export const MIN_CONTRACT_VERSION = '1.0';
export const UNDECLARED_VERSION = '1.0';

export interface Version {
  major: number;
  minor: number;
}

const VERSION = /^(\d{1,3})\.(\d{1,3})$/;

export function parseVersion(text: string): Version | null {
  const match = VERSION.exec(text);
  return match ? { major: Number(match[1]), minor: Number(match[2]) } : null;
}

export const formatVersion = (v: Version): string => `${v.major}.${v.minor}`;
export const compareVersions = (a: Version, b: Version): number => a.major - b.major || a.minor - b.minor;

const OURS = parseVersion(CONTRACT_VERSION)!;

/**
 * The version an SDL declares: `{ version }` (null when none is declared), or `{ problem }` when a link
 * to the contract URL does not name a version (`.../v1.1`).
 */
export function declaredVersion(sdl: string): { version: Version | null; url?: string } | { problem: string } {
  let document;
  try {
    document = parse(sdl);
  } catch {
    return { version: null };
  }
  const links: ConstDirectiveNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.SCHEMA_DEFINITION || definition.kind === Kind.SCHEMA_EXTENSION) {
      links.push(...(definition.directives ?? []).filter((d) => d.name.value === 'link'));
    }
  }
  const urls = links
    .map((d) => d.arguments?.find((a) => a.name.value === 'url')?.value)
    .flatMap((v) => (v && v.kind === Kind.STRING && v.value.startsWith(CONTRACT_URL_PREFIX.slice(0, -1)) ? [v.value] : []));
  if (urls.length === 0) return { version: null };
  if (urls.length > 1) return { problem: `declares the partner contract more than once (${urls.map((u) => JSON.stringify(u)).join(', ')}); declare one version` };
  const url = urls[0]!;
  const version = url.startsWith(CONTRACT_URL_PREFIX) ? parseVersion(url.slice(CONTRACT_URL_PREFIX.length)) : null;
  if (!version) return { problem: `@link(url: ${JSON.stringify(url)}) does not name a partner contract version: expected ${CONTRACT_URL_PREFIX}<major>.<minor>, e.g. ${CONTRACT_URL_PREFIX}${CONTRACT_VERSION}` };
  return { version, url };
}

export interface VersionVerdict {
  /** The version the node is checked as (its declared one, capped at ours); null when refused. */
  checkedAs: string | null;
  /** What it declared ("1.1"), or null when it declares nothing. */
  declared: string | null;
  problems: string[];
  notes: string[];
}

/**
 * Reads the declared version against this gateway's range (`minimum` .. CONTRACT_VERSION).
 * `minimumSource` says where the minimum comes from, for the message.
 */
export function judgeVersion(sdl: string, minimum: string = MIN_CONTRACT_VERSION, minimumSource = 'the gateway default'): VersionVerdict {
  const declared = declaredVersion(sdl);
  if ('problem' in declared) return { checkedAs: null, declared: null, problems: [declared.problem], notes: [] };
  const min = parseVersion(minimum) ?? parseVersion(MIN_CONTRACT_VERSION)!;
  const version = declared.version;
  const notes: string[] = [];
  const effective = version ?? parseVersion(UNDECLARED_VERSION)!;
  if (!version) {
    notes.push(`declares no partner contract version (no @link(url: "${CONTRACT_URL_PREFIX}${CONTRACT_VERSION}") in its SDL): read as ${UNDECLARED_VERSION}`);
  }
  const shown = formatVersion(effective);
  if (compareVersions(effective, min) < 0) {
    return {
      checkedAs: null,
      declared: version ? shown : null,
      problems: [
        `${version ? `declares partner contract v${shown}` : `declares no partner contract version (read as ${shown})`}, below the minimum ${formatVersion(min)} (${minimumSource})`,
      ],
      notes,
    };
  }
  if (effective.major !== OURS.major) {
    return {
      checkedAs: null,
      declared: shown,
      problems: [`declares partner contract v${shown}; this gateway speaks ${formatVersion(min)} to ${CONTRACT_VERSION}`],
      notes,
    };
  }
  if (compareVersions(effective, OURS) > 0) {
    notes.push(`declares partner contract v${shown}, later than this gateway's ${CONTRACT_VERSION}: checked as ${CONTRACT_VERSION}`);
    return { checkedAs: CONTRACT_VERSION, declared: shown, problems: [], notes };
  }
  return { checkedAs: shown, declared: version ? shown : null, problems: [], notes };
}

/** The additions a node checked as `version` must serve (those of that version and earlier). */
export function requiredAdditions(subgraph: DataSubgraphName, version: string): { version: string; fields: readonly string[] }[] {
  const v = parseVersion(version);
  if (!v) return [];
  return CONTRACT_ADDITIONS[subgraph].filter((a) => compareVersions(parseVersion(a.version)!, v) <= 0);
}
