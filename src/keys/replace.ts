/**
 * What happens when a key arrives for an address that may already have keys:
 * pure, so the rules are table-tested before discovery exists.
 *
 * - An admin-imported key is never replaced by a discovered one: a discovered
 *   key of the same kind is not stored while the address has an admin key.
 * - An admin import always goes in; the same key imported again is refreshed
 *   (and becomes source admin if it was discovered).
 * - The same discovered key fetched again is refreshed (a revocation must
 *   reach the directory).
 * - A valid discovered key is never replaced by another one that does not
 *   validate.
 * - A new valid discovered key replaces the address's other discovered keys
 *   of its kind from the same or a less trusted source (the key changed; the
 *   caller audits it). Discovery sources rank DNS (DNSSEC-authenticated
 *   OPENPGPKEY / SMIMEA) over WKD (the domain's own HTTPS server) over a key
 *   server (a third party): a valid key from a more trusted source is never
 *   replaced by one from a less trusted source, so two sources publishing
 *   different keys do not make the address's key flap at every lookup.
 * - The same key found again by a less trusted source is refreshed but keeps
 *   its more trusted source.
 */
import type { KeyKind, KeySource } from './types.js';

export interface StoredKeyRef {
  readonly fingerprint: string;
  readonly kind: KeyKind;
  readonly source: KeySource;
  readonly valid: boolean;
}

export type StoreDecision =
  | { readonly action: 'insert'; readonly replaces: readonly string[] }
  /** `source`: store under this (more trusted) source instead of the incoming one. */
  | { readonly action: 'update'; readonly source?: KeySource }
  | { readonly action: 'keep'; readonly why: 'admin-key-present' | 'valid-key-present' | 'trusted-source-key-present' };

/** Trust of a key's source: higher wins (admin is handled by its own rules). */
export const SOURCE_RANK: Readonly<Record<KeySource, number>> = { admin: 3, dns: 2, wkd: 1, keyserver: 0 };

/** `existing`: the address's stored keys (any kind); `incoming`: the key about to be stored for it. */
export function decideStore(existing: readonly StoredKeyRef[], incoming: StoredKeyRef): StoreDecision {
  const sameKind = existing.filter((k) => k.kind === incoming.kind);
  const same = sameKind.find((k) => k.fingerprint === incoming.fingerprint);
  if (incoming.source === 'admin') return same ? { action: 'update' } : { action: 'insert', replaces: [] };
  if (same?.source === 'admin') return { action: 'keep', why: 'admin-key-present' };
  const rank = SOURCE_RANK[incoming.source];
  if (same) return SOURCE_RANK[same.source] > rank ? { action: 'update', source: same.source } : { action: 'update' };
  if (sameKind.some((k) => k.source === 'admin')) return { action: 'keep', why: 'admin-key-present' };
  if (!incoming.valid && sameKind.some((k) => k.valid)) return { action: 'keep', why: 'valid-key-present' };
  if (sameKind.some((k) => k.valid && SOURCE_RANK[k.source] > rank)) return { action: 'keep', why: 'trusted-source-key-present' };
  return { action: 'insert', replaces: incoming.valid ? sameKind.filter((k) => SOURCE_RANK[k.source] <= rank).map((k) => k.fingerprint) : [] };
}
