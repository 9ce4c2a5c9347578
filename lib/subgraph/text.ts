import { registryError } from '../errors.js';

/** Trims free text from a client and checks its length (1..max), naming the field when it does not fit. */
export function readText(input: string, field: string, max: number, label = field): string {
  const text = input.trim();
  if (text.length < 1 || text.length > max) {
    throw registryError('BAD_USER_INPUT', `${label} must be 1 to ${max} characters, got ${text.length}`, { field });
  }
  return text;
}

/** Authority decisions (statuses) carry a reason of up to 500 characters, kept in their audit trail. */
export const readReason = (input: string): string => readText(input, 'reason', 500);
