import { parseArgs } from 'node:util';
import { checkEndpoint, httpSender } from '../gateway/conformance/check-registry.js';
import { claimedSubgraph } from '../gateway/conformance/sdl-compatibility.js';
import { DATA_SUBGRAPHS, type DataSubgraphName } from '../lib/schema/contract.js';

/**
 * `npm run conformance -- <url> [--subgraph units] [--country DE] [--header 'authorization: Bearer x']`
 * Checks an endpoint against the contract in schema/: SDL compatible with the subgraph it claims to be
 * (inferred from its SDL when --subgraph is omitted), and entity lookups that behave as the gateway
 * needs. Exit code 0 when it conforms, 1 when not, 2 on usage errors.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { subgraph: { type: 'string' }, country: { type: 'string' }, header: { type: 'string', multiple: true } },
});
const url = positionals[0];
if (!url) {
  console.error(`usage: npm run conformance -- <url> [--subgraph ${DATA_SUBGRAPHS.join('|')}] [--country CC] [--header 'name: value']`);
  process.exit(2);
}
const headers = Object.fromEntries((values.header ?? []).map((h) => [h.slice(0, h.indexOf(':')).trim().toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]));
let subgraph = values.subgraph as DataSubgraphName | undefined;
if (subgraph && !DATA_SUBGRAPHS.includes(subgraph)) {
  console.error(`--subgraph must be one of ${DATA_SUBGRAPHS.join(', ')}`);
  process.exit(2);
}
let country = values.country?.toUpperCase();
try {
  const send = httpSender(url, headers);
  if (!subgraph) {
    const sdl = (await send('{ _service { sdl } }')).data?._service?.sdl;
    subgraph = typeof sdl === 'string' ? (claimedSubgraph(sdl, DATA_SUBGRAPHS) ?? undefined) : undefined;
    if (!subgraph) {
      console.error(`${url}: its SDL meets none (or several) of the subgraph contracts; pass --subgraph to see the differences`);
      process.exit(1);
    }
  }
  if (!country || !/^[0-9A-Z]{2}$/.test(country)) {
    console.error('--country CC is needed: the country segment this registry owns (routing behaviour is checked against it)');
    process.exit(2);
  }
} catch (error) {
  console.error(`${url}: unreachable: ${(error as Error).message}`);
  process.exit(1);
}
const report = await checkEndpoint(subgraph!, url, country!, headers);
if (report.problems.length === 0) {
  console.log(`${url} conforms to the ${subgraph} contract for country ${country}`);
  for (const note of report.notes) console.log(`note: ${note}`);
} else {
  console.log(`${url} does NOT conform to the ${subgraph} contract for country ${country}:\n- ${report.problems.join('\n- ')}`);
  process.exit(1);
}
