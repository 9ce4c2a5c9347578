import { readFileSync } from 'node:fs';
import { DATA_SUBGRAPHS, DIRECTORY_SUBGRAPH, type DataSubgraphName } from '../../lib/schema/contract.js';
import { CONTRACT_VERSION } from '../conformance/contract-additions.js';
import { compareVersions, formatVersion, MIN_CONTRACT_VERSION, parseVersion } from '../conformance/contract-version.js';
import { parseSigningSecret, type SigningOptions } from '../../lib/security/signing-secret.js';
import { readAlertUrls } from '../../lib/alerts/alert-url-policy.js';
import { readLimits, type RegistryLimits } from './registry-limits.js';
import { readReceiptKeys, type ReceiptKeysSource } from '../receipts/receipt-key-entry.js';

/**
 * The registry directory: which registry node owns which country segments, where its subgraphs answer,
 * what credentials the gateway presents to it, and which extension subgraphs it contributes.
 * The country table is configuration, not code (design: "The identity code"). Format: docs/directory.md.
 * Plain, frozen data: the live state built from it (guards, health, trust) lives on the routing side.
 */
export interface RegistryEntry {
  readonly name: string;
  /** Country segments (2 characters of [0-9A-Z]) this registry owns. */
  readonly countries: readonly string[];
  /** Writes go to the home registry; exactly one entry is home. */
  readonly home: boolean;
  readonly subgraphs: Readonly<Record<DataSubgraphName, string>>;
  /** The home node's audit subgraph (`subgraphs.audit` in the file); absent, the gateway keeps no audit log. */
  readonly audit?: string;
  /** Headers sent with every request to this registry (credentials, resolved from the environment). */
  readonly headers: Readonly<Record<string, string>>;
  /** `signing: { fromEnv }`: requests to this registry are also signed (a partner running this software). */
  readonly signing?: SigningOptions;
  readonly limits: RegistryLimits;
  readonly extensions: readonly ExtensionEntry[];
  /** Where the registry publishes its receipt keys (docs/receipts.md): a JWKS URL or inline public keys. */
  readonly receiptKeys?: ReceiptKeysSource;
  /** `minContractVersion: "1.1"`: the oldest partner contract version its node may declare (default 1.0). */
  readonly minContractVersion?: string;
}

export interface ExtensionEntry {
  /** Subgraph name in the supergraph: lower-case letters, digits and hyphens. */
  readonly name: string;
  readonly url: string;
  /** The registry's credentials and limits apply to its extensions too. */
  readonly headers: Readonly<Record<string, string>>;
  readonly limits: RegistryLimits;
  /** Name of the registry that contributes it. */
  readonly registry: string;
}

export interface RegistryDirectory {
  readonly registries: readonly RegistryEntry[];
  readonly home: RegistryEntry;
  readonly extensions: readonly ExtensionEntry[];
  registryFor(country: string): RegistryEntry | undefined;
}

