import { request } from 'node:http';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/gateway-server.js';
import { startSwitchableRegistry } from './support/fake-registry.js';
import { startFederation, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';
import { TEST_SIGNING } from './support/signing.js';
import { publicBaseUrl } from '../gateway/passport/public-url.js';

/**
 * The resolver and passport page (gateway/passport), over HTTP as a phone or a script meets it: messy
 * codes redirect to the canonical URL, the page and its JSON carry the verdict and its reasons in words,
 * the QR code decodes to the configured public URL, and the page is the public view whoever asks.
 */
describe('passport pages and QR labels', () => {
  const MODEL = 'CNPP01AAAAAA';
  const HOSTILE_MODEL = 'CNPP02HHHHHH';
  const HOSTILE_MAKER = '<script>alert("maker")</script> & Co';
  const HOSTILE_MODEL_NAME = '<img src=x onerror=alert(1)>';
  const HOSTILE_DEFECT = '</li><b>bold</b> fault';
  const SECRET_OWNER = 'owner-ref-7731';
  const SECRET_NOTE = 'sold-note-5521';
  const serial = (n: number) => String(n).padStart(17, '0');
  let fed: Federation;
  let base: string;
  let frenchSwitch: Awaited<ReturnType<typeof startSwitchableRegistry>>;
  let admit: string, stolen: string, recalled: string, hostile: string, german: string;

  const mutate = async (query: string, variables?: Record<string, unknown>) => {
    const result = await fed.query(query, variables);
    expect(result.errors, query).toBeUndefined();
    return result.data;
  };
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers, redirect: 'manual' });
  const page = async (code: string, headers: Record<string, string> = {}) => {
    const response = await get(`/id/${code}`, { accept: 'text/html', ...headers });
    return { response, html: await response.text() };
  };
  const json = async (code: string, headers: Record<string, string> = {}) => {
    const response = await get(`/id/${code}`, { accept: 'application/json', ...headers });
    return { response, body: (await response.json()) as any };
  };

  /** node:http, because fetch cannot forge the Host header. */
  const rawGet = (path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      const target = new URL(base);
      const req = request({ host: target.hostname, port: target.port, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });

  beforeAll(async () => {
    fed = await startFederation([{ country: 'CN', name: 'China registry' }, { country: 'DE', name: 'German registry' }]);
    base = new URL(fed.gateway.url).origin;
    await mutate(`mutation {
      a: registerEnterprise(input: { code: "CNPP01", name: "Passport Robotics" }) { code }
      b: registerEnterprise(input: { code: "CNPP02", name: ${JSON.stringify(HOSTILE_MAKER)} }) { code }
    }`);
    await mutate(`mutation { registerProductModel(input: { code: "${MODEL}", name: "Walker W1", category: "humanoid" }) { code } }`);
    await mutate(`mutation($n: String!) { registerProductModel(input: { code: "${HOSTILE_MODEL}", name: $n, category: "humanoid" }) { code } }`, { n: HOSTILE_MODEL_NAME });
    const units = (await mutate(`mutation { registerUnits(input: { model: "${MODEL}", serials: ["${serial(1)}", "${serial(2)}", "${serial(3)}"] }) { code } }`)).registerUnits;
    [admit, stolen, recalled] = units.map((u: { code: string }) => u.code);
    hostile = (await mutate(`mutation { registerUnits(input: { model: "${HOSTILE_MODEL}", count: 1 }) { code } }`)).registerUnits[0].code;
    const now = new Date().toISOString();
    await mutate(`mutation($e: [LifecycleEventInput!]!) { recordEvents(events: $e) { eventId } }`, {
      e: [
        { eventId: 'pp-sold-1', unit: admit, type: 'SOLD', occurredAt: now, owner: SECRET_OWNER, note: SECRET_NOTE },
        { eventId: 'pp-stolen-1', unit: stolen, type: 'REPORTED_STOLEN', occurredAt: now },
      ],
    });
    await mutate(`mutation { openRecall(input: { model: "${MODEL}", serialFrom: "${serial(3)}", serialTo: "${serial(3)}", defect: "Knee actuator overheats", remedy: "Replace actuator" }) { code } }`);
    await mutate(`mutation($d: String!) { openRecall(input: { model: "${HOSTILE_MODEL}", defect: $d, remedy: "<i>fix</i>" }) { code } }`, { d: HOSTILE_DEFECT });
    german = (await seedNode(fed.nodes[1]!, 'DEPP01', 'DEPP01000001', 1))[0]!;
    // A third registry whose node never answers (connections dropped): its codes are UNKNOWN, never "not registered".
    frenchSwitch = await startSwitchableRegistry(fed.nodes[1]!.urls, 'down');
    const applied = await fed.gateway.store.apply({
      registries: [...fed.directoryInput.registries, { name: 'French registry', countries: ['FR'], subgraphs: frenchSwitch.subgraphs, limits: { timeoutMs: 2_000 } }],
    });
    expect(applied.applied).toBe(true);
  });
  afterAll(async () => {
    await fed?.stop();
    await frenchSwitch?.stop();
  });

  it('redirects a code written in any form to its canonical URL, and the QR links too', async () => {
    const display = `${admit.slice(0, 2)}-${admit.slice(2, 6)}-${admit.slice(6, 12)}-${admit.slice(12)}`;
    const messy = [display.toLowerCase(), encodeURIComponent(` ${display.replaceAll('-', ' ')} `), `${admit.toLowerCase()}/`, encodeURIComponent(admit.slice(0, 10)) + '-' + admit.slice(10).toLowerCase()];
    for (const form of messy) {
      const response = await get(`/id/${form}`);
      expect(response.status, form).toBe(301);
      expect(response.headers.get('location'), form).toBe(`/id/${admit}`);
    }
    const qr = await get(`/id/${display}/qr.png`);
    expect(qr.status).toBe(301);
    expect(qr.headers.get('location')).toBe(`/id/${admit}/qr.png`);
    // The canonical URL itself is answered, not redirected again.
    expect((await get(`/id/${admit}`)).status).toBe(200);
    const head = await fetch(`${base}/id/${admit}`, { method: 'HEAD', headers: { accept: 'text/html' } });
    expect([head.status, head.headers.get('content-type'), await head.text()]).toEqual([200, 'text/html; charset=utf-8', '']);
    // Only GET and HEAD: the resolver writes nothing.
    const post = await fetch(`${base}/id/${admit}`, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('shows an admissible robot: verdict, model and maker, state, lifecycle, registry and time, its QR code', async () => {
    const { response, html } = await page(admit);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(verdictOf(html)).toEqual({ verdict: 'ADMIT', reasons: [] });
    expect(html).toContain('Walker W1');
    expect(html).toContain('Passport Robotics');
    // Sold from REGISTERED: in stock with its owner (who the owner is stays out of the public view).
    expect(html).toContain("<dt>State</dt><dd><strong>IN_STOCK</strong></dd>");
    expect(html).toContain('<strong>Unit registered</strong>');
    expect(html).toMatch(/Answered by <strong>China registry<\/strong> \(CN\) at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(html).toContain('<p>None on this unit.</p>');
    // The label's QR code is in the page itself, as SVG: it decodes to the resolver URL.
    expect(decodeSvgQr(html)).toBe(`${base}/id/${admit}`);
  });

  it('refuses a stolen robot and one under open recall, each reason in words', async () => {
    const theft = await page(stolen);
    expect(verdictOf(theft.html)).toEqual({ verdict: 'REFUSE', reasons: ['Reported stolen'] });
    expect(theft.html).toContain('<strong>STOLEN</strong>');

    const recall = await page(recalled);
    expect(verdictOf(recall.html)).toEqual({ verdict: 'REFUSE', reasons: ['Open recall'] });
    expect(recall.html).toContain(`<strong>${MODEL}R0001</strong> (opened`);
    expect(recall.html).toContain('Knee actuator overheats');
    expect(recall.html).toContain(`<strong>Recall ${MODEL}R0001 opened</strong>`);
  });

  it('says UNKNOWN for a country no registry serves and for a registry that does not answer, with the reason', async () => {
    const foreign = 'XQ' + admit.slice(2);
    const unknownCountry = await page(foreign);
    expect(unknownCountry.response.status).toBe(200);
    expect(verdictOf(unknownCountry.html)).toEqual({ verdict: 'UNKNOWN', reasons: ['Unknown country'] });
    expect(unknownCountry.html).toContain("no registry in this gateway's directory serves country XQ");

    const french = 'FRPP01AAAAAA' + serial(1);
    const down = await page(french);
    expect(down.response.status).toBe(200);
    expect(verdictOf(down.html)).toEqual({ verdict: 'UNKNOWN', reasons: ['Registry unavailable'] });
    expect(down.html).toMatch(/Asked <strong>French registry<\/strong> \(FR\) at .*; it could not answer/);
  });

  it('shows the problems of a malformed code on the code itself, each offending character marked with its position', async () => {
    const typed = 'cn-pp01-aa$a-a!' + serial(1) + 'x';
    const { response, html } = await page(encodeURIComponent(typed));
    // Not redirected: there is no canonical form to go to.
    expect(response.status).toBe(400);
    expect(verdictOf(html)).toEqual({ verdict: 'REFUSE', reasons: ['Malformed code'] });
    // Normalised: CNPP01AA$AA!000...1X: '$' is the 9th character, '!' the 12th; 30 characters in all.
    expect(html).toContain('<mark title="position 9">$<sub>9</sub></mark>');
    expect(html).toContain('<mark title="position 12">!<sub>12</sub></mark>');
    expect(html).toContain('expected 29 characters, got 30');
    expect(html).toContain('invalid character &#39;$&#39; at position 9');
    expect(html).toContain(`As written: <code>${typed}</code>`);
    // No QR code for a code that names no robot.
    expect(html).not.toContain('<svg');
    const broken = await get('/id/CN%E0%A4%A', { accept: 'application/json' });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({ error: { code: 'BAD_REQUEST', message: 'the code in the URL is not valid percent-encoding' } });
    const qr = await get(`/id/${encodeURIComponent(typed)}/qr.svg`);
    expect(qr.status).toBe(400);
    expect(await qr.text()).toContain('no QR code for a malformed code: ');
  });

  it('answers the same facts as JSON, in the documented shape', async () => {
    const { response, body } = await json(recalled);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(body).toMatchObject({
      passport: 1,
      input: recalled,
      code: recalled,
      display: `${recalled.slice(0, 2)}-${recalled.slice(2, 6)}-${recalled.slice(6, 12)}-${recalled.slice(12)}`,
      url: `${base}/id/${recalled}`,
      qr: { svg: `${base}/id/${recalled}/qr.svg`, png: `${base}/id/${recalled}/qr.png` },
      verdict: 'REFUSE',
      reasons: [{ code: 'OPEN_RECALL', severity: 'BLOCKING', message: expect.stringContaining(`${MODEL}R0001`) }],
      problems: [],
      unit: {
        code: recalled,
        serial: serial(3),
        state: 'REGISTERED',
        model: { code: MODEL, name: 'Walker W1', category: 'humanoid', status: 'ACTIVE' },
        enterprise: { code: 'CNPP01', name: 'Passport Robotics', status: 'ACTIVE' },
      },
      recalls: [{ code: `${MODEL}R0001`, status: 'OPEN', defect: 'Knee actuator overheats', remedy: 'Replace actuator', closedAt: null }],
      answeredBy: { country: 'CN', name: 'China registry', reachable: true },
    });
    expect(Date.parse(body.checkedAt)).not.toBeNaN();
    expect(body.timeline.map((e: { event: string }) => e.event)).toEqual(['Maker registered', 'Model registered', 'Unit registered', `Recall ${MODEL}R0001 opened`, 'State REGISTERED']);

    const malformed = await json('CN!');
    expect(malformed.response.status).toBe(400);
    expect(malformed.body).toMatchObject({ code: null, url: null, qr: null, verdict: 'REFUSE', answeredBy: null, unit: null });
    expect(malformed.body.problems).toEqual([
      { kind: 'LENGTH', message: 'expected 29 characters, got 3', position: null },
      { kind: 'CHARACTER', message: "invalid character '!' at position 3", position: 3 },
    ]);
  });

  it('answers a partner code from the partner registry', async () => {
    const { body } = await json(german!);
    expect(body).toMatchObject({
      verdict: 'ADMIT',
      answeredBy: { country: 'DE', name: 'German registry', reachable: true },
      unit: { code: german, model: { name: 'Model DEPP01000001' }, enterprise: { name: 'Maker DEPP01' } },
    });
    const { html } = await page(german!);
    expect(verdictOf(html)).toEqual({ verdict: 'ADMIT', reasons: [] });
    expect(html).toContain('Answered by <strong>German registry</strong> (DE)');
  });

  it('escapes hostile names from the registry, and its CSP runs no script', async () => {
    const { response, html } = await page(hostile);
    expect(verdictOf(html).reasons).toEqual(['Open recall']);
    for (const raw of [HOSTILE_MAKER, HOSTILE_MODEL_NAME, '<b>bold</b>', '<i>fix</i>']) expect(html).not.toContain(raw);
    expect(html).toContain('&lt;script&gt;alert(&quot;maker&quot;)&lt;/script&gt; &amp; Co');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('&lt;/li&gt;&lt;b&gt;bold&lt;/b&gt; fault');
    expect(html).not.toMatch(/<script/i);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'none'");
    expect(csp).toMatch(/style-src 'sha256-[^']+'/);
  });

  it('is the public view whoever asks: no owner or note, even with the authority token; no cookies; no caching', async () => {
    // The authority reads the sale (owner and note) through the API: the facts exist.
    const api = await fed.query(`query($c: ID!) { unit(code: $c) { events { edges { node { owner note } } } } }`, { c: admit });
    expect(api.data.unit.events.edges).toEqual([{ node: { owner: SECRET_OWNER, note: SECRET_NOTE } }]);
    const asAuthority = await fed.headers();
    for (const headers of [{}, asAuthority]) {
      const { response, html } = await page(admit, headers);
      const { body } = await json(admit, headers);
      for (const text of [html, JSON.stringify(body)]) {
        expect(text).not.toContain(SECRET_OWNER);
        expect(text).not.toContain(SECRET_NOTE);
      }
      expect(response.headers.get('set-cookie')).toBeNull();
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    }
    for (const path of [`/id/${admit.toLowerCase()}`, `/id/${admit}/qr.png`, `/id/${admit}/qr.svg`, '/id/CN!']) {
      expect((await get(path)).headers.get('set-cookie'), path).toBeNull();
    }
  });

  it('prints a QR code of the resolver URL that ignores a forged Host header', async () => {
    const png = await rawGet(`/id/${admit}/qr.png`, { host: 'evil.example', 'x-forwarded-host': 'evil.example' });
    expect(png.status).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(decodePngQr(png.body)).toBe(`${base}/id/${admit}`);
    const svg = await rawGet(`/id/${admit}/qr.svg`, { host: 'evil.example' });
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(decodeSvgQr(svg.body.toString('utf8'))).toBe(`${base}/id/${admit}`);
    const html = await rawGet(`/id/${admit}`, { host: 'evil.example', accept: 'text/html' });
    expect(decodeSvgQr(html.body.toString('utf8'))).toBe(`${base}/id/${admit}`);
    expect(html.body.toString('utf8')).not.toContain('evil.example');
  });

  describe('with PUBLIC_URL and the anonymous rate limit of a gateway configured for them', () => {
    let gateway: RunningGateway;
    beforeAll(async () => {
      gateway = await startGateway({
        directory: fed.directoryInput,
        signing: TEST_SIGNING,
        publicUrl: 'https://registry.example.org/customs/',
        limits: { anonymousRate: { points: 6, windowSeconds: 600 } },
      });
    });
    afterAll(() => gateway?.stop());
    const origin = () => new URL(gateway.url).origin;

    it('builds QR codes and redirects from PUBLIC_URL', async () => {
      const png = await fetch(`${origin()}/id/${admit}/qr.png`);
      expect(decodePngQr(Buffer.from(await png.arrayBuffer()))).toBe(`https://registry.example.org/customs/id/${admit}`);
      const moved = await fetch(`${origin()}/id/${admit.toLowerCase()}`, { redirect: 'manual' });
      // A proxy serves the registry under /customs: the redirect stays under it.
      expect(moved.headers.get('location')).toBe(`/customs/id/${admit}`);
    });

    it('charges pages and labels to the anonymous budget, and says when to retry', async () => {
      const statuses: number[] = [];
      let refused: Response | undefined;
      for (let i = 0; i < 10 && !refused; i++) {
        const response = await fetch(`${origin()}/id/${admit}${i % 2 ? '/qr.svg' : ''}`, { headers: { accept: 'text/html' } });
        statuses.push(response.status);
        if (response.status === 429) refused = response;
        else await response.arrayBuffer();
      }
      expect(statuses[0]).toBe(200);
      expect(refused?.status).toBe(429);
      expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await refused!.text()).toContain('rate limit of 6 points per 600 s reached for anonymous address');
    });
  });

  it('refuses a PUBLIC_URL that cannot make a link, naming the problem', () => {
    expect(() => publicBaseUrl('registry.example.org')).toThrow('PUBLIC_URL "registry.example.org" is not an absolute URL');
    expect(() => publicBaseUrl('ftp://registry.example.org')).toThrow('must use http or https');
    expect(() => publicBaseUrl('https://registry.example.org/?x=1')).toThrow('must have no query, fragment or credentials');
    expect(publicBaseUrl(' https://Registry.Example.org/customs/ '.trim())).toBe('https://registry.example.org/customs');
  });

  /** The banner's verdict word and the titles of its reasons. */
  function verdictOf(html: string): { verdict: string | undefined; reasons: string[] } {
    const banner = /<section class="verdict[^"]*"[^>]*>([\s\S]*?)<\/section>/.exec(html)?.[1] ?? '';
    return {
      verdict: /<p class="word">([^<]*)<\/p>/.exec(banner)?.[1],
      reasons: [...banner.matchAll(/<li class="[a-z]+"><strong>([^<]*)<\/strong>/g)].map((m) => m[1]!),
    };
  }
});

// jsqr is a CommonJS bundle whose types declare an ES default export; Node hands over module.exports.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;

function decodePngQr(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data;
}

/**
 * Rasterises the first QR SVG in `text` (the qrcode library draws dark modules as one path of
 * horizontal strokes: `M x y h n m dx dy h n ...`) and decodes it as a phone would.
 */
function decodeSvgQr(text: string): string | undefined {
  const svg = /<svg[^>]*viewBox="0 0 (\d+) \1"[\s\S]*?<\/svg>/.exec(text);
  if (!svg) return undefined;
  const size = Number(svg[1]);
  const path = /<path stroke="#000000" d="([^"]+)"/.exec(svg[0])?.[1] ?? '';
  const dark = new Set<string>();
  let x = 0;
  let y = 0;
  for (const [, command, a, b] of path.matchAll(/([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?/g)) {
    if (command === 'M') [x, y] = [Number(a), Number(b)];
    else if (command === 'm') [x, y] = [x + Number(a), y + Number(b)];
    else for (let i = 0; i < Number(a); i++) dark.add(`${x++},${Math.floor(y)}`);
  }
  const scale = 4;
  const pixels = new Uint8ClampedArray(size * scale * size * scale * 4);
  for (let py = 0; py < size * scale; py++) {
    for (let px = 0; px < size * scale; px++) {
      const value = dark.has(`${Math.floor(px / scale)},${Math.floor(py / scale)}`) ? 0 : 255;
      pixels.set([value, value, value, 255], (py * size * scale + px) * 4);
    }
  }
  return jsQR(pixels, size * scale, size * scale)?.data;
}
