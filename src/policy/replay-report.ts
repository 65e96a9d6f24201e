/**
 * The report of `sealgate policy replay` (docs/policy.md, "Replaying policy
 * over the archive"), built from one comparison per archived message: what
 * was decided then (the archive entry: each recipient's method, the matched
 * rules, the required protection) against what the proposed policy decides
 * now. Pure: the replay (src/policy/replay.ts) reads, inspects and
 * evaluates; this only counts, so it is table-tested on its own.
 *
 * The report carries queue ids, recipient numbers, method, rule and
 * category names and counts: never an address, a subject or a value, so it
 * can be pasted into a ticket.
 */
import { PROTECTIONS, type Protection } from './protection.js';

/** One recipient's outcome, then and now. `then` is null when the entry has no decided method. */
export interface ReplayedRecipient {
  readonly seq: number;
  readonly then: string | null;
  readonly now: string;
}

/** One archived message re-decided. */
export interface ReplayedEntry {
  readonly id: string;
  /** ms since the epoch */
  readonly receivedAt: number;
  readonly then: { readonly protection: string | null; readonly rules: readonly string[]; readonly phi: boolean; readonly categories: readonly string[] };
  readonly now: { readonly protection: Protection; readonly rules: readonly string[]; readonly phi: boolean; readonly categories: readonly string[] };
  readonly recipients: readonly ReplayedRecipient[];
}

