import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkEndpoint, checkRegistry } from '../gateway/conformance/check-registry.js';
import { buildDirectory, DirectoryError } from '../gateway/directory/registry-directory.js';
import { DATA_SUBGRAPHS, repoRoot, type DataSubgraphName } from '../lib/schema/contract.js';
import { startIndependentPartner } from './fixtures/independent-partner/node.js';
import { startFederation, type Federation } from './support/federation.js';
import { seedNode } from './support/seed-node.js';
import { startRegistryNode } from '../subgraphs/registry-node.js';
import { TEST_SIGNING, TEST_SIGNING_ENV } from './support/signing.js';

/**
 * The conformance check checks what docs/partner-contract.md promises: our node and the independently
 * written JP node pass; a node broken in one way (behind a proxy that breaks it) is caught with a message
 * naming the field, the input and what was expected.
 */
type Body = { query: string; variables?: Record<string, any> };
type Answer = { data?: any; errors?: any[] };
interface Breakage {
  /** Rewrites the request before the node sees it; a `status` answer is sent instead of asking the node. */
  request?: (body: Body, headers: IncomingHttpHeaders) => Body | { status: number; answer: Answer };
  answer?: (answer: Answer, body: Body) => Answer;
}

let fed: Federation;
let partner: Awaited<ReturnType<typeof startIndependentPartner>>;
let proxy: Server;
let proxyBase: string;
let breakage: Breakage = {};
const JP_UNITS = [1, 2, 3, 4, 5].map((n) => 'JPINDP000001' + String(n).padStart(17, '0'));

/** The JP node's subgraphs, through the proxy that applies `breakage`. */
const broken = (subgraph: DataSubgraphName) => `${proxyBase}/${subgraph}`;
async function check(subgraph: DataSubgraphName, how: Breakage, headers: Record<string, string> = {}) {
  breakage = how;
  try {
    return await checkEndpoint(subgraph, broken(subgraph), 'JP', { headers });
  } finally {
    breakage = {};
  }
}
const withSdl = (extra: string): Breakage => ({
  answer: (answer) => (answer.data?._service?.sdl ? { data: { _service: { sdl: answer.data._service.sdl + extra } } } : answer),
});
const declaring = (version: string) => withSdl(`\nextend schema @link(url: "https://specs.robot-registry.org/partner-contract/v${version}")\n`);

beforeAll(async () => {
  fed = await startFederation([{ country: 'CN' }, { country: 'DE' }], { checkConformance: true });
  await seedNode(fed.nodes[1]!, 'DEAAAA', 'DEAAAA000001', 5);
  partner = await startIndependentPartner({
    country: 'JP',
    enterprises: [{ code: 'JPINDP', name: 'Independent Robotics KK' }],
    models: [{ code: 'JPINDP000001', name: 'Kaze', category: 'humanoid' }],
    units: JP_UNITS.map((code) => ({ model: code.slice(0, 12), serial: code.slice(12) })),
  });
  proxy = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', async () => {
      const subgraph = req.url!.slice(1) as DataSubgraphName;
      let body = JSON.parse(text) as Body;
      const send = (status: number, answer: Answer) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      };
      const rewritten = breakage.request ? breakage.request(body, req.headers) : body;
      if ('status' in rewritten) return send(rewritten.status, rewritten.answer);
      body = rewritten;
      const upstream = await fetch(partner.urls[subgraph], { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const answer = (await upstream.json()) as Answer;
      send(upstream.status, breakage.answer ? breakage.answer(answer, body) : answer);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyBase = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)));
  await partner?.stop();
  await fed?.stop();
});

