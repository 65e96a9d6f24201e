/**
 * Posture memory, like HSTS for mail: the best transport security each
 * recipient domain has shown on a successful delivery is remembered (table
 * `tls_posture`). Within `tls.postureMemory`, protected mail to the domain
 * must get at least that again; a weaker MX (STARTTLS gone, certificate no
 * longer valid) is treated as an attack: the mail is not delivered the weaker
 * way and the downgrade is alerted. `sealgate probe accept DOMAIN` forgets
 * the posture after a deliberate change.
 */
import type { SqlQueryable } from '../db/sql-database.js';
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

async function postureRow(db: SqlQueryable, domain: string): Promise<{ best: string; posture: RememberedPosture | undefined } | undefined> {
  const row = await db.get<{ best: string; last_seen: number }>('SELECT best, last_seen FROM tls_posture WHERE domain = ?', [domain]);
  if (!row) return undefined;
  const best = JSON.parse(row.best) as { level?: string };
  const level = TRANSPORT_REQUIREMENTS.find((r) => r === best.level);
  return { best: row.best, posture: level ? { level, lastSeen: row.last_seen } : undefined };
}

export async function loadPosture(db: SqlQueryable, domain: string): Promise<RememberedPosture | undefined> {
  return (await postureRow(db, domain))?.posture;
}

/** Lost races after which a recording gives up (another node's delivery to the domain recorded at the same moment). */
const RECORD_TRIES = 3;

/**
 * last_seen moves only once it is this old: a posture is remembered for
 * days (tls.postureMemory), and a row written on every delivery to a busy
 * domain would make those deliveries' transactions wait for each other (on
 * PostgreSQL, every node's) on its lock.
 */
export const LAST_SEEN_STEP_MS = 60_000;

/**
 * Records a successful delivery's posture: the best level seen is kept (a
 * weaker success — possible only for unprotected mail — never lowers it), and
 * last_seen moves on when the best level was met again, at most once per
 * LAST_SEEN_STEP_MS.
 *
 * Safe when several nodes share the table (PostgreSQL): the first row is
 * inserted with ON CONFLICT DO NOTHING, and a raise only replaces the best
 * level it read (compare-and-set on `best`), so a node that read an older
 * level can never lower the one another node just raised; a lost race reads
 * again. The usual case, the best level met again within the step, is one
 * read and no write (no row lock for deliveries to the domain to wait on).
 */
export async function recordPosture(db: SqlQueryable, domain: string, observed: TransportRequirement, now: number, seen?: PostureSeen): Promise<void> {
  // read lately with this level as the best, and last_seen not due to move: nothing to write, nothing to read
  if (seen?.confirmed(domain, observed, now)) return;
  const best = JSON.stringify({ level: observed });
  for (let attempt = 0; attempt < RECORD_TRIES; attempt++) {
    const row = await postureRow(db, domain);
    if (!row) {
      const inserted = await db.run('INSERT INTO tls_posture (domain, best, first_seen, last_seen) VALUES (?, ?, ?, ?) ON CONFLICT (domain) DO NOTHING', [domain, best, now, now]);
      if (inserted.changes > 0) return;
      continue;
    }
    // an unreadable stored level counts as the lowest: any success replaces it
    const current = row.posture?.level ?? 'none';
    if (rank(observed) > rank(current) || !row.posture) {
      const raised = await db.run('UPDATE tls_posture SET best = ?, last_seen = ? WHERE domain = ? AND best = ?', [best, now, domain, row.best]);
      if (raised.changes > 0) return;
      continue;
    }
    if (rank(observed) === rank(current) && now - (row.posture?.lastSeen ?? 0) >= LAST_SEEN_STEP_MS) {
      // never back in time (another node may have moved it meanwhile)
      await db.run('UPDATE tls_posture SET last_seen = ? WHERE domain = ? AND last_seen < ?', [now, domain, now]);
    } else if (rank(observed) === rank(current) && row.posture) {
      // read, not written (a rolled-back transaction cannot make this wrong): the same level needs no read until last_seen is due
      seen?.remember(domain, observed, row.posture.lastSeen + LAST_SEEN_STEP_MS);
    }
    return;
  }
}

/**
 * What a delivery engine read of the posture lately (bounded): a domain
 * whose stored best level equals what a delivery just saw, and whose
 * last_seen is not due to move before `until`, needs no read for the next
 * delivery at that level — every delivery to a busy domain read the row in
 * its recording transaction, on the single writer. Only what was read is
 * kept, never what was written. A posture forgotten (`sealgate probe
 * accept`) or raised elsewhere meanwhile is read again at `until` at the
 * latest (a raise needs no write from a delivery at the lower level anyway).
 */
export class PostureSeen {
  private readonly seen = new Map<string, { readonly level: TransportRequirement; readonly until: number }>();

  constructor(private readonly maxDomains = 10_000) {}

  confirmed(domain: string, level: TransportRequirement, now: number): boolean {
    const s = this.seen.get(domain);
    if (s === undefined) return false;
    if (now < s.until && now >= s.until - LAST_SEEN_STEP_MS && s.level === level) return true;
    this.seen.delete(domain);
    return false;
  }

  remember(domain: string, level: TransportRequirement, until: number): void {
    this.seen.delete(domain);
    this.seen.set(domain, { level, until });
    if (this.seen.size > this.maxDomains) this.seen.delete(this.seen.keys().next().value as string);
  }
}

/** `sealgate probe accept DOMAIN`: forget the remembered posture; the next delivery sets it again. */
export async function forgetPosture(db: SqlQueryable, domain: string): Promise<boolean> {
  const r = await db.run('DELETE FROM tls_posture WHERE domain = ?', [domain]);
  return r.changes > 0;
}
