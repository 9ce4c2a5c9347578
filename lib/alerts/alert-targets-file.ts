import { readFileSync, statSync } from 'node:fs';
import type { Logger } from '../logging/logger.js';
import { alertTargetsFromDirectory, type AlertTargets, type AlertTargetsFor } from './alert-url-policy.js';

/**
 * The node's reading of the registry directory file (the gateway's DIRECTORY_FILE): only `alertUrls`
 * and `alertsAllowPrivate` of each entry. Re-read when the file changes (one stat per lookup); an invalid
 * file keeps the last good reading and is logged, as the gateway does.
 */
export function alertTargetsFromFile(path: string | undefined, allowPrivateEverywhere: boolean, log: Logger): AlertTargetsFor {
  if (!path) {
    log.warn('DIRECTORY_FILE is not set: the node knows no alertUrls, so no partner can subscribe to alerts');
    return () => undefined;
  }
  let seen = -1;
  let targets = new Map<string, AlertTargets>();
  const refresh = () => {
    try {
      const mtime = statSync(path).mtimeMs;
      if (mtime === seen) return;
      seen = mtime;
      targets = alertTargetsFromDirectory(JSON.parse(readFileSync(path, 'utf8')), allowPrivateEverywhere);
    } catch (error) {
      log.error({ err: error }, `cannot read alertUrls from ${path}; keeping the last good reading`);
    }
  };
  return (country) => {
    refresh();
    return targets.get(country);
  };
}
