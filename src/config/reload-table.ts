/**
 * What a SIGHUP reload does with each config key: applies it to the running
 * daemon ('reload') or leaves the running value in force until a restart
 * ('restart'). Pure: the daemon diffs the old and the new config with
 * `planReload`, applies the `effective` config (the new one with every
 * restart-only change put back to the running value, so no part of the daemon
 * runs half on a value the rest never saw) and reports `restartNeeded` by
 * path (never values: a path names no secret). docs/deployment.md shows this
 * table; a test keeps the two equal and checks every schema key is listed.
 *
 * Paths: "a.b" is a key; "a.list[]" is every element of a list (its fields as
 * "a.list[].f"). A changed key is classified by its longest listed prefix.
 */
import { isDeepStrictEqual } from 'node:util';

export type ReloadClass = 'reload' | 'restart';

export interface ReloadRule {
  readonly path: string;
  readonly applies: ReloadClass;
  /** What takes the new value, or why a restart is needed (docs/deployment.md). */
  readonly how: string;
}

export const RELOAD_TABLE: readonly ReloadRule[] = [
  { path: 'dataDir', applies: 'restart', how: 'database, spool and stores are opened at start' },
  { path: 'store', applies: 'restart', how: 'the database (SQLite or PostgreSQL) is opened at start' },
  { path: 'objects', applies: 'restart', how: 'the object store (local directory or S3) is opened at start' },
  { path: 'hostname', applies: 'restart', how: 'greeting, Received and Message-ID names are fixed at start' },
  { path: 'log.level', applies: 'reload', how: 'the logger' },
  { path: 'log.pretty', applies: 'restart', how: 'the log output is set up at start' },
  { path: 'smtp.listeners', applies: 'restart', how: 'adding, removing or reordering listeners: sockets are bound at start' },
  { path: 'smtp.listeners[].name', applies: 'restart', how: 'a listener is matched by its name' },
  { path: 'smtp.listeners[].host', applies: 'restart', how: 'the socket is bound at start' },
  { path: 'smtp.listeners[].port', applies: 'restart', how: 'the socket is bound at start' },
  { path: 'smtp.listeners[].tls', applies: 'restart', how: 'the socket is bound at start' },
  { path: 'smtp.listeners[].proxyProtocol', applies: 'restart', how: 'the socket is bound at start' },
  { path: 'smtp.listeners[].certFile', applies: 'reload', how: 'new TLS handshakes' },
  { path: 'smtp.listeners[].keyFile', applies: 'reload', how: 'new TLS handshakes' },
  { path: 'smtp.listeners[].auth', applies: 'reload', how: 'new sessions' },
  { path: 'smtp.listeners[].chunking', applies: 'reload', how: 'new sessions' },
  { path: 'smtp.listeners[].connectors', applies: 'reload', how: 'the next MAIL FROM' },
  { path: 'smtp', applies: 'reload', how: 'limits and timeouts: new sessions and transactions' },
  { path: 'connectors', applies: 'reload', how: 'new connections and the next MAIL FROM' },
  { path: 'limits', applies: 'reload', how: 'the next MAIL FROM, RCPT and DATA; the counts so far are kept' },
  { path: 'dns.servers', applies: 'restart', how: 'the resolver is created at start' },
  { path: 'dns.cacheSeconds', applies: 'restart', how: 'the delivery answer cache is created at start' },
  { path: 'dns.dnssecValidating', applies: 'reload', how: 'delivery (DANE) and key discovery' },
  { path: 'inspection', applies: 'restart', how: 'the inspection stage and its threads are set up at start' },
  { path: 'inspection.e2eDomains', applies: 'reload', how: 'the next inspection decision' },
  { path: 'inspection.customDetectors', applies: 'reload', how: 'the next inspection' },
  { path: 'inspection.maxScanTime', applies: 'reload', how: 'the next inspection' },
  { path: 'policy', applies: 'reload', how: 'the next inspection decision' },
  { path: 'dkim', applies: 'reload', how: 'the next message signed (key files are read at reload)' },
  { path: 'archive', applies: 'restart', how: 'the archive stage is set up at start' },
  { path: 'archive.retention', applies: 'reload', how: 'the next message archived' },
  { path: 'archive.journalTo', applies: 'reload', how: 'the next message archived' },
  { path: 'metrics', applies: 'restart', how: 'the metrics listener is bound at start' },
  { path: 'metrics.readyTimeout', applies: 'reload', how: 'the next /readyz check' },
  { path: 'alerts', applies: 'reload', how: 'the alert monitor\'s next check; setting or clearing both to and webhookUrl starts or stops it' },
  { path: 'queue.keepFinished', applies: 'reload', how: 'the next prune of finished messages' },
  { path: 'queue.inlineMaxBytes', applies: 'restart', how: 'the spool is set up at start' },
  { path: 'probe', applies: 'reload', how: 'read by each sealgate probe / policy test run' },
  { path: 'delivery', applies: 'reload', how: 'the delivery engine: the next attempt' },
  { path: 'delivery.enabled', applies: 'reload', how: 'the delivery engine stops (attempts in progress finish) or starts' },
  { path: 'delivery.defaultRequirement', applies: 'restart', how: 'stamped on queued mail by several stages set up at start' },
  { path: 'tls.trustedCaFiles', applies: 'restart', how: 'CA files are read at start' },
  { path: 'tls.minVersion', applies: 'restart', how: 'the listeners\' TLS set-up at start' },
  { path: 'tls.policies', applies: 'reload', how: 'the next delivery attempt' },
  { path: 'tls.mtaSts', applies: 'reload', how: 'the next delivery attempt' },
  { path: 'tls.portalFallback', applies: 'reload', how: 'the next delivery attempt' },
  { path: 'tls.postureMemory', applies: 'reload', how: 'the next delivery attempt' },
  { path: 'tls.generateDevCerts', applies: 'restart', how: 'certificates are made at start' },
  { path: 'portal', applies: 'restart', how: 'the portal listener and its pages are set up at start' },
  { path: 'portal.certFile', applies: 'reload', how: 'new TLS handshakes' },
  { path: 'portal.keyFile', applies: 'reload', how: 'new TLS handshakes' },
  { path: 'admin', applies: 'restart', how: 'the console listener is set up at start' },
  { path: 'admin.certFile', applies: 'reload', how: 'new TLS handshakes' },
  { path: 'admin.keyFile', applies: 'reload', how: 'new TLS handshakes' },
  { path: 'keys', applies: 'reload', how: 'the next key lookup and end-to-end copy' },
  { path: 'keys.masterKeyFile', applies: 'restart', how: 'the keyring is loaded at start' },
  { path: 'keys.previousKeyFiles', applies: 'restart', how: 'the keyring is loaded at start' },
];

