import { DEMO_CODES, VERDICT_EXAMPLES } from './demo/seed.js';

/** What a registry holds, as the gateway answers it (the banner states these, never fixed numbers). */
export interface RegistryCounts {
  enterprises: number;
  models: number;
  units: number;
}

export interface BannerInfo {
  url: string;
  country: string;
  counts: RegistryCounts | null;
  seeded: boolean;
  database: string;
  directoryFile?: string;
  gatewayPid: number;
  nodePid: number;
  nodeUrls: Record<string, string>;
}

/** Asks the gateway what the home registry holds (the seed's token: enterprise and model lists need a role). */
export async function registryCounts(gatewayUrl: string, country: string, headers: Record<string, string>): Promise<RegistryCounts | null> {
  const query = 'query Counts($c: ID!) { registry(country: $c) { unitCount enterprises { totalCount } productModels { totalCount } } }';
  const response = await fetch(gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables: { c: country } }) });
  const registry = ((await response.json()) as { data?: { registry?: { unitCount: number; enterprises: { totalCount: number }; productModels: { totalCount: number } } } }).data?.registry;
  return registry ? { enterprises: registry.enterprises.totalCount, models: registry.productModels.totalCount, units: registry.unitCount } : null;
}

/**
 * What `npm start` prints once both processes serve: where to go, three codes to try, where the tokens
 * and the other examples are. Short on purpose: GraphiQL's Examples panel and the README hold the rest.
 */
export function startBanner(info: BannerInfo): string {
  const origin = new URL(info.url).origin;
  const numbers = info.counts
    ? `${info.counts.enterprises} enterprises, ${info.counts.models} models, ${info.counts.units.toLocaleString('en-US')} units${info.seeded ? ' (demo data, seeded now)' : ''}`
    : 'an empty registry';
  const tryCodes = ['ADMIT', 'STOLEN', 'OPEN_RECALL'].map((reason) => `${reason} ${VERDICT_EXAMPLES[reason]}`).join('   ');
  const verify = `{ verify(code: \\"${VERDICT_EXAMPLES.STOLEN}\\") { verdict reasons { code message } } }`;
  return `
Robot identity registry federation is up: ${info.country} registry with ${numbers}
GraphQL endpoint (open it in a browser for GraphiQL, with the examples and a Headers tab for a token):
  ${info.url}
  a unit's passport page: GET ${origin}/id/<code>, e.g. ${origin}/id/${DEMO_CODES.unit}
Verify a code (anonymous, no token needed):
  curl -s ${info.url} -H 'content-type: application/json' -d '{"query":"${verify}"}'
  ${tryCodes}   (a code per reason: README, "Customs verdict and provenance")
Tokens for the other roles (README, "Who may do what"): npm run -s token -- --role analyst | tail -1
  or --role authority | manufacturer --enterprise ${DEMO_CODES.enterprise} | customs --country DE | partner --country DE
Database: ${info.database}. Partners: ${info.directoryFile ? `from ${info.directoryFile} (watched)` : 'none yet (DIRECTORY_FILE, docs/directory.md)'}. Metrics: GET ${origin}/metrics.
Processes: gateway pid ${info.gatewayPid}, registry node pid ${info.nodePid} (${Object.entries(info.nodeUrls).map(([name, u]) => `${name} ${u}`).join(', ')})
Ctrl+C stops everything (the gateway first, then the registry node).`;
}
