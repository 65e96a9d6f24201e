/**
 * The audit log page (pure): the newest events first, a filter by stage
 * (the part of the event type before the colon), and a link to older
 * events. Every value is escaped; event data is shown as the canonical
 * JSON the chain hashes, with control and bidi characters as "?".
 */
import { sanitizeLine } from '../../portal/notification.js';
import { e } from './layout.js';

/** The stages an event type starts with (src/audit/events.ts). */
export const AUDIT_STAGES = ['archive', 'audit', 'config', 'console', 'daemon', 'delivery', 'ingress', 'inspect', 'keys', 'policy', 'portal', 'probe', 'queue', 'tlsrpt', 'users'] as const;
export type AuditStage = (typeof AUDIT_STAGES)[number];

/** Characters of an event's data shown (the full record: sealgate audit tail --json). */
const DATA_LIMIT = 2000;

/** Events per page. */
export const AUDIT_PAGE_SIZE = 100;

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

const time = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');

export function auditPage(rows: readonly AuditRowView[], stage: AuditStage | undefined, before: number | undefined): { title: string; main: string } {
  const options = ['<option value="">all</option>', ...AUDIT_STAGES.map((s) => `<option value="${s}"${s === stage ? ' selected' : ''}>${s}</option>`)].join('');
  const body = rows
    .map((r) => `<tr><td>${r.seq}</td><td>${e(time(r.ts))}</td><td>${e(r.type)}</td><td><code>${e(sanitizeLine(r.data, DATA_LIMIT))}</code></td></tr>`)
    .join('');
  const last = rows.at(-1);
  const older = rows.length === AUDIT_PAGE_SIZE && last ? `<p><a href="/audit?${stage ? `stage=${stage}&amp;` : ''}before=${last.seq}">Older events</a></p>` : '';
  return {
    title: 'Audit log',
    main: [
      '<h1>Audit log</h1>',
      '<p>Every event of the hash-chained audit log, newest first. Viewing it is itself recorded. <code>sealgate audit verify</code> checks the chain.</p>',
      '<form class="card" method="get" action="/audit">',
      '<label for="stage">Stage</label>',
      `<select id="stage" name="stage">${options}</select>`,
      '<button type="submit">Show</button>',
      '</form>',
      '<div class="table-box" role="region" tabindex="0" aria-labelledby="audit-caption">',
      '<table class="data">',
      `<caption id="audit-caption">${rows.length === 0 ? 'No events' : `Events ${rows.at(-1)?.seq ?? ''} to ${rows[0]?.seq ?? ''}${before ? '' : ', the newest'}`}</caption>`,
      '<thead><tr><th scope="col">#</th><th scope="col">Time (UTC)</th><th scope="col">Event</th><th scope="col">Data</th></tr></thead>',
      `<tbody>${body}</tbody>`,
      '</table>',
      '</div>',
      older,
    ].join(''),
  };
}