describe('conforming nodes', () => {
  it('our node (signed, with data) passes every check of the four subgraphs and declares 1.1', async () => {
    const entry = fed.directory.registries.find((r) => r.countries.includes('DE'))!;
    const report = await checkRegistry(entry);
    expect(report.endpoints.map((e) => [e.subgraph, e.problems, e.notes])).toEqual(DATA_SUBGRAPHS.map((s) => [s, [], []]));
    expect(report.contractVersion).toBe('1.1');
    // With a credential header too: the probes without it (sent unsigned, as a stranger's) are refused for lack of a signature.
    const withCredential = await checkEndpoint('enterprises', entry.subgraphs.enterprises, 'DE', { headers: { authorization: 'Bearer de-credential' }, signing: TEST_SIGNING });
    expect(withCredential.problems).toEqual([]);
  });

  it('the independent JP node passes, read as contract 1.0 (it declares no version)', async () => {
    const report = await checkRegistry({ countries: ['JP'], subgraphs: partner.urls });
    expect(report.endpoints.flatMap((e) => e.problems)).toEqual([]);
    expect(report.contractVersion).toBe('1.0');
    expect(report.endpoints[0]!.notes).toContain(
      'declares no partner contract version (no @link(url: "https://specs.robot-registry.org/partner-contract/v1.1") in its SDL): read as 1.0',
    );
  });

  it('our node without a signing secret passes too; lists, which need a signed-in reader there, are noted as not checked', async () => {
    const unsigned = await startRegistryNode({ node: { country: 'DE', name: 'DE unsigned' }, database: fed.databases[1]! });
    try {
      const report = await checkEndpoint('units', unsigned.urls.units!, 'DE');
      expect(report.problems).toEqual([]);
      expect(report.notes).toEqual([
        expect.stringMatching(
          /^root fields checked without known codes: Registry.units\(first: 3\) of country DE could not be read \(UNAUTHENTICATED at \["_entities",0,"units"\] .*\): lists need a signed-in reader on this node \(give the check its signing secret: --signing-secret-env NAME\)$/,
        ),
        expect.stringMatching(/^page limits of Registry.units not checked: it needs a signed-in reader on this node/),
        expect.stringMatching(/^page limits of ProductModel.units not checked/),
      ]);
    } finally {
      await unsigned.stop();
    }
  });

  it('through the proxy untouched, the JP node passes too (the proxy itself breaks nothing)', async () => {
    expect((await check('units', {})).problems).toEqual([]);
  });
});

