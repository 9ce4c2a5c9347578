import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestContext } from '../../lib/server/request-context.js';
import { auditEntry, isAudited } from './audit-entry.js';
import type { AuditSink } from './audit-sink.js';

/** Appends one audit entry per audited request, after its answer is known (verdicts, outcome). */
export function auditPlugin(sink: AuditSink, enabled: () => boolean = () => true): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ operation, request, contextValue, response }) {
          if (!operation || !enabled() || !isAudited(operation, contextValue)) return;
          const single = response.body.kind === 'single' ? response.body.singleResult : null;
          sink.add(auditEntry(operation, request.variables ?? {}, contextValue, single?.data as Record<string, unknown> | null, single?.errors));
        },
      };
    },
  };
}
