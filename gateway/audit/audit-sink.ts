import type { Logger } from '../../lib/logging/logger.js';
import type { AuditEntryInput } from './audit-entry.js';

/** Sends a batch of entries to the home node; resolves when they are stored. */
export type AuditWriter = (entries: AuditEntryInput[]) => Promise<void>;

const BATCH = 200;
/** Entries kept while the home node cannot take them; past this the oldest are dropped, loudly. */
const MAX_PENDING = 20_000;

/**
 * Batches audit entries towards the home node (the gateway has no database). Entries are sent a moment
 * after they are made, or at once when a batch fills; a failed send keeps them for the next flush, so a
 * short outage of the home node loses nothing. `flush()` is what tests and shutdown wait on.
 */
export class AuditSink {
  private pending: AuditEntryInput[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly write: AuditWriter,
    private readonly log: Logger,
    private readonly delayMs = 50,
  ) {}

  add(entry: AuditEntryInput): void {
    this.pending.push(entry);
    if (this.pending.length > MAX_PENDING) {
      const dropped = this.pending.splice(0, this.pending.length - MAX_PENDING);
      this.log.error({ dropped: dropped.length }, 'audit entries dropped: the home node has not taken them for too long');
    }
    if (this.pending.length >= BATCH) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.delayMs);
      this.timer.unref();
    }
  }

  /** Sends everything pending now; resolves when sent (or kept for later after a failure). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.sending = this.sending.then(async () => {
      while (this.pending.length) {
        const batch = this.pending.slice(0, BATCH);
        try {
          await this.write(batch);
          this.pending.splice(0, batch.length);
        } catch (error) {
          this.log.error({ err: error, pending: this.pending.length }, 'audit entries not stored yet; will retry');
          if (!this.timer) {
            this.timer = setTimeout(() => void this.flush(), 1_000);
            this.timer.unref();
          }
          return;
        }
      }
    });
    return this.sending;
  }

  get size(): number {
    return this.pending.length;
  }
}
