/**
 * `keys lookup` output, pure: one row per key the address has (directory
 * rows, admin keys too, and keys fetched now but not stored), with its
 * verdict, whether it would be used and why not; as text or the stable
 * JSON shape documented in docs/keys.md.
 */
import { WHY_TEXT, type KeyWhy } from './choose.js';
import { currentVerdict } from './import.js';
import { type FoundKey, type LookupResult, type LookupSource, type SourceReport } from './lookup.js';
import { KEY_REASONS, type KeyReason } from './types.js';

export interface LookupRowJson {
  readonly fingerprint: string;
  readonly kind: string;
  readonly source: string;
  readonly algorithm: string;
  readonly valid: boolean;
  readonly reason: KeyReason;
  readonly reasonText: string;
  /** Fetched by this lookup: inserted, updated, or not stored; `directory`: already there, not fetched now. */
  readonly stored: 'inserted' | 'updated' | 'not-stored' | 'directory';
  readonly used: boolean;
  readonly why: KeyWhy;
  readonly whyText: string;
}

export interface SourceJson {
  readonly state: SourceReport['state'];
  readonly outcome: string | null;
  readonly method: string | null;
  readonly detail: string | null;
  readonly checkedAt: number | null;
}

/** One field per discovery source (wkd first: it came first and keeps its place). */
export interface LookupJson {
  readonly address: string;
  readonly wkd: SourceJson;
  readonly openpgpkey: SourceJson;
  readonly smimea: SourceJson;
  readonly keyserver: SourceJson;
  readonly keys: readonly LookupRowJson[];
  readonly used: string | null;
}

/** The order sources are printed in. */
const REPORT_ORDER: readonly LookupSource[] = ['wkd', 'openpgpkey', 'smimea', 'keyserver'];

function sourceJson(w: SourceReport): SourceJson {
  return { state: w.state, outcome: w.outcome ?? null, method: w.method ?? null, detail: w.detail ?? null, checkedAt: w.checkedAt ?? null };
}

export function whyText(why: KeyWhy): string {
  return why in WHY_TEXT ? WHY_TEXT[why as keyof typeof WHY_TEXT] : (KEY_REASONS[why as KeyReason] ?? 'unknown reason');
}

function row(base: Omit<LookupRowJson, 'used' | 'why' | 'whyText' | 'reasonText'>, r: LookupResult): LookupRowJson {
  const why: KeyWhy = r.why[base.fingerprint] ?? (base.valid ? 'another-key-preferred' : (base.reason as Exclude<KeyReason, 'valid'>));
  const { fingerprint, kind, source, algorithm, valid, reason, stored } = base;
  return { fingerprint, kind, source, algorithm, valid, reason, reasonText: KEY_REASONS[reason] ?? 'unknown reason', stored, used: r.used === fingerprint, why, whyText: whyText(why) };
}

export function lookupJson(r: LookupResult, now: number): LookupJson {
  const fetched = new Map<string, FoundKey>(r.found.map((f) => [f.fingerprint, f]));
  const keys: LookupRowJson[] = r.keys.map((k) => {
    const v = currentVerdict(k, now);
    const f = fetched.get(k.fingerprint);
    const stored = f && f.stored !== 'not-stored' ? f.stored : 'directory';
    return row({ fingerprint: k.fingerprint, kind: k.kind, source: k.source, algorithm: k.algorithm, valid: v.valid, reason: v.reason, stored }, r);
  });
  const inDirectory = new Set(r.keys.map((k) => k.fingerprint));
  for (const f of r.found) {
    if (inDirectory.has(f.fingerprint)) continue;
    keys.push(row({ fingerprint: f.fingerprint, kind: f.kind, source: f.source, algorithm: f.algorithm, valid: f.valid, reason: f.reason, stored: 'not-stored' }, r));
  }
  const s = r.sources;
  return { address: r.address, wkd: sourceJson(s.wkd), openpgpkey: sourceJson(s.openpgpkey), smimea: sourceJson(s.smimea), keyserver: sourceJson(s.keyserver), keys, used: r.used ?? null };
}

const METHOD_WORD: Record<LookupSource, string> = { wkd: 'method', openpgpkey: 'owner name', smimea: 'owner name', keyserver: 'protocol' };

function sourceLine(name: LookupSource, w: SourceJson): string {
  if (w.state === 'disabled') return `${name}: off (${w.detail ?? `keys.discovery.${name}: false`})`;
  const when = w.state === 'cached' && w.checkedAt !== null ? ` (cached from ${new Date(w.checkedAt).toISOString()}; --fresh asks again)` : '';
  const what = w.outcome === 'found' ? `found (${w.method ?? '?'} ${METHOD_WORD[name]})` : `${w.outcome ?? '?'}${w.detail ? `: ${w.detail}` : ''}`;
  return `${name}: ${what}${when}`;
}

export function lookupText(j: LookupJson): string {
  const lines = [`address: ${j.address}`, ...REPORT_ORDER.map((name) => sourceLine(name, j[name]))];
  for (const k of j.keys) {
    const verdict = k.valid ? 'valid' : `invalid: ${k.reason}`;
    const stored = k.stored === 'directory' ? '' : ` [${k.stored}]`;
    lines.push(`${k.fingerprint}\t${k.kind}\t${k.source}${stored}\t${verdict}\t${k.used ? 'used' : `not used: ${k.whyText}`}`);
  }
  lines.push(j.used === null ? 'used: none (no valid key for this address)' : `used: ${j.used}`);
  return `${lines.join('\n')}\n`;
}
