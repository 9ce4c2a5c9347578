import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Headless Chromium for the browser tests: Debian's `chromium` package (or CHROMIUM_PATH) driven by
 * playwright-core, which never downloads a browser. Where none is installed the tests are skipped, and
 * each skipped file says so on the console (README, "Tests").
 *
 *   const browser = await launchBrowser();           // null: no Chromium here
 *   describe.skipIf(!chromiumPath())('...', () => { ... });
 */

const DEFAULT_PATH = '/usr/bin/chromium';

/** The Chromium executable, or null when none is installed. */
export function chromiumPath(): string | null {
  const path = process.env.CHROMIUM_PATH || DEFAULT_PATH;
  return existsSync(path) ? path : null;
}

/**
 * True when a browser test file can run; otherwise prints which file is skipped and why, so that
 * `npm test` on a machine without Chromium says clearly what it did not run.
 */
export function browserTestsCanRun(file: string): boolean {
  if (chromiumPath()) return true;
  const where = process.env.CHROMIUM_PATH ? `CHROMIUM_PATH=${process.env.CHROMIUM_PATH}` : DEFAULT_PATH;
  console.warn(`[browser tests] SKIPPED ${file}: no Chromium at ${where} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return false;
}

// As root Chromium refuses to start without --no-sandbox. The rest keep it from calling home: no
// component updates, sync, field trials or QUIC probes, so the request log shows only what the page asked for.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Starts headless Chromium, or resolves null (with a console note) when none is installed. Each launch
 * gets a fresh temporary profile (playwright creates and deletes its --user-data-dir), so no cache,
 * cookie or service worker carries over between tests.
 */
export async function launchBrowser(): Promise<Browser | null> {
  const executablePath = chromiumPath();
  if (!executablePath) {
    console.warn('[browser tests] no Chromium installed: browser tests are skipped');
    return null;
  }
  return chromium.launch({ executablePath, headless: true, args: FLAGS });
}

export interface RequestLog {
  /** Every URL the page (and its workers) asked for, in order. */
  urls: string[];
  /** The URLs that do not start with one of the allowed origins. */
  outside(): string[];
}

/**
 * Records every request made in a browser context and aborts any that would leave the allowed origins
 * (so a failing test never reaches the internet), keeping them in the log for the test to assert on.
 */
export async function recordRequests(context: BrowserContext, allowedOrigins: string[]): Promise<RequestLog> {
  const urls: string[] = [];
  const allowed = (url: string) => allowedOrigins.some((origin) => url === origin || url.startsWith(`${origin}/`)) || url.startsWith('data:') || url.startsWith('blob:');
  context.on('request', (request) => void urls.push(request.url()));
  await context.route('**/*', (route) => (allowed(route.request().url()) ? route.continue() : route.abort('blockedbyclient')));
  return { urls, outside: () => urls.filter((url) => !allowed(url)) };
}

export interface ConsoleLog {
  /** Console errors and uncaught exceptions, as text. */
  errors: string[];
}

/** Collects the page's console errors and uncaught exceptions. */
export function recordConsoleErrors(page: Page): ConsoleLog {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => void errors.push(`uncaught: ${error.message}`));
  return { errors };
}
