/**
 * The archive routes: search (GET /archive), an entry's metadata and
 * evidence (GET /archive/:id), and its content (GET shows the reason form,
 * POST with a reason shows the message). The auditor roles read; only
 * auditor-content opens content, and a refusal — through the UI, a direct
 * URL or a crafted POST — is answered 403 and audited
 * (archive:content_refused). Every search, read and opening is audited
 * with via 'console' and the user's name; a search records its filters'
 * names, never their values; an opening is recorded before a byte is read.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import { readArchiveContent } from '../../archive/content.js';
import { pendingAware } from '../../archive/pending.js';
import { FILTER_NAMES, filterNames, parseSearch, searchArchive, SearchInputError, type RawSearch, type SearchResult } from '../../archive/search.js';
import { entryKey, showArchiveEntry } from '../../archive/show.js';
import { queryTerms } from '../../archive/terms.js';
import { isQueueId } from '../../queue/ids.js';
import { type ConsoleContext, field, sendPage, type SignedIn, signedIn, COOKIES } from './context.js';
import { sessionCsrfToken, tokenMatches } from './csrf.js';
import { mayOpenContent, mayReadArchive } from './layout.js';
import { contentPage, contentReasonPage, entryPage, MAX_REASON, searchPage } from './pages-archive.js';
import { errorPage, homePage } from './pages.js';

type IdRequest = FastifyRequest<{ Params: { id: string } }>;

/**
 * The signed-in viewer, or undefined after answering: to the sign-in page
 * (with "your session ended" when the request carried a session cookie).
 */
export async function requireViewer(ctx: ConsoleContext, request: FastifyRequest, reply: FastifyReply): Promise<SignedIn | undefined> {
  const who = await signedIn(ctx, request);
  if (who) return who;
  const hadCookie = request.cookies[COOKIES.session] !== undefined;
  reply.code(303).header('location', hadCookie ? '/sign-in?expired=1' : '/sign-in').send('');
  return undefined;
}

/** Pure: the search filters of a query string (empty fields are no filter; `after` for the next page). */
export function rawSearchOf(query: unknown): RawSearch {
  const raw: Record<string, string> = {};
  for (const name of [...FILTER_NAMES, 'after'] as const) {
    const v = field(query, name)?.trim();
    if (v) raw[name] = v;
  }
  return raw as RawSearch;
}

/** Pure: a reason to open content, or why it is not acceptable. */
export function checkReason(reason: string | undefined): { ok: true; reason: string } | { ok: false; problem: string } {
  const r = reason?.trim() ?? '';
  if (r.length === 0) return { ok: false, problem: 'Give a reason: it is recorded in the audit log with your name.' };
  if (r.length > MAX_REASON) return { ok: false, problem: `The reason is longer than ${MAX_REASON} characters.` };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(r)) return { ok: false, problem: 'The reason must be one line of text.' };
  return { ok: true, reason: r };
}

function entryId(request: IdRequest): string | undefined {
  const id = request.params.id.toUpperCase();
  return isQueueId(id) ? id : undefined;
}

/** Reads the first `max` bytes of a stream, then stops it. */
async function firstBytes(stream: NodeJS.ReadableStream & { destroy(): void }, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      chunks.push(b.subarray(0, max - n));
      n += Math.min(b.length, max - n);
      if (n >= max) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}

