import { buildSubgraphSchema } from '@apollo/subgraph';
import { Kind, parse, print, TypeInfo, visit, visitWithTypeInfo, type DocumentNode, type GraphQLSchema } from 'graphql';
import { loadSdl, type DataSubgraphName } from '../../lib/schema/contract.js';
import { optionalFields } from './contract-additions.js';

/**
 * A partner node of an earlier contract version lacks the fields later versions added. Asked for one, it
 * refuses the whole fetch ("Cannot query field ..."), which would blank every other field of the items in
 * it. So the gateway learns, from that refusal, which optional fields a node lacks, asks again without
 * them, and leaves them out of what it asks that node for a while: they read null, as the SDL documents.
 */
const RELEARN_AFTER_MS = 10 * 60_000;

interface Request {
  request: { query?: string };
}
interface Answer {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string }[];
}

const learned = new Map<string, { missing: Set<string>; until: number }>();
const schemas = new Map<DataSubgraphName, GraphQLSchema>();

/**
 * What the conformance check found a node's SDL lacks (the optional fields of later contract versions),
 * so that the gateway leaves them out from the first fetch instead of learning it from a refusal. It is
 * taken as learned now, and asked again after the same while as a refusal would be (the node may be upgraded).
 */
export function rememberUnserved(key: string, fields: readonly string[]): void {
  learned.set(key, { missing: new Set(fields), until: Date.now() + RELEARN_AFTER_MS });
}

/**
 * Sends `options` through `post`, without the optional fields the node behind `key` is known to lack;
 * a refusal naming other optional fields teaches them and the fetch is sent once more without them.
 */
export async function sendWithinPartnerContract<O extends Request, A extends Answer>(
  key: string,
  subgraph: DataSubgraphName,
  options: O,
  post: (options: O) => Promise<A>,
): Promise<A> {
  const query = options.request.query;
  const optional = optionalFields(subgraph);
  // The common case: the fetch asks for nothing a node may lack.
  if (!query || !optional.some((coordinate) => query.includes(coordinate.slice(coordinate.indexOf('.') + 1)))) return post(options);
  const known = learned.get(key);
  const missing = known && known.until > Date.now() ? known.missing : new Set<string>();
  const answer = await post(withoutFields(subgraph, options, missing));
  const refused = optional.filter((coordinate) => !missing.has(coordinate) && (answer.errors ?? []).some((e) => namesField(e.message, coordinate)));
  if (refused.length === 0) return answer;
  const now = new Set([...missing, ...refused]);
  learned.set(key, { missing: now, until: Date.now() + RELEARN_AFTER_MS });
  return post(withoutFields(subgraph, options, now));
}

/** "Cannot query field "statusHistory" on type "Enterprise"." (graphql-js) and the like in other stacks. */
function namesField(message: unknown, coordinate: string): boolean {
  if (typeof message !== 'string') return false;
  const [type, field] = coordinate.split('.') as [string, string];
  return new RegExp(`\\b${field}\\b`).test(message) && new RegExp(`\\b${type}\\b`).test(message) && /field/i.test(message);
}

function withoutFields<O extends Request>(subgraph: DataSubgraphName, options: O, missing: Set<string>): O {
  if (missing.size === 0 || !options.request.query) return options;
  const schema = schemaOf(subgraph);
  const typeInfo = new TypeInfo(schema);
  const stripped = visit(
    parse(options.request.query),
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        return parent && missing.has(`${parent.name}.${node.name.value}`) ? null : undefined;
      },
    }),
  );
  return { ...options, request: { ...options.request, query: print(validAfterStripping(stripped)) } };
}

/**
 * A document left valid after fields were stripped from it: a selection left empty asks `__typename`, and
 * a variable only a stripped field used is no longer declared ("Variable "$x" is never used" otherwise).
 */
export function validAfterStripping(document: DocumentNode): DocumentNode {
  const used = new Set<string>();
  const filled = visit(document, {
    Variable(node) {
      used.add(node.name.value);
    },
    VariableDefinition() {
      return false; // a definition's own variable is not a use
    },
    SelectionSet: {
      leave(node) {
        return node.selections.length ? undefined : { ...node, selections: [{ kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } }] };
      },
    },
  });
  return visit(filled, {
    VariableDefinition(node) {
      return used.has(node.variable.name.value) ? false : null;
    },
  });
}

/** The contract's schema of a data subgraph (as a partner serves it), built once. */
export function schemaOf(subgraph: DataSubgraphName): GraphQLSchema {
  let schema = schemas.get(subgraph);
  if (!schema) schemas.set(subgraph, (schema = buildSubgraphSchema(parse(loadSdl(subgraph)))));
  return schema;
}
