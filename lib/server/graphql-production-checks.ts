import { createRequire } from 'node:module';

/**
 * graphql-js decides once, when it first loads, whether every `instanceof` it does also looks for a second
 * copy of graphql from another realm (a development aid): unless NODE_ENV=production, that check cost
 * about 4% of a registry node's CPU answering 1,000 representations (and 1-2% of the gateway's). Our own
 * NODE_ENV=production behaviour (no development key, schema hidden from anonymous callers, metrics
 * locked) must not follow from that, so graphql alone is loaded here with NODE_ENV=production for that
 * moment, and the variable is put back. Import this first in an entry script. Safe while one copy of
 * graphql is installed (`npm ls graphql`): the check it skips only ever finds a duplicate.
 */
const previous = process.env.NODE_ENV;
process.env.NODE_ENV = 'production';
try {
  createRequire(import.meta.url)('graphql');
} finally {
  if (previous === undefined) delete process.env.NODE_ENV;
  else process.env.NODE_ENV = previous;
}
