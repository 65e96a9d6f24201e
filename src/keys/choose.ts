/**
 * Which of an address's directory keys would be used, and why each other
 * one would not: pure. A key must be valid as of now; among valid keys an
 * admin-imported one comes first, then the most recently created (then the
 * fingerprint, so the choice is stable). `keys.prefer` (smime | pgp) will
 * refine this when encryption lands.
 */
import { currentVerdict } from './import.js';
import type { KeyReason, KeyRecord } from './types.js';

/** Why a key is (not) the one used: `used`, a verdict reason, or a preference. */
export type KeyWhy = 'used' | Exclude<KeyReason, 'valid'> | 'admin-key-preferred' | 'another-key-preferred' | 'admin-key-present' | 'other-kind-preferred' | 'trusted-source-key-present';

export const WHY_TEXT: Record<Exclude<KeyWhy, Exclude<KeyReason, 'valid'>>, string> = {
  used: 'this key would be used',
  'admin-key-preferred': 'valid, but an admin-imported key is preferred',
  'another-key-preferred': 'valid, but a more recently created key is preferred',
  'admin-key-present': 'not stored: an admin-imported key is never replaced by a discovered one',
  'other-kind-preferred': 'valid, but the address also has a valid key of the kind keys.prefer names',
  'trusted-source-key-present': 'not stored: the address has a valid key from a more trusted source (DNS, then WKD, then key server)',
};

export interface Choice {
  readonly used: string | undefined;
  readonly why: Readonly<Record<string, KeyWhy>>;
}

export function chooseKey(rows: readonly Pick<KeyRecord, 'fingerprint' | 'source' | 'valid' | 'reason' | 'expiresAt' | 'createdAt'>[], now: number): Choice {
  const why: Record<string, KeyWhy> = {};
  const usable = rows.filter((r) => {
    const v = currentVerdict(r, now);
    if (!v.valid) why[r.fingerprint] = v.reason as Exclude<KeyReason, 'valid'>;
    return v.valid;
  });
  usable.sort((a, b) => Number(b.source === 'admin') - Number(a.source === 'admin') || b.createdAt - a.createdAt || a.fingerprint.localeCompare(b.fingerprint));
  const best = usable[0];
  for (const r of usable) why[r.fingerprint] = r === best ? 'used' : best?.source === 'admin' && r.source !== 'admin' ? 'admin-key-preferred' : 'another-key-preferred';
  return { used: best?.fingerprint, why };
}

type Choosable = Pick<KeyRecord, 'fingerprint' | 'kind' | 'source' | 'valid' | 'reason' | 'expiresAt' | 'createdAt'>;

/** chooseKey over each kind's rows alone. */
function choicePerKind(rows: readonly Choosable[], now: number): Record<KeyRecord['kind'], Choice> {
  const of = (kind: KeyRecord['kind']): Choice =>
    chooseKey(
      rows.filter((r) => r.kind === kind),
      now,
    );
  return { pgp: of('pgp'), smime: of('smime') };
}

/** The key of each kind that would be used for an address: chooseKey over that kind's rows alone. */
export function usableKeys<R extends Choosable>(rows: readonly R[], now: number): { readonly pgp?: R; readonly smime?: R } {
  const choice = choicePerKind(rows, now);
  const pgp = rows.find((r) => r.fingerprint === choice.pgp.used && r.kind === 'pgp');
  const smime = rows.find((r) => r.fingerprint === choice.smime.used && r.kind === 'smime');
  return { ...(pgp ? { pgp } : {}), ...(smime ? { smime } : {}) };
}

/**
 * Which key end-to-end delivery would use, as delivery chooses it: the key
 * of each kind (chooseKey over that kind's rows), then `prefer` between the
 * two kinds (keys.prefer). The other kind's chosen key is "valid, but the
 * other kind is preferred".
 */
export function chooseForDelivery(rows: readonly Choosable[], now: number, prefer: KeyRecord['kind']): Choice {
  const choice = choicePerKind(rows, now);
  const why: Record<string, KeyWhy> = { ...choice.pgp.why, ...choice.smime.why };
  const other = prefer === 'pgp' ? 'smime' : 'pgp';
  const chosen = choice[prefer].used ?? choice[other].used;
  const passedOver = choice[prefer].used ? choice[other].used : undefined;
  if (passedOver) why[passedOver] = 'other-kind-preferred';
  return { used: chosen, why };
}
