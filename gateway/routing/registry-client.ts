import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GraphQLFormattedError } from 'graphql';
import type { DataSubgraphName } from '../../lib/schema/contract.js';
import { randomUUID } from 'node:crypto';
import { rootLogger } from '../../lib/logging/logger.js';
import { timeRegistryFetch } from '../../lib/metrics/registry-metrics.js';
import { signRequest } from '../../lib/security/request-signer.js';
import type { SigningOptions } from '../../lib/security/signing-secret.js';
import { requestContextHeaders, type RequestContext } from '../../lib/server/request-context.js';
import type { ExtensionEntry, RegistryDirectory, RegistryEntry } from '../directory/registry-directory.js';
import type { RegistryLimits } from '../directory/registry-limits.js';
import { sendWithinPartnerContract } from '../conformance/older-partners.js';
import { passedContractVersion } from '../conformance/check-registry.js';
import { sendWithPartnerRights } from './partner-rights.js';
import { ConformanceGate, type Conformance } from './conformance-gate.js';
import { extensionKey, GuardPool, guardTargets } from './guard-pool.js';
import { GuardRejection, type CircuitStatus } from './registry-guard.js';
import { SubgraphTransport } from './subgraph-transport.js';

export type ProcessOptions = GraphQLDataSourceProcessOptions<Record<string, any>>;
export type OperationOptions = Extract<ProcessOptions, { incomingRequestContext: unknown }>;
export interface GatewayResponse {
  data?: Record<string, unknown> | null;
  errors?: GraphQLFormattedError[];
}

/** The gateway does not export its request-kind enum; its value for client operations is this string. */
export function isIncomingOperation(options: ProcessOptions): options is OperationOptions {
  return (options.kind as string) === 'incoming operation';
}

/** A registry that could not answer: the router turns it into per-item REGISTRY_UNAVAILABLE errors. */
export class RegistryUnavailableError extends Error {
  constructor(
    readonly registry: { name: string },
    readonly reason: string,
  ) {
    super(`registry "${registry.name}" is unavailable: ${reason}`);
  }
}

export interface RegistryHealth {
  name: string;
  countries: readonly string[];
  home: boolean;
  /** Answering, circuit not open, and conformance check passed: its items are being served. */
  reachable: boolean;
  circuit: CircuitStatus;
  lastSuccessAt: string | null;
  lastFailure: { at: string; reason: string } | null;
  /** A registry that could not be checked when it was added serves nothing until it passes. */
  conformance: Conformance;
  /** An edit whose new endpoints have yet to answer and pass: the previous entry serves meanwhile. */
  pendingEdit?: { subgraphs: Readonly<Record<string, string>>; conformance: Conformance; note: string };
}

/** The directory as installed by the store, with the registries it had to accept unchecked. */
export interface InstalledDirectory {
  directory: RegistryDirectory;
  unverified: readonly string[];
}

interface Target {
  /** Registry name, or "extension:<name>": the unit of isolation. */
  key: string;
  url: string;
  headers: Readonly<Record<string, string>>;
  limits: RegistryLimits;
  /** Sign each request with this secret (lib/security/request-signer.ts). */
  signing?: SigningOptions;
}

/** A fetch answered with something that is not a GraphQL response. */
class MalformedAnswer extends Error {}

/**
 * Sends operations to registry nodes and extension subgraphs, each behind its own guard (timeout,
 * circuit breaker, bulkhead). Failures become RegistryUnavailableError with a reason fit for clients:
 * internal URLs, response bodies and stack traces go to the log only. Holds the live state built
 * from the directory's plain data: guards, health, and which registries have yet to pass the check.
 */
export class RegistryClient {
  private readonly guards = new GuardPool();
  private readonly transport = new SubgraphTransport();
  /** Reads on their way to a subgraph, by endpoint, caller rights and body (see `shared`). */
  private readonly inFlight = new Map<string, Promise<SharedAnswer>>();
  private readonly gate = new ConformanceGate();
  private readonly health = new Map<string, { ok: number | null; failure: { at: number; reason: string } | null }>();
  private readonly lastLogged = new Map<string, number>();
  /** Per client request, the registries that already failed it and why: its later fetches to them fail at once. */
  private readonly failedIn = new WeakMap<object, Map<string, string>>();