export class DirectoryError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid registry directory:\n- ${problems.join('\n- ')}`);
  }
}

export interface BuildOptions {
  /** Where credentials are read from; the file only names the variables. */
  env?: NodeJS.ProcessEnv;
}

const COUNTRY = /^[0-9A-Z]{2}$/;
const EXTENSION_NAME = /^[a-z][a-z0-9-]{0,39}$/;
const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,63}$/;
const RESERVED_NAMES = new Set<string>([DIRECTORY_SUBGRAPH, ...DATA_SUBGRAPHS]);

/** Validates entries and builds the lookup; throws DirectoryError listing every problem found. */
export function buildDirectory(input: unknown, options: BuildOptions = {}): RegistryDirectory {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const list = (input as { registries?: unknown })?.registries;
  if (!Array.isArray(list) || list.length === 0) throw new DirectoryError(['"registries" must be a non-empty array']);
  const byCountry = new Map<string, RegistryEntry>();
  const names = new Set<string>();
  const extensionNames = new Set<string>();
  const registries: RegistryEntry[] = [];
  list.forEach((raw: Record<string, unknown>, i) => {
    const where = `registries[${i}]`;
    if (typeof raw !== 'object' || raw === null) return void problems.push(`${where} must be an object`);
    const name = typeof raw.name === 'string' && raw.name.trim() ? raw.name.trim() : null;
    if (!name) problems.push(`${where}.name must be a non-empty string`);
    else if (names.has(name)) problems.push(`${where}.name "${name}" is used twice`);
    else names.add(name);
    const countries = Array.isArray(raw.countries) ? raw.countries : [];
    if (countries.length === 0) problems.push(`${where}.countries must list at least one country segment`);
    for (const c of countries) {
      if (typeof c !== 'string' || !COUNTRY.test(c)) problems.push(`${where}.countries: ${JSON.stringify(c)} is not 2 characters of 0-9 and A-Z`);
    }
    const given = (raw.subgraphs ?? {}) as Record<string, unknown>;
    const subgraphs = {} as Record<DataSubgraphName, string>;
    for (const sg of DATA_SUBGRAPHS) {
      const url = given[sg];
      if (typeof url !== 'string' || !isHttpUrl(url)) problems.push(`${where}.subgraphs.${sg} must be an http(s) URL`);
      subgraphs[sg] = String(url);
    }
    // The home node's audit log (not part of the partner contract): only the home entry may name one.
    const audit = given.audit;
    if (audit !== undefined && (typeof audit !== 'string' || !isHttpUrl(audit))) problems.push(`${where}.subgraphs.audit must be an http(s) URL`);
    const headers = readCredentials(raw.credentials, `${where}.credentials`, env, problems);
    const signing = readSigning(raw.signing, `${where}.signing`, env, problems);
    const limits = readLimits(raw.limits, `${where}.limits`, problems);
    const receiptKeys = readReceiptKeys(raw.receiptKeys, `${where}.receiptKeys`, problems);
    // Where the home node may push alerts to this registry's partners (docs/alerts.md); the node reads them from the same file.
    readAlertUrls(raw.alertUrls, `${where}.alertUrls`, problems);
    const minContractVersion = readMinContractVersion(raw.minContractVersion, `${where}.minContractVersion`, problems);
    if (raw.alertsAllowPrivate !== undefined && typeof raw.alertsAllowPrivate !== 'boolean') problems.push(`${where}.alertsAllowPrivate must be true or false`);
    const registry = name ?? where;
    const extensions: ExtensionEntry[] = [];
    const rawExtensions = raw.extensions ?? [];
    if (!Array.isArray(rawExtensions)) problems.push(`${where}.extensions must be an array`);
    else {
      rawExtensions.forEach((ext: Record<string, unknown>, j) => {
        const at = `${where}.extensions[${j}]`;
        const extName = typeof ext?.name === 'string' ? ext.name : '';
        if (!EXTENSION_NAME.test(extName)) problems.push(`${at}.name must be lower-case letters, digits and hyphens (got ${JSON.stringify(ext?.name)})`);
        else if (RESERVED_NAMES.has(extName)) problems.push(`${at}.name "${extName}" is reserved for the registry's own subgraphs`);
        else if (extensionNames.has(extName)) problems.push(`${at}.name "${extName}" is used twice`);
        extensionNames.add(extName);
        if (typeof ext?.url !== 'string' || !isHttpUrl(ext.url)) problems.push(`${at}.url must be an http(s) URL`);
        extensions.push(Object.freeze({ name: extName, url: String(ext?.url), headers, limits, registry }));
      });
    }
    const entry: RegistryEntry = Object.freeze({
      name: registry,
      countries: Object.freeze(countries.filter((c): c is string => typeof c === 'string')),
      home: raw.home === true,
      subgraphs: Object.freeze(subgraphs),
      headers,
      // A partner's node has an audit log of its own too; this gateway writes only its home's.
      ...(typeof audit === 'string' && raw.home === true ? { audit } : {}),
      ...(signing ? { signing } : {}),
      limits,
      extensions: Object.freeze(extensions),
      ...(receiptKeys ? { receiptKeys } : {}),
      ...(minContractVersion ? { minContractVersion } : {}),
    });
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
  return Object.freeze({
    registries: Object.freeze([home, ...registries.filter((r) => r !== home)]),
    home,
    extensions: Object.freeze(registries.flatMap((r) => r.extensions)),
    registryFor: (country: string) => byCountry.get(country),
  });
}

