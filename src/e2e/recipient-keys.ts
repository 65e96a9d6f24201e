/**
 * The keys end-to-end encryption may use for one recipient: discovery
 * (src/keys/lookup.ts, bounded by keys.discovery.timeout and cached) and
 * then, of the address's directory rows, the key of each kind that is valid
 * now (src/keys/choose.ts). A lookup that fails counts as "no key": the
 * decision is then made without one, which never weakens the protection
 * (without a key the recipient gets verified TLS, the portal or a hold).
 */
import { tryNormalizeAddress } from '../keys/address.js';
import { usableKeys } from '../keys/choose.js';
import type { LookupResult } from '../keys/lookup.js';
import type { KeyRecord } from '../keys/types.js';
import type { KeyRef, RecipientCapabilities } from '../policy/decide.js';

export interface RecipientKeys {
  readonly pgp?: KeyRecord;
  readonly smime?: KeyRecord;
}

export interface KeyFinderDeps {
  /** lookupKeys with the configured discovery (src/keys/discovery.ts). */
  readonly lookup: (address: string) => Promise<LookupResult>;
  readonly now: () => number;
  /** Told when a lookup failed (the error code only). */
  readonly onError?: (code: string) => void;
}

export async function findRecipientKeys(address: string, deps: KeyFinderDeps): Promise<RecipientKeys> {
  // not an address a key can name: no key
  const normalized = tryNormalizeAddress(address);
  if (normalized === undefined) return {};
  try {
    const result = await deps.lookup(normalized);
    return usableKeys(result.keys, deps.now());
  } catch (err) {
    deps.onError?.((err as { code?: string }).code ?? 'lookup failed');
    return {};
  }
}

const keyRef = (k: KeyRecord | undefined): KeyRef | undefined => (k ? { fingerprint: k.fingerprint, source: k.source } : undefined);

/** Pure: what a recipient's keys give the decision (which key of each kind, and its source). */
export function keyCapabilities(keys: RecipientKeys): Pick<RecipientCapabilities, 'pgpKey' | 'smimeCertificate'> {
  return { pgpKey: keyRef(keys.pgp), smimeCertificate: keyRef(keys.smime) };
}
