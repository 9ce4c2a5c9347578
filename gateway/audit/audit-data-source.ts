import type { GraphQLDataSource } from '@apollo/gateway';
import type { RegistryDirectory } from '../directory/registry-directory.js';
import { RegistryUnavailableError, type GatewayResponse, type ProcessOptions, type RegistryClient } from '../routing/registry-client.js';

/** `auditLog` and friends: always the home node's audit subgraph, never routed by country. */
export class AuditDataSource implements GraphQLDataSource {
  constructor(
    private readonly directory: () => RegistryDirectory,
    private readonly client: RegistryClient,
  ) {}

  async process(options: ProcessOptions): Promise<GatewayResponse> {
    const home = this.directory().home;
    try {
      return await this.client.sendToAudit(home, options);
    } catch (error) {
      if (!(error instanceof RegistryUnavailableError)) throw error;
      return { errors: [{ message: `the audit log of "${home.name}" is unavailable (${error.reason})`, extensions: { code: 'REGISTRY_UNAVAILABLE', country: home.countries[0] } }] };
    }
  }
}
