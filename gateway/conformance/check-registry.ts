import { randomUUID } from 'node:crypto';
import { DATA_SUBGRAPHS, type DataSubgraphName } from '../../lib/schema/contract.js';
import { signRequest } from '../../lib/security/request-signer.js';
import type { SigningOptions } from '../../lib/security/signing-secret.js';
import type { Caller } from '../../lib/server/request-context.js';
import { behaviourProblems, entityLimitProblems, type Send } from './behaviour.js';
import { compareVersions, formatVersion, judgeVersion, MIN_CONTRACT_VERSION, parseVersion, requiredAdditions, type Version } from './contract-version.js';
import { credentialFindings } from './credential.js';
import { codeOf, errorsOf, type Answer } from './findings.js';
import { rememberUnserved } from './older-partners.js';
import { pageLimitFindings } from './page-limits.js';
import { postJson } from './post-json.js';
import { rootFieldFindings } from './root-fields.js';
import { sdlNotes, sdlProblems, unservedAdditions } from './sdl-compatibility.js';

export interface EndpointReport {
  subgraph: DataSubgraphName;
  url: string;
  /** True when the endpoint did not answer at all (as opposed to answering wrongly). */
  unreachable: boolean;
  problems: string[];
  /** What it does not serve of later contract versions (optional, so not problems), what could not be checked. */
  notes: string[];
  /** The optional fields (of later contract versions) its SDL does not serve. */
  unserved?: string[];
  /** The contract version it was checked as (its declared one, 1.0 when it declares none), once its SDL was read. */
  contractVersion?: string | null;
}

export interface RegistryReport {
  conforming: boolean;
  unreachable: boolean;
  endpoints: EndpointReport[];
  /** The lowest version its endpoints were checked as (null when it was not read). */
  contractVersion: string | null;
}

/**
 * Who the check's requests are from, when they are signed (a node running this software): a read-only
 * service caller, so that lists, which need a signed-in reader on such a node, can be checked. Unsigned
 * requests carry no caller at all (a partner is never sent a caller it must trust).
 */
export const CONFORMANCE_CALLER: Caller = { subject: 'conformance-check', role: 'analyst' };

export interface CheckOptions {
  headers?: Readonly<Record<string, string>>;
  signing?: SigningOptions;
  /** The oldest contract version accepted (default 1.0) and where that minimum comes from, for the message. */
  minContractVersion?: string;
  minimumSource?: string;
}

/** The node answered HTTP 401: it does not accept the credential (or signature) the check sent. */
export class CredentialRefused extends Error {
  constructor(answer: Answer) {
    const first = errorsOf(answer)[0];
    const said = [codeOf(first), typeof first?.message === 'string' ? first.message.slice(0, 160) : undefined].filter(Boolean).join(': ');
    super(`HTTP 401${said ? ` (${said})` : ''}: it refused the credential it was sent; check the credentials (and signing) of its directory entry against what the node expects`);
  }
}

/** `signing`: for a registry that requires signed requests (its directory entry names a secret). */
export function httpSender(url: string, headers: Readonly<Record<string, string>> = {}, signing?: SigningOptions, caller: Caller | null = null): Send {
  return async (query, variables) => {
    const body = JSON.stringify({ query, variables });
    const requestId = randomUUID();
    const signature = signing ? signRequest(signing.secret, { body, requestId, caller, search: new URL(url).search }) : {};
    const { status, answer } = await postJson(url, { ...headers, ...signature }, body, requestId);
    if (answer === null) throw new Error(`HTTP ${status}: not a JSON answer`);
    // Refused before anything was checked: the node is not answering *us* (a credential or secret that
    // differs on the two sides), which is unavailability to fix in configuration, not non-conformance.
    if (status === 401) throw new CredentialRefused(answer);
    return answer;
  };
}

/**
 * SDL compatibility, declared contract version and behaviour of one endpoint claiming to be `subgraph`
 * for `country`: entity lookups, root fields, page limits and, when it is given one, its credential.
 * (`headers`/`signing` as the last two arguments: the form older callers use.)
 */
