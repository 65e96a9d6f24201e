/**
 * Signing in with a one-time code: POST /m/:token/code (send a code) and
 * POST /m/:token/sign-in (check it, start a session). Both forms are bound
 * to the pre-session (csrf.ts). Every outcome is audited with the
 * portal:* events; codes, tokens and cookies are never logged or audited.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkPreSessionToken } from './csrf.js';
import { maskAddress } from './format.js';
import { codeEntryPage, errorPage, gonePage, invalidLinkPage, lockedPage, refusedPage } from './pages.js';
import { audit, cookieOptions, field, linkState, type LinkState, type PortalContext, preSessionFormToken, remoteIp, sendPage } from './context.js';

type TokenRequest = FastifyRequest<{ Params: { token: string } }>;

/** Answers invalid and gone links; returns the live state or undefined when it already answered. */
export async function liveLink(ctx: PortalContext, request: TokenRequest, reply: FastifyReply, now: number): Promise<Extract<LinkState, { kind: 'live' }> | undefined> {
  const state = await linkState(ctx, request.params.token, now);
  if (state.kind === 'invalid') {
    sendPage(ctx, reply, 404, invalidLinkPage(ctx.shell));
    return undefined;
  }
  if (state.kind === 'gone') {
    sendPage(ctx, reply, 410, gonePage(ctx.shell, state.gone, state.match.expiresAt));
    return undefined;
  }
  return state;
}

/** The pre-sign-in form token is right for this request's cookie and link; otherwise answers 403. */
function preCsrfOk(ctx: PortalContext, request: TokenRequest, reply: FastifyReply, linkHash: string, now: number): boolean {
  if (checkPreSessionToken(ctx.csrfKey, request.cookies[ctx.cookies.pre], linkHash, field(request.body, 'csrf'), now)) return true;
  sendPage(ctx, reply, 403, errorPage(ctx.shell, 403, request.params.token));
  return false;
}

export function registerSignInRoutes(app: FastifyInstance, ctx: PortalContext): void {
  const postLimit = { rateLimit: { max: ctx.limits.postsPerMinute, timeWindow: 60_000 } };

  app.post<{ Params: { token: string } }>('/m/:token/code', { config: postLimit }, async (request, reply) => {
    const now = ctx.now();
    const live = await liveLink(ctx, request, reply, now);
    if (!live || !preCsrfOk(ctx, request, reply, live.linkHash, now)) return reply;
    const { match } = live;
    const recipient = match.recipient.address;
    const ip = remoteIp(request);
    const result = await ctx.codes.requestCode(match.depositId, recipient, now);
    const csrf = preSessionFormToken(ctx, request, reply, live.linkHash, now);
    if (result.outcome === 'refused') {
      await audit(ctx, { type: 'portal:code_refused', data: { depositId: match.depositId, recipient, remoteIp: ip, reason: result.reason } }, now);
      ctx.metrics?.inc('sealgate_portal_code_requests_total', { outcome: 'refused' });
      return sendPage(ctx, reply, 429, refusedPage(ctx.shell, { token: request.params.token, csrf, reason: result.reason, retryAt: result.retryAt, now }));
    }
    const noticeQueueId = await ctx.mailer.sendCode({ depositId: match.depositId, recipient, code: result.code, expiresAt: result.expiresAt });
    await audit(ctx, { type: 'portal:code_sent', data: { depositId: match.depositId, recipient, remoteIp: ip, noticeQueueId } }, now);
    ctx.metrics?.inc('sealgate_portal_code_requests_total', { outcome: 'sent' });
    return sendPage(ctx, reply, 200, codeEntryPage(ctx.shell, { token: request.params.token, masked: maskAddress(recipient), csrf, justSent: true }));
  });

  app.post<{ Params: { token: string } }>('/m/:token/sign-in', { config: postLimit }, async (request, reply) => {
    const now = ctx.now();
    const live = await liveLink(ctx, request, reply, now);
    if (!live || !preCsrfOk(ctx, request, reply, live.linkHash, now)) return reply;
    const { match } = live;
    const recipient = match.recipient.address;
    const ip = remoteIp(request);
    const attempt: unknown = typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>).code : undefined;
    const result = await ctx.codes.checkCode(match.depositId, recipient, attempt, now);
    const s = ctx.shell.s;

    if (result.outcome === 'ok') {
      const { cookieValue } = await ctx.sessions.create({ depositId: match.depositId, recipient, method: 'code', remoteIp: ip, now });
      await audit(ctx, { type: 'portal:signed_in', data: { depositId: match.depositId, recipient, remoteIp: ip, method: 'code' } }, now);
      reply.setCookie(ctx.cookies.session, cookieValue, cookieOptions(ctx));
      // the pre-session has done its job
      reply.clearCookie(ctx.cookies.pre, cookieOptions(ctx));
      return reply.code(303).header('location', `/m/${request.params.token}`).type('text/plain; charset=utf-8').send('');
    }

    ctx.metrics?.inc('sealgate_portal_failed_codes_total', { outcome: result.outcome });
    if (result.outcome === 'locked' && result.lockedUntil !== null) {
      await audit(ctx, { type: 'portal:locked', data: { depositId: match.depositId, recipient, remoteIp: ip, until: result.lockedUntil } }, now);
      return sendPage(ctx, reply, 429, lockedPage(ctx.shell, { until: result.lockedUntil, now }));
    }
    await audit(
      ctx,
      { type: 'portal:code_failed', data: { depositId: match.depositId, recipient, remoteIp: ip, outcome: result.outcome, triesLeft: result.triesLeft } },
      now,
    );
    const error =
      result.outcome === 'expired'
        ? s.codeExpired
        : result.outcome === 'used'
          ? s.codeUsed
          : result.outcome === 'locked'
            ? s.codeLockedAskNew
            : result.outcome === 'malformed'
              ? s.codeMalformed(result.triesLeft)
              : s.codeWrong(result.triesLeft);
    const csrf = preSessionFormToken(ctx, request, reply, live.linkHash, now);
    return sendPage(ctx, reply, 401, codeEntryPage(ctx.shell, { token: request.params.token, masked: maskAddress(recipient), csrf, error, justSent: false }));
  });
}
