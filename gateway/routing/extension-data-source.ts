import type { GraphQLDataSource } from '@apollo/gateway';
import type { GraphQLFormattedError } from 'graphql';
import type { ExtensionEntry, RegistryDirectory } from '../directory/registry-directory.js';
import { RegistryUnavailableError, type GatewayResponse, type ProcessOptions, type RegistryClient } from './registry-client.js';

/**
 * A partner's extension subgraph: not routed by country (a partner may certify any country's robots),
 * sent straight to its URL behind its own guard, identical representations sent once.
 */
export class ExtensionDataSource implements GraphQLDataSource {
  constructor(
    private readonly name: string,
    private readonly directory: () => RegistryDirectory,
    private readonly client: RegistryClient,
  ) {}

  async process(options: ProcessOptions): Promise<GatewayResponse> {
    const extension = this.directory().extensions.find((e) => e.name === this.name);
    if (!extension) return { errors: [{ message: `extension subgraph "${this.name}" is no longer in the directory`, extensions: { code: 'REGISTRY_UNAVAILABLE' } }] };
    const representations = options.request.variables?.representations;
    if (!Array.isArray(representations)) return this.send(extension, options, null);

    // slot[i] is the index among the unique representations of representation i.
    const unique: unknown[] = [];
    const seen = new Map<string, number>();
    const slot = representations.map((representation) => {
      const key = JSON.stringify(representation);
      let index = seen.get(key);
      if (index === undefined) seen.set(key, (index = unique.push(representation) - 1));
      return index;
    });
    const response = await this.send(extension, { ...options, request: { ...options.request, variables: { ...options.request.variables, representations: unique } } }, unique.length);
    const received = (response.data as { _entities?: unknown[] } | null | undefined)?._entities;
    if (!Array.isArray(received) || received.length !== unique.length) return response;
    const first = new Set<number>();
    const entities = slot.map((u) => {
      // A copy for repeats: the gateway merges later fetches into each entity in place.
      if (first.has(u)) return received[u] === null ? null : structuredClone(received[u]);
      first.add(u);
      return received[u];
    });
    const errors: GraphQLFormattedError[] = [];
    for (const error of response.errors ?? []) {
      const path = error.path;
      if (path?.[0] !== '_entities' || typeof path[1] !== 'number') errors.push(error);
      else slot.forEach((u, i) => u === path[1] && errors.push({ ...error, path: ['_entities', i, ...path.slice(2)] }));
    }
    return { data: { _entities: entities }, ...(errors.length ? { errors } : {}) };
  }

  private async send(extension: ExtensionEntry, options: ProcessOptions, entityCount: number | null): Promise<GatewayResponse> {
    try {
      return await this.client.sendToExtension(extension, options);
    } catch (error) {
      if (!(error instanceof RegistryUnavailableError)) throw error;
      const message = `extension subgraph "${this.name}" of "${extension.registry}" is unavailable (${error.reason})`;
      // Entity fetches keep their shape: null per item, each with its error, so the rest still answers.
      if (entityCount === null) return { errors: [{ message, extensions: { code: 'REGISTRY_UNAVAILABLE' } }] };
      return {
        data: { _entities: new Array(entityCount).fill(null) },
        errors: Array.from({ length: entityCount }, (_, i) => ({ message, path: ['_entities', i], extensions: { code: 'REGISTRY_UNAVAILABLE' } })),
      };
    }
  }
}
