/**
 * The audit log page (GET /audit): the auditor roles read the hash-chained
 * audit log, newest first, filtered by stage, a page at a time. Viewing it
 * is itself recorded (`audit:viewed`, with the stage filter and how many
 * events were shown).
 */
import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import { type ConsoleContext, field, sendPage } from './context.js';
import { mayReadArchive } from './layout.js';
import { AUDIT_PAGE_SIZE, auditPage, beforeOf, stageOf, type AuditRowView } from './pages-audit.js';
import { errorPage } from './pages.js';
import { requireViewer } from './routes-archive.js';

export function registerAuditRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get('/audit', async (request, reply) => {
    const who = await requireViewer(ctx, request, reply);
    if (!who) return reply;
    if (!mayReadArchive(who.viewer.role)) return sendPage(ctx, reply, 403, { ...errorPage(403, 'The audit log needs the auditor or auditor-content role.'), viewer: who.viewer });
    const stage = stageOf(field(request.query, 'stage'));
    const before = beforeOf(field(request.query, 'before'));
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (stage) {
      where.push('type LIKE ?');
      params.push(`${stage}:%`);
    }
    if (before !== undefined) {
      where.push('seq < ?');
      params.push(before);
    }
    const rows = await ctx.db.all<AuditRowView>(`SELECT seq, ts, type, data FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`, [...params, AUDIT_PAGE_SIZE]);
    // recorded after the read, so the page does not show its own record
    await appendAudit(ctx.db, { type: 'audit:viewed', data: { operator: who.viewer.name, via: 'console', ...(stage ? { stage } : {}), events: rows.length } }, ctx.now());
    return sendPage(ctx, reply, 200, { ...auditPage(rows, stage, before), viewer: who.viewer, current: 'audit' });
  });
}
