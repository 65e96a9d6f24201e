/**
 * The openpgp library, loaded on its first use instead of with the daemon:
 * it is the largest module the daemon would hold (about 2.3 MB of compiled
 * code and 2.4 MB of source text in the main thread's heap), and a relay
 * that never encrypts end to end, reads a key or makes one never needs it.
 * The import is made once; every caller shares it.
 */
import type * as Openpgp from 'openpgp';

let loading: Promise<typeof Openpgp> | undefined;

export function loadOpenpgp(): Promise<typeof Openpgp> {
  return (loading ??= import('openpgp'));
}
