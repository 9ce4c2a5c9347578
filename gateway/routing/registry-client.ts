import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GraphQLFormattedError } from 'graphql';
import type { DataSubgraphName } from '../../lib/schema/contract.js';
import { requestContextHeaders, type RequestContext } from '../../lib/server/request-context.js';
import type { RegistryEntry } from '../directory/registry-directory.js';

export type GatewayResponse = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;
export type ProcessOptions = GraphQLDataSourceProcessOptions<Record<string, any>>;
export type OperationOptions = Extract<ProcessOptions, { incomingRequestContext: unknown }>;

/** The gateway does not export its request-kind enum; its value for client operations is this string. */
export function isIncomingOperation(options: ProcessOptions): options is OperationOptions {
  return (options.kind as string) === 'incoming operation';
}

/** A registry that could not answer: the router turns it into per-item REGISTRY_UNAVAILABLE errors. */
export class RegistryUnavailableError extends Error {
  constructor(
    readonly registry: RegistryEntry,
    readonly reason: string,
  ) {
    super(`registry "${registry.name}" is unavailable: ${reason}`);
  }
}

export interface RegistryClientOptions {
  /** Per-request timeout towards a registry node; the stock fetcher has none. */
  timeoutMs?: number;
}

/**
 * Sends operations to the subgraphs of registry nodes. One RemoteGraphQLDataSource per URL, a timeout
 * on every fetch, the request context as headers, and failures reduced to RegistryUnavailableError so
 * that no internal URL or response body reaches a client.
 */
export class RegistryClient {
  private readonly sources = new Map<string, RemoteGraphQLDataSource>();
  private readonly timeoutMs: number;

  constructor(options: RegistryClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async send(registry: RegistryEntry, subgraph: DataSubgraphName, options: ProcessOptions): Promise<GatewayResponse> {
    const url = registry.subgraphs[subgraph];
    try {
      const response = await this.source(url).process(options);
      return { ...response, errors: response.errors?.map(sanitizeError) };
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : 'request failed';
      console.error(`[gateway] ${subgraph} of "${registry.name}" at ${url}: ${(error as Error).message}`);
      throw new RegistryUnavailableError(registry, reason);
    }
  }

  private source(url: string): RemoteGraphQLDataSource {
    let source = this.sources.get(url);
    if (!source) {
      const timeoutMs = this.timeoutMs;
      source = new RemoteGraphQLDataSource({
        url,
        // Node's global fetch keeps connections alive; the signal bounds a hanging registry.
        fetcher: ((input: string, init: RequestInit) =>
          fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) })) as unknown as RemoteGraphQLDataSource['fetcher'],
        willSendRequest({ request, context }) {
          const requestContext = context as Partial<RequestContext>;
          if (requestContext?.requestId && request.http) {
            for (const [name, value] of Object.entries(requestContextHeaders(requestContext as RequestContext))) {
              request.http.headers.set(name, value);
            }
          }
        },
      });
      this.sources.set(url, source);
    }
    return source;
  }
}

/** Extension keys a registry may pass to clients; anything else (stack traces, bodies) is dropped. */
const PUBLIC_EXTENSIONS = new Set(['code', 'problems', 'input', 'country', 'codes', 'max', 'status', 'index', 'field', 'refusals', 'rule']);

export function sanitizeError(error: GraphQLFormattedError): GraphQLFormattedError {
  const extensions = Object.fromEntries(Object.entries(error.extensions ?? {}).filter(([key]) => PUBLIC_EXTENSIONS.has(key)));
  return {
    message: typeof error.message === 'string' ? error.message.slice(0, 1000) : 'error without message',
    ...(error.path ? { path: error.path } : {}),
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