/** Why an entry in the window was not re-decided. */
export const SKIP_REASONS = ['purged', 'not-inspected', 'key-not-loaded', 'unreadable'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/**
 * How strongly a method keeps a recipient's copy from others, weakest
 * first: opportunistic TLS, verified TLS, end to end (S/MIME, OpenPGP or
 * the portal), withheld (quarantine, block). Moving up is "protection
 * rises"; moving down is "falls".
 */
export function methodLevel(method: string | null): number | undefined {
  switch (method) {
    case 'tls-opportunistic':
      return 0;
    case 'tls-verified':
      return 1;
    case 'pgp':
    case 'smime':
    case 'portal':
      return 2;
    case 'quarantine':
    case 'block':
      return 3;
    default:
      return undefined;
  }
}

export interface EntryChange {
  readonly id: string;
  readonly receivedAt: string;
  /** The required protection (before rules): then → now, when it changed. */
  readonly protection?: { readonly then: string | null; readonly now: Protection };
  /** Rules that match now and did not then, and the other way round. */
  readonly rulesAdded: readonly string[];
  readonly rulesRemoved: readonly string[];
  /** DLP categories found now and not then (new custom detectors, say), and the other way round. */
  readonly categoriesAdded: readonly string[];
  readonly categoriesRemoved: readonly string[];
  /** Recipients whose method changes (by number, as `archive show` lists them). */
  readonly recipients: readonly ReplayedRecipient[];
  /** 'rises', 'falls' or 'same': the recipients' protection (methodLevel); a message where one falls counts as falling. */
  readonly direction: 'rises' | 'falls' | 'same';
}

const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();
const minus = (a: readonly string[], b: readonly string[]): string[] => sorted(a.filter((x) => !b.includes(x)));

/** Pure: how one entry changes, or undefined when the proposed policy decides it as then. */
export function compareEntry(e: ReplayedEntry): EntryChange | undefined {
  const recipients = e.recipients.filter((r) => r.then !== r.now);
  const rulesAdded = minus(e.now.rules, e.then.rules);
  const rulesRemoved = minus(e.then.rules, e.now.rules);
  const protectionChanged = e.then.protection !== e.now.protection;
  if (recipients.length === 0 && rulesAdded.length === 0 && rulesRemoved.length === 0 && !protectionChanged) return undefined;
  let up = false;
  let down = false;
  for (const r of recipients) {
    const a = methodLevel(r.then);
    const b = methodLevel(r.now);
    if (a === undefined || b === undefined || a === b) continue;
    if (b > a) up = true;
    else down = true;
  }
  return {
    id: e.id,
    receivedAt: new Date(e.receivedAt).toISOString(),
    ...(protectionChanged ? { protection: { then: e.then.protection, now: e.now.protection } } : {}),
    rulesAdded,
    rulesRemoved,
    categoriesAdded: minus(e.now.categories, e.then.categories),
    categoriesRemoved: minus(e.then.categories, e.now.categories),
    recipients,
    direction: down ? 'falls' : up ? 'rises' : 'same',
  };
}

export interface ReplayReport {
  /** Entries re-decided (their content was opened). */
  replayed: number;
  /** Entries of the window not re-decided, by reason. */
  skipped: Record<SkipReason, number>;
  /** Entries whose decision (a method, the matched rules or the required protection) changes. */
  changed: number;
  /** Recipients moving from a method (then; "undecided" when none was stored) to a method (now): counts, unchanged ones included. */
  methods: Record<string, Record<string, number>>;
  /** Per rule (of either policy): messages it matched then, and would match now. */
  rules: Record<string, { then: number; now: number }>;
  /** Required protection (before rules), then → now: message counts. */
  protection: Record<string, Record<string, number>>;
  /** Messages whose recipients' protection rises / falls (methodLevel); a message where any recipient falls counts as falling. */
  protectionRises: number;
  protectionFalls: number;
  /** PHI found then / now (message counts). */
  phi: { then: number; now: number };
  /** The changed entries, newest first, at most `listLimit`. */
  changes: EntryChange[];
  /** More entries changed than are listed. */
  changesCut: boolean;
}

export function emptyReport(): ReplayReport {
  return {
    replayed: 0,
    skipped: { purged: 0, 'not-inspected': 0, 'key-not-loaded': 0, unreadable: 0 },
    changed: 0,
    methods: {},
    rules: {},
    protection: {},
    protectionRises: 0,
    protectionFalls: 0,
    phi: { then: 0, now: 0 },
    changes: [],
    changesCut: false,
  };
}

function bump(matrix: Record<string, Record<string, number>>, from: string, to: string): void {
  const row = (matrix[from] ??= {});
  row[to] = (row[to] ?? 0) + 1;
}

/** Adds one re-decided entry to the report (in place: the replay streams through thousands of entries). */
export function addEntry(report: ReplayReport, e: ReplayedEntry, listLimit: number): void {
  report.replayed++;
  for (const r of e.recipients) bump(report.methods, r.then ?? 'undecided', r.now);
  for (const id of new Set(e.then.rules)) (report.rules[id] ??= { then: 0, now: 0 }).then++;
  for (const id of new Set(e.now.rules)) (report.rules[id] ??= { then: 0, now: 0 }).now++;
  bump(report.protection, e.then.protection ?? 'unknown', e.now.protection);
  if (e.then.phi) report.phi.then++;
  if (e.now.phi) report.phi.now++;
  const change = compareEntry(e);
  if (!change) return;
  report.changed++;
  if (change.direction === 'rises') report.protectionRises++;
  if (change.direction === 'falls') report.protectionFalls++;
  if (report.changes.length < listLimit) report.changes.push(change);
  else report.changesCut = true;
}

export function skipEntry(report: ReplayReport, why: SkipReason): void {
  report.skipped[why]++;
}

/** Pure: the report of a list of entries (what `addEntry` builds one at a time). */
export function buildReplayReport(entries: readonly ({ skipped: SkipReason } | ReplayedEntry)[], listLimit: number): ReplayReport {
  const report = emptyReport();
  for (const e of entries) {
    if ('skipped' in e) skipEntry(report, e.skipped);
    else addEntry(report, e, listLimit);
  }
  return report;
}

export interface ReplayWindow {
  readonly since: number;
  readonly until: number | undefined;
  /** Where the policy came from: "current config" or the file given with --config. */
  readonly policySource: string;
  readonly limit: number;
  /** The window held more entries than `limit`: the oldest were left out. */
  readonly cut: boolean;
}

const ORDER = ['undecided', 'tls-opportunistic', 'tls-verified', 'pgp', 'smime', 'portal', 'quarantine', 'block'];
const orderOf = (m: string): number => (ORDER.includes(m) ? ORDER.indexOf(m) : ORDER.length);
const byOrder = (a: string, b: string): number => orderOf(a) - orderOf(b) || a.localeCompare(b);
const protectionOrder = (a: string, b: string): number => (PROTECTIONS as readonly string[]).indexOf(a) - (PROTECTIONS as readonly string[]).indexOf(b);

/** Pure: the report as text lines, for a terminal. */
export function formatReplayReport(report: ReplayReport, w: ReplayWindow): string {
  const skipped = SKIP_REASONS.filter((r) => report.skipped[r] > 0).map((r) => `${report.skipped[r]} ${r}`);
  const lines = [
    `policy replay (${w.policySource}) over entries received ${new Date(w.since).toISOString()} to ${w.until === undefined ? 'now' : new Date(w.until).toISOString()}, newest first`,
    `entries: ${report.replayed} re-decided${skipped.length ? `, skipped ${skipped.join(', ')}` : ''}${w.cut ? `; cut at --limit ${w.limit}: older entries of the window were not replayed` : ''}`,
    `changed: ${report.changed} ${report.changed === 1 ? 'entry' : 'entries'}; protection rises for ${report.protectionRises}, falls for ${report.protectionFalls}`,
    `PHI found: ${report.phi.then} then, ${report.phi.now} now`,
    'recipients by method (then -> now):',
  ];
  const froms = Object.keys(report.methods).sort(byOrder);
  if (froms.length === 0) lines.push('  none');
  for (const from of froms) {
    const row = report.methods[from] ?? {};
    for (const to of Object.keys(row).sort(byOrder)) lines.push(`  ${from} -> ${to}: ${row[to]}${from === to ? '' : '   CHANGED'}`);
  }
  lines.push('required protection (then -> now), messages:');
  const pFroms = Object.keys(report.protection).sort(protectionOrder);
  if (pFroms.length === 0) lines.push('  none');
  for (const from of pFroms) {
    const row = report.protection[from] ?? {};
    for (const to of Object.keys(row).sort(protectionOrder)) lines.push(`  ${from} -> ${to}: ${row[to]}${from === to ? '' : '   CHANGED'}`);
  }
  lines.push('rules, messages matched (then -> now):');
  const ids = Object.keys(report.rules).sort();
  if (ids.length === 0) lines.push('  none');
  for (const id of ids) {
    const r = report.rules[id] ?? { then: 0, now: 0 };
    lines.push(`  ${id}: ${r.then} -> ${r.now}${r.then === r.now ? '' : '   CHANGED'}`);
  }
  if (report.changes.length) lines.push('changed entries (queue id; archive show ID for the details):');
  for (const c of report.changes) {
    const parts = [
      ...c.recipients.map((r) => `#${r.seq} ${r.then ?? 'undecided'} -> ${r.now}`),
      ...(c.protection ? [`protection ${c.protection.then ?? 'unknown'} -> ${c.protection.now}`] : []),
      ...(c.rulesAdded.length ? [`+rules ${c.rulesAdded.join(',')}`] : []),
      ...(c.rulesRemoved.length ? [`-rules ${c.rulesRemoved.join(',')}`] : []),
      ...(c.categoriesAdded.length ? [`+categories ${c.categoriesAdded.join(',')}`] : []),
      ...(c.categoriesRemoved.length ? [`-categories ${c.categoriesRemoved.join(',')}`] : []),
    ];
    lines.push(`  ${c.id}  ${c.receivedAt}  ${c.direction === 'same' ? '' : `${c.direction.toUpperCase()}  `}${parts.join('; ')}`);
  }
  if (report.changesCut) lines.push(`  … ${report.changed - report.changes.length} more changed entries not listed`);
  return lines.join('\n');
}