describe('a node broken in one way is caught', () => {
  it('units(codes:) answered in another order', async () => {
    const report = await check('units', {
      answer: (answer) => (Array.isArray(answer.data?.units) && answer.data.units.length < 10 ? { ...answer, data: { units: [...answer.data.units].reverse() } } : answer),
    });
    const asked = `units(codes: ["${JP_UNITS[1]}","JPZZZZZZZZZZZZZZZZZZZZZZZZZZZ","JPNOT-A-CODE","${JP_UNITS[0]}","QQZZZZZZZZZZZZZZZZZZZZZZZZZZZ"," jp-indp-000001-00000000000000001 "])`;
    expect(report.problems).toEqual([
      `${asked}: index 0: expected the unit "${JP_UNITS[1]}" (same order as asked), got {"code":"${JP_UNITS[0]}"}`,
      `${asked}: index 3: expected the unit "${JP_UNITS[0]}" (same order as asked), got null`,
      `${asked}: index 5: expected the unit "${JP_UNITS[0]}" (same order as asked), got {"code":"${JP_UNITS[1]}"}`,
      `${asked}: index 2: expected MALFORMED_CODE with input "JPNOT-A-CODE" and problems [LENGTH], got data {"code":"${JP_UNITS[0]}"} instead of null`,
    ]);
  });

  it('first: 501 clamped to 500 instead of LIMIT_EXCEEDED', async () => {
    const report = await check('enterprises', { request: (body) => ({ ...body, query: body.query.replace('first: 501', 'first: 500') }) });
    expect(report.problems).toEqual([
      'Registry.enterprises of {"__typename":"Registry","country":"JP"}(first: 501): expected an error LIMIT_EXCEEDED with extensions.max 500 (not a clamp to 500), got a page of 1 items, no error',
    ]);
  });

  it('a MALFORMED_CODE problems list other than our parser finds', async () => {
    const report = await check('product-models', {
      answer: (answer) => ({
        ...answer,
        errors: answer.errors?.map((e) => (e.extensions?.code === 'MALFORMED_CODE' ? { ...e, extensions: { ...e.extensions, problems: e.extensions.problems.slice(0, 1) } } : e)),
      }),
    });
    expect(report.problems).toContain(
      'productModel(code: "JPé😀_AAAAAAA"): expected MALFORMED_CODE with input "JPé😀_AAAAAAA" and problems [LENGTH, CHARACTER@3, CHARACTER@4, CHARACTER@6], got extensions.problems [LENGTH]',
    );
  });

  it('an error for a well-formed code of another country, and TOO_MANY_CODES for 1,001 codes', async () => {
    const report = await check('units', {
      answer: (answer, body) => {
        const codes: string[] = body.variables?.c ?? [];
        if (Array.isArray(codes) && codes.length > 1000) return { data: null, errors: [{ message: 'too many', extensions: { code: 'TOO_MANY_CODES', max: 1000 } }] };
        if (body.variables?.c === 'QQZZZZZZZZZZZZZZZZZZZZZZZZZZZ') return { data: { unit: null }, errors: [{ message: 'not ours', path: ['unit'], extensions: { code: 'MALFORMED_CODE' } }] };
        return answer;
      },
    });
    expect(report.problems).toEqual([
      'unit(code: "QQZZZZZZZZZZZZZZZZZZZZZZZZZZZ"), a well-formed code of another country: expected null and no error, got null (MALFORMED_CODE at ["unit"] "not ours")',
      'units(codes: [1001 codes]): expected one error LIMIT_EXCEEDED with extensions.max 1000, got TOO_MANY_CODES "too many" (extensions {"code":"TOO_MANY_CODES","max":1000})',
    ]);
  });

  it('more than 1,000 representations resolved instead of refused', async () => {
    const report = await check('lifecycle', {
      request: (body) => (Array.isArray(body.variables?.r) && body.variables.r.length > 1000 ? { ...body, variables: { r: body.variables.r.slice(0, 1000) } } : body),
    });
    expect(report.problems).toEqual([
      '_entities with 1001 Registry representations: expected one error LIMIT_EXCEEDED with extensions.max 1000 and no data, got no error and 1000 entries',
    ]);
  });

  it('a node that answers without its credential (or with a wrong one)', async () => {
    const credential = { authorization: 'Bearer jp-secret' };
    const checking: Breakage = {
      request: (body, headers) =>
        headers.authorization === credential.authorization ? body : { status: 401, answer: { errors: [{ message: 'credential missing or wrong', extensions: { code: 'UNAUTHENTICATED' } }] } },
    };
    expect((await check('enterprises', checking, credential)).problems).toEqual([]);
    const report = await check('enterprises', {}, credential);
    expect(report.problems).toEqual([
      'answers without its credential: a request without its credential header authorization got HTTP 200 with data; expected HTTP 401 with an UNAUTHENTICATED error',
      'answers without its credential: a request with a wrong value of authorization got HTTP 200 with data; expected HTTP 401 with an UNAUTHENTICATED error',
    ]);
  });
});

