/** Fingerprints as typed by operators: any case, with spaces or colons. */
import { SealgateError } from '../errors.js';

/** Lower-case hex without separators; SG_USAGE when it is not 40 or 64 hex digits. */
export function normalizeFingerprint(input: string): string {
  const f = input.replace(/[\s:]/g, '').toLowerCase();
  if (!/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/.test(f)) {
    throw new SealgateError('SG_USAGE', { message: 'expected a fingerprint: 40 hex digits (OpenPGP) or 64 (S/MIME SHA-256)' });
  }
  return f;
}
