import { randomUUID } from 'node:crypto';
import type { RegistryDirectory } from '../directory/registry-directory.js';
import type { ProcessOptions, RegistryClient } from '../routing/registry-client.js';
import type { AuditEntryInput } from './audit-entry.js';
import type { AuditWriter } from './audit-sink.js';
import { GATEWAY_SUBJECT } from '../../lib/access/access-policy.js';


const APPEND = 'mutation AppendAudit($entries: [AuditEntryInput!]!) { appendAudit(entries: $entries) }';

/** Appends entries to the home node's audit log, signed as the gateway itself. */
export function homeAuditWriter(directory: () => RegistryDirectory, client: RegistryClient): AuditWriter {
  return async (entries: AuditEntryInput[]) => {
    const options = {
      request: { query: APPEND, variables: { entries }, operationName: 'AppendAudit' },
      context: { requestId: `audit-${randomUUID()}`, caller: { subject: GATEWAY_SUBJECT, role: null } },
    } as unknown as ProcessOptions;
    const response = await client.sendToAudit(directory().home, options);
    const stored = (response.data as { appendAudit?: unknown } | null | undefined)?.appendAudit;
    if (stored !== entries.length) throw new Error(`audit log refused ${entries.length} entries: ${JSON.stringify(response.errors ?? []).slice(0, 300)}`);
  };
}
