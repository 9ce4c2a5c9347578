import type { GraphQLDataSource } from '@apollo/gateway';
import type { RegistryDirectory } from '../directory/registry-directory.js';
import { RegistryUnavailableError, type GatewayResponse, type ProcessOptions, type RegistryClient } from './registry-client.js';

/**
 * A partner's extension subgraph: not routed by country (a partner may certify any country's robots),
 * sent straight to its URL behind its own guard.
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
    try {
      return await this.client.sendToExtension(extension, options);
    } catch (error) {
      if (!(error instanceof RegistryUnavailableError)) throw error;
      const representations = options.request.variables?.representations;
      const message = `extension subgraph "${this.name}" of "${extension.registry}" is unavailable (${error.reason})`;
      // Entity fetches keep their shape: null per item, each with its error, so the rest still answers.
      if (Array.isArray(representations)) {
        return {
          data: { _entities: representations.map(() => null) },
          errors: representations.map((_, i) => ({ message, path: ['_entities', i], extensions: { code: 'REGISTRY_UNAVAILABLE' } })),
        };
      }
      return { errors: [{ message, extensions: { code: 'REGISTRY_UNAVAILABLE' } }] };
    }
  }
}
