import type { ReceiptIssuer, ReceiptSubject } from './receipt-issuer.js';

/**
 * What the directory subgraph calls: `noteInput` from the verify root fields, `issue` from the
 * Verification.receipt field once the verdict is judged. The input as sent is not part of the entity
 * key, so it does not reach the entity fetch that judges the verdict; the root fields note it on the
 * request's context (the in-process subgraph shares the gateway's), and a receipt names it when the
 * request sent exactly one written form of that code.
 */
export interface ReceiptHook {
  noteInput(context: unknown, code: string, input: string): void;
  issue(subject: Omit<ReceiptSubject, 'input'>, context: unknown): Promise<string>;
}

export function receiptHook(issuer: ReceiptIssuer): ReceiptHook {
  const inputs = new WeakMap<object, Map<string, Set<string>>>();
  return {
    noteInput(context, code, input) {
      if (typeof context !== 'object' || context === null) return;
      let byCode = inputs.get(context);
      if (!byCode) inputs.set(context, (byCode = new Map()));
      let forms = byCode.get(code);
      if (!forms) byCode.set(code, (forms = new Set()));
      forms.add(input);
    },
    issue(subject, context) {
      const forms = typeof context === 'object' && context !== null ? inputs.get(context)?.get(subject.code) : undefined;
      const input = forms?.size === 1 ? [...forms][0] : undefined;
      return issuer.issue({ ...subject, ...(input !== undefined ? { input } : {}) });
    },
  };
}
