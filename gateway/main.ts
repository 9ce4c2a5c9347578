import { loadDirectoryFile } from './directory/registry-directory.js';
import { startGateway } from './gateway-server.js';
import { stopOnSignals } from '../lib/server/shutdown.js';

/**
 * The gateway as its own process (docker-compose): the registry directory comes from DIRECTORY_FILE.
 * `npm start` runs everything in one process instead (scripts/start.ts).
 */
const directoryFile = process.env.DIRECTORY_FILE ?? 'config/registries.json';
const directory = loadDirectoryFile(directoryFile);
const gateway = await startGateway({
  directory: () => directory,
  port: Number(process.env.PORT ?? 4000),
  host: process.env.HOST ?? '0.0.0.0',
  timeoutMs: process.env.REGISTRY_TIMEOUT_MS ? Number(process.env.REGISTRY_TIMEOUT_MS) : undefined,
});
console.log(`gateway serving ${directory.registries.length} registr(y|ies) at ${gateway.url}`);
stopOnSignals(() => gateway.stop());
