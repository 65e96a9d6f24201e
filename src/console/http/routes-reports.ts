/**
 * The reports page (GET /reports?since=…&until=…): every console role reads
 * the archive's figures for a window of whole UTC days (the last 30 by
 * default, at most 366). A window that does not parse is a 400 page that
 * says why. Each view is recorded (`console:report_viewed`, with the user
 * and the window's first and last day): figures only, no PHI.
 */
import type { FastifyInstance } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import { reportFigures } from '../figures/figures.js';
import { parseWindow } from '../figures/window.js';
import { type ConsoleContext, field, sendPage } from './context.js';
import { mayViewReports } from './layout.js';
import { errorPage } from './pages.js';
import { reportsPage } from './pages-reports.js';
import { requireViewer } from './routes-archive.js';

export function registerReportRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get('/reports', async (request, reply) => {
    const who = await requireViewer(ctx, request, reply);
    if (!who) return reply;
    if (!mayViewReports(who.viewer.role)) return sendPage(ctx, reply, 403, { ...errorPage(403, 'Reports need the auditor, auditor-content or admin role.'), viewer: who.viewer });
    const since = field(request.query, 'since');
    const until = field(request.query, 'until');
    const parsed = parseWindow(since, until, ctx.now());
    if (!parsed.ok) {
      // the form shows what was typed (escaped), so it can be corrected; at most a date's length of it
      const typed = { since: (since ?? '').slice(0, 10), until: (until ?? '').slice(0, 10) };
      return sendPage(ctx, reply, 400, { ...reportsPage(typed, { problem: parsed.problem }), viewer: who.viewer, current: 'reports' });
    }
    const w = parsed.window;
    // one snapshot beside the writers: seconds of reading must not hold up the gateway's writes
    const figures = await ctx.db.readSnapshot((q) => reportFigures(q, w));
    await appendAudit(ctx.db, { type: 'console:report_viewed', data: { operator: who.viewer.name, via: 'console', since: w.first, until: w.last } }, ctx.now());
    return sendPage(ctx, reply, 200, { ...reportsPage({ since: w.first, until: w.last }, { window: w, figures }), viewer: who.viewer, current: 'reports' });
  });
}
