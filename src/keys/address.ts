/**
 * Address handling for the key directory: the local part is compared exactly
 * (RFC 5321 lets the receiving domain decide its case), the domain without
 * regard to case.
 */
import { SealgateError } from '../errors.js';

const MAX_ADDRESS = 254;

/** Local part as written, domain lower case; throws SG_USAGE for something that is not an address. */
export function normalizeAddress(address: string): string {
  const a = address.trim();
  const at = a.lastIndexOf('@');
  if (at <= 0 || at === a.length - 1 || a.length > MAX_ADDRESS || /[\s<>]/.test(a)) {
    throw new SealgateError('SG_USAGE', { message: 'expected an e-mail address such as alice@example.org' });
  }
  return `${a.slice(0, at)}@${a.slice(at + 1).toLowerCase()}`;
}

/** The same address as `normalizeAddress`, or undefined when it is not one. */
export function tryNormalizeAddress(address: string): string | undefined {
  try {
    return normalizeAddress(address);
  } catch {
    return undefined;
  }
}

/** True when `a` and `b` name the same mailbox: exact local part, case-insensitive domain. */
export function sameAddress(a: string, b: string): boolean {
  const x = tryNormalizeAddress(a);
  return x !== undefined && x === tryNormalizeAddress(b);
}
