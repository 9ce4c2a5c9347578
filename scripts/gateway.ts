// First: graphql decides its development checks when it loads (see the module).
import '../lib/server/graphql-production-checks.js';
import { unwatchFile, watchFile } from 'node:fs';
import { parseArgs } from 'node:util';
import { DirectoryError, readDirectoryFile } from '../gateway/directory/registry-directory.js';
import { startGateway } from '../gateway/gateway-server.js';
import { createLogger, rootLogger, setRootLogger } from '../lib/logging/logger.js';
import { installProcessGuard } from '../lib/server/process-guard.js';
import { exitOnFailure, stopOnSignals } from '../lib/server/shutdown.js';
import { identityFromEnv } from '../gateway/identity/identity-from-env.js';
import { receiptTtlFromEnv } from '../gateway/receipts/receipt-issuer.js';
import { receiptKeysFromEnv } from '../gateway/receipts/receipt-keys.js';
import { exampleQueries } from './demo/examples.js';
import { DEMO_CODES } from './demo/seed.js';
import { DEFAULT_GATEWAY_PORT, hostFrom, parsePort } from './process-defaults.js';
import { reportReady } from './ready-message.js';

/**
 * The gateway alone (`npm run gateway`, the gateway container, and `npm start`'s second process); it
 * never opens a database. The directory comes from DIRECTORY_FILE (default config/registries.json),
 * re-read when the file changes. `--home <entry JSON>` (given by the launcher) is the home registry:
 * it replaces the file's home entry, and without DIRECTORY_FILE it is the whole directory.
 * `--examples` puts the demo queries on the browser page. PORT (default 4000), HOST.
 */
setRootLogger(createLogger({ name: 'gateway' }));
const log = rootLogger();
installProcessGuard(log);
const { values } = parseArgs({ options: { home: { type: 'string' }, examples: { type: 'boolean', default: false } } });
const home = values.home ? (JSON.parse(values.home) as object) : undefined;
const directoryFile = process.env.DIRECTORY_FILE?.trim() || (home ? undefined : 'config/registries.json');

/** The file's registries and extensions, its home entry (if any) replaced by ours. */
function withHome(file: string | undefined): unknown {
  const input = (file ? readDirectoryFile(file) : {}) as { registries?: { home?: boolean }[] };
  return { ...input, registries: [home, ...(input.registries ?? []).filter((r) => !r.home)] };
}

// Before anything listens: NODE_ENV=production without JWKS settings (or with the dev key) stops here.
const identity = await identityFromEnv({ dataDir: process.env.DATA_DIR ?? 'data', env: process.env }).catch(exitOnFailure('configure caller identity'));
// Receipt keys of their own (never the login keys): development makes one in <DATA_DIR>/receipt-keys.
const receiptKeys = await receiptKeysFromEnv({ dataDir: process.env.DATA_DIR ?? 'data', env: process.env }).catch(exitOnFailure('load the receipt keys'));
const receiptTtlSeconds = await Promise.resolve()
  .then(() => receiptTtlFromEnv(process.env))
  .catch(exitOnFailure('read RECEIPT_TTL'));
if (!receiptKeys) log.warn('no receipt key (RECEIPT_KEY_FILE or RECEIPT_KEY): verify answers, but asking for a receipt is RECEIPTS_DISABLED');

try {
  const gateway = await startGateway({
    identity,
    receiptKeys,
    receiptTtlSeconds,
    directory: home ? withHome(directoryFile) : readDirectoryFile(directoryFile!),
    // Without a home entry of our own the store watches the file itself; with one, we merge on change.
    directoryFile: home ? undefined : directoryFile,
    port: parsePort(process.env.PORT, DEFAULT_GATEWAY_PORT, 'PORT'),
    host: hostFrom(process.env),
    examples: values.examples ? exampleQueries(DEMO_CODES) : [],
  });
  const watched = home && directoryFile ? directoryFile : undefined;
  if (watched) {
    watchFile(watched, { interval: 1_000 }, () => {
      try {
        void gateway.store.apply(withHome(watched));
      } catch (error) {
        log.error(`directory ${watched} refused, the last good one keeps serving: ${(error as Error).message}`);
      }
    });
  }
  stopOnSignals(async () => {
    if (watched) unwatchFile(watched);
    await gateway.stop();
  });
  log.info(`gateway at ${gateway.url}, directory ${directoryFile ? `${home ? 'home + ' : ''}${directoryFile} (watched for changes)` : 'home registry only'}`);
  reportReady({ type: 'ready', role: 'gateway', pid: process.pid, url: gateway.url, identity: identity.description });
} catch (error) {
  if (!(error instanceof DirectoryError)) throw error;
  log.fatal(`${error.message}\n(DIRECTORY_FILE=${directoryFile}; config/registries.example.json shows the format, docs/directory.md explains it)`);
  process.exit(2);
}
