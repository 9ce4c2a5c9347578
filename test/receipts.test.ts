import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import QRCode from 'qrcode';
import { RECEIPT_QR_OPTIONS } from '../gateway/passport/passport-qr.js';
import { buildDirectory, DirectoryError } from '../gateway/directory/registry-directory.js';
import { signToken } from '../gateway/identity/development-key.js';
import { verifyReceipt, type ReceiptClaims } from '../gateway/receipts/receipt-format.js';
import { ReceiptIssuer, receiptTtlFromEnv } from '../gateway/receipts/receipt-issuer.js';
import { loadReceiptKeyFile, publicJwks, receiptKeysFromEnv, rotateReceiptKeys } from '../gateway/receipts/receipt-keys.js';
import { repoRoot } from '../lib/schema/contract.js';
import { RECEIPT_EXIT } from '../scripts/receipt.js';
import { startFederation, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';

/**
 * Signed verification receipts (issue 13, item 1): made by verify, checked with the keys the gateway
 * publishes, refused when altered, expired, of another key or used as a login token; the CLI as a user
 * runs it (compiled, like test/check.test.ts).
 */
// jsqr is a CommonJS bundle whose types declare an ES default export; Node hands over module.exports.
const jsQR = jsQRModule as unknown as typeof jsQRModule.default;
const root = repoRoot();
const cli = join(root, 'dist/scripts/receipt.js');
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, [cli, ...args], { cwd: root }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('signed verification receipts', () => {
  let fed: Federation;
  let dir: string;
  let keyFile: string;
  let cn: string[];
  let de: string[];
  let jwks: JSONWebKeySet;
  const model = 'CNRC01AAAAAA';

  const VERIFY = `query($c: [String!]!) { verifyMany(codes: $c) {
    code input canonical verdict receipt answeredBy { country name }
    reasons { code recalls registry { country } enterprise model country } } }`;
  const verifyMany = async (codes: string[]) => {
    const result = await fed.query(VERIFY, { c: codes }, null);
    expect(result.errors).toBeUndefined();
    return result.data.verifyMany as { code: string; input: string; canonical: string | null; verdict: string; receipt: string; answeredBy: { country: string; name: string } | null; reasons: Record<string, any>[] }[];
  };
  /** One character of a base64url part changed to another (the part stays valid base64url). */
  const tamper = (jws: string, part: 1 | 2) => {
    const parts = jws.split('.');
    const at = Math.floor(parts[part]!.length / 2);
    const c = parts[part]![at]!;
    parts[part] = parts[part]!.slice(0, at) + (c === 'A' ? 'B' : 'A') + parts[part]!.slice(at + 1);
    return parts.join('.');
  };

  beforeAll(async () => {
    // The command runs compiled, as users run it (incremental: a second when dist/ is current).
    await promisify(execFile)(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: root });
    dir = mkdtempSync(join(tmpdir(), 'receipts-'));
    keyFile = join(dir, 'keys.json');
    await rotateReceiptKeys(keyFile);
    fed = await startFederation([{ country: 'CN', name: 'China registry' }, { country: 'DE', name: 'German registry' }], {
      checkConformance: false,
      receiptKeys: await loadReceiptKeyFile(keyFile),
    });
    cn = await seedNode(fed.nodes[0]!, 'CNRC01', model, 2);
    de = await seedNode(fed.nodes[1]!, 'DERC01', 'DERC01BBBBBB', 1);
    const opened = await fed.query(`mutation { openRecall(input: { model: "${model}", serialFrom: "${cn[1]!.slice(12)}", serialTo: "${cn[1]!.slice(12)}", defect: "D", remedy: "R" }) { code } }`);
    expect(opened.errors).toBeUndefined();
    const response = await fetch(new URL('/.well-known/jwks.json', fed.gateway.url));
    expect(response.status).toBe(200);
    jwks = (await response.json()) as JSONWebKeySet;
  });
  afterAll(async () => {
    await fed?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes public keys only, bound to the home registry', () => {
    expect(jwks.keys.length).toBe(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', reg: 'CN' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
  });

  it('a receipt from verifyMany verifies with the published keys and attests the same verdict and reasons', async () => {
    const written = cn[0]!.toLowerCase().replace(/^(..)(....)/, '$1-$2-');
    const [admit, refuse] = await verifyMany([written, cn[1]!]);
    expect(admit!.verdict).toBe('ADMIT');
    expect(refuse!.verdict).toBe('REFUSE');
    for (const v of [admit!, refuse!]) {
      const check = await verifyReceipt(v.receipt, jwks);
      expect(check.ok, JSON.stringify(check)).toBe(true);
      const claims = (check as { claims: ReceiptClaims }).claims;
      expect(claims).toMatchObject({ sub: v.code, can: v.canonical, vd: v.verdict, reg: { c: 'CN', n: 'China registry' }, ab: { c: 'CN', n: 'China registry' } });
      expect(claims.rs.map((r) => r.c)).toEqual(v.reasons.map((r) => r.code));
      expect(claims.exp - claims.iat).toBe(30 * 86_400);
      expect(claims.iss).toBe(new URL(fed.gateway.url).origin);
    }
    expect(decodeJwt(admit!.receipt).in).toBe(written);
    expect(decodeJwt(refuse!.receipt).rs).toEqual([{ c: 'OPEN_RECALL', r: [`${model}R0001`] }]);
    expect(decodeJwt(admit!.receipt).jti).not.toBe(decodeJwt(refuse!.receipt).jti);
  });

  it('names the partner registry as the one that supplied the facts; UNKNOWN and malformed receipts say so', async () => {
    const [partner, unknown, malformed] = await verifyMany([de[0]!, `ZZ${cn[0]!.slice(2)}`, 'CN-BAD']);
    const claims = async (jws: string) => ((await verifyReceipt(jws, jwks)) as { claims: ReceiptClaims }).claims;
    expect(await claims(partner!.receipt)).toMatchObject({ vd: 'ADMIT', ab: { c: 'DE', n: 'German registry' }, reg: { c: 'CN' } });
    expect(unknown!.verdict).toBe('UNKNOWN');
    expect(await claims(unknown!.receipt)).toMatchObject({ vd: 'UNKNOWN', ab: null, rs: [{ c: 'UNKNOWN_COUNTRY', y: 'ZZ' }] });
    expect(await claims(malformed!.receipt)).toMatchObject({ vd: 'REFUSE', sub: 'CN-BAD', can: null, rs: [{ c: 'MALFORMED_CODE' }] });
    const file = join(dir, 'published.json');
    writeFileSync(file, JSON.stringify(jwks));
    const printed = await run(['verify', unknown!.receipt, '--keys', file]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('verdict:   UNKNOWN');
    expect(printed.stdout).toContain('attests only that the facts could not be obtained');
  });

  it('one changed character of the payload or the signature fails with "signature"; late, early and foreign checks fail by name', async () => {
    const [v] = await verifyMany([cn[0]!]);
    for (const part of [1, 2] as const) {
      expect(await verifyReceipt(tamper(v!.receipt, part), jwks)).toMatchObject({ ok: false, failure: 'signature' });
    }
    const exp = decodeJwt(v!.receipt).exp!;
    expect(await verifyReceipt(v!.receipt, jwks, { now: new Date((exp + 3600) * 1000) })).toMatchObject({ ok: false, failure: 'expired' });
    expect(await verifyReceipt(v!.receipt, jwks, { now: new Date(Date.now() - 86_400_000) })).toMatchObject({ ok: false, failure: 'not-yet-valid' });
    // A key bundle binds each key to its registry: CN's key listed as DE's cannot vouch for a CN receipt.
    expect(await verifyReceipt(v!.receipt, { keys: jwks.keys.map((k) => ({ ...k, reg: 'DE' })) })).toMatchObject({ ok: false, failure: 'wrong-registry' });
    // A login token is no receipt.
    const token = await signToken(fed.privateJwk, { subject: 's', role: 'analyst' });
    expect(await verifyReceipt(token, jwks)).toMatchObject({ ok: false, failure: 'not-a-receipt' });
  });

  it('a receipt sent as a bearer token is refused, saying what it is', async () => {
    const [v] = await verifyMany([cn[0]!]);
    const response = await fetch(fed.gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${v!.receipt}` },
      body: JSON.stringify({ query: '{ registries { country } }' }),
    });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    expect(body.errors[0]!.message).toContain('verification receipt');
  });

  it('the CLI exits 0 for a good receipt and with a distinct code for a tampered one or an unknown key', async () => {
    const [v] = await verifyMany([cn[1]!]);
    const file = join(dir, 'published.json');
    writeFileSync(file, JSON.stringify(jwks));
    const good = await run(['verify', v!.receipt, '--keys', file]);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toContain('VALID receipt');
    expect(good.stdout).toContain(`code:      ${cn[1]}`);
    expect(good.stdout).toContain('verdict:   REFUSE');
    expect(good.stdout).toContain(`OPEN_RECALL (recalls ${model}R0001)`);
    const bad = await run(['verify', tamper(v!.receipt, 1), '--keys', file]);
    expect(bad.code).toBe(RECEIPT_EXIT.signature);
    expect(bad.stderr).toContain('INVALID receipt (signature)');
    const other = join(dir, 'other.json');
    await rotateReceiptKeys(join(dir, 'other-private.json'));
    writeFileSync(other, JSON.stringify(publicJwks(await loadReceiptKeyFile(join(dir, 'other-private.json')))));
    expect((await run(['verify', v!.receipt, '--keys', other])).code).toBe(RECEIPT_EXIT['unknown-key']);
    // Online: the gateway's keys fetched once, then cached for offline use.
    const online = await run(['verify', v!.receipt, '--url', fed.gateway.url, '--cache-dir', join(dir, 'cache')]);
    expect(online.code, online.stderr).toBe(0);
    const help = await run(['--help']);
    expect(help.stdout).toContain('exit codes of verify');
  });

  /** Resolves when the gateway has re-read its key file: with `kid` signing, or (kid null) refusing the file. */
  const reread = (kid: string | null) =>
    new Promise<void>((resolve) => {
      const off = fed.gateway.receipts.onKeys((outcome) => {
        if (kid === null ? outcome.error : outcome.ring?.kid === kid) {
          off();
          resolve();
        }
      });
    });
  /** Resolves with the kid of the next key the gateway signs with, other than `previous` (kids are random). */
  const nextSigner = (previous: string) =>
    new Promise<string>((resolve) => {
      const off = fed.gateway.receipts.onKeys((outcome) => {
        if (outcome.ring && outcome.ring.kid !== previous) {
          off();
          resolve(outcome.ring.kid);
        }
      });
    });
  const published = async () => (await (await fetch(new URL('/.well-known/jwks.json', fed.gateway.url))).json()) as JSONWebKeySet;

  it('after a rotation the running gateway signs with the new key, and receipts of the previous key verify while it is published', async () => {
    const before = await loadReceiptKeyFile(keyFile);
    const [old] = await verifyMany([cn[0]!]);
    expect(decodeProtectedHeader(old!.receipt).kid).toBe(before.kid);
    const newKeys = nextSigner(before.kid);
    const rotated = await rotateReceiptKeys(keyFile);
    expect(rotated.retired).toEqual([before.kid]);
    // No restart: the gateway notices the rewritten file.
    expect(await newKeys).toBe(rotated.kid);
    const afterRotation = await published();
    expect(afterRotation.keys.map((k) => k.kid)).toEqual([rotated.kid, before.kid]);
    const [fresh] = await verifyMany([cn[0]!]);
    expect(decodeProtectedHeader(fresh!.receipt).kid).toBe(rotated.kid);
    expect(await verifyReceipt(fresh!.receipt, afterRotation)).toMatchObject({ ok: true, kid: rotated.kid });
    expect(await verifyReceipt(old!.receipt, afterRotation)).toMatchObject({ ok: true, kid: before.kid });
    // A key file that no longer reads keeps the keys in use (logged), rather than stopping receipts.
    const good = readFileSync(keyFile, 'utf8');
    const refused = reread(null);
    writeFileSync(keyFile, '{ "keys": [ half written');
    await refused;
    const [still] = await verifyMany([cn[0]!]);
    expect(await verifyReceipt(still!.receipt, afterRotation)).toMatchObject({ ok: true, kid: rotated.kid });
    const restored = reread(rotated.kid);
    writeFileSync(keyFile, good);
    await restored;
    // Once the previous key's receipts have expired, a later rotation drops it; its receipts then fail.
    const laterKeys = nextSigner(rotated.kid);
    const later = await rotateReceiptKeys(keyFile, { now: new Date(Date.now() + 31 * 86_400_000) });
    expect(later.dropped).toEqual([before.kid]);
    expect(await laterKeys).toBe(later.kid);
    jwks = await published();
    expect(jwks.keys.map((k) => k.kid)).toEqual([later.kid, rotated.kid]);
    expect(await verifyReceipt(old!.receipt, jwks)).toMatchObject({ ok: false, failure: 'unknown-key' });
    const identity = () => ({ country: 'CN', name: 'China registry', url: 'https://cn.example' });
    const offline = await new ReceiptIssuer(await loadReceiptKeyFile(keyFile), identity).issue({ code: cn[0]!, canonical: cn[0]!, verdict: 'ADMIT', reasons: [], answeredBy: null });
    expect(await verifyReceipt(offline, jwks)).toMatchObject({ ok: true, kid: later.kid });
  });

  it('the passport shows the receipt (JSON and a QR code on the page)', async () => {
    const json = (await (await fetch(new URL(`/id/${cn[0]}`, fed.gateway.url), { headers: { accept: 'application/json' } })).json()) as { receipt: string; verdict: string };
    expect(await verifyReceipt(json.receipt, jwks)).toMatchObject({ ok: true, claims: { vd: json.verdict, sub: cn[0] } });
    const page = await (await fetch(new URL(`/id/${cn[0]}`, fed.gateway.url), { headers: { accept: 'text/html' } })).text();
    expect(page).toContain('aria-label="QR code of the signed receipt"');
    // The receipt's QR code, drawn as the page draws it, reads back as the receipt itself.
    const png = PNG.sync.read(await QRCode.toBuffer(json.receipt, { ...RECEIPT_QR_OPTIONS, type: 'png', scale: 4 }));
    expect(jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data).toBe(json.receipt);
  });

  it("bundles partners' keys from the directory, each bound to its registry", async () => {
    const dePrivate = join(dir, 'de-private.json');
    await rotateReceiptKeys(dePrivate);
    const deRing = await loadReceiptKeyFile(dePrivate);
    const directoryFile = join(dir, 'directory.json');
    const [home, partner] = fed.directoryInput.registries;
    writeFileSync(directoryFile, JSON.stringify({ registries: [home, { ...partner, receiptKeys: publicJwks(deRing) }] }));
    const bundleFile = join(dir, 'bundle.json');
    const made = await run(['keys', '--url', fed.gateway.url, '--directory', directoryFile, '--out', bundleFile]);
    expect(made.code, made.stderr).toBe(0);
    const bundle = JSON.parse(readFileSync(bundleFile, 'utf8')) as JSONWebKeySet;
    expect(bundle.keys.map((k) => [k.kid, (k as { reg?: string }).reg])).toEqual([...jwks.keys.map((k) => [k.kid, 'CN']), [deRing.kid, 'DE']]);
    const subject = { code: de[0]!, canonical: de[0]!, verdict: 'ADMIT' as const, reasons: [], answeredBy: { country: 'DE', name: 'German registry' } };
    const asDe = await new ReceiptIssuer(deRing, () => ({ country: 'DE', name: 'German registry', url: 'https://de.example' })).issue(subject);
    const posingAsCn = await new ReceiptIssuer(deRing, () => ({ country: 'CN', name: 'China registry', url: 'https://cn.example' })).issue(subject);
    expect((await run(['verify', asDe, '--keys', bundleFile])).code).toBe(0);
    expect((await run(['verify', posingAsCn, '--keys', bundleFile])).code).toBe(RECEIPT_EXIT['wrong-registry']);
  });

  it("in a bundle where two registries' keys share a kid, a receipt verifies with the key of the registry it names", async () => {
    const identity = (country: string) => () => ({ country, name: `${country} registry`, url: `https://${country.toLowerCase()}.example` });
    const [cnFile, deFile] = [join(dir, 'collide-cn.json'), join(dir, 'collide-de.json')];
    await rotateReceiptKeys(cnFile);
    await rotateReceiptKeys(deFile);
    const [cnRing, deRing] = [await loadReceiptKeyFile(cnFile), await loadReceiptKeyFile(deFile)];
    // The same kid on both sides (unlikely with a random suffix, but nothing in a bundle forbids it).
    const deSame = { ...deRing, kid: cnRing.kid, publicKeys: deRing.publicKeys.map((k) => ({ ...k, kid: cnRing.kid })) };
    const bundle = { keys: [...publicJwks(cnRing, 'CN').keys, ...publicJwks(deSame, 'DE').keys] };
    const subject = { code: de[0]!, canonical: de[0]!, verdict: 'ADMIT' as const, reasons: [], answeredBy: { country: 'DE', name: 'DE registry' } };
    const fromDe = await new ReceiptIssuer(deSame, identity('DE')).issue(subject);
    const fromCn = await new ReceiptIssuer(cnRing, identity('CN')).issue(subject);
    expect(await verifyReceipt(fromDe, bundle)).toMatchObject({ ok: true, claims: { reg: { c: 'DE' } } });
    expect(await verifyReceipt(fromCn, bundle)).toMatchObject({ ok: true, claims: { reg: { c: 'CN' } } });
    // DE's key still cannot vouch for a receipt naming CN.
    const posing = await new ReceiptIssuer(deSame, identity('CN')).issue(subject);
    expect(await verifyReceipt(posing, bundle)).toMatchObject({ ok: false });
  });

  it('a directory entry may name its receipt keys: a URL or public keys, never a private one', () => {
    const entry = (receiptKeys: unknown) => ({ registries: [{ ...fed.directoryInput.registries[0], receiptKeys }] });
    expect(buildDirectory(entry('https://de.example/.well-known/jwks.json')).home.receiptKeys).toEqual({ url: 'https://de.example/.well-known/jwks.json' });
    expect(buildDirectory(entry(jwks)).home.receiptKeys).toEqual({ keys: jwks.keys });
    expect(() => buildDirectory(entry({ keys: [{ ...jwks.keys[0], d: 'secret' }] }))).toThrow(/holds a private key/);
    expect(() => buildDirectory(entry('ftp://x'))).toThrow(DirectoryError);
  });
});

describe('receipt configuration', () => {
  it('keeps receipt keys apart from login keys, and says when a gateway issues none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'receipt-env-'));
    try {
      const login = join(dir, 'login-jwks.json');
      await rotateReceiptKeys(login);
      await expect(receiptKeysFromEnv({ dataDir: dir, env: { JWKS_FILE: login, RECEIPT_KEY_FILE: login } })).rejects.toThrow(/holds login keys/);
      await expect(receiptKeysFromEnv({ dataDir: dir, env: { RECEIPT_KEY_FILE: join(dir, 'dev-keys', 'jwks.json') } })).rejects.toThrow(/holds login keys/);
      expect(await receiptKeysFromEnv({ dataDir: dir, env: { NODE_ENV: 'production' } })).toBeNull();
      const dev = await receiptKeysFromEnv({ dataDir: dir, env: {} });
      expect(dev!.source).toContain(join(dir, 'receipt-keys', 'keys.json'));
      expect((await receiptKeysFromEnv({ dataDir: dir, env: {} }))!.kid).toBe(dev!.kid); // kept across restarts
      await expect(receiptKeysFromEnv({ dataDir: dir, env: { RECEIPT_KEY: JSON.stringify({ keys: [{ kty: 'OKP', kid: 'x' }] }) } })).rejects.toThrow(/no private key/);
      const none = new ReceiptIssuer(null, () => ({ country: 'CN', name: 'CN', url: 'http://x' }));
      await expect(none.issue({ code: 'X', canonical: null, verdict: 'REFUSE', reasons: [], answeredBy: null })).rejects.toMatchObject({ extensions: { code: 'RECEIPTS_DISABLED' } });
      expect(receiptTtlFromEnv({ RECEIPT_TTL: '12h' })).toBe(43_200);
      expect(() => receiptTtlFromEnv({ RECEIPT_TTL: 'soon' })).toThrow(/RECEIPT_TTL/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