  /** `homeSigning`: the secret shared with the home node; a partner is signed for only with its own `signing`. */
  constructor(installed: InstalledDirectory, private readonly homeSigning?: SigningOptions) {
    this.install(installed);
  }

  /** Call on every directory change: guards of unchanged registries carry over, removed ones are dropped. */
  install({ directory, unverified }: InstalledDirectory): void {
    for (const key of this.guards.sync(guardTargets(directory))) {
      this.health.delete(key);
      this.lastLogged.delete(key);
    }
    this.gate.sync(directory, unverified);
    this.transport.retain([
      ...directory.registries.flatMap((r) => [...Object.values(r.subgraphs), ...(r.audit ? [r.audit] : [])]),
      ...directory.extensions.map((e) => e.url),
    ]);
  }

  /** Closes the connection pools (the gateway is stopping). */
  close(): Promise<void> {
    return this.transport.close();
  }

  async send(directoryEntry: RegistryEntry, subgraph: DataSubgraphName, options: ProcessOptions): Promise<GatewayResponse> {
    const refusal = this.gate.refusal(directoryEntry.name);
    // An edited entry that has yet to answer and pass: the previous one serves meanwhile.
    const registry = this.gate.entryFor(directoryEntry);
    if (refusal || !registry) throw new RegistryUnavailableError(directoryEntry, refusal ?? 'it has not passed the conformance check yet');
    const target = this.targetOf(registry, registry.name, registry.subgraphs[subgraph]);
    const label = `${subgraph} of "${registry.name}"`;
    if (registry.home) return this.post(target, options, label);
    // A partner may implement an earlier contract version: fields it lacks are left out (they read null).
    // A partner gets no caller claims: the gateway applies the rights table to what it asks and reads.
    return sendWithPartnerRights(subgraph, options, (guarded) =>
      sendWithinPartnerContract(`${registry.name} ${target.url}`, subgraph, guarded, (sent) => this.post(target, sent, label)),
    );
  }

  /** One of a registry's endpoints, with its credentials, limits and signature (its own, or the home node's). */
  private targetOf(registry: RegistryEntry, key: string, url: string): Target {
    return { key, url, headers: registry.headers, limits: registry.limits, signing: registry.signing ?? (registry.home ? this.homeSigning : undefined) };
  }

  /** To the home node's audit subgraph, with the home registry's guard, credentials and signature. */
  async sendToAudit(registry: RegistryEntry, options: ProcessOptions): Promise<GatewayResponse> {
    if (!registry.audit) throw new RegistryUnavailableError(registry, 'its directory entry names no audit subgraph');
    return this.post(
      this.targetOf(registry, `audit:${registry.name}`, registry.audit),
      options,
      `audit of "${registry.name}"`,
    );
  }

  async sendToExtension(extension: ExtensionEntry, options: ProcessOptions) {
    const { url, headers, limits } = extension;
    return this.post({ key: extensionKey(extension.name), url, headers, limits }, options, `extension "${extension.name}"`);
  }

  /** Whether some entry of the registry serves its items now (an edited one may still be using its previous entry). */
  serves(name: string): boolean {
    return this.gate.serves(name);
  }

  /** What `registries { reachable }` and /health/ready report for a registry. */
  healthOf(registry: RegistryEntry): RegistryHealth {
    const seen = this.health.get(registry.name);
    const circuit = this.guards.circuit(registry.name);
    const pending = this.gate.pendingEdit(registry.name);
    // While an edit is pending, the entry that serves is the previous one, which has passed.
    const checked = pending ? ({ status: 'passed' } as const) : this.gate.conformance(registry.name);
    // The partner contract version it passed as (from the @link its SDL declares; 1.0 when none).
    const version = checked.status === 'passed' ? passedContractVersion(this.gate.entryFor(registry) ?? registry) : undefined;
    const conformance: Conformance = version ? { status: 'passed', contractVersion: version } : checked;
    const lastOkLater = seen?.ok != null && (seen.failure === null || seen.ok >= seen.failure.at);
    return {
      name: registry.name,
      countries: registry.countries,
      home: registry.home,
      reachable: circuit !== 'open' && conformance.status === 'passed' && (seen === undefined ? true : lastOkLater),
      circuit,
      lastSuccessAt: seen?.ok != null ? new Date(seen.ok).toISOString() : null,
      lastFailure: seen?.failure ? { at: new Date(seen.failure.at).toISOString(), reason: seen.failure.reason } : null,
      conformance,
      ...(pending
        ? {
            pendingEdit: {
              subgraphs: pending.subgraphs,
              conformance: this.gate.conformance(registry.name),
              note: 'the edited entry does not answer (or conform) yet; the previous entry keeps serving',
            },
          }
        : {}),
    };
  }

