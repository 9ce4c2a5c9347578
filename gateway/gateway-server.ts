import { ApolloGateway, LocalGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled, ApolloServerPluginUsageReportingDisabled } from '@apollo/server/plugin/disabled';
import { rootLogger, type Logger } from '../lib/logging/logger.js';
import { dropInternalHeaders } from '../lib/security/request-signer.js';
import { signingFromEnv, type SigningOptions } from '../lib/security/signing-secret.js';
import { AUDIT_SUBGRAPH, DATA_SUBGRAPHS, DIRECTORY_SUBGRAPH, type DataSubgraphName } from '../lib/schema/contract.js';
import { AuditDataSource } from './audit/audit-data-source.js';
import { auditPlugin } from './audit/audit-plugin.js';
import { AuditSink } from './audit/audit-sink.js';
import { homeAuditWriter } from './audit/audit-writer.js';
import { startGraphQLServer, type RunningServer } from '../lib/server/http-server.js';
import { logRequestErrors, maskInternalErrors } from '../lib/server/mask-errors.js';
import { observeRegistries } from '../lib/metrics/registry-metrics.js';
import { requestMetricsPlugin } from '../lib/metrics/request-metrics.js';
import type { RequestContext } from '../lib/server/request-context.js';
import { directorySubgraphSchema } from './directory/directory-subgraph.js';
import { DirectoryStore, type StoreOptions } from './directory/directory-store.js';
import { epcisRoutes } from './epcis/epcis-route.js';
import type { Identity } from './identity/identity-from-env.js';
import { graphiqlPage } from './graphiql/graphiql-page.js';
import { limitsConfigFromEnv, type LimitsConfig } from './limits/limits-config.js';
import { gatewayLimits, type LimitsContext } from './limits/limits-plugin.js';
import { passportRoutes } from './passport/passport-route.js';
import { publicBaseUrl } from './passport/public-url.js';
import { ExtensionDataSource } from './routing/extension-data-source.js';
import { homeReadiness } from './routing/home-readiness.js';
import { RegistryClient } from './routing/registry-client.js';
import { RoutingDataSource } from './routing/routing-data-source.js';
import { receiptHook } from './receipts/receipt-hook.js';
import { ReceiptIssuer } from './receipts/receipt-issuer.js';
import { ephemeralReceiptKeys, type ReceiptKeyRing } from './receipts/receipt-keys.js';
import { watchReceiptKeyFile } from './receipts/receipt-key-watch.js';
import { receiptKeysRoute } from './receipts/receipt-keys-route.js';
import { verdictFacts } from './verdict/verdict-facts.js';

export interface GatewayOptions {
  /** The registry directory (docs/directory.md), as parsed JSON, or a store already built from one. */
  directory: unknown;
  /** Directory file to watch: changes are applied without a restart. */
  directoryFile?: string;
  store?: StoreOptions;
  /** How often each registry is probed for `registries { reachable }` and /health/ready. */
  probeIntervalMs?: number;
  examples?: { title: string; query: string }[];
  /** Where the gateway's lines go (default the root logger); tests pass one that collects them. */
  logger?: Logger;
  /** Who is calling (gateway/identity, identityFromEnv); absent, every caller is anonymous. */
  identity?: Identity;
  /** The secret shared with the home node (requests to it are signed); defaults to NODE_SIGNING_SECRET. */
  signing?: SigningOptions;
  /** Abuse limits (docs/limits.md), on by default: numbers here override the defaults and the environment. */
  limits?: Partial<LimitsConfig> | false;
  /** Base of passport links and QR labels (gateway/passport); default PUBLIC_URL, else the gateway's own address. */
  publicUrl?: string;
  /** Receipt signing keys (gateway/receipts, receiptKeysFromEnv); null: no receipts; absent: a key for this process only. */
  receiptKeys?: ReceiptKeyRing | null;
  /** Receipt lifetime in seconds (RECEIPT_TTL; default 30 days). */
  receiptTtlSeconds?: number;
  /** How often a receipt key file is checked for a rotation (default 1 s). */
  receiptKeyPollMs?: number;
}

