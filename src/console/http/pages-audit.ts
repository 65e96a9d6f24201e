/**
 * The audit log page (pure): the filters of its query string checked and
 * bounded, the SQL each page runs, and the page itself — newest events
 * first, filtered by stage or event type, by operator and by time, with a
 * link to older events. Every value is escaped; event data is shown as the
 * canonical JSON the chain hashes, with control and bidi characters as "?".
 *
 * Why the queries look as they do (the log grows by every message):
 *   - a stage or a type is one index range per event type
 *     (audit_log(type, seq), migration 21), each read newest first and
 *     stopped after a page; the page is the newest of their union. A rare
 *     type on a big log costs a page, not a scan.
 *   - the operator is a field inside the event's data (not every event has
 *     one). It is matched on the stored canonical JSON (`"operator":"ann"`)
 *     and checked again on the parsed data, over a window of at most
 *     OPERATOR_WINDOW events per page: a name that acted rarely gives short
 *     pages with "older events" links rather than one unbounded scan.
 *   - a time range becomes a range of event numbers (the route finds it by
 *     bisecting on seq: events are appended in time order), and the times
 *     are checked on each row as well.
 */
import { AUDIT_EVENT_TYPES } from '../../audit/events.js';
import { parseTime, SearchInputError } from '../../archive/search.js';
import { sanitizeLine } from '../../portal/notification.js';
import { field } from './context.js';
import { e } from './layout.js';

/** The stages an event type starts with (src/audit/events.ts). */
export const AUDIT_STAGES = ['archive', 'audit', 'config', 'console', 'daemon', 'delivery', 'ingress', 'inspect', 'keys', 'policy', 'portal', 'probe', 'queue', 'tlsrpt', 'users'] as const;
export type AuditStage = (typeof AUDIT_STAGES)[number];

/** Characters of an event's data shown (the full record: sealgate audit tail --json). */
const DATA_LIMIT = 2000;

/** Events per page. */
export const AUDIT_PAGE_SIZE = 100;

/** Events looked at per page when filtering by operator (a match inside the data, not indexed). */
export const OPERATOR_WINDOW = 20_000;

/** Longest operator name accepted in the filter. */
const MAX_OPERATOR = 128;

export interface AuditRowView {
  readonly seq: number;
  readonly ts: number;
  readonly type: string;
  /** The stored canonical JSON. */
  readonly data: string;
}

/** Pure: the stage filter of a query value, or undefined for all (an unknown value is no filter). */
export function stageOf(value: string | undefined): AuditStage | undefined {
  return (AUDIT_STAGES as readonly string[]).includes(value ?? '') ? (value as AuditStage) : undefined;
}

/** Pure: the `before` cursor of a query value (a positive whole number), or undefined. */
export function beforeOf(value: string | undefined): number | undefined {
  if (!value || !/^\d{1,15}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** The page's filters, checked. */
export interface AuditFilter {
  readonly stage?: AuditStage | undefined;
  /** One event type (stage:event), one of src/audit/events.ts. */
  readonly type?: string | undefined;
  /** The `operator` field of the event's data, exactly. */
  readonly operator?: string | undefined;
  /** ts >= since (ms). */
  readonly since?: number | undefined;
  /** ts < until (ms). */
  readonly until?: number | undefined;
  /** seq < before: the cursor of the older-events link. */
  readonly before?: number | undefined;
}

/** The form as given (text), to fill the form again. */
export interface AuditFormValues {
  readonly stage?: string | undefined;
  readonly type?: string | undefined;
  readonly operator?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
}

/** The names of the filters given (for `audit:viewed`: names, never values), besides the stage it records on its own. */
export function auditFilterNames(f: AuditFilter): string[] {
  return (['type', 'operator', 'since', 'until'] as const).filter((k) => f[k] !== undefined);
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v.trim() === '' ? undefined : v.trim());

/**
 * Pure: the filters of the query string. An unknown stage or a bad cursor
 * is no filter (as links from older versions of the page may carry); a
 * type, an operator or a time that does not parse is a problem the page
 * shows (400), named as the form names it.
 */
export function parseAuditFilter(query: unknown, now: number): { filter: AuditFilter; form: AuditFormValues } | { problem: string; form: AuditFormValues } {
  const form: AuditFormValues = {
    stage: nonEmpty(field(query, 'stage')),
    type: nonEmpty(field(query, 'type')),
    operator: nonEmpty(field(query, 'operator')),
    since: nonEmpty(field(query, 'since')),
    until: nonEmpty(field(query, 'until')),
  };
  const stage = stageOf(form.stage);
  const before = beforeOf(field(query, 'before'));
  if (form.type !== undefined) {
    if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(form.type)) return { problem: 'type: choose an event type from the list (stage:event, e.g. archive:searched)', form };
    if (stage !== undefined && !form.type.startsWith(`${stage}:`)) return { problem: `type: ${form.type} is not an event of the stage ${stage}; choose the stage "all" or one of its events`, form };
  }
  if (form.operator !== undefined) {
    if (form.operator.length > MAX_OPERATOR) return { problem: `operator is longer than ${MAX_OPERATOR} characters`, form };
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(form.operator)) return { problem: 'operator contains control characters', form };
  }
  let since: number | undefined;
  let until: number | undefined;
  try {
    since = form.since !== undefined ? parseTime(form.since, now, 'since') : undefined;
    until = form.until !== undefined ? parseTime(form.until, now, 'until') : undefined;
  } catch (err) {
    if (!(err instanceof SearchInputError)) throw err;
    // parseTime names the CLI's flags (--since); the form's fields have the same names without dashes
    return { problem: err.message.replace(/--([a-z-]+)/g, '$1'), form };
  }
  if (since !== undefined && until !== undefined && since >= until) return { problem: 'since must be before until', form };
  return { filter: { stage, type: form.type, operator: form.operator, since, until, before }, form };
}

