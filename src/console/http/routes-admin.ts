/**
 * The admin routes (role admin only): GET /admin/config (the running
 * configuration, secrets redacted), GET /admin/queue and POST
 * /admin/queue/:id/(hold|release|delete), GET /admin/users and POST
 * /admin/users (add), /admin/users/:name/(disable|reset-mfa). Any other
 * role gets 403 and the refusal is audited (console:admin_refused), as a
 * content refusal is. Every POST needs the session's CSRF token. The
 * actions are the queue CLI's and `sealgate console-users`' own functions
 * (src/queue/admin.ts, src/console/users.ts), so each is audited as theirs
 * are, with the admin's name as operator and via 'console'.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { SqlQueryable } from '../../db/sql-database.js';
import { isSealgateError } from '../../errors.js';
import { applyQueueAction, deleteMessage, queueStats } from '../../queue/admin.js';
import { isQueueId } from '../../queue/ids.js';
import type { RecipientState } from '../../queue/states.js';
import { addConsoleUser, disableConsoleUser, isConsoleRole, listConsoleUsers, resetConsoleMfa } from '../users.js';
import { COOKIES, type ConsoleContext, field, sendPage, type SignedIn } from './context.js';
import { sessionCsrfToken, tokenMatches } from './csrf.js';
import { mayAdminister } from './layout.js';
import { configPage, confirmDeletePage, queuePage, usersPage, type QueueDone, type QueueRow, type UserRow, type UsersNotice } from './pages-admin.js';
import { errorPage } from './pages.js';
import { requireViewer } from './routes-archive.js';

/** Messages the queue page lists (newest first). */
export const QUEUE_PAGE_ROWS = 50;

export interface AdminDeps {
  /** The configuration the daemon runs with now (after reloads), and where it came from. */
  readonly runningConfig?: (() => { readonly config: unknown; readonly source?: string | undefined }) | undefined;
  /** Removes a deleted message's spool file (the CLI's `spool.remove`). */
  readonly removeSpoolFile?: ((id: string) => Promise<void>) | undefined;
}

type AdminPage = 'config' | 'queue' | 'users';

/** The SealgateError codes whose one-line message is meant for the operator (a name taken, not found, busy, a bad password). */
const SHOWN_ERRORS = new Set(['SG_USAGE', 'SG_USER_EXISTS', 'SG_USER_NOT_FOUND', 'SG_QUEUE_BUSY', 'SG_QUEUE_NOT_FOUND', 'SG_NOT_FOUND']);

function shownError(err: unknown): string | undefined {
  return isSealgateError(err) && SHOWN_ERRORS.has(err.code) ? err.message : undefined;
}

/** The newest messages of the queue with their recipient counts per state and the newest attempt's reply. */
export async function queueRows(db: SqlQueryable, limit: number): Promise<QueueRow[]> {
  const messages = await db.all<{ id: string; created_at: number; size: number }>('SELECT id, created_at, size FROM messages ORDER BY created_at DESC, id DESC LIMIT ?', [limit]);
  if (messages.length === 0) return [];
  const marks = messages.map(() => '?').join(', ');
  const ids = messages.map((m) => m.id);
  const states = await db.all<{ message_id: string; state: RecipientState; n: number }>(`SELECT message_id, state, count(*) AS n FROM recipients WHERE message_id IN (${marks}) GROUP BY message_id, state`, ids);
  const last = await db.all<{ message_id: string; last_code: number | null; last_enhanced: string | null; last_error: string | null }>(
    `SELECT message_id, last_code, last_enhanced, last_error FROM recipients WHERE message_id IN (${marks}) AND last_attempt_at IS NOT NULL ORDER BY last_attempt_at`,
    ids,
  );
  const reasons = new Map<string, string>();
  for (const r of last) {
    const text = [r.last_code ?? '', r.last_enhanced && !(r.last_error ?? '').startsWith(r.last_enhanced) ? r.last_enhanced : '', r.last_error ?? ''].filter((x) => x !== '').join(' ');
    if (text) reasons.set(r.message_id, text);
  }
  return messages.map((m) => {
    const byState: Partial<Record<RecipientState, number>> = {};
    let n = 0;
    for (const s of states) {
      if (s.message_id !== m.id) continue;
      byState[s.state] = s.n;
      n += s.n;
    }
    return { id: m.id, createdAt: m.created_at, size: m.size, recipients: n, states: byState, lastReason: reasons.get(m.id) ?? null };
  });
}