type Segment = string | number;

/** "smtp.listeners[0].port" for display; numbers are list positions. */
export function formatReloadPath(segments: readonly Segment[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out;
}

/** The table form of a path: list positions become "[]". */
function tableForm(segments: readonly Segment[]): string {
  return formatReloadPath(segments).replace(/\[\d+\]/g, '[]');
}

const byPath = new Map(RELOAD_TABLE.map((r) => [r.path, r]));

/** The rule for a path: the longest listed prefix; an unlisted key needs a restart (never silently ignored). */
export function ruleFor(segments: readonly Segment[]): ReloadRule | undefined {
  for (let n = segments.length; n > 0; n--) {
    const rule = byPath.get(tableForm(segments.slice(0, n)));
    if (rule) return rule;
  }
  return undefined;
}

export function classify(segments: readonly Segment[]): ReloadClass {
  return ruleFor(segments)?.applies ?? 'restart';
}

/** Whether the table says something more specific below this path (then the diff looks inside). */
function hasRulesBelow(segments: readonly Segment[]): boolean {
  const here = tableForm(segments);
  const prefixes = here === '' ? [''] : [`${here}.`, `${here}[]`];
  return RELOAD_TABLE.some((r) => prefixes.some((p) => r.path.startsWith(p) && r.path !== here));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Paths whose values differ, as fine as the table distinguishes: inside an
 * object or a list of equal length only where a rule lies below; otherwise
 * the path itself.
 */
export function changedPaths(a: unknown, b: unknown, at: readonly Segment[] = []): Segment[][] {
  if (isDeepStrictEqual(a, b)) return [];
  if (at.length === 0 || hasRulesBelow(at)) {
    if (isPlainObject(a) && isPlainObject(b)) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
      return keys.flatMap((k) => changedPaths(a[k], b[k], [...at, k]));
    }
    if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) return a.flatMap((v, i) => changedPaths(v, b[i], [...at, i]));
  }
  return [at.slice()];
}

function setAt(root: Record<string, unknown>, segments: readonly Segment[], value: unknown): void {
  let cur: Record<string | number, unknown> = root;
  for (const s of segments.slice(0, -1)) cur = cur[s] as Record<string | number, unknown>;
  const last = segments[segments.length - 1];
  if (last === undefined) return;
  if (value === undefined) delete cur[last];
  else cur[last] = structuredClone(value);
}

function valueAt(root: unknown, segments: readonly Segment[]): unknown {
  let cur: unknown = root;
  for (const s of segments) cur = (cur as Record<string | number, unknown> | undefined)?.[s];
  return cur;
}

export interface ReloadPlan<C> {
  /** Changed paths the running daemon takes. */
  readonly applied: string[];
  /** Changed paths that keep their running value until a restart. */
  readonly restartNeeded: string[];
  /** The config to put in force: `next` with every restart-only change reverted to `running`. */
  readonly effective: C;
}

export function planReload<C extends object>(running: C, next: C): ReloadPlan<C> {
  const applied: string[] = [];
  const restartNeeded: string[] = [];
  const effective = structuredClone(next) as C & Record<string, unknown>;
  for (const path of changedPaths(running, next)) {
    if (classify(path) === 'reload') {
      applied.push(formatReloadPath(path));
    } else {
      restartNeeded.push(formatReloadPath(path));
      setAt(effective, path, valueAt(running, path));
    }
  }
  return { applied, restartNeeded, effective };
}
