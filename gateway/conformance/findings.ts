import type { Send } from './behaviour.js';

/** What one group of checks found: problems refuse a node, notes do not. */
export interface Findings {
  problems: string[];
  notes: string[];
}

export interface GraphQLErrorLike {
  message?: unknown;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

export type Answer = Awaited<ReturnType<Send>>;

export function errorsOf(answer: Answer): GraphQLErrorLike[] {
  return Array.isArray(answer.errors) ? (answer.errors as GraphQLErrorLike[]) : [];
}

export function codeOf(error: GraphQLErrorLike | undefined): unknown {
  return error?.extensions?.code;
}

/** A short, one-line rendering of a value for a problem message. */
export function shown(value: unknown, max = 160): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  text = text.replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** "no errors" or `2 errors: MALFORMED_CODE at ["units",2] "malformed…"; ...` */
export function shownErrors(errors: readonly GraphQLErrorLike[]): string {
  if (errors.length === 0) return 'no error';
  return errors
    .slice(0, 3)
    .map((e) => `${codeOf(e) ?? 'no extensions.code'}${e.path ? ` at ${shown(e.path)}` : ''} ${shown(e.message, 80)}`)
    .join('; ')
    .concat(errors.length > 3 ? `; and ${errors.length - 3} more` : '');
}

/** Sends, turning a thrown failure (unreachable, not JSON) into an answer with one error. */
export async function ask(send: Send, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  try {
    return await send(query, variables);
  } catch (error) {
    return { errors: [{ message: `request failed: ${(error as Error).message}`, extensions: { code: 'REQUEST_FAILED' } }] };
  }
}

/** Codes that say "you may not read this": lists on a node that needs a signed-in reader. */
export const REFUSAL_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);
