import { DirectoryError, readDirectoryFile } from './directory/registry-directory.js';
import { startGateway } from './gateway-server.js';
import { stopOnSignals } from '../lib/server/shutdown.js';

/**
 * The gateway as its own process (docker-compose): the registry directory comes from DIRECTORY_FILE
 * and is re-read when the file changes. `npm start` runs everything in one process (scripts/start.ts).
 */
const directoryFile = process.env.DIRECTORY_FILE ?? 'config/registries.json';
try {
  const gateway = await startGateway({
    directory: readDirectoryFile(directoryFile),
    directoryFile,
    port: Number(process.env.PORT ?? 4000),
    host: process.env.HOST ?? '0.0.0.0',
  });
  console.log(`gateway at ${gateway.url}, directory ${directoryFile} (watched for changes)`);
  stopOnSignals(() => gateway.stop());
} catch (error) {
  if (!(error instanceof DirectoryError)) throw error;
  console.error(`${error.message}\n(DIRECTORY_FILE=${directoryFile}; config/registries.example.json shows the format, docs/directory.md explains it)`);
  process.exit(2);
}
