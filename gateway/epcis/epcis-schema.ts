import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { repoRoot } from '../../lib/schema/contract.js';

/**
 * The JSON schema of the ratified EPCIS 2.0 standard, vendored from GS1's repository
 * (vendor/gs1-epcis/README.md), compiled once with ajv. Capture validates every incoming document with
 * it before mapping anything; the tests validate what GET /epcis/events answers with the same function.
 */
export const SCHEMA_FILE = join('vendor', 'gs1-epcis', 'EPCIS-JSON-Schema.json');

// ajv and ajv-formats are CommonJS with a `default` export; under NodeNext the class sits one level down.
const Ajv = AjvModule.default;
const addFormats = addFormatsModule.default;

let compiled: ValidateFunction | undefined;

/** Loads and compiles the schema now (the gateway calls it at start-up, so a missing file stops it there). */
export function validator(): ValidateFunction {
  if (compiled) return compiled;
  const schema = JSON.parse(readFileSync(join(repoRoot(), SCHEMA_FILE), 'utf8')) as object;
  // strict: false because GS1's draft-07 schema uses keywords ajv's strict mode flags (e.g. unknown formats' siblings).
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return (compiled = ajv.compile(schema));
}

export interface SchemaProblem {
  /** JSON pointer into the document, e.g. /epcisBody/eventList/0/eventTime */
  pointer: string;
  message: string;
}

/** The document's problems against the official schema (empty when it validates), at most `max` of them. */
export function epcisSchemaProblems(document: unknown, max = 20): SchemaProblem[] {
  const validate = validator();
  if (validate(document)) return [];
  return dedupe(validate.errors ?? []).slice(0, max);
}

// if/then and anyOf branches repeat the same failure several times; one line per pointer and message is enough.
function dedupe(errors: ErrorObject[]): SchemaProblem[] {
  const seen = new Set<string>();
  const out: SchemaProblem[] = [];
  for (const error of errors) {
    if (error.keyword === 'if' || error.keyword === 'anyOf' || error.keyword === 'allOf') continue;
    const extra = error.keyword === 'enum' ? ` (${(error.params as { allowedValues?: unknown[] }).allowedValues?.slice(0, 8).join(', ')}...)` : '';
    const problem = { pointer: error.instancePath || '/', message: `${error.message ?? error.keyword}${extra}` };
    const key = `${problem.pointer} ${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(problem);
    }
  }
  return out.length ? out : [{ pointer: '/', message: 'does not validate against the EPCIS 2.0 JSON schema' }];
}
