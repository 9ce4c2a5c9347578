import type { ApolloServer } from '@apollo/server';
import type { LimitsContext } from '../limits/limits-plugin.js';

export type OperationResponse = Awaited<ReturnType<ApolloServer<LimitsContext>['executeOperation']>>;

/** Why an operation the gateway ran on a caller's behalf (passport, EPCIS) gave no usable answer: its first error. */
export interface OperationRefusal {
  /** The HTTP status Apollo chose, or 503 when it answered 2xx with errors only. */
  status: number;
  code: string;
  message: string;
  extensions: Record<string, unknown>;
  retryAfter?: string;
}

export function operationRefusal(response: OperationResponse): OperationRefusal {
  const result = response.body.kind === 'single' ? response.body.singleResult : null;
  const error = result?.errors?.[0];
  const status = response.http.status ?? 500;
  return {
    status: status >= 400 ? status : 503,
    code: String(error?.extensions?.code ?? 'INTERNAL_SERVER_ERROR'),
    message: error?.message ?? 'the registry could not answer',
    extensions: (error?.extensions ?? {}) as Record<string, unknown>,
    retryAfter: response.http.headers.get('retry-after') ?? undefined,
  };
}
