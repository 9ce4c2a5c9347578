import { DATA_SUBGRAPHS } from '../lib/schema/contract.js';

/** The file name the README's "Two countries on one machine" uses; the message names the same one. */
export const PARTNERS_FILE = 'partners.json';

/**
 * What `npm run registry` prints for a node started from a shell: a directory file holding its entry
 * (docs/directory.md: `{ "registries": [...] }`; a partner entry names its four data subgraphs, the audit
 * log is the home node's business) and how a gateway picks it up.
 */
export function partnerEntryMessage(name: string, country: string, urls: Readonly<Record<string, string | undefined>>): string {
  const subgraphs = Object.fromEntries(DATA_SUBGRAPHS.flatMap((sg) => (urls[sg] ? [[sg, urls[sg]]] : [])));
  const file = { registries: [{ name, countries: [country], subgraphs }] };
  return `Registry node for ${country} is up (no gateway in this process). To federate it, save this as ${PARTNERS_FILE}
(or add the entry to the "registries" list of the directory file you already use):

${JSON.stringify(file, null, 2)}

Then start the home registry with it: DIRECTORY_FILE=${PARTNERS_FILE} npm start
A gateway that already reads that file (npm start with DIRECTORY_FILE, or npm run gateway) applies the edit
within a moment, without a restart; one started without DIRECTORY_FILE must be restarted with it.
`;
}
