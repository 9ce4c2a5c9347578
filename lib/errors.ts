import { GraphQLError } from 'graphql';

/**
 * Stable, machine-readable error codes: clients and partner registries branch on `extensions.code`,
 * never on messages.
 */
export const REGISTRY_ERROR_CODES = [
  'MALFORMED_CODE',
  'UNKNOWN_COUNTRY',
  'FOREIGN_COUNTRY',
  'ALREADY_REGISTERED',
  'UNKNOWN_ENTERPRISE',
  'UNKNOWN_MODEL',
  'UNKNOWN_UNIT',
  'UNKNOWN_RECALL',
  'RECALL_CLOSED',
  'ENTERPRISE_NOT_ACTIVE',
  'MODEL_NOT_ACTIVE',
  'EVENT_CONFLICT',
  'EVENT_REFUSED',
  'BAD_USER_INPUT',
  'LIMIT_EXCEEDED',
  'REGISTRY_UNAVAILABLE',
  // registerUnits: a request key reused for a different input.
  'REQUEST_KEY_CONFLICT',
  // Access control (lib/access): no credential, or one without the right.
  'UNAUTHENTICATED',
  'FORBIDDEN',
  // A receipt asked of a gateway that has no receipt key (gateway/receipts).
  'RECEIPTS_DISABLED',
  // Alert subscriptions: a webhook URL the directory does not allow, or a private address.
  'URL_NOT_ALLOWED',
] as const;

export type RegistryErrorCode = (typeof REGISTRY_ERROR_CODES)[number];

export function registryError(
  code: RegistryErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

export function assertNever(value: never, what: string): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
