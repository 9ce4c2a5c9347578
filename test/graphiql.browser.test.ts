import type { Browser, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGraphiql } from '../scripts/build-graphiql.js';
import { exampleQueries } from '../scripts/demo/examples.js';
import { browserTestsCanRun, launchBrowser, recordConsoleErrors, recordRequests, type ConsoleLog, type RequestLog } from './support/browser.js';
import { startFederation, type Federation } from './support/federation.js';

/**
 * The gateway's browser page, as an analyst uses it: GraphiQL in headless Chromium against a real
 * federation, with the README's examples, the schema docs, autocompletion and a token in the headers editor.
 */
const CODES = { unit: 'CNHMRBAX1000' + '1'.padStart(17, '0'), model: 'CNHMRBAX1000', enterprise: 'CNHMRB' };
const examples = exampleQueries(CODES);
const analystExample = examples.find((e) => e.title.startsWith('Analyst (any role): units by state'))!;
const canRun = browserTestsCanRun('test/graphiql.browser.test.ts');

describe.skipIf(!canRun)('GraphiQL in headless Chromium', () => {
  let fed: Federation;
  let browser: Browser;
  let page: Page;
  let origin: string;
  let requests: RequestLog;
  let consoleLog: ConsoleLog;
  let pageResponse: Response | null;

  beforeAll(async () => {
    await buildGraphiql(); // a no-op when `npm run build` already bundled these sources
    fed = await startFederation([{ country: 'CN' }], { examples });
    origin = new URL(fed.gateway.url).origin;
    browser = (await launchBrowser())!;
    ({ page, requests, consoleLog, pageResponse } = await openGraphiql(browser, origin));
  });
  afterAll(async () => {
    await browser?.close();
    await fed?.stop();
  });

  it('serves GraphiQL from the gateway under a same-origin Content-Security-Policy', async () => {
    expect(pageResponse?.status()).toBe(200);
    const csp = pageResponse?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    await expect.poll(() => editorText(page, '.graphiql-query-editor')).toContain('parseCode(code: "CN-HMRB-AX1000-');
    // The README's examples are in the Examples panel.
    for (const example of examples) await expect(page.getByRole('button', { name: example.title }).isVisible()).resolves.toBe(true);
  });

  it('runs the query in the editor and shows the result', async () => {
    await page.getByLabel('Execute query (Ctrl-Enter)').click();
    await expect.poll(() => editorText(page, '.graphiql-response'), { timeout: 20_000 }).toContain(`"canonical": "${CODES.unit}"`);
    expect(await editorText(page, '.graphiql-response')).toContain('"valid": true');
  });

  it('loads the schema docs', async () => {
    await page.getByLabel('Show Documentation Explorer').click();
    await page.locator('.graphiql-doc-explorer').getByText('Query', { exact: true }).click();
    const fields = page.locator('.graphiql-doc-explorer');
    await expect.poll(() => fields.innerText()).toContain('verifyMany');
    expect(await fields.innerText()).toContain('parseCode');
  });

  it('completes field names from the schema', async () => {
    await replaceEditorText(page, '.graphiql-query-editor', '{ verif');
    await page.keyboard.press('Control+Space');
    const suggestions = page.locator('.suggest-widget');
    await expect.poll(() => suggestions.innerText().catch(() => ''), { timeout: 20_000 }).toContain('verifyMany');
    await page.keyboard.press('Escape');
  });

  it('sends the token from the headers editor: an analyst sees what an anonymous caller cannot', async () => {
    const showExamples = page.getByLabel('Show Examples');
    if (await showExamples.isVisible()) await showExamples.click(); // the docs test may have left the docs open
    await page.getByRole('button', { name: analystExample.title }).click();
    await expect.poll(() => editorText(page, '.graphiql-query-editor')).toContain('unitsByState');

    await page.getByLabel('Execute query (Ctrl-Enter)').click();
    await expect.poll(() => editorText(page, '.graphiql-response'), { timeout: 20_000 }).toContain('UNAUTHENTICATED');

    const { authorization } = await fed.headers({ subject: 'browser-analyst', role: 'analyst' });
    await replaceEditorText(page, '.graphiql-editor-tool', JSON.stringify({ authorization }));
    await page.getByLabel('Execute query (Ctrl-Enter)').click();
    await expect.poll(() => editorText(page, '.graphiql-response'), { timeout: 20_000 }).toContain('"unitCount": 0');
    expect(await editorText(page, '.graphiql-response')).not.toContain('UNAUTHENTICATED');
    // GraphiQL keeps tabs and history in localStorage; the token must not outlive the page on a shared PC.
    const stored = String(await page.evaluate('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })'));
    expect(stored).toContain('unitsByState');
    expect(stored).not.toContain(authorization!.slice('Bearer '.length));
  });

  it('made every request to the gateway itself and logged no console error', () => {
    expect(requests.urls.length).toBeGreaterThan(3);
    expect(requests.outside()).toEqual([]);
    for (const url of requests.urls) expect(url.startsWith(`${origin}/`)).toBe(true);
    // The bundle and Monaco's workers came from the gateway, not from a CDN.
    expect(requests.urls.some((url) => /\/graphiql\/app-\w+\.js$/.test(url))).toBe(true);
    expect(requests.urls.some((url) => /\/graphiql\/graphql\.worker-\w+\.js$/.test(url))).toBe(true);
    expect(consoleLog.errors).toEqual([]);
  });
});

