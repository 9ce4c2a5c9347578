import { randomUUID } from 'node:crypto';
import { DATA_SUBGRAPHS, type DataSubgraphName } from '../../lib/schema/contract.js';
import { signRequest } from '../../lib/security/request-signer.js';
import type { SigningOptions } from '../../lib/security/signing-secret.js';
import { behaviourProblems, type Send } from './behaviour.js';
import { sdlNotes, sdlProblems } from './sdl-compatibility.js';

export interface EndpointReport {
  subgraph: DataSubgraphName;
  url: string;
  /** True when the endpoint did not answer at all (as opposed to answering wrongly). */
  unreachable: boolean;
  problems: string[];
  /** What it does not serve of later contract versions (optional, so not problems). */
  notes: string[];
}

export interface RegistryReport {
  conforming: boolean;
  unreachable: boolean;
  endpoints: EndpointReport[];
}

const TIMEOUT_MS = 5_000;

/** `signing`: for a registry that requires signed requests (its directory entry names a secret). */
export function httpSender(url: string, headers: Readonly<Record<string, string>> = {}, signing?: SigningOptions): Send {
  return async (query, variables) => {
    const body = JSON.stringify({ query, variables });
    const signature = signing ? signRequest(signing.secret, { body, requestId: randomUUID(), caller: null, search: new URL(url).search }) : {};
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers, ...signature },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`HTTP ${response.status}: not a JSON answer`);
    }
  };
}

/** SDL compatibility and behaviour of one endpoint claiming to be `subgraph` for `country`. */
export async function checkEndpoint(subgraph: DataSubgraphName, url: string, country: string, headers: Readonly<Record<string, string>> = {}, signing?: SigningOptions): Promise<EndpointReport> {
  const send = httpSender(url, headers, signing);
  let sdl: string;
  try {
    const answer = await send('query ConformanceSdl { _service { sdl } }');
    sdl = answer.data?._service?.sdl;
    if (typeof sdl !== 'string') return { subgraph, url, unreachable: false, problems: ['does not answer { _service { sdl } } (not a federation subgraph?)'], notes: [] };
  } catch (error) {
    return { subgraph, url, unreachable: true, problems: [`unreachable: ${(error as Error).message}`], notes: [] };
  }
  const problems = sdlProblems(subgraph, sdl);
  const notes = sdlNotes(subgraph, sdl);
  // The additions a node serves are checked by their SDL only: their data needs a signed-in reader.
  if (problems.length === 0) problems.push(...(await behaviourProblems(subgraph, country, send)));
  return { subgraph, url, unreachable: false, problems, notes };
}

/** All four subgraphs of a registry node. */
export async function checkRegistry(
  entry: { countries: readonly string[]; subgraphs: Readonly<Record<DataSubgraphName, string>>; headers?: Readonly<Record<string, string>>; signing?: SigningOptions },
): Promise<RegistryReport> {
  const endpoints = await Promise.all(DATA_SUBGRAPHS.map((sg) => checkEndpoint(sg, entry.subgraphs[sg], entry.countries[0]!, entry.headers, entry.signing)));
  const unreachable = endpoints.some((e) => e.unreachable);
  return { conforming: endpoints.every((e) => e.problems.length === 0), unreachable, endpoints };
}
