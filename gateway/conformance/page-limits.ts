import type { DataSubgraphName } from '../../lib/schema/contract.js';
import type { Send } from './behaviour.js';
import { ask, codeOf, errorsOf, REFUSAL_CODES, shown, shownErrors, type Findings } from './findings.js';

/**
 * Page limits of the connections a subgraph serves, reached through `_entities` with keys that always
 * resolve (the own `Registry`; a well-formed code of the node's country for the types a subgraph only
 * contributes to): `first` above 500 is LIMIT_EXCEEDED with max 500 (not a clamp), a negative `first`
 * and a cursor the node never issued are BAD_USER_INPUT, `first: 0` is an empty page that still counts,
 * and pages of 2 give the same items in the same order as one page of 10.
 */
export const MAX_PAGE = 500;
/** Base64url-looking but never issued, and with characters no base64url cursor has. */
export const FOREIGN_CURSOR = 'not a cursor this node issued!';

interface Connection {
  /** `Registry.units` */
  name: string;
  representation: (country: string) => Record<string, unknown>;
  type: string;
  field: string;
  /** Extra arguments, e.g. `state: REGISTERED`. */
  args?: string;
  /** Selection identifying a node (for the paging comparison). */
  node: string;
}

const registry = (country: string) => ({ __typename: 'Registry', country });
const ownModel = (country: string) => ({ __typename: 'ProductModel', code: (country + 'ZZZZZZZZZZ').slice(0, 12) });
const ownEnterprise = (country: string) => ({ __typename: 'Enterprise', code: (country + 'ZZZZ').slice(0, 6) });
const ownUnit = (country: string) => ({ __typename: 'Unit', code: (country + 'Z'.repeat(29)).slice(0, 29) });

export const CONNECTIONS: Record<DataSubgraphName, Connection[]> = {
  units: [
    { name: 'Registry.units', representation: registry, type: 'Registry', field: 'units', node: 'code' },
    { name: 'ProductModel.units', representation: ownModel, type: 'ProductModel', field: 'units', node: 'code' },
  ],
  enterprises: [{ name: 'Registry.enterprises', representation: registry, type: 'Registry', field: 'enterprises', node: 'code' }],
  'product-models': [
    { name: 'Registry.productModels', representation: registry, type: 'Registry', field: 'productModels', node: 'code' },
    { name: 'Enterprise.productModels', representation: ownEnterprise, type: 'Enterprise', field: 'productModels', node: 'code' },
  ],
  lifecycle: [
    { name: 'Registry.events', representation: registry, type: 'Registry', field: 'events', node: 'eventId' },
    { name: 'Registry.unitsInState', representation: registry, type: 'Registry', field: 'unitsInState', args: 'state: REGISTERED', node: 'code' },
    { name: 'Unit.events', representation: ownUnit, type: 'Unit', field: 'events', node: 'eventId' },
  ],
};

export async function pageLimitFindings(subgraph: DataSubgraphName, country: string, send: Send): Promise<Findings> {
  const problems: string[] = [];
  const notes: string[] = [];
  for (const connection of CONNECTIONS[subgraph]) {
    const representation = connection.representation(country);
    const page = async (args: string) => {
      const all = [connection.args, args].filter(Boolean).join(', ');
      const answer = await ask(
        send,
        `query ConformancePage($r: [_Any!]!) { _entities(representations: $r) { ... on ${connection.type} { ${connection.field}(${all}) { edges { node { ${connection.node} } } pageInfo { hasNextPage endCursor } totalCount } } } }`,
        { r: [representation] },
      );
      return { answer, connection: answer.data?._entities?.[0]?.[connection.field], errors: errorsOf(answer) };
    };
    const at = `${connection.name} of ${shown(representation)}`;
    const ten = await page('first: 10');
    if (!ten.connection) {
      if (ten.errors.some((e) => REFUSAL_CODES.has(String(codeOf(e))))) {
        notes.push(`page limits of ${connection.name} not checked: it needs a signed-in reader on this node (${shownErrors(ten.errors)}); give the check its signing secret (--signing-secret-env NAME)`);
      } else {
        problems.push(`${at}(first: 10): expected a connection, got ${shown(ten.connection ?? null)} (${shownErrors(ten.errors)})`);
      }
      continue;
    }
    const expectError = async (args: string, code: string, expected: string, extra?: (e: Record<string, unknown>) => boolean) => {
      const got = await page(args);
      const error = got.errors[0];
      if (got.errors.length !== 1 || codeOf(error) !== code || (extra && !extra(error?.extensions ?? {}))) {
        const answered = got.connection ? `a page of ${got.connection.edges?.length ?? '?'} items, ` : '';
        problems.push(`${at}(${args}): expected ${expected}, got ${answered}${shownErrors(got.errors)}${error?.extensions ? ` (extensions ${shown(error.extensions)})` : ''}`);
      }
    };
    await expectError(`first: ${MAX_PAGE + 1}`, 'LIMIT_EXCEEDED', `an error LIMIT_EXCEEDED with extensions.max ${MAX_PAGE} (not a clamp to ${MAX_PAGE})`, (e) => e.max === MAX_PAGE);
    await expectError('first: -1', 'BAD_USER_INPUT', 'an error BAD_USER_INPUT');
    await expectError(`first: 2, after: ${JSON.stringify(FOREIGN_CURSOR)}`, 'BAD_USER_INPUT', 'an error BAD_USER_INPUT (a cursor the node never issued)');

    const total = ten.connection.totalCount;
    const zero = await page('first: 0');
    const z = zero.connection;
    const expectedZero = { edges: [], pageInfo: { hasNextPage: total > 0, endCursor: null }, totalCount: total };
    if (zero.errors.length || !z || shown(z) !== shown(expectedZero)) {
      problems.push(`${at}(first: 0): expected ${shown(expectedZero)} (no items, the same totalCount, hasNextPage when there are items), got ${shown(z ?? null)} (${shownErrors(zero.errors)})`);
    }

    const wanted = (ten.connection.edges ?? []).map((e: { node?: Record<string, unknown> }) => e?.node?.[connection.node]);
    const paged: unknown[] = [];
    let after: string | null = null;
    for (let round = 0; round < 5 && paged.length < wanted.length; round++) {
      const next = await page(`first: 2${after ? `, after: ${JSON.stringify(after)}` : ''}`);
      if (!next.connection) {
        problems.push(`${at}(first: 2${after ? `, after: ${shown(after)}` : ''}): expected the next page, got ${shownErrors(next.errors)}`);
        break;
      }
      paged.push(...(next.connection.edges ?? []).map((e: { node?: Record<string, unknown> }) => e?.node?.[connection.node]));
      after = next.connection.pageInfo?.endCursor ?? null;
      if (!next.connection.pageInfo?.hasNextPage || !after) break;
    }
    const compared = Math.min(wanted.length, 10);
    if (shown(paged.slice(0, compared), 1000) !== shown(wanted.slice(0, compared), 1000)) {
      problems.push(`${at}: pages of 2 must give the items of one page of 10 in the same order (no duplicates or gaps): expected ${shown(wanted.slice(0, compared))}, got ${shown(paged.slice(0, compared))}`);
    }
  }
  return { problems, notes };
}
