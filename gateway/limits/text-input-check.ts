import { Kind, visit, type DocumentNode, type ValueNode } from 'graphql';
import { limitError } from './limit-error.js';

/**
 * NUL and the other C0/C1 control characters have no place in a code, a name or a reason, and NUL makes
 * Postgres fail the whole statement. Tab, line feed and carriage return stay allowed: free text (a recall
 * reason, a repair note) may legitimately hold several lines.
 */
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/**
 * Arguments (field.argument) that take any text and judge it themselves: customs' verify never raises an
 * error for a bad code, it answers REFUSE with MALFORMED_CODE, and the code never reaches a database.
 */
const JUDGED_BY_THE_FIELD = new Set(['verify.code', 'verifyMany.codes', 'parseCode.code']);

/** What a document alone decides: a literal at fault, and which variables need their values checked. */
interface DocumentVerdict {
  literal: string | null;
  variables: Set<string>;
}

/** Per parsed document: Apollo keeps one per query text, so a repeated query is walked once. */
const verdicts = new WeakMap<DocumentNode, DocumentVerdict>();

/** Refuses (BAD_USER_INPUT) the first string literal or string variable, at any depth, holding one. */
export function checkTextInputs(document: DocumentNode, variables: Record<string, unknown>): void {
  let verdict = verdicts.get(document);
  if (!verdict) verdicts.set(document, (verdict = judgeDocument(document)));
  if (verdict.literal !== null) refuse(verdict.literal);
  for (const [name, value] of Object.entries(variables)) {
    if (!verdict.variables.has(name)) continue;
    const where = findInValue(value, '');
    if (where !== null) refuse(`variable "$${name}${where}"`);
  }
}

function judgeDocument(document: DocumentNode): DocumentVerdict {
  const verdict: DocumentVerdict = { literal: null, variables: new Set<string>() };
  visit(document, {
    Argument(node, _key, _parent, _path, ancestors) {
      const field = [...ancestors].reverse().find((a) => (a as { kind?: string }).kind === Kind.FIELD) as { name: { value: string } } | undefined;
      if (field && JUDGED_BY_THE_FIELD.has(`${field.name.value}.${node.name.value}`)) return false;
      const where = findInLiteral(node.value, '');
      if (where !== null && verdict.literal === null) verdict.literal = `argument "${node.name.value}${where}"${field ? ` of ${field.name.value}` : ''}`;
      visit(node.value, { Variable: (v) => void verdict.variables.add(v.name.value) });
      return undefined;
    },
  });
  return verdict;
}

function refuse(what: string): never {
  throw limitError('BAD_USER_INPUT', `${what} holds a control character (only tab, line feed and carriage return are allowed in text)`);
}

function findInLiteral(node: ValueNode, path: string): string | null {
  switch (node.kind) {
    case Kind.STRING:
      return CONTROL.test(node.value) ? path : null;
    case Kind.LIST:
      for (const [i, item] of node.values.entries()) {
        const where = findInLiteral(item, `${path}[${i}]`);
        if (where !== null) return where;
      }
      return null;
    case Kind.OBJECT:
      for (const field of node.fields) {
        const where = findInLiteral(field.value, `${path}.${field.name.value}`);
        if (where !== null) return where;
      }
      return null;
    default:
      return null;
  }
}

function findInValue(value: unknown, path: string): string | null {
  if (typeof value === 'string') return CONTROL.test(value) ? path : null;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const where = findInValue(item, `${path}[${i}]`);
      if (where !== null) return where;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const where = findInValue(item, `${path}.${key}`);
      if (where !== null) return where;
    }
  }
  return null;
}