describe('the contract version declared in the SDL', () => {
  it('v0.9 is below the minimum; v2.0 is another major', async () => {
    expect((await check('units', declaring('0.9'))).problems).toEqual([
      "declares partner contract v0.9, below the minimum 1.0 (the gateway's default minimum)",
    ]);
    expect((await check('units', declaring('2.0'))).problems).toEqual(['declares partner contract v2.0; this gateway speaks 1.0 to 1.1']);
  });

  it('1.1 must serve the 1.1 fields; 1.2 is checked as 1.1 with a note', async () => {
    const report = await check('enterprises', declaring('1.1'));
    expect(report.problems).toEqual(['declares 1.1 but does not serve Enterprise.statusHistory (added in contract 1.1)']);
    const later = await check('units', declaring('1.2'));
    expect(later.problems).toEqual([]);
    expect(later.contractVersion).toBe('1.1');
    expect(later.notes).toContain("declares partner contract v1.2, later than this gateway's 1.1: checked as 1.1");
  });

  it('the gateway refuses a node older than its directory entry\'s minContractVersion, naming it, its version and the minimum', async () => {
    const result = await fed.gateway.store.apply({
      registries: [...fed.directoryInput.registries, { name: 'Japan registry', countries: ['JP'], subgraphs: partner.urls, minContractVersion: '1.1' }],
    });
    expect(result.applied).toBe(false);
    expect(result.problems).toEqual(
      DATA_SUBGRAPHS.map(
        (s) => `"Japan registry" ${s} does not conform: declares no partner contract version (read as 1.0), below the minimum 1.1 ("minContractVersion": "1.1" of the directory entry "Japan registry")`,
      ),
    );
  });

  it('a node that passes is added, and /health/ready shows the version it passed as', async () => {
    const result = await fed.gateway.store.apply({
      registries: [...fed.directoryInput.registries, { name: 'Japan registry', countries: ['JP'], subgraphs: partner.urls }],
    });
    expect(result).toEqual({ applied: true, problems: [], warnings: [] });
    const ready = (await (await fetch(fed.gateway.url.replace('/graphql', '/health/ready'))).json()) as { registries: { name: string; countries: string[]; conformance: unknown }[] };
    expect(ready.registries.find((r) => r.name === 'Japan registry')?.conformance).toEqual({ status: 'passed', contractVersion: '1.0' });
    expect(ready.registries.find((r) => r.countries.includes('DE'))?.conformance).toEqual({ status: 'passed', contractVersion: '1.1' });
    await fed.gateway.store.apply(fed.directoryInput);
  });

  it('a directory entry with a minContractVersion that is not a 1.x version up to 1.1 is refused', () => {
    const entry = (minContractVersion: unknown) => ({
      registries: [{ name: 'Home', countries: ['CN'], home: true, subgraphs: fed.nodes[0]!.urls, minContractVersion }],
    });
    expect(buildDirectory(entry('1.1')).home.minContractVersion).toBe('1.1');
    for (const bad of ['2.0', '1.2', 'v1.1', 1.1]) {
      let problems: string[] = [];
      try {
        buildDirectory(entry(bad));
      } catch (error) {
        problems = (error as DirectoryError).problems;
      }
      expect(problems).toEqual([`registries[0].minContractVersion must be a partner contract version "1.<minor>" from 1.0 to 1.1 (got ${JSON.stringify(bad)})`]);
    }
  });
});

describe('npm run conformance', () => {
  const root = repoRoot();
  const run = async (args: string[], env: Record<string, string> = {}) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(root, 'dist/scripts/conformance.js'), ...args], { env: { ...process.env, ...env } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  beforeAll(async () => {
    await promisify(execFile)(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: root });
  }, 120_000);

  it('--help and -h list every option and the exit codes; an unknown option is a usage error (exit 2)', async () => {
    for (const flag of ['--help', '-h']) {
      const help = await run([flag]);
      expect(help.code).toBe(0);
      for (const option of ['--subgraph', '--country', '--header', '--signing-secret-env', '--min-contract-version', '--help']) expect(help.stdout).toContain(option);
      expect(help.stdout).toContain('exit codes: 0 conforms, 1 does not conform or is unreachable, 2 usage error');
    }
    const unknown = await run(['http://127.0.0.1:1/', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--bogus'");
    expect(unknown.stderr).not.toContain('    at ');
  });

  it('prints the version a node conforms to, and signs with --signing-secret-env for a node running our software', async () => {
    const ours = await run([fed.nodes[1]!.urls.units!, '--subgraph', 'units', '--country', 'DE', '--signing-secret-env', TEST_SIGNING_ENV]);
    expect(ours).toMatchObject({ code: 0, stdout: `${fed.nodes[1]!.urls.units} conforms to the units contract 1.1 for country DE\n` });
    const jp = await run([partner.urls.enterprises, '--country', 'JP']);
    expect(jp.code).toBe(0);
    expect(jp.stdout.split('\n')[0]).toBe(`${partner.urls.enterprises} conforms to the enterprises contract 1.0 for country JP`);
    expect(TEST_SIGNING.secret.length).toBe(32);
  });
});