  /**
   * A cheap `{ __typename }` to every subgraph of the registry, through its guard; updates its health.
   * For a registry that has yet to pass, the conformance check is the probe: it notices the first answer,
   * and the guard collects no failures from the time the registry was not serving anyway.
   */
  async probe(registry: RegistryEntry): Promise<RegistryHealth> {
    await this.gate.recheck(registry.name);
    if (this.gate.refusal(registry.name) !== null || !this.gate.entryFor(registry)) return this.healthOf(registry);
    await Promise.all(
      (Object.keys(registry.subgraphs) as DataSubgraphName[]).map((subgraph) =>
        this.send(registry, subgraph, {
          kind: 'health check',
          request: { query: 'query RegistryProbe { __typename }' },
          context: {},
        } as unknown as ProcessOptions).catch(() => undefined),
      ),
    );
    return this.healthOf(registry);
  }

  private async post(target: Target, options: ProcessOptions, label: string): Promise<GatewayResponse> {
    const context = (options.context ?? {}) as Partial<RequestContext>;
    const body = JSON.stringify({
      query: options.request.query,
      variables: options.request.variables,
      operationName: options.request.operationName,
    });
    // A request that already waited out this registry's timeout does not wait for it a second time.
    const failed = options.context ? this.failedIn.get(options.context)?.get(target.key) : undefined;
    if (failed) throw new RegistryUnavailableError({ name: target.key }, failed);
    const fetched = timeRegistryFetch(target.key);
    try {
      const response = takeAnswer(await this.shared(target, context, body, options.request.query));
      this.health.set(target.key, { ok: Date.now(), failure: this.health.get(target.key)?.failure ?? null });
      fetched();
      return { ...response, errors: response.errors?.map(sanitizeError) };
    } catch (error) {
      const reason =
        error instanceof GuardRejection ? error.message : error instanceof MalformedAnswer ? 'malformed answer' : 'request failed';
      fetched(error instanceof GuardRejection ? 'refused' : error instanceof MalformedAnswer ? 'malformed' : 'failed');
      if (options.context) {
        const byKey = this.failedIn.get(options.context) ?? new Map<string, string>();
        this.failedIn.set(options.context, byKey.set(target.key, reason));
      }
      const before = this.health.get(target.key);
      this.health.set(target.key, { ok: before?.ok ?? null, failure: { at: Date.now(), reason } });
      // Log when a registry starts failing (and then at most once a minute), not on every fetch and probe.
      const lastLogged = this.lastLogged.get(target.key) ?? 0;
      if (!before?.failure || (before.ok ?? 0) > before.failure.at || Date.now() - lastLogged > 60_000) {
        this.lastLogged.set(target.key, Date.now());
        (context.log ?? rootLogger()).warn({ registry: target.key, url: target.url, reason }, `${label} failed: ${(error as Error).message}`);
      }
      throw new RegistryUnavailableError({ name: target.key }, reason);
    }
  }