describe.skipIf(!canRun)('GraphiQL with the schema hidden from anonymous callers (production)', () => {
  let fed: Federation;
  let browser: Browser;

  beforeAll(async () => {
    await buildGraphiql();
    fed = await startFederation([{ country: 'CN' }], { examples, gatewayLimits: { hideSchemaFromAnonymous: true } });
    browser = (await launchBrowser())!;
  });
  afterAll(async () => {
    await browser?.close();
    await fed?.stop();
  });

  it('shows no docs to an anonymous page, and the docs once a token is in the headers and the schema re-fetched', async () => {
    const origin = new URL(fed.gateway.url).origin;
    const { page, requests } = await openGraphiql(browser, origin);
    await page.getByLabel('Show Documentation Explorer').click();
    const docs = page.locator('.graphiql-doc-explorer');
    await expect.poll(() => docs.innerText()).toContain('Error fetching schema');
    expect(await docs.innerText()).not.toContain('verifyMany');

    const { authorization } = await fed.headers({ subject: 'browser-analyst', role: 'analyst' });
    await replaceEditorText(page, '.graphiql-editor-tool', JSON.stringify({ authorization }));
    await page.getByLabel('Re-fetch GraphQL schema (Shift-Ctrl-R)').click();
    await docs.getByText('Query', { exact: true }).click();
    await expect.poll(() => docs.innerText()).toContain('verifyMany');
    expect(requests.outside()).toEqual([]);
  });
});

/** A fresh browser context (no storage carried over) on the gateway's page, recording what it does. */
async function openGraphiql(browser: Browser, origin: string) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
  const requests = await recordRequests(context, [origin]);
  const page = await context.newPage();
  const consoleLog = recordConsoleErrors(page);
  const pageResponse = await page.goto(`${origin}/graphql`);
  return { page, requests, consoleLog, pageResponse };
}

/** The visible text of the Monaco editor inside `container`, white space collapsed (long lines wrap). */
async function editorText(page: Page, container: string): Promise<string> {
  const lines = page.locator(`${container} .view-lines`).filter({ visible: true }).first();
  return (await lines.innerText().catch(() => '')).replace(/\s+/g, ' ');
}

/** Selects everything in the editor inside `container` and pastes `text` in its place, as a user would. */
async function replaceEditorText(page: Page, container: string, text: string): Promise<void> {
  await page.locator(`${container} .view-lines`).filter({ visible: true }).first().click();
  await page.keyboard.press('Control+A');
  // Pasted rather than typed: typing would have the editor close each bracket and quote a second time.
  await page.evaluate(`navigator.clipboard.writeText(${JSON.stringify(text)})`);
  await page.keyboard.press('Control+V');
  await expect.poll(() => editorText(page, container)).toContain(text.slice(0, 20));
}