/** Same node behind the entry: a registry whose endpoints, credentials or countries changed must be checked again. */
export function sameEndpoints(a: RegistryEntry, b: RegistryEntry | undefined): boolean {
  return !!b && JSON.stringify([a.subgraphs, a.headers, a.countries]) === JSON.stringify([b.subgraphs, b.headers, b.countries]);
}

export function readDirectoryFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new DirectoryError([`cannot read ${path}: ${(error as Error).message}`]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DirectoryError([`${path} is not valid JSON: ${(error as Error).message}`]);
  }
}

export function loadDirectoryFile(path: string, options: BuildOptions = {}): RegistryDirectory {
  return buildDirectory(readDirectoryFile(path), options);
}

/** `credentials: { header, fromEnv, prefix? }`: the secret itself never appears in the file. */
function readCredentials(raw: unknown, where: string, env: NodeJS.ProcessEnv, problems: string[]): Readonly<Record<string, string>> {
  if (raw === undefined || raw === null) return Object.freeze({});
  const spec = raw as { header?: unknown; fromEnv?: unknown; prefix?: unknown; value?: unknown };
  if ('value' in spec) problems.push(`${where}: secrets are never stored in the directory; name an environment variable in fromEnv`);
  const header = typeof spec.header === 'string' ? spec.header : 'authorization';
  if (!HEADER_NAME.test(header)) problems.push(`${where}.header ${JSON.stringify(spec.header)} is not a header name`);
  if (typeof spec.fromEnv !== 'string' || !ENV_NAME.test(spec.fromEnv)) {
    problems.push(`${where}.fromEnv must name an environment variable (A-Z, 0-9, _)`);
    return {};
  }
  const secret = env[spec.fromEnv];
  if (!secret) {
    problems.push(`${where}: environment variable ${spec.fromEnv} is not set`);
    return {};
  }
  const prefix = typeof spec.prefix === 'string' ? spec.prefix : '';
  return Object.freeze({ [header.toLowerCase()]: prefix + secret });
}

/** `minContractVersion`: "<major>.<minor>" of this gateway's contract (1.x, at most the current version). */
function readMinContractVersion(value: unknown, where: string, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  const version = typeof value === 'string' ? parseVersion(value) : null;
  const ours = parseVersion(CONTRACT_VERSION)!;
  if (!version || version.major !== ours.major || compareVersions(version, ours) > 0) {
    problems.push(`${where} must be a partner contract version "${ours.major}.<minor>" from ${MIN_CONTRACT_VERSION} to ${CONTRACT_VERSION} (got ${JSON.stringify(value)})`);
    return undefined;
  }
  return formatVersion(version);
}

/** `signing: { fromEnv }`: the variable holds the registry's signing secret (32+ bytes, hex or base64). */
function readSigning(raw: unknown, where: string, env: NodeJS.ProcessEnv, problems: string[]): SigningOptions | undefined {
  if (raw === undefined || raw === null) return undefined;
  const spec = raw as { fromEnv?: unknown; secret?: unknown };
  if ('secret' in spec) problems.push(`${where}: secrets are never stored in the directory; name an environment variable in fromEnv`);
  if (typeof spec.fromEnv !== 'string' || !ENV_NAME.test(spec.fromEnv)) return void problems.push(`${where}.fromEnv must name an environment variable (A-Z, 0-9, _)`);
  const text = env[spec.fromEnv];
  if (!text) return void problems.push(`${where}: environment variable ${spec.fromEnv} is not set`);
  try {
    return { secret: parseSigningSecret(text, spec.fromEnv) };
  } catch (error) {
    return void problems.push(`${where}: ${(error as Error).message}`);
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
