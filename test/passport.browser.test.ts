import jsQRModule from 'jsqr';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserTestsCanRun, launchBrowser, recordConsoleErrors, recordRequests, type ConsoleLog, type RequestLog } from './support/browser.js';
import { startFederation, type Federation } from './support/federation.js';

// jsqr is a CommonJS bundle whose types declare an ES default export; Node hands over module.exports.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;
const canRun = browserTestsCanRun('test/passport.browser.test.ts');

/**
 * The passport page as a phone shows it after scanning a label, and as it prints: headless Chromium
 * against a real federation. The unit is a worst case for paper (many open recalls with long texts).
 */
describe.skipIf(!canRun)('the passport page in headless Chromium', () => {
  const MODEL = 'CNPB01AAAAAA';
  const RECALLS = 20;
  const serial = (n: number) => String(n).padStart(17, '0');
  let fed: Federation;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  let code: string;
  let requests: RequestLog;
  let consoleLog: ConsoleLog;

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN', name: 'China registry' }]);
    origin = new URL(fed.gateway.url).origin;
    const mutate = async (query: string) => {
      const result = await fed.query(query);
      expect(result.errors, query).toBeUndefined();
      return result.data;
    };
    await mutate(`mutation { registerEnterprise(input: { code: "CNPB01", name: "Passport Browser Robotics Manufacturing and Engineering Company" }) { code } }`);
    await mutate(`mutation { registerProductModel(input: { code: "${MODEL}", name: "Walker W1 general-purpose humanoid service robot", category: "humanoid" }) { code } }`);
    code = (await mutate(`mutation { registerUnits(input: { model: "${MODEL}", serials: ["${serial(7)}"] }) { code } }`)).registerUnits[0].code;
    for (let i = 1; i <= RECALLS; i++) {
      const defect = `Defect ${i}: knee actuator may overheat under sustained load and cause a fall near people or on stairs; `.repeat(3);
      await mutate(`mutation { openRecall(input: { model: "${MODEL}", serialFrom: "${serial(1)}", serialTo: "${serial(9)}", defect: "${defect}", remedy: "Replace the actuator controller firmware and thermal pad at an authorised service centre" }) { code } }`);
    }
    browser = (await launchBrowser())!;
    // A phone: what a customs officer holds after scanning the label.
    context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    requests = await recordRequests(context, [origin]);
    page = await context.newPage();
    consoleLog = recordConsoleErrors(page);
    // Typed by hand, as on a label: the resolver redirects to the canonical URL.
    await page.goto(`${origin}/id/${code.slice(0, 6).toLowerCase()}-${code.slice(6, 12)}-${code.slice(12)}`);
  });
  afterAll(async () => {
    await browser?.close();
    await fed?.stop();
  });

  it('lands on the canonical URL with the verdict visible on a phone screen without scrolling', async () => {
    expect(page.url()).toBe(`${origin}/id/${code}`);
    const banner = page.getByRole('status', { name: 'Verdict' });
    expect(await banner.isVisible()).toBe(true);
    expect(await banner.innerText()).toMatch(/^REFUSE\n/);
    expect(await banner.innerText()).toContain('Open recall');
    const box = (await banner.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + 80).toBeLessThan(844); // at least the verdict word, above the fold
    // Nothing wider than the phone: no sideways scrolling.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    const screenshot = PNG.sync.read(await page.screenshot({ fullPage: true }));
    expect(screenshot.width).toBe(390 * 2);
  });

  it('shows a QR code that a phone decodes to the resolver URL', async () => {
    const image = PNG.sync.read(await page.locator('figure.qr svg').screenshot());
    expect(jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data).toBe(`${origin}/id/${code}`);
  });

  it('prints on one A4 sheet, verdict included', async () => {
    await page.emulateMedia({ media: 'print' });
    expect(await page.getByRole('status', { name: 'Verdict' }).isVisible()).toBe(true);
    const pdf = (await page.pdf({ preferCSSPageSize: true, printBackground: true })).toString('latin1');
    expect(pdf.match(/\/Type\s*\/Page[^s]/g)).toHaveLength(1);
    // A4 is 595 x 842 points.
    const [width, height] = /\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/.exec(pdf)!.slice(1).map(Number);
    expect([Math.round(width!), Math.round(height!)]).toEqual([595, 842]);
    await page.emulateMedia({ media: 'screen' });
  });

  it('asked nothing of any other machine and broke no rule of its CSP', () => {
    expect(requests.urls.length).toBeGreaterThan(0);
    expect(requests.outside()).toEqual([]);
    expect(consoleLog.errors).toEqual([]);
  });
});
