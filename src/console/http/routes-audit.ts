/**
 * The audit log page (GET /audit): the auditor roles read the hash-chained
 * audit log, newest first, a page at a time, filtered by stage or event
 * type, operator and time (pages-audit.ts says how each is bounded).
 * Viewing it is itself recorded (`audit:viewed`, with the stage, the names
 * of the other filters and how many events were shown).
 */
import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { SqlQueryable } from '../../db/sql-database.js';
import { type ConsoleContext, sendPage } from './context.js';
import { mayReadArchive } from './layout.js';
import { AUDIT_PAGE_SIZE, auditFilterNames, auditPage, auditQueries, hasOperator, newestOf, OPERATOR_WINDOW, parseAuditFilter, type AuditFilter, type AuditRowView } from './pages-audit.js';
import { errorPage } from './pages.js';
import { requireViewer } from './routes-archive.js';

/**
 * The first event number whose time is at or after `ts` (newest + 1 when
 * none), by bisection on seq: events are appended in time order (to within
 * the clock differences of the processes writing the log; the page checks
 * each row's time as well). About 25 reads of the primary key on a log of
 * tens of millions.
 */
export async function firstSeqAtOrAfter(db: SqlQueryable, ts: number, newest: number): Promise<number> {
  let lo = 1;
  let hi = newest + 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const row = await db.get<{ ts: number }>('SELECT ts FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT 1', [mid]);
    if (row === undefined || row.ts >= ts) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** One page of the filtered log: its rows, the older-events cursor, and the window searched (operator filter). */
export async function readAuditPage(db: SqlQueryable, f: AuditFilter, operatorWindow = OPERATOR_WINDOW): Promise<{ rows: AuditRowView[]; older?: number; searched?: { low: number; high: number } }> {
  const newest = (await db.get<{ seq: number | null }>('SELECT MAX(seq) AS seq FROM audit_log'))?.seq ?? 0;
  // the event numbers the time range covers: [floor, high)
  let high = Math.min(f.before ?? newest + 1, newest + 1);
  const floor = f.since !== undefined ? await firstSeqAtOrAfter(db, f.since, newest) : 1;
  if (f.until !== undefined) high = Math.min(high, await firstSeqAtOrAfter(db, f.until, newest));
  if (high <= floor) return { rows: [] };
  // an operator is matched inside the data: at most OPERATOR_WINDOW events per page
  const low = f.operator !== undefined ? Math.max(floor, high - operatorWindow) : floor;
  const results: AuditRowView[][] = [];
  for (const q of auditQueries(f, low, high)) results.push(await db.all<AuditRowView>(q.sql, q.params));
  // a query that filled its page may have more below its last row: only what is above every such row is complete
  const cutoff = Math.max(low, ...results.filter((r) => r.length >= AUDIT_PAGE_SIZE).map((r) => r.at(-1)?.seq ?? low));
  const operator = f.operator;
  const rows = newestOf(results.map((r) => r.filter((row) => row.seq >= cutoff && (operator === undefined || hasOperator(row, operator)))));
  const last = rows.at(-1);
  // a full page continues below its last row; a short one below what was complete, when that is above the range's start
  if (last && rows.length >= AUDIT_PAGE_SIZE) return { rows, older: last.seq };
  if (cutoff > floor) return { rows, older: cutoff, ...(cutoff === low && operator !== undefined ? { searched: { low, high } } : {}) };
  return { rows };
}

export function registerAuditRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get('/audit', async (request, reply) => {
    const who = await requireViewer(ctx, request, reply);
    if (!who) return reply;
    if (!mayReadArchive(who.viewer.role)) return sendPage(ctx, reply, 403, { ...errorPage(403, 'The audit log needs the auditor or auditor-content role.'), viewer: who.viewer });
    const parsed = parseAuditFilter(request.query, ctx.now());
    if ('problem' in parsed) return sendPage(ctx, reply, 400, { ...auditPage({ rows: [], form: parsed.form, problem: parsed.problem }), viewer: who.viewer, current: 'audit' });
    const f = parsed.filter;
    // the bisection and the page's queries read one picture of the log, beside the writers
    const page = await ctx.db.readSnapshot((q) => readAuditPage(q, f));
    const others = auditFilterNames(f);
    // recorded after the read, so the page does not show its own record
    await appendAudit(
      ctx.db,
      { type: 'audit:viewed', data: { operator: who.viewer.name, via: 'console', ...(f.stage ? { stage: f.stage } : {}), ...(others.length ? { filters: others } : {}), events: page.rows.length } },
      ctx.now(),
    );
    return sendPage(ctx, reply, 200, { ...auditPage({ ...page, form: parsed.form, before: f.before }), viewer: who.viewer, current: 'audit' });
  });
}