/** Builds the gateway without listening, so tests and the start script share one definition. */
export async function createGateway(options: GatewayOptions, publicUrl: () => string = () => options.publicUrl ?? '') {
  const store = options.directory instanceof DirectoryStore ? options.directory : await DirectoryStore.create(options.directory, options.store);
  const log = (options.logger ?? rootLogger()).child({ service: 'gateway' });
  // Live state (guards, health, trust) follows the directory's plain data across reloads.
  const client = new RegistryClient(store.current, options.signing ?? signingFromEnv());
  store.onChange((next) => client.install(next));
  store.servesNow = (name) => client.serves(name);
  const directory = () => store.directory;
  // Receipts are signed as the home registry, with keys of their own (never the login keys).
  const receiptKeys = options.receiptKeys === undefined ? await ephemeralReceiptKeys() : options.receiptKeys;
  const home = () => store.directory.home;
  const receipts = new ReceiptIssuer(receiptKeys, () => ({ country: home().countries[0]!, name: home().name, url: publicUrl() }), options.receiptTtlSeconds);
  const directorySchema = directorySubgraphSchema(directory, (entry) => client.healthOf(entry).reachable, verdictFacts(directory, client), receiptHook(receipts));
  // @apollo/gateway otherwise sends usage metrics to Apollo and probes cloud metadata endpoints at
  // start-up; a registry behind a customs firewall must make no call it was not configured to make.
  // APOLLO_TELEMETRY_DISABLED=0 turns it back on.
  process.env.APOLLO_TELEMETRY_DISABLED ??= '1';
  const gateway = new ApolloGateway({
    // A hook rather than a fixed SDL: a new directory with other extension subgraphs swaps the
    // supergraph in place; requests in flight finish on the one they started with.
    supergraphSdl: async ({ update }) => {
      const off = store.onChange((next, previous) => {
        if (next.supergraphSdl === previous.supergraphSdl) return;
        try {
          update(next.supergraphSdl);
        } catch (error) {
          log.error({ err: error }, 'supergraph update failed; still serving the previous one');
        }
      });
      return { supergraphSdl: store.supergraphSdl, cleanup: async () => void off() };
    },
    buildService: ({ name }) => {
      if (name === DIRECTORY_SUBGRAPH) return new LocalGraphQLDataSource(directorySchema);
      if (name === AUDIT_SUBGRAPH) return new AuditDataSource(directory, client);
      if ((DATA_SUBGRAPHS as readonly string[]).includes(name)) return new RoutingDataSource(name as DataSubgraphName, directory, client);
      return new ExtensionDataSource(name, directory, client);
    },
  });
  // Every write and every customs or partner read, appended to the home node's audit log (the gateway has no database).
  const audit = new AuditSink(homeAuditWriter(directory, client), log);
  if (!store.directory.home.audit) log.warn('the home registry entry names no audit subgraph (subgraphs.audit): no audit log is kept');
  const limits = options.limits === false ? null : gatewayLimits(limitsConfigFromEnv(process.env, options.limits), () => store.directory.registries.length);
  const apollo = new ApolloServer<LimitsContext>({
    gateway,
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginUsageReportingDisabled(), logRequestErrors(), requestMetricsPlugin('gateway'), ...(limits?.plugins ?? []), auditPlugin(audit, () => !!store.directory.home.audit)],
    includeStacktraceInErrorResponses: false,
    formatError: limits ? limits.formatError(maskInternalErrors()) : maskInternalErrors(),
    stopOnTerminationSignals: false, // lib/server/shutdown.ts drains then exits 0; Apollo's would re-kill
    // With limits on, introspection is decided per caller (hidden from anonymous callers in production).
    ...(limits ? { introspection: true, validationRules: limits.validationRules, parseOptions: limits.parseOptions } : {}),
  });
  const probeAll = () => Promise.all(store.directory.registries.map((r) => client.probe(r)));
  return { apollo, gateway, store, client, probeAll, log, limits, audit, receipts };
}

