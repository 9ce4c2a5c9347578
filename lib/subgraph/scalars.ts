import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { GraphQLDateTime } from 'graphql-scalars';

// RFC 3339 date-time: seconds required (graphql-scalars refuses a time without them), fraction optional.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function badDateTime(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

/**
 * Accepts only full ISO-8601 date-times with an offset: a bare date is ambiguous across borders.
 * graphql-scalars checks the calendar (days per month, leap years), which `new Date` would roll over.
 */
export function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value)) {
    throw badDateTime(`DateTime must be an ISO-8601 date-time with seconds and offset (2026-11-20T08:00:00Z), got ${JSON.stringify(value)}`);
  }
  let date: unknown;
  try {
    date = GraphQLDateTime.parseValue(value);
  } catch {
    throw badDateTime(`DateTime ${JSON.stringify(value)} is not a real date`);
  }
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) throw badDateTime(`DateTime ${JSON.stringify(value)} is not a real date`);
  return date;
}

export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(value as string);
    if (Number.isNaN(date.getTime())) throw new Error(`cannot serialise ${String(value)} as DateTime`);
    return date.toISOString();
  },
  parseValue: parseDateTime,
  parseLiteral(ast) {
    return parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined);
  },
});