async function userRows(ctx: ConsoleContext): Promise<UserRow[]> {
  const users = await listConsoleUsers(ctx.db);
  const steps = new Map((await ctx.db.all<{ name: string; totp_last_step: number }>('SELECT name, totp_last_step FROM console_users')).map((r) => [r.name, r.totp_last_step]));
  return users.map((u) => ({ name: u.name, role: u.role, disabled: u.disabled, mfaUsed: (steps.get(u.name) ?? 0) > 0, lastSignInAt: u.lastSignInAt, lockedUntil: u.lockedUntil }));
}

export function registerAdminRoutes(app: FastifyInstance, ctx: ConsoleContext, deps: AdminDeps): void {
  /** The signed-in admin, or undefined after answering (sign-in redirect; 403 audited for another role; 403 for a bad CSRF token on a POST). */
  const requireAdmin = async (request: FastifyRequest, reply: FastifyReply, page: AdminPage, post: boolean): Promise<SignedIn | undefined> => {
    const who = await requireViewer(ctx, request, reply);
    if (!who) return undefined;
    if (!mayAdminister(who.viewer.role)) {
      await appendAudit(ctx.db, { type: 'console:admin_refused', data: { operator: who.viewer.name, via: 'console', page } }, ctx.now());
      sendPage(ctx, reply, 403, { ...errorPage(403, 'The admin pages need the admin role. This attempt is recorded in the audit log.'), viewer: who.viewer });
      return undefined;
    }
    if (post && !tokenMatches(sessionCsrfToken(request.cookies[COOKIES.session] ?? ''), field(request.body, 'csrf'))) {
      sendPage(ctx, reply, 403, { ...errorPage(403), viewer: who.viewer });
      return undefined;
    }
    return who;
  };

  const showQueue = async (reply: FastifyReply, who: SignedIn, done?: QueueDone): Promise<FastifyReply> => {
    // the counts and the rows: one picture of a queue the gateway (or several nodes) goes on changing
    const { stats, rows } = await ctx.db.readSnapshot(async (q) => ({ stats: await queueStats(q), rows: await queueRows(q, QUEUE_PAGE_ROWS) }));
    return sendPage(ctx, reply, done && 'problem' in done ? 409 : 200, {
      ...queuePage({ counts: stats.recipients, messages: stats.messages, bytes: stats.bytes, rows, limit: QUEUE_PAGE_ROWS, csrf: who.viewer.csrf, done }),
      viewer: who.viewer,
      current: 'admin-queue',
    });
  };

  const showUsers = async (reply: FastifyReply, who: SignedIn, status: number, notice?: UsersNotice, form?: { name?: string; role?: string }): Promise<FastifyReply> =>
    sendPage(ctx, reply, status, { ...usersPage({ users: await userRows(ctx), self: who.viewer.name, csrf: who.viewer.csrf, now: ctx.now(), notice, form }), viewer: who.viewer, current: 'admin-users' });

  app.get('/admin', async (request, reply) => {
    const who = await requireAdmin(request, reply, 'queue', false);
    if (!who) return reply;
    return reply.code(303).header('location', '/admin/queue').send('');
  });

  app.get('/admin/config', async (request, reply) => {
    const who = await requireAdmin(request, reply, 'config', false);
    if (!who) return reply;
    if (!deps.runningConfig) return sendPage(ctx, reply, 503, { ...errorPage(503, 'The configuration is not available on this console.'), viewer: who.viewer });
    const running = deps.runningConfig();
    return sendPage(ctx, reply, 200, { ...configPage(running.config, running.source), viewer: who.viewer, current: 'admin-config' });
  });

  app.get('/admin/queue', async (request, reply) => {
    const who = await requireAdmin(request, reply, 'queue', false);
    if (!who) return reply;
    return showQueue(reply, who);
  });

  app.post<{ Params: { id: string; action: string } }>('/admin/queue/:id/:action', async (request, reply) => {
    const who = await requireAdmin(request, reply, 'queue', true);
    if (!who) return reply;
    const id = request.params.id.toUpperCase();
    const action = request.params.action;
    if (!isQueueId(id) || (action !== 'hold' && action !== 'release' && action !== 'delete')) return sendPage(ctx, reply, 404, { ...errorPage(404), viewer: who.viewer });
    try {
      let changed: number;
      if (action === 'delete') {
        if (field(request.body, 'confirm') !== 'yes') return sendPage(ctx, reply, 200, { ...confirmDeletePage(id, who.viewer.csrf), viewer: who.viewer, current: 'admin-queue' });
        const remove = deps.removeSpoolFile;
        if (!remove) return sendPage(ctx, reply, 503, { ...errorPage(503, 'Deleting is not available on this console.'), viewer: who.viewer });
        changed = (await deleteMessage(ctx.db, id, who.viewer.name, ctx.now(), remove, 'console')).changed;
      } else {
        changed = (await applyQueueAction(ctx.db, action, id, who.viewer.name, ctx.now(), 'console')).changed;
      }
      return showQueue(reply, who, { action, id, changed });
    } catch (err) {
      const text = shownError(err);
      if (text === undefined) throw err;
      return showQueue(reply, who, { problem: text });
    }
  });

  app.get('/admin/users', async (request, reply) => {
    const who = await requireAdmin(request, reply, 'users', false);
    if (!who) return reply;
    return showUsers(reply, who, 200);
  });

  app.post('/admin/users', async (request, reply) => {
    const who = await requireAdmin(request, reply, 'users', true);
    if (!who) return reply;
    const name = (field(request.body, 'name') ?? '').trim();
    const role = field(request.body, 'role') ?? '';
    const password = field(request.body, 'password') ?? '';
    if (!isConsoleRole(role)) return showUsers(reply, who, 400, { kind: 'problem', text: 'Choose a role.' }, { name });
    try {
      const { uri } = await addConsoleUser(ctx.users, name, role, password, who.viewer.name, ctx.now(), 'console');
      return showUsers(reply, who, 200, { kind: 'enrolled', name, uri, added: true });
    } catch (err) {
      const text = shownError(err);
      if (text === undefined) throw err;
      // the CLI's wording: the console's form has no --password-stdin, and a taken name's advice is the Reset MFA button
      return showUsers(reply, who, 400, { kind: 'problem', text: text.replace(/; "sealgate console-users reset-mfa [^"]*" gives it a new code secret$/, ': Reset MFA gives it a new code secret') }, { name: name.slice(0, 64), role });
    }
  });

  app.post<{ Params: { name: string; action: string } }>('/admin/users/:name/:action', async (request, reply) => {
    const who = await requireAdmin(request, reply, 'users', true);
    if (!who) return reply;
    const { name, action } = request.params;
    if (action !== 'disable' && action !== 'reset-mfa') return sendPage(ctx, reply, 404, { ...errorPage(404), viewer: who.viewer });
    try {
      if (action === 'disable') {
        // an admin who locks themselves out leaves nobody to undo it from the console
        if (name === who.viewer.name) return showUsers(reply, who, 400, { kind: 'problem', text: 'You cannot disable yourself; another admin (or sealgate console-users disable) can.' });
        await disableConsoleUser(ctx.db, name, who.viewer.name, ctx.now(), 'console');
        return showUsers(reply, who, 200, { kind: 'disabled', name });
      }
      const { uri } = await resetConsoleMfa(ctx.users, name, who.viewer.name, ctx.now(), 'console');
      return showUsers(reply, who, 200, { kind: 'enrolled', name, uri, added: false });
    } catch (err) {
      const text = shownError(err);
      if (text === undefined) throw err;
      return showUsers(reply, who, 404, { kind: 'problem', text: text.replace(/ \("sealgate console-users list" shows them\)$/, '') });
    }
  });
}