export async function checkEndpoint(
  subgraph: DataSubgraphName,
  url: string,
  country: string,
  headersOrOptions: Readonly<Record<string, string>> | CheckOptions = {},
  signingArgument?: SigningOptions,
): Promise<EndpointReport> {
  const options: CheckOptions = isOptions(headersOrOptions) ? headersOrOptions : { headers: headersOrOptions, signing: signingArgument };
  const headers = options.headers ?? {};
  const signing = options.signing;
  const send = httpSender(url, headers, signing, signing ? CONFORMANCE_CALLER : null);
  let sdl: string;
  try {
    const answer = await send('query ConformanceSdl { _service { sdl } }');
    sdl = answer.data?._service?.sdl;
    if (typeof sdl !== 'string') {
      const codes = errorsOf(answer).map(codeOf);
      const refused = codes.includes('UNAUTHENTICATED') ? ' (refused UNAUTHENTICATED: check its credential header)' : ' (not a federation subgraph?)';
      return { subgraph, url, unreachable: false, problems: [`does not answer { _service { sdl } }${refused}`], notes: [] };
    }
  } catch (error) {
    return { subgraph, url, unreachable: true, problems: [`unreachable: ${(error as Error).message}`], notes: [] };
  }
  const version = judgeVersion(sdl, options.minContractVersion ?? MIN_CONTRACT_VERSION, options.minimumSource ?? `the gateway's default minimum`);
  const problems = [...version.problems, ...sdlProblems(subgraph, sdl)];
  const notes = [...version.notes];
  const required = version.checkedAs ? requiredAdditions(subgraph, version.checkedAs) : [];
  const unserved = unservedAdditions(subgraph, sdl);
  for (const addition of required) {
    for (const field of addition.fields) if (unserved.includes(field)) problems.push(`declares ${version.checkedAs} but does not serve ${field} (added in contract ${addition.version})`);
  }
  notes.push(...sdlNotes(subgraph, sdl).filter((note) => !required.some((a) => note.includes(`contract ${a.version} additions`))));
  // The additions a node serves are checked by their SDL only: their data needs a signed-in reader.
  if (problems.length === 0) {
    problems.push(...(await behaviourProblems(subgraph, country, send)));
    problems.push(...(await entityLimitProblems(subgraph, country, send)));
    for (const findings of [
      await rootFieldFindings(subgraph, country, send),
      await pageLimitFindings(subgraph, country, send),
      await credentialFindings(url, headers),
    ]) {
      problems.push(...findings.problems);
      notes.push(...findings.notes);
    }
  }
  return { subgraph, url, unreachable: false, problems, notes, contractVersion: version.checkedAs, unserved };
}

function isOptions(value: Readonly<Record<string, string>> | CheckOptions): value is CheckOptions {
  // A header is never named like an option.
  return ['headers', 'signing', 'minContractVersion', 'minimumSource'].some((k) => k in value);
}

/** All four subgraphs of a registry node. */
export async function checkRegistry(entry: {
  name?: string;
  countries: readonly string[];
  subgraphs: Readonly<Record<DataSubgraphName, string>>;
  headers?: Readonly<Record<string, string>>;
  signing?: SigningOptions;
  minContractVersion?: string;
}): Promise<RegistryReport> {
  const options: CheckOptions = {
    headers: entry.headers,
    signing: entry.signing,
    minContractVersion: entry.minContractVersion,
    minimumSource: entry.minContractVersion ? `"minContractVersion": "${entry.minContractVersion}" of ${entry.name ? `the directory entry "${entry.name}"` : 'its directory entry'}` : undefined,
  };
  const endpoints = await Promise.all(DATA_SUBGRAPHS.map((sg) => checkEndpoint(sg, entry.subgraphs[sg], entry.countries[0]!, options)));
  const unreachable = endpoints.some((e) => e.unreachable);
  const versions = endpoints
    .map((e) => (e.contractVersion ? parseVersion(e.contractVersion) : null))
    .filter((v): v is Version => !!v)
    .sort(compareVersions)
    .map(formatVersion);
  const conforming = endpoints.every((e) => e.problems.length === 0);
  // The gateway leaves out what each endpoint lacks from its first fetch on (older-partners.ts).
  if (conforming && entry.name) for (const e of endpoints) rememberUnserved(`${entry.name} ${e.url}`, e.unserved ?? []);
  if (conforming && entry.name && versions[0]) passedVersions.set(versionKey(entry as { name: string; subgraphs: Readonly<Record<DataSubgraphName, string>> }), versions[0]);
  return { conforming, unreachable, endpoints, contractVersion: versions[0] ?? null };
}

/** The contract version each registry (by name and endpoints) last passed the check as, for /health/ready. */
const passedVersions = new Map<string, string>();
const versionKey = (entry: { name: string; subgraphs: Readonly<Record<DataSubgraphName, string>> }) => `${entry.name}\n${DATA_SUBGRAPHS.map((s) => entry.subgraphs[s]).join('\n')}`;

/** The contract version a registry's endpoints passed the conformance check as (undefined when not checked, e.g. the home node). */
export function passedContractVersion(entry: { name: string; subgraphs: Readonly<Record<DataSubgraphName, string>> }): string | undefined {
  return passedVersions.get(versionKey(entry));
}
