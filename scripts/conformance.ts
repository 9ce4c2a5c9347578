import { parseArgs } from 'node:util';
import { checkEndpoint, httpSender } from '../gateway/conformance/check-registry.js';
import { CONTRACT_VERSION } from '../gateway/conformance/contract-additions.js';
import { MIN_CONTRACT_VERSION, parseVersion } from '../gateway/conformance/contract-version.js';
import { claimedSubgraph } from '../gateway/conformance/sdl-compatibility.js';
import { DATA_SUBGRAPHS, type DataSubgraphName } from '../lib/schema/contract.js';
import { parseSigningSecret, type SigningOptions } from '../lib/security/signing-secret.js';

/**
 * `npm run conformance -- <url> [--subgraph units] [--country DE] [--header 'authorization: Bearer x']`
 * Checks one endpoint against the partner contract (docs/partner-contract.md); `--help` says what.
 * Exit code 0 when it conforms, 1 when not (or unreachable), 2 on usage errors.
 */
const USAGE = `usage: npm run conformance -- <url> [options]

Checks one subgraph endpoint of a registry node against the partner contract ${CONTRACT_VERSION}
(docs/partner-contract.md), as the gateway does before it federates a node.

options:
  --subgraph NAME            which contract to check: ${DATA_SUBGRAPHS.join(', ')}
                             (default: the one its SDL meets)
  --country CC               the country segment the node owns (required; 2 characters of 0-9A-Z)
  --header 'name: value'     a header sent with every request, e.g. the node's credential
                             'authorization: Bearer x' (repeatable); with one given, requests without
                             it and with a wrong value must be refused (HTTP 401, UNAUTHENTICATED)
  --signing-secret-env NAME  sign the requests (nodes running this software with NODE_SIGNING_SECRET)
                             with the secret in environment variable NAME, as a read-only service
                             caller, so that lists (which need a signed-in reader there) are checked
  --min-contract-version V   refuse a node declaring a contract version below V (default ${MIN_CONTRACT_VERSION})
  -h, --help                 this text

what is checked:
  - SDL: { _service { sdl } } is a superset of the contract SDL of the subgraph; the contract version
    it declares (extend schema @link(url: "https://specs.robot-registry.org/partner-contract/v${CONTRACT_VERSION}");
    none = 1.0) is within ${MIN_CONTRACT_VERSION} to ${CONTRACT_VERSION}, and it serves every field of that version
  - _entities: one answer per representation in order, keys echoed, null for unknown, foreign,
    malformed, missing or non-string keys; more than 1,000 representations is LIMIT_EXCEEDED
  - root fields (unit, units, enterprise, productModel): codes echoed, codes as typed (lower case,
    hyphens) answered, null without error for unknown and foreign codes, units(codes:) in order with
    an error per malformed item, more than 1,000 codes LIMIT_EXCEEDED, MALFORMED_CODE with input and
    exactly the problems (kind, position) of the project's parser
  - lists: first 501 is LIMIT_EXCEEDED (max 500), first -1 and a foreign cursor BAD_USER_INPUT,
    first 0 an empty page with totalCount, pages of 2 = one page of 10
  - the credential, when --header gives one

exit codes: 0 conforms, 1 does not conform or is unreachable, 2 usage error`;

function usageError(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    strict: true,
    options: {
      subgraph: { type: 'string' },
      country: { type: 'string' },
      header: { type: 'string', multiple: true },
      'signing-secret-env': { type: 'string' },
      'min-contract-version': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (error) {
  usageError((error as Error).message);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const url = positionals[0];
if (!url || positionals.length > 1) usageError(url ? `one URL only (got ${positionals.length})` : 'the URL of the endpoint to check is missing');
try {
  new URL(url);
} catch {
  usageError(`${JSON.stringify(url)} is not a URL`);
}
const headers: Record<string, string> = {};
for (const h of values.header ?? []) {
  const colon = h.indexOf(':');
  if (colon <= 0) usageError(`--header ${JSON.stringify(h)}: expected 'name: value'`);
  headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
}
let signing: SigningOptions | undefined;
const secretEnv = values['signing-secret-env'];
if (secretEnv !== undefined) {
  const text = process.env[secretEnv];
  if (!text) usageError(`--signing-secret-env ${secretEnv}: the environment variable ${secretEnv} is not set`);
  try {
    signing = { secret: parseSigningSecret(text, secretEnv) };
  } catch (error) {
    usageError(`--signing-secret-env: ${(error as Error).message}`);
  }
}
const minimum = values['min-contract-version'];
if (minimum !== undefined && !parseVersion(minimum)) usageError(`--min-contract-version ${JSON.stringify(minimum)}: expected <major>.<minor>, e.g. ${CONTRACT_VERSION}`);
let subgraph = values.subgraph as DataSubgraphName | undefined;
if (subgraph && !DATA_SUBGRAPHS.includes(subgraph)) usageError(`--subgraph must be one of ${DATA_SUBGRAPHS.join(', ')}`);
const country = values.country?.toUpperCase();
if (!country || !/^[0-9A-Z]{2}$/.test(country)) usageError('--country CC is needed: the country segment this registry owns (routing behaviour is checked against it)');
try {
  if (!subgraph) {
    const sdl = (await httpSender(url, headers, signing)('{ _service { sdl } }')).data?._service?.sdl;
    subgraph = typeof sdl === 'string' ? (claimedSubgraph(sdl, DATA_SUBGRAPHS) ?? undefined) : undefined;
    if (!subgraph) {
      console.error(`${url}: its SDL meets none (or several) of the subgraph contracts; pass --subgraph to see the differences`);
      process.exit(1);
    }
  }
} catch (error) {
  console.error(`${url}: unreachable: ${(error as Error).message}`);
  process.exit(1);
}
const report = await checkEndpoint(subgraph!, url, country, {
  headers,
  signing,
  ...(minimum ? { minContractVersion: minimum, minimumSource: '--min-contract-version' } : {}),
});
if (report.problems.length === 0) {
  console.log(`${url} conforms to the ${subgraph} contract ${report.contractVersion} for country ${country}`);
  for (const note of report.notes) console.log(`note: ${note}`);
} else {
  console.log(`${url} does NOT conform to the ${subgraph} contract${report.contractVersion ? ` ${report.contractVersion}` : ''} for country ${country}:\n- ${report.problems.join('\n- ')}`);
  for (const note of report.notes) console.log(`note: ${note}`);
  process.exit(1);
}