export interface RunningGateway extends RunningServer {
  store: DirectoryStore;
  /** Probes every registry now (tests; otherwise it runs every probeIntervalMs). */
  probeAll(): Promise<unknown>;
  /** Sends the audit entries of finished requests now (tests; otherwise they go within a moment). */
  flushAudit(): Promise<void>;
  /** Signs receipts; `onKeys` tells when a rotated key file has been re-read. */
  receipts: ReceiptIssuer;
}

export async function startGateway(options: GatewayOptions & { port?: number; host?: string }): Promise<RunningGateway> {
  // Checked before listening: a bad PUBLIC_URL stops start-up rather than print wrong labels.
  const configuredUrl = options.publicUrl ?? (process.env.PUBLIC_URL?.trim() || undefined);
  let publicUrl = configuredUrl ? publicBaseUrl(configuredUrl) : '';
  const { apollo, store, client, probeAll, log, limits, audit, receipts } = await createGateway(options, () => publicUrl);
  const page = graphiqlPage(options.examples ?? []);
  if (!page.built) log.warn('GraphiQL is not built (npm run build): the browser page says so');
  const receiptKeysPage = receiptKeysRoute(receipts);
  const passport = passportRoutes({ apollo, log, publicUrl: () => publicUrl });
  const epcis = epcisRoutes({ apollo, log, publicUrl: () => publicUrl, authenticate: options.identity?.authenticate });
  const stopWatching = options.directoryFile ? store.watchFile(options.directoryFile) : () => undefined;
  const keyFile = receipts.keyRing?.file;
  const stopKeyWatch = keyFile ? watchReceiptKeyFile(receipts, keyFile, log, options.receiptKeyPollMs) : () => undefined;
  const probe = setInterval(() => void probeAll(), options.probeIntervalMs ?? 15_000);
  probe.unref();
  const unobserve = observeRegistries(() => store.directory.registries.map((r) => client.healthOf(r)));
  void probeAll();
  const server = await startGraphQLServer(
    {
      apollo,
      context: async (request, http) => ({ ...request, clientAddress: http.clientAddress }),
      // Ready while the home node's subgraphs are ready (their databases answer); partners' state is reported, not required.
      ready: async () => {
        const [home, subgraphs] = await Promise.all([client.probe(store.directory.home), homeReadiness(store.directory.home)]);
        const registries = store.directory.registries.map((r) => client.healthOf(r));
        const notReady = subgraphs.filter((s) => !s.ready);
        if (notReady.length) {
          const reason = `home registry "${home.name}" is not ready: ${notReady.map((s) => `${s.subgraph} (${s.reason})`).join(', ')}`;
          throw Object.assign(new Error(reason), { details: { home: subgraphs, registries } });
        }
        if (!home.reachable) throw Object.assign(new Error(`home registry "${home.name}" is unreachable`), { details: { home: subgraphs, registries } });
        return { home: subgraphs, registries };
      },
      landingPage: page.html,
      landingPageHeaders: page.headers,
      // /.well-known/jwks.json; passport pages claim only /id/...; EPCIS only /epcis/...; GraphiQL's bundle only the files its manifest names.
      routes: async (req, res) => receiptKeysPage(req, res) || (await passport(req, res)) || (await epcis(req, res)) || page.serveAsset(req, res),
      log,
      authenticate: options.identity?.authenticate,
      // Only the gateway sets internal headers: a client's copies are dropped before anything reads them.
      verifyRequest: async (req) => dropInternalHeaders(req.headers),
    },
    options.port ?? 0,
    options.host,
  );
  publicUrl ||= publicBaseUrl(new URL(server.url).origin);
  return {
    ...server,
    store,
    probeAll,
    flushAudit: () => audit.flush(),
    receipts,
    async stop() {
      clearInterval(probe);
      unobserve();
      stopWatching();
      stopKeyWatch();
      await server.stop();
      await limits?.close();
      // Entries of the last requests reach the home node before the gateway is gone (it stops after us).
      await audit.flush();
      await client.close();
    },
  };
}
