/**
 * The export routes: GET /export (the form), POST /export (CSRF; starts an
 * export job, export-jobs.ts), GET /export/:id (its progress, reloading
 * itself while it runs), GET /export/:id/download (the ZIP, decrypted from
 * the object store as it is sent, as an attachment, then removed). The jobs
 * are rows of the shared database: every route answers on any node. Roles: auditor, auditor-content and admin;
 * only auditor-content and admin may include message content, for an
 * auditor the export is always metadata and evidence (--no-content). An
 * export is visible to the user who started it only: anyone else gets 404.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseSearch, SearchInputError, type RawSearch } from '../../archive/search.js';
import { queryTerms } from '../../archive/terms.js';
import { COOKIES, type ConsoleContext, field, sendPage, type SignedIn } from './context.js';
import { sessionCsrfToken, tokenMatches } from './csrf.js';
import type { ExportJobs } from './export-jobs.js';
import { mayExport, mayExportContent } from './layout.js';
import { exportFormPage, exportJobPage, REFRESH_SECONDS } from './pages-export.js';
import { errorPage } from './pages.js';
import { rawSearchOf, requireViewer } from './routes-archive.js';

const BUSY_TEXT = {
  'user-busy': 'You have an export running already: wait for it to finish (the list below links to it).',
  busy: 'The gateway is running as many exports as it allows at once. Try again in a few minutes.',
  'user-full': 'You have as many exports waiting for download as one user may keep: download them (or wait until they are removed) first.',
  closed: 'The console is shutting down. Try again shortly.',
} as const;

/** Pure: the filters of a form, without the search page's paging cursor. */
export function exportFiltersOf(body: unknown): RawSearch {
  const { after: _paging, ...raw } = rawSearchOf(body);
  return raw;
}

/** The ZIP's name as the browser saves it: the gateway's clock, no user input. */
export function downloadName(startedAt: number): string {
  return `sealgate-export-${new Date(startedAt).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.zip`;
}

export function registerExportRoutes(app: FastifyInstance, ctx: ConsoleContext, jobs: ExportJobs | undefined): void {
  const notAllowed = (reply: FastifyReply, who: SignedIn): FastifyReply => sendPage(ctx, reply, 403, { ...errorPage(403, 'Exports need the auditor, auditor-content or admin role.'), viewer: who.viewer });
  const unavailable = (reply: FastifyReply, who: SignedIn): FastifyReply => sendPage(ctx, reply, 503, { ...errorPage(503, 'Exports are not available on this console.'), viewer: who.viewer });
  const form = async (reply: FastifyReply, who: SignedIn, status: number, raw: RawSearch, problem?: string): Promise<FastifyReply> =>
    sendPage(ctx, reply, status, {
      ...exportFormPage({ csrf: who.viewer.csrf, raw, mayContent: mayExportContent(who.viewer.role), jobs: (await jobs?.of(who.viewer.name)) ?? [], problem }),
      viewer: who.viewer,
      current: 'export',
    });

  app.get('/export', async (request, reply) => {
    const who = await requireViewer(ctx, request, reply);
    if (!who) return reply;
    if (!mayExport(who.viewer.role)) return notAllowed(reply, who);
    if (!jobs) return unavailable(reply, who);
    await jobs.sweep();
    return form(reply, who, 200, {});
  });

  app.post('/export', async (request, reply) => {
    const who = await requireViewer(ctx, request, reply);
    if (!who) return reply;
    if (!mayExport(who.viewer.role)) return notAllowed(reply, who);
    const cookie = request.cookies[COOKIES.session] ?? '';
    if (!tokenMatches(sessionCsrfToken(cookie), field(request.body, 'csrf'))) return sendPage(ctx, reply, 403, { ...errorPage(403), viewer: who.viewer });
    if (!jobs) return unavailable(reply, who);
    const raw = exportFiltersOf(request.body);
    // an auditor's export never holds content, whatever the form says
    const content = mayExportContent(who.viewer.role) && field(request.body, 'content') === 'yes';
    let search: ReturnType<typeof parseSearch>;
    try {
      search = parseSearch(raw, ctx.now(), (s) => queryTerms(ctx.keyring, s));
    } catch (err) {
      if (!(err instanceof SearchInputError)) throw err;
      return form(reply, who, 400, raw, err.message.replace(/--([a-z-]+)/g, '$1'));
    }
    await jobs.sweep();
    const started = await jobs.start({ owner: who.viewer.name, content, raw, search });
    if (!started.ok) return form(reply, who, started.reason === 'user-busy' || started.reason === 'user-full' ? 409 : 503, raw, BUSY_TEXT[started.reason]);
    return reply.code(303).header('location', `/export/${started.job.id}`).send('');
  });

  app.get<{ Params: { id: string } }>('/export/:id', async (request, reply) => {
    const who = await requireViewer(ctx, request, reply);
    if (!who) return reply;
    if (!mayExport(who.viewer.role)) return notAllowed(reply, who);
    const job = await jobs?.get(request.params.id, who.viewer.name);
    if (!jobs || !job) return sendPage(ctx, reply, 404, { ...errorPage(404, 'There is no such export, or it was downloaded or removed.'), viewer: who.viewer });
    return sendPage(ctx, reply, 200, { ...exportJobPage(job, jobs.limits.keepMs), viewer: who.viewer, current: 'export', refreshSeconds: job.state === 'running' ? REFRESH_SECONDS : undefined });
  });

  app.get<{ Params: { id: string } }>('/export/:id/download', async (request, reply) => {
    const who = await requireViewer(ctx, request, reply);
    if (!who) return reply;
    if (!mayExport(who.viewer.role)) return notAllowed(reply, who);
    const job = await jobs?.get(request.params.id, who.viewer.name);
    if (!jobs || !job || job.state !== 'done') return sendPage(ctx, reply, 404, { ...errorPage(404, 'There is no such export ready, or it was downloaded or removed.'), viewer: who.viewer });
    const stream = await jobs.open(job);
    if (!stream) return sendPage(ctx, reply, 404, { ...errorPage(404, 'The export file is gone.'), viewer: who.viewer });
    // one download: the export leaves the gateway once the response is complete (a broken download leaves it for another try)
    reply.raw.on('finish', () => void jobs.remove(job).catch(() => undefined)); // not removed now: the sweep removes it after keepMs
    return reply
      .code(200)
      .type('application/zip')
      // the ZIP's size (the row's): the object holds its ciphertext, decrypted as it is sent
      .header('content-length', String(job.bytes))
      .header('content-disposition', `attachment; filename="${downloadName(job.startedAt)}"`)
      .send(stream);
  });
}
