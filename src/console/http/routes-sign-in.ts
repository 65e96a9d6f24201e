/**
 * Sign-in and sign-out: GET /sign-in (the form), POST /sign-in (users.ts
 * signIn: password and code, lockout, audit), POST /sign-out. The sign-in
 * form is bound to a pre-session cookie (csrf.ts); a success replaces it by
 * the session cookie. A sign-out is audited (console:signed_out). Passwords, codes and cookies are never logged.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { signIn } from '../users.js';
import { COOKIES, type ConsoleContext, cookieOptions, field, remoteIp, sendPage, signedIn } from './context.js';
import { preCsrfToken, sessionCsrfToken, tokenMatches } from './csrf.js';
import { errorPage, signInPage, type SignInView } from './pages.js';
import { SECRET_PATTERN } from './sessions.js';

/** How long a sign-in form stays good (its pre-session cookie). */
const PRE_TTL_MS = 60 * 60_000;

/** Sends the sign-in form, with a pre-session cookie (kept when the request has one). */
export function sendSignIn(ctx: ConsoleContext, request: FastifyRequest, reply: FastifyReply, status: number, view: Omit<SignInView, 'csrf'>): FastifyReply {
  let pre = request.cookies[COOKIES.pre];
  if (pre === undefined || !SECRET_PATTERN.test(pre)) pre = ctx.sessions.secret();
  reply.setCookie(COOKIES.pre, pre, cookieOptions(PRE_TTL_MS));
  return sendPage(ctx, reply, status, signInPage({ ...view, csrf: preCsrfToken(pre) }));
}

export function registerSignInRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get('/sign-in', async (request, reply) => {
    if (await signedIn(ctx, request)) return reply.code(303).header('location', '/').send('');
    const q = request.query as Record<string, unknown>;
    const problem = q.expired === '1' ? 'expired' : q.out === '1' ? 'signed-out' : undefined;
    return sendSignIn(ctx, request, reply, 200, problem ? { problem } : {});
  });

  app.post('/sign-in', { config: { rateLimit: { max: ctx.limits.signInsPerMinute, timeWindow: 60_000 } } }, async (request, reply) => {
    const pre = request.cookies[COOKIES.pre];
    if (typeof pre !== 'string' || !SECRET_PATTERN.test(pre) || !tokenMatches(preCsrfToken(pre), field(request.body, 'csrf'))) {
      return sendSignIn(ctx, request, reply, 403, { problem: 'csrf' });
    }
    const username = (field(request.body, 'username') ?? '').trim().slice(0, 64);
    const outcome = await signIn(ctx.users, { name: username, password: field(request.body, 'password') ?? '', code: field(request.body, 'code') ?? '', remoteIp: remoteIp(request) }, ctx.now());
    if (!outcome.ok) {
      if (outcome.reason === 'locked') {
        const until = outcome.retryAfter !== undefined ? new Date(outcome.retryAfter).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '') : undefined;
        return sendSignIn(ctx, request, reply, 429, { problem: 'locked', username, lockedUntil: until });
      }
      return sendSignIn(ctx, request, reply, 401, { problem: 'credentials', username });
    }
    const cookie = await ctx.sessions.create(outcome.name, remoteIp(request), ctx.now());
    reply.clearCookie(COOKIES.pre, cookieOptions());
    // a browser-session cookie: gone when the browser closes; the server ends it sooner (idle, 8 hours)
    reply.setCookie(COOKIES.session, cookie, cookieOptions());
    return reply.code(303).header('location', '/').send('');
  });

  app.post('/sign-out', async (request, reply) => {
    const cookie = request.cookies[COOKIES.session];
    const who = await signedIn(ctx, request);
    if (!who || cookie === undefined) return reply.code(303).header('location', '/sign-in').send('');
    if (!tokenMatches(sessionCsrfToken(cookie), field(request.body, 'csrf'))) return sendPage(ctx, reply, 403, errorPage(403));
    await ctx.sessions.end(who.session.hash, who.session.name, remoteIp(request), 'sign-out', ctx.now());
    reply.clearCookie(COOKIES.session, cookieOptions());
    return reply.code(303).header('location', '/sign-in?out=1').send('');
  });
}