export function registerArchiveRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const refuse = async (reply: FastifyReply, who: SignedIn, id: string): Promise<FastifyReply> => {
    await appendAudit(ctx.db, { type: 'archive:content_refused', data: { queueId: id, operator: who.viewer.name, via: 'console' } }, ctx.now());
    return sendPage(ctx, reply, 403, { ...errorPage(403, 'Your role may not open message content (it needs the auditor-content role). This attempt is recorded in the audit log.'), viewer: who.viewer });
  };
  const notReader = (reply: FastifyReply, who: SignedIn): FastifyReply =>
    sendPage(ctx, reply, 403, { ...errorPage(403, 'Reading the archive needs the auditor or auditor-content role.'), viewer: who.viewer });

  app.get('/', async (request, reply) => {
    const who = await requireViewer(ctx, request, reply);
    if (!who) return reply;
    if (mayReadArchive(who.viewer.role)) return reply.code(303).header('location', '/archive').send('');
    return sendPage(ctx, reply, 200, { ...homePage(who.viewer), viewer: who.viewer });
  });

  app.get('/archive', async (request, reply) => {
    const who = await requireViewer(ctx, request, reply);
    if (!who) return reply;
    if (!mayReadArchive(who.viewer.role)) return notReader(reply, who);
    const raw = rawSearchOf(request.query);
    let result: SearchResult;
    try {
      const parsed = parseSearch(raw, ctx.now(), (s) => queryTerms(ctx.keyring, s));
      // a search reads pages of terms and rows: one picture, beside the writers
      result = await ctx.db.readSnapshot((q) => searchArchive(q, parsed));
    } catch (err) {
      if (!(err instanceof SearchInputError)) throw err;
      // the CLI's wording names its flags (--since); the form's fields have the same names without dashes
      return sendPage(ctx, reply, 400, { ...searchPage(raw, { problem: err.message.replace(/--([a-z-]+)/g, '$1') }), viewer: who.viewer, current: 'archive' });
    }
    await appendAudit(ctx.db, { type: 'archive:searched', data: { operator: who.viewer.name, via: 'console', filters: filterNames(raw), results: result.entries.length } }, ctx.now());
    return sendPage(ctx, reply, 200, { ...searchPage(raw, { result }), viewer: who.viewer, current: 'archive' });
  });

  app.get<{ Params: { id: string } }>('/archive/:id', async (request, reply) => {
    const who = await requireViewer(ctx, request, reply);
    if (!who) return reply;
    if (!mayReadArchive(who.viewer.role)) return notReader(reply, who);
    const id = entryId(request);
    const entry = id ? await showArchiveEntry(ctx.db, ctx.keyring, id) : undefined;
    if (!id || !entry) return sendPage(ctx, reply, 404, { ...errorPage(404), viewer: who.viewer });
    await appendAudit(ctx.db, { type: 'archive:read', data: { queueId: id, operator: who.viewer.name, via: 'console' } }, ctx.now());
    return sendPage(ctx, reply, 200, { ...entryPage(entry, who.viewer), viewer: who.viewer, current: 'archive' });
  });

  app.get<{ Params: { id: string } }>('/archive/:id/content', async (request, reply) => {
    const who = await requireViewer(ctx, request, reply);
    if (!who) return reply;
    const id = entryId(request);
    if (!id) return sendPage(ctx, reply, 404, { ...errorPage(404), viewer: who.viewer });
    if (!mayOpenContent(who.viewer.role)) return refuse(reply, who, id);
    return sendPage(ctx, reply, 200, { ...contentReasonPage(id, who.viewer), viewer: who.viewer, current: 'archive' });
  });

  app.post<{ Params: { id: string } }>('/archive/:id/content', async (request, reply) => {
    const who = await requireViewer(ctx, request, reply);
    if (!who) return reply;
    const id = entryId(request);
    if (!id) return sendPage(ctx, reply, 404, { ...errorPage(404), viewer: who.viewer });
    // the role first: every content request of a role without the right is recorded, whatever else it carries
    if (!mayOpenContent(who.viewer.role)) return refuse(reply, who, id);
    const cookie = request.cookies[COOKIES.session] ?? '';
    if (!tokenMatches(sessionCsrfToken(cookie), field(request.body, 'csrf'))) return sendPage(ctx, reply, 403, { ...errorPage(403), viewer: who.viewer });
    const reason = checkReason(field(request.body, 'reason'));
    if (!reason.ok) return sendPage(ctx, reply, 400, { ...contentReasonPage(id, who.viewer, reason.problem), viewer: who.viewer, current: 'archive' });
    const key = await entryKey(ctx.db, id);
    if (!key) return sendPage(ctx, reply, 404, { ...errorPage(404), viewer: who.viewer });
    if (key === 'purged') return sendPage(ctx, reply, 404, { ...errorPage(404, 'This entry was purged: its key was destroyed and its content cannot be read. Its metadata and evidence remain.'), viewer: who.viewer });
    if (!ctx.keyring.has(key.keyId)) {
      return sendPage(ctx, reply, 500, { ...errorPage(500, `This entry is sealed under master key ${key.keyId}, which is not loaded (keys.previousKeyFiles).`), viewer: who.viewer });
    }
    // recorded before a byte is read: no content leaves without its audit record
    await appendAudit(ctx.db, { type: 'archive:content_opened', data: { queueId: id, operator: who.viewer.name, via: 'console', reason: reason.reason } }, ctx.now());
    const size = (await ctx.db.get<{ size: number }>('SELECT size FROM archive_messages WHERE id = ?', [id]))?.size ?? 0;
    const bytes = await firstBytes(readArchiveContent(pendingAware(ctx.objects, ctx.db), ctx.keyring, key), ctx.limits.maxContentBytes);
    return sendPage(ctx, reply, 200, { ...contentPage(id, bytes.toString('utf8'), bytes.length, Math.max(size, bytes.length)), viewer: who.viewer, current: 'archive' });
  });
}
