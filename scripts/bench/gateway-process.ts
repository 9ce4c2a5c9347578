// First: graphql decides its development checks when it loads (see the module).
import '../../lib/server/graphql-production-checks.js';
import { startGateway } from '../../gateway/gateway-server.js';
import { identityFromEnv } from '../../gateway/identity/identity-from-env.js';
import type { LimitsConfig } from '../../gateway/limits/limits-config.js';
import { createLogger, setRootLogger } from '../../lib/logging/logger.js';

/**
 * Our gateway in a process of its own, configured by BENCH_GATEWAY (JSON, see OurGatewayConfig):
 * `secure` is production's setup (callers sign in with a token of the key in `keyDir`, requests to the
 * node are signed, every limit on, the benchmark's subject given the points it needs, as
 * GATEWAY_SUBJECT_POINTS_FILE would); without it, no identity and no signing, in front of the unsigned node.
 */
export interface OurGatewayConfig {
  subgraphs: Record<string, string>;
  secure?: { signingSecretHex: string; keyDir: string; subject: string };
  /** Limits over the benchmark's (the two-gateway demo: Redis, a small budget). */
  limits?: Partial<LimitsConfig>;
}

setRootLogger(createLogger({ name: 'bench-gateway' }));
const config = JSON.parse(process.env.BENCH_GATEWAY!) as OurGatewayConfig;
delete process.env.NODE_SIGNING_SECRET;
const everyRequest = 1e12;
const gateway = await startGateway({
  directory: { registries: [{ name: 'CN bench registry', countries: ['CN'], home: true, subgraphs: config.subgraphs }] },
  ...(config.secure
    ? {
        identity: await identityFromEnv({ dataDir: config.secure.keyDir, env: {} }),
        signing: { secret: Buffer.from(config.secure.signingSecretHex, 'hex') },
      }
    : {}),
  // The load generator keeps 10 requests in flight as one caller (the default allows 8).
  limits: {
    maxInFlightPerCaller: 64,
    ...(config.secure ? { subjectPoints: { [config.secure.subject]: everyRequest } } : { anonymousRate: { points: everyRequest, windowSeconds: 60 } }),
    ...config.limits,
  },
});
process.once('SIGTERM', () => void gateway.stop().then(() => process.exit(0)));
process.once('disconnect', () => void gateway.stop().then(() => process.exit(0)));
process.send!({ type: 'ready', url: gateway.url });
