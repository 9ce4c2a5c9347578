import { readDirectoryFile } from './directory/registry-directory.js';
import { startGateway } from './gateway-server.js';
import { stopOnSignals } from '../lib/server/shutdown.js';

/**
 * The gateway as its own process (docker-compose): the registry directory comes from DIRECTORY_FILE
 * and is re-read when the file changes. `npm start` runs everything in one process (scripts/start.ts).
 */
const directoryFile = process.env.DIRECTORY_FILE ?? 'config/registries.json';
const gateway = await startGateway({
  directory: readDirectoryFile(directoryFile),
  directoryFile,
  port: Number(process.env.PORT ?? 4000),
  host: process.env.HOST ?? '0.0.0.0',
});
console.log(`gateway at ${gateway.url}, directory ${directoryFile} (watched for changes)`);
stopOnSignals(() => gateway.stop());
