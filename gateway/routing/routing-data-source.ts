import type { GraphQLDataSource } from '@apollo/gateway';
import type { DataSubgraphName } from '../../lib/schema/contract.js';
import type { RegistryDirectory } from '../directory/registry-directory.js';
import { routeEntities } from './entity-router.js';
import { isIncomingOperation, RegistryUnavailableError, type GatewayResponse, type ProcessOptions, type RegistryClient } from './registry-client.js';
import { routeRootFields } from './root-field-router.js';

/**
 * What the gateway sees as "the units subgraph" (say) is every registry's units subgraph: each fetch
 * is routed by the country segment of its keys. Writes and everything without a code go home.
 */
export class RoutingDataSource implements GraphQLDataSource {
  constructor(
    private readonly subgraph: DataSubgraphName,
    private readonly directory: () => RegistryDirectory,
    private readonly client: RegistryClient,
  ) {}

  async process(options: ProcessOptions): Promise<GatewayResponse> {
    // Read once: a directory reload mid-request must not split one fetch across two directories.
    const directory = this.directory();
    if (!isIncomingOperation(options)) {
      // Health checks (and schema loading, unused here) go to the home registry.
      return this.client.send(directory.home, this.subgraph, options).catch((error: Error) => ({
        errors: [{ message: `home registry unavailable: ${error instanceof RegistryUnavailableError ? error.reason : 'request failed'}` }],
      }));
    }
    const representations = options.request.variables?.representations;
    if (Array.isArray(representations)) {
      return routeEntities(this.subgraph, options, representations, directory, this.client);
    }
    return routeRootFields(this.subgraph, options, directory, this.client);
  }
}
