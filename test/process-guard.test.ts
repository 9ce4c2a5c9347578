import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../lib/database/database-unavailable.js';
import { handleStrayError, installProcessGuard } from '../lib/server/process-guard.js';
import { captureLogs, LEVEL } from './support/log-capture.js';

describe('process guard', () => {
  const lostSocket = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
  const serverShutdown = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

  it.each([
    ['a lost database connection', new Error('Connection terminated unexpectedly')],
    ['an admin shutdown of Postgres (57P01)', serverShutdown],
    ['a reset socket', lostSocket],
    ['a database outage', new DatabaseUnavailableError('gone', 'NOT_APPLIED')],
    ['a GraphQL error', new GraphQLError('refused')],
    ['an aborted call', Object.assign(new Error('aborted'), { name: 'AbortError' })],
    ['a plain error', new Error('something failed')],
  ])('logs and survives %s', (_, err) => {
    const { logger, lines } = captureLogs();
    const exits: number[] = [];
    handleStrayError(logger, (code) => exits.push(code), 'unhandledRejection', err);
    expect(exits).toEqual([]);
    expect(lines).toMatchObject([{ level: LEVEL.error, kind: 'unhandledRejection', err: { message: err.message } }]);
  });

  it.each([
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'code')")],
    ['a ReferenceError', new ReferenceError('x is not defined')],
  ])('logs %s as fatal and exits 1, so that a clean process is started', (_, err) => {
    const { logger, lines } = captureLogs();
    const exits: number[] = [];
    handleStrayError(logger, (code) => exits.push(code), 'uncaughtException', err);
    expect(exits).toEqual([1]);
    expect(lines).toMatchObject([{ level: 60, kind: 'uncaughtException', err: { message: err.message } }]);
  });

  it('installs one listener per event and removes them', () => {
    const before = [process.listenerCount('unhandledRejection'), process.listenerCount('uncaughtException')];
    const guard = installProcessGuard(captureLogs().logger, () => {});
    expect([process.listenerCount('unhandledRejection'), process.listenerCount('uncaughtException')]).toEqual(before.map((n) => n + 1));
    guard.remove();
    expect([process.listenerCount('unhandledRejection'), process.listenerCount('uncaughtException')]).toEqual(before);
  });
});
