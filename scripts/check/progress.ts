/**
 * Progress on stderr (stdout may carry the verdict rows): on a terminal a bar redrawn in place with rate
 * and ETA; in a pipe or a log, a plain line at every tenth of the way or every few seconds, whichever
 * comes first, so a CI log is neither silent nor flooded.
 */

export interface ProgressOptions {
  total: number;
  write: (text: string) => void;
  /** A terminal: redraw one line in place. */
  tty: boolean;
  now?: () => number;
  /** Terminal width for the bar. */
  columns?: number;
}

const REDRAW_MS = 100;
const PLAIN_EVERY_MS = 5_000;

export class Progress {
  private done = 0;
  private readonly started: number;
  private lastDraw = -Infinity;
  private lastTenth = 0;
  private readonly now: () => number;
  private drawn = false;

  constructor(private readonly options: ProgressOptions) {
    this.now = options.now ?? Date.now;
    this.started = this.now();
  }

  advance(rows: number): void {
    this.done += rows;
    const now = this.now();
    if (this.options.tty) {
      if (now - this.lastDraw >= REDRAW_MS || this.done >= this.options.total) this.drawBar(now);
      return;
    }
    const tenth = this.options.total > 0 ? Math.floor((this.done * 10) / this.options.total) : 10;
    if (tenth > this.lastTenth || now - this.lastDraw >= PLAIN_EVERY_MS) {
      this.lastTenth = tenth;
      this.lastDraw = now;
      this.options.write(`${this.status(now)}\n`);
    }
  }

  /** A message between progress updates (a retry, a rate-limit pause), not overwritten by the bar. */
  note(message: string): void {
    this.options.write(this.options.tty && this.drawn ? `\r\x1b[K${message}\n` : `${message}\n`);
    if (this.options.tty && this.drawn) this.drawBar(this.now());
  }

  /** Leaves the terminal on a fresh line. */
  finish(): void {
    if (this.options.tty && this.drawn) this.options.write('\n');
  }

  private drawBar(now: number): void {
    this.lastDraw = now;
    this.drawn = true;
    const status = this.status(now);
    const width = Math.max(10, Math.min(40, (this.options.columns ?? 80) - status.length - 4));
    const filled = this.options.total > 0 ? Math.round((width * this.done) / this.options.total) : width;
    this.options.write(`\r\x1b[K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${status}`);
  }

  /** "45,000/100,000 rows (45%), 2,310 codes/s, ETA 24 s" */
  status(now: number = this.now()): string {
    const { total } = this.options;
    const seconds = (now - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const percent = total > 0 ? Math.floor((100 * this.done) / total) : 100;
    const eta = this.done >= total ? 'done' : rate > 0 ? `ETA ${formatDuration((total - this.done) / rate)}` : 'ETA ?';
    return `${count(this.done)}/${count(total)} codes (${percent}%), ${count(Math.round(rate))} codes/s, ${eta}`;
  }
}

export const count = (n: number) => n.toLocaleString('en-US');

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}
