/**
 * The sender's withdraw link (portal.senderRevokeLinks): GET /w/:token
 * shows what would be withdrawn (how many recipients, when, until when —
 * nothing of the content) and a form; POST /w/:token revokes and shreds the
 * copy at once through the lifecycle (audited portal:revoked with operator
 * `sender <address>`, then portal:shredded). The link token is the
 * credential, as the recipients' links are: mailed only to the sender's own
 * address, stored only as its hash. The form carries a pre-session CSRF
 * token bound to this link.
 */
import type { FastifyInstance } from 'fastify';
import { hashPortalToken } from '../portal-store.js';
import type { PortalLifecycle } from '../lifecycle.js';
import { checkPreSessionToken } from './csrf.js';
import { field, type PortalContext, preSessionFormToken, sendPage } from './context.js';
import { errorPage, invalidLinkPage, withdrawConfirmPage, withdrawnPage } from './pages.js';

export function registerWithdrawRoutes(app: FastifyInstance, ctx: PortalContext, lifecycle: Pick<PortalLifecycle, 'revoke'>): void {
  const postLimit = { rateLimit: { max: ctx.limits.postsPerMinute, timeWindow: 60_000 } };

  app.get<{ Params: { token: string } }>('/w/:token', async (request, reply) => {
    const now = ctx.now();
    const found = await ctx.portal.findByWithdrawToken(request.params.token);
    if (!found) return sendPage(ctx, reply, 404, invalidLinkPage(ctx.shell));
    if (found.revokedAt !== null || found.shreddedAt !== null || found.expiresAt <= now) return sendPage(ctx, reply, 410, withdrawnPage(ctx.shell, found.revokedAt !== null));
    const csrf = preSessionFormToken(ctx, request, reply, hashPortalToken(request.params.token), now);
    return sendPage(ctx, reply, 200, withdrawConfirmPage(ctx.shell, { token: request.params.token, csrf, recipients: found.recipients, sentAt: found.createdAt, expiresAt: found.expiresAt }));
  });

  app.post<{ Params: { token: string } }>('/w/:token', { config: postLimit }, async (request, reply) => {
    const now = ctx.now();
    const found = await ctx.portal.findByWithdrawToken(request.params.token);
    if (!found) return sendPage(ctx, reply, 404, invalidLinkPage(ctx.shell));
    if (!checkPreSessionToken(ctx.csrfKey, request.cookies[ctx.cookies.pre], hashPortalToken(request.params.token), field(request.body, 'csrf'), now)) {
      return sendPage(ctx, reply, 403, errorPage(ctx.shell, 403));
    }
    if (found.shreddedAt === null) await lifecycle.revoke(found.depositId, `sender ${found.sender}`);
    ctx.log.info({ event: 'PORTAL_WITHDRAWN', depositId: found.depositId, queueId: found.queueId }, 'the sender withdrew a portal message');
    return sendPage(ctx, reply, 200, withdrawnPage(ctx.shell, true));
  });
}
