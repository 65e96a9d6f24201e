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
 *   of its kind (the key changed; the caller audits it).
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
  | { readonly action: 'update' }
  | { readonly action: 'keep'; readonly why: 'admin-key-present' | 'valid-key-present' };

/** `existing`: the address's stored keys (any kind); `incoming`: the key about to be stored for it. */
export function decideStore(existing: readonly StoredKeyRef[], incoming: StoredKeyRef): StoreDecision {
  const sameKind = existing.filter((k) => k.kind === incoming.kind);
  const same = sameKind.find((k) => k.fingerprint === incoming.fingerprint);
  if (incoming.source === 'admin') return same ? { action: 'update' } : { action: 'insert', replaces: [] };
  if (same?.source === 'admin') return { action: 'keep', why: 'admin-key-present' };
  if (same) return { action: 'update' };
  if (sameKind.some((k) => k.source === 'admin')) return { action: 'keep', why: 'admin-key-present' };
  if (!incoming.valid && sameKind.some((k) => k.valid)) return { action: 'keep', why: 'valid-key-present' };
  return { action: 'insert', replaces: incoming.valid ? sameKind.map((k) => k.fingerprint) : [] };
}
