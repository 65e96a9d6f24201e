/**
 * Posture memory, like HSTS for mail: the best transport security each
 * recipient domain has shown on a successful delivery is remembered (table
 * `tls_posture`). Within `tls.postureMemory`, protected mail to the domain
 * must get at least that again; a weaker MX (STARTTLS gone, certificate no
 * longer valid) is treated as an attack: the mail is not delivered the weaker
 * way and the downgrade is alerted. `sealgate probe accept DOMAIN` forgets
 * the posture after a deliberate change.
 */
import type { Queryable } from '../db/database.js';
import { TRANSPORT_REQUIREMENTS, type TransportRequirement } from '../delivery/transport-requirement.js';

export interface ObservedTls {
  readonly version: string;
  /** The certificate chained to a trusted CA and named the MX host. */
  readonly authorized: boolean;
}

/** Pure: the requirement a delivery's TLS (or its absence) would satisfy. */
export function postureLevel(tls: ObservedTls | undefined): TransportRequirement {
  if (!tls) return 'none';
  const modern = tls.version === 'TLSv1.2' || tls.version === 'TLSv1.3';
  if (!modern) return 'may';
  return tls.authorized ? 'verify' : 'encrypt';
}

const rank = (r: TransportRequirement): number => TRANSPORT_REQUIREMENTS.indexOf(r);

export interface RememberedPosture {
  readonly level: TransportRequirement;
  readonly lastSeen: number;
}

/** Pure: the posture that binds now, if any (within the memory window). */
export function bindingPosture(p: RememberedPosture | undefined, now: number, memoryMs: number): TransportRequirement | undefined {
  if (!p || memoryMs <= 0 || now - p.lastSeen > memoryMs) return undefined;
  return p.level === 'none' || p.level === 'may' ? undefined : p.level;
}

export async function loadPosture(db: Queryable, domain: string): Promise<RememberedPosture | undefined> {
  const row = await db.get<{ best: string; last_seen: number }>('SELECT best, last_seen FROM tls_posture WHERE domain = ?', [domain]);
  if (!row) return undefined;
  const best = JSON.parse(row.best) as { level?: string };
  const level = TRANSPORT_REQUIREMENTS.find((r) => r === best.level);
  return level ? { level, lastSeen: row.last_seen } : undefined;
}

/**
 * Records a successful delivery's posture: the best level seen is kept (a
 * weaker success — possible only for unprotected mail — never lowers it), and
 * last_seen moves on whenever the best level was met again.
 */
export async function recordPosture(db: Queryable, domain: string, observed: TransportRequirement, now: number): Promise<void> {
  const current = await loadPosture(db, domain);
  if (!current) {
    await db.run('INSERT INTO tls_posture (domain, best, first_seen, last_seen) VALUES (?, ?, ?, ?)', [domain, JSON.stringify({ level: observed }), now, now]);
    return;
  }
  if (rank(observed) > rank(current.level)) {
    await db.run('UPDATE tls_posture SET best = ?, last_seen = ? WHERE domain = ?', [JSON.stringify({ level: observed }), now, domain]);
  } else if (rank(observed) === rank(current.level)) {
    await db.run('UPDATE tls_posture SET last_seen = ? WHERE domain = ?', [now, domain]);
  }
}

/** `sealgate probe accept DOMAIN`: forget the remembered posture; the next delivery sets it again. */
export async function forgetPosture(db: Queryable, domain: string): Promise<boolean> {
  const r = await db.run('DELETE FROM tls_posture WHERE domain = ?', [domain]);
  return r.changes > 0;
}