  /**
   * One guarded call per distinct request in flight: a read identical to one already on its way (same
   * endpoint, same body, same rights) waits for that answer instead of asking again. Subgraphs apply
   * field rights per caller from the signed claims, so the rights are part of the key: an answer is
   * only ever shared between callers who would have been given the same one. Writes are never shared.
   */
  private shared(target: Target, context: Partial<RequestContext>, body: string, query: string | undefined): Promise<SharedAnswer> {
    if (query === undefined || MUTATION.test(query)) return this.call(target, context, body);
    const key = `${target.key}\n${target.url}\n${rightsKey(context.caller ?? null)}\n${body}`;
    let answer = this.inFlight.get(key);
    if (!answer) {
      answer = this.call(target, context, body).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, answer);
    }
    return answer;
  }

  private call(target: Target, context: Partial<RequestContext>, body: string): Promise<SharedAnswer> {
    // Probes and checks have no client request: they get an id of their own, for the registry's logs.
    const requestId = context.requestId ?? randomUUID();
    return this.guards.guard(target).execute(async (signal) => {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/json',
        ...target.headers,
        ...requestContextHeaders({ requestId }),
        // Signed per attempt: each carries a fresh nonce and timestamp.
        ...(target.signing
          ? signRequest(target.signing.secret, {
              body,
              requestId,
              caller: context.caller ?? null,
              search: this.transport.searchOf(target.url),
            })
          : {}),
      };
      const { status, text } = await this.transport.post(target.url, headers, body, signal);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new MalformedAnswer(`HTTP ${status}, not JSON: ${text.slice(0, 200)}`);
      }
      if (!isGraphQLResponse(parsed)) throw new MalformedAnswer(`HTTP ${status}, not a GraphQL response`);
      // The registry refused the gateway itself (its credential or signature): nothing a client can fix, so
      // the registry is unavailable to us (docs/partner-contract.md, "Headers and credentials").
      if (status === 401) throw new MalformedAnswer(`HTTP 401: it refused the gateway's credential or signature (${firstMessage(parsed)})`);
      // A 5xx without data is a failure of the registry. A 4xx with GraphQL errors is an answer: the
      // request was refused (a bad variable, say) and the client should read why.
      if (status >= 500 && !parsed.data) throw new MalformedAnswer(`HTTP ${status}: ${JSON.stringify(parsed.errors ?? []).slice(0, 200)}`);
      if ((status < 200 || status > 299) && !parsed.errors?.length) throw new MalformedAnswer(`HTTP ${status} without errors`);
      return { text, parsed };
    });
  }
}

const MUTATION = /^\s*mutation\b/;

/** An answer as shared between identical requests: the first reader takes the parsed object, later ones parse their own copy. */
interface SharedAnswer {
  text: string;
  parsed: GatewayResponse | null;
}

/** Each caller gets an object of its own: the gateway merges later fetches into entities in place. */
function takeAnswer(answer: SharedAnswer): GatewayResponse {
  const parsed = answer.parsed;
  if (parsed === null) return JSON.parse(answer.text) as GatewayResponse;
  answer.parsed = null;
  return parsed;
}

function firstMessage(answer: GatewayResponse): string {
  const message = answer.errors?.[0]?.message;
  return typeof message === 'string' ? message.slice(0, 200) : 'no message';
}

/** What decides which fields a subgraph gives a caller: role, and the enterprise or country it acts for. */
function rightsKey(caller: RequestContext['caller']): string {
  return caller ? `${caller.role ?? ''}|${caller.enterprise ?? ''}|${caller.country ?? ''}` : 'anonymous';
}

function isGraphQLResponse(value: unknown): value is GatewayResponse {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { data, errors } = value as GatewayResponse;
  return (data === undefined || data === null || (typeof data === 'object' && !Array.isArray(data))) && (errors === undefined || Array.isArray(errors));
}

/** Extension keys a registry may pass to clients; anything else (stack traces, bodies) is dropped. */
const PUBLIC_EXTENSIONS = new Set(['code', 'problems', 'input', 'country', 'codes', 'max', 'status', 'index', 'field', 'refusals', 'rule', 'roles', 'enterprise', 'writeOutcome']);

export function sanitizeError(error: GraphQLFormattedError): GraphQLFormattedError {
  const extensions = Object.fromEntries(Object.entries(error?.extensions ?? {}).filter(([key]) => PUBLIC_EXTENSIONS.has(key)));
  return {
    message: typeof error?.message === 'string' ? error.message.slice(0, 1000) : 'error without message',
    ...(Array.isArray(error?.path) ? { path: error.path } : {}),
    ...(Object.keys(extensions).length ? { extensions } : {}),
  };
}

export function unavailableError(error: RegistryUnavailableError, country: string, path: (string | number)[]): GraphQLFormattedError {
  return {
    message: `registry "${error.registry.name}" for country ${country} is unavailable (${error.reason})`,
    path,
    extensions: { code: 'REGISTRY_UNAVAILABLE', country },
  };
}

export function unknownCountryError(country: string, path: (string | number)[]): GraphQLFormattedError {
  return {
    message: `no registry serves country segment "${country}"`,
    path,
    extensions: { code: 'UNKNOWN_COUNTRY', country },
  };
}