/** Pure: the event types a filter reads (one index range each), or undefined for every type. */
export function typesOf(f: AuditFilter): string[] | undefined {
  if (f.type !== undefined) return [f.type];
  if (f.stage !== undefined) return AUDIT_EVENT_TYPES.filter((t) => t.startsWith(`${f.stage}:`));
  return undefined;
}

/**
 * Pure: a LIKE pattern matching `"operator":"NAME"` in canonical JSON ('!'
 * escapes LIKE's wildcards, so `_` and `%` in a name are themselves). The
 * LIKE only narrows the rows read: SQLite's LIKE ignores ASCII case and
 * PostgreSQL's does not, so SQLite may read a few look-alikes more, and
 * hasOperator then keeps the events whose operator is exactly the name, on
 * both databases alike.
 */
export function operatorPattern(operator: string): string {
  return `%${`"operator":${JSON.stringify(operator)}`.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

export interface AuditSql {
  readonly sql: string;
  readonly params: (string | number)[];
}

/**
 * Pure: the queries of one page, for events with `low <= seq < high`
 * (high undefined: up to the newest). One query per event type when the
 * filter names types (each an index range, newest first, a page at most);
 * one walk of the log newest first otherwise. Each yields at most
 * AUDIT_PAGE_SIZE rows; the page is the newest of them all.
 */
export function auditQueries(f: AuditFilter, low: number, high: number | undefined): AuditSql[] {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (high !== undefined) {
    where.push('seq < ?');
    params.push(high);
  }
  if (low > 1) {
    where.push('seq >= ?');
    params.push(low);
  }
  if (f.since !== undefined) {
    where.push('ts >= ?');
    params.push(f.since);
  }
  if (f.until !== undefined) {
    where.push('ts < ?');
    params.push(f.until);
  }
  if (f.operator !== undefined) {
    where.push("data LIKE ? ESCAPE '!'");
    params.push(operatorPattern(f.operator));
  }
  const types = typesOf(f);
  const cond = (extra: string[]): string => (extra.length ? `WHERE ${extra.join(' AND ')}` : '');
  if (!types) return [{ sql: `SELECT seq, ts, type, data FROM audit_log ${cond(where)} ORDER BY seq DESC LIMIT ?`, params: [...params, AUDIT_PAGE_SIZE] }];
  return types.map((type) => ({
    sql: `SELECT seq, ts, type, data FROM audit_log ${cond(['type = ?', ...where])} ORDER BY seq DESC LIMIT ?`,
    params: [type, ...params, AUDIT_PAGE_SIZE],
  }));
}

/** Pure: whether a row's parsed data really has this operator (the LIKE found the text; this rules out look-alikes nested deeper). */
export function hasOperator(row: AuditRowView, operator: string): boolean {
  try {
    const data = JSON.parse(row.data) as { operator?: unknown };
    return data.operator === operator;
  } catch {
    return false;
  }
}

/** Pure: the newest AUDIT_PAGE_SIZE rows of several queries' results (each newest first). */
export function newestOf(results: readonly (readonly AuditRowView[])[]): AuditRowView[] {
  return results
    .flat()
    .sort((a, b) => b.seq - a.seq)
    .slice(0, AUDIT_PAGE_SIZE);
}

/** Pure: the query string of the page with these filters and cursor. */
export function auditQueryString(form: AuditFormValues, before?: number): string {
  const params = new URLSearchParams();
  for (const k of ['stage', 'type', 'operator', 'since', 'until'] as const) {
    const v = form[k];
    if (v !== undefined && v !== '') params.set(k, v);
  }
  if (before !== undefined) params.set('before', String(before));
  const q = params.toString();
  return q ? `?${q}` : '';
}

const time = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');

export interface AuditPageView {
  readonly rows: readonly AuditRowView[];
  readonly form: AuditFormValues;
  readonly before?: number | undefined;
  /** The cursor of the older-events link; undefined: no older events match. */
  readonly older?: number | undefined;
  /** When a window was searched without filling the page: the events looked at (low..high-1). */
  readonly searched?: { readonly low: number; readonly high: number } | undefined;
  /** Why the filters were refused (a 400 page). */
  readonly problem?: string | undefined;
}

function typeOptions(stage: string | undefined, type: string | undefined): string {
  const groups = AUDIT_STAGES.filter((s) => !stage || s === stage || !stageOf(stage)).map((s) => {
    const opts = AUDIT_EVENT_TYPES.filter((t) => t.startsWith(`${s}:`))
      .map((t) => `<option value="${e(t)}"${t === type ? ' selected' : ''}>${e(t)}</option>`)
      .join('');
    return opts ? `<optgroup label="${e(s)}">${opts}</optgroup>` : '';
  });
  return `<option value="">any</option>${groups.join('')}`;
}

export function auditPage(view: AuditPageView): { title: string; main: string } {
  const { rows, form } = view;
  const stage = stageOf(form.stage);
  const options = ['<option value="">all</option>', ...AUDIT_STAGES.map((s) => `<option value="${s}"${s === stage ? ' selected' : ''}>${s}</option>`)].join('');
  const text = (name: 'operator' | 'since' | 'until', label: string, hint?: string): string =>
    `<div><label for="f-${name}">${e(label)}</label>${hint ? `<span class="hint" id="h-${name}">${e(hint)}</span>` : ''}<input class="field" type="text" id="f-${name}" name="${name}" maxlength="${name === 'operator' ? MAX_OPERATOR : 40}" value="${e(form[name] ?? '')}"${hint ? ` aria-describedby="h-${name}"` : ''}></div>`;
  const body = rows
    .map((r) => `<tr><td>${r.seq}</td><td>${e(time(r.ts))}</td><td>${e(r.type)}</td><td><code>${e(sanitizeLine(r.data, DATA_LIMIT))}</code></td></tr>`)
    .join('');
  const olderLink = view.older !== undefined ? `<p class="pager"><a href="/audit${e(auditQueryString(form, view.older))}" rel="next">Older events</a></p>` : '';
  const searchedNote =
    view.searched && view.older !== undefined
      ? `<p role="status">Events ${view.searched.low} to ${view.searched.high - 1} were searched for this operator${rows.length ? '' : ' without a match'}; older events are searched page by page.</p>`
      : '';
  const caption = rows.length === 0 ? 'No events' : `Events ${rows.at(-1)?.seq ?? ''} to ${rows[0]?.seq ?? ''}${view.before ? '' : ', the newest'}`;
  const results = view.problem
    ? `<div class="alert" role="alert"><p>${e(view.problem)}</p></div>`
    : [
        '<div class="table-box" role="region" tabindex="0" aria-labelledby="audit-caption">',
        '<table class="data">',
        `<caption id="audit-caption">${caption}</caption>`,
        '<thead><tr><th scope="col">#</th><th scope="col">Time (UTC)</th><th scope="col">Event</th><th scope="col">Data</th></tr></thead>',
        `<tbody>${body}</tbody>`,
        '</table>',
        '</div>',
        searchedNote,
        olderLink,
      ].join('');
  return {
    title: 'Audit log',
    main: [
      '<h1>Audit log</h1>',
      '<p>Every event of the hash-chained audit log, newest first. Viewing it is itself recorded. <code>sealgate audit verify</code> checks the chain.</p>',
      '<form class="card" method="get" action="/audit">',
      '<fieldset class="filters"><legend>Filters (all optional)</legend>',
      `<div><label for="stage">Stage</label><select class="field" id="stage" name="stage">${options}</select></div>`,
      `<div><label for="f-type">Event type</label><select class="field" id="f-type" name="type">${typeOptions(form.stage, form.type)}</select></div>`,
      text('operator', 'Operator', 'the user who acted (console user or operating-system user), exactly'),
      text('since', 'Since', 'a date (2026-12-01, UTC), a time with its zone (2026-12-01T08:30Z) or a time ago (12h, 7d)'),
      text('until', 'Until', 'same forms as since'),
      '</fieldset>',
      '<button type="submit">Show</button>',
      '</form>',
      results,
    ].join(''),
  };
}
