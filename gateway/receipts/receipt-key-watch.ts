import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from '../../lib/logging/logger.js';
import type { ReceiptIssuer } from './receipt-issuer.js';
import { loadReceiptKeyFile } from './receipt-keys.js';

/**
 * `npm run receipt -- rotate` rewrites the key file (written beside and renamed); the gateway re-reads it
 * and signs with the new first key from then on, without a restart. A file that no longer reads (half
 * edited by hand, say) is logged and the keys in use stay. Polled by stat, which survives the rename
 * that replaces the file (an inotify watch would stay on the old one).
 */
export function watchReceiptKeyFile(issuer: ReceiptIssuer, file: string, log: Logger, intervalMs = 1_000): () => void {
  let reading = Promise.resolve();
  const changed = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.ino === previous.ino && current.size === previous.size) return;
    reading = reading.then(async () => {
      try {
        const ring = await loadReceiptKeyFile(file, issuer.keyRing?.source ?? file);
        const before = issuer.keyRing?.kid;
        issuer.useKeys(ring);
        log.info({ kid: ring.kid, previous: before, keys: ring.publicKeys.length }, `receipt keys re-read from ${file}: receipts are signed with ${ring.kid}`);
      } catch (error) {
        log.error({ err: error }, `cannot re-read the receipt keys from ${file}; still signing with ${issuer.keyRing?.kid ?? 'nothing'}`);
        issuer.keysRefused(error as Error);
      }
    });
  };
  watchFile(file, { interval: intervalMs, persistent: false }, changed);
  return () => unwatchFile(file, changed);
}
