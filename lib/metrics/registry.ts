import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The metrics of this process, served by every HTTP server it runs at GET /metrics (metrics-endpoint.ts).
 * One registry per process: a registry node's five subgraph servers share it (scrape one of their ports),
 * the gateway has its own process. Names follow Prometheus conventions (`robot_registry_` prefix, base
 * units, `_total` counters); every label has a bounded set of values: no codes, subjects or request ids.
 */
export const metricsRegistry = new Registry();
/**
 * METRICS=off: nothing is counted or timed and /metrics answers 404 (to measure what metrics cost;
 * docs/operations.md). Read once at start-up.
 */
export const metricsEnabled = process.env.METRICS?.trim().toLowerCase() !== 'off';
if (metricsEnabled) collectDefaultMetrics({ register: metricsRegistry, prefix: 'robot_registry_' });

const registers = [metricsRegistry];
// Latency buckets from 2.5 ms (one indexed lookup) to 10 s (a partner's timeout and more).
const SECONDS = [0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const graphqlRequests = new Counter({
  name: 'robot_registry_graphql_requests_total',
  help: 'GraphQL requests by service, operation (the root field asked, from the schema, else "other") and outcome (ok, client_error, unavailable, error)',
  labelNames: ['service', 'operation', 'outcome'] as const,
  registers,
});

export const graphqlDuration = new Histogram({
  name: 'robot_registry_graphql_request_duration_seconds',
  help: 'Time from receiving a GraphQL request to sending its answer, by service and operation',
  labelNames: ['service', 'operation'] as const,
  buckets: SECONDS,
  registers,
});

export const httpRequests = new Counter({
  name: 'robot_registry_http_requests_total',
  help: 'HTTP requests by service, route (/graphql, /health, /metrics, other) and status (refusals before GraphQL included: 401, 413)',
  labelNames: ['service', 'route', 'status'] as const,
  registers,
});

export const limitRejections = new Counter({
  name: 'robot_registry_limit_rejections_total',
  help: 'Requests the gateway refused by a limit (RATE_LIMITED, TOO_MANY_IN_FLIGHT, QUERY_TOO_DEEP, CODES_PER_REQUEST...)',
  labelNames: ['limit'] as const,
  registers,
});

export const registryFetchDuration = new Histogram({
  name: 'robot_registry_registry_fetch_duration_seconds',
  help: 'Time of one fetch from the gateway to a registry (or its audit log, or an extension subgraph), by registry and outcome (ok, error)',
  labelNames: ['registry', 'outcome'] as const,
  buckets: SECONDS,
  registers,
});

export const registryFetchErrors = new Counter({
  name: 'robot_registry_registry_fetch_errors_total',
  help: 'Fetches to a registry that produced no answer, by registry and reason (refused: circuit open or bulkhead full or timeout; malformed; failed)',
  labelNames: ['registry', 'reason'] as const,
  registers,
});

export const registryCircuit = new Gauge({
  name: 'robot_registry_registry_circuit_state',
  help: "State of each registry's circuit breaker: 0 closed, 1 half-open, 2 open",
  labelNames: ['registry'] as const,
  registers,
});

export const registryUp = new Gauge({
  name: 'robot_registry_registry_up',
  help: 'Whether the gateway serves the registry now (answering, circuit not open, conformance passed): 1 or 0',
  labelNames: ['registry'] as const,
  registers,
});

export const verdicts = new Counter({
  name: 'robot_registry_verdicts_total',
  help: 'Customs verdicts given, by verdict (ADMIT, REFUSE, UNKNOWN) and first reason (NONE when admitted without one)',
  labelNames: ['verdict', 'reason'] as const,
  registers,
});

export const dbConnectionsInUse = new Gauge({
  name: 'robot_registry_db_connections_in_use',
  help: 'Database connections (Postgres pool clients, or the PGlite session) held by a statement or transaction now',
  registers,
});

export const dbConnectionsWaiting = new Gauge({
  name: 'robot_registry_db_connections_waiting',
  help: 'Statements or transactions waiting for a database connection now',
  registers,
});

export const dbStatementDuration = new Histogram({
  name: 'robot_registry_db_statement_duration_seconds',
  help: 'Time of one SQL statement, by kind (select, insert, update, delete, other) and outcome (ok, error)',
  labelNames: ['kind', 'outcome'] as const,
  buckets: SECONDS,
  registers,
});
