/**
 * Reading: GET /m/:token (the sign-in page, or the message when signed
 * in), GET /m/:token/print, GET /m/:token/attachments/:n and POST
 * /m/:token/sign-out. The stored copy is decrypted, read up to
 * limits.maxMessageBytes and parsed per request (nothing is cached). Views
 * and downloads are audited (never a name, a subject or content).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ParsedMail } from 'mailparser';
import { isSealgateError } from '../../errors.js';
import type { TokenMatch } from '../portal-store.js';
import { sameSecret } from './csrf.js';
import { contentDisposition, maskAddress } from './format.js';
import { DOWNLOAD_CSP } from './headers.js';
import { linkKeyAccess } from './link-key-web.js';
import { errorPage, gonePage, linkKeyMissingPage, type MessagePageInput, messagePage, signInPage, signedOutPage, tooLargePage } from './pages.js';
import { headerAddresses, replyAddressees } from '../reply.js';
import { attachmentAt, MessageTooLargeError, parseMessage, readBounded, renderMessage } from './render-message.js';
import { liveLink } from './routes-sign-in.js';
import { offersPasskey } from './passkeys.js';
import { passkeySignIn } from './routes-passkey.js';
import type { PortalSession } from './sessions.js';
import { audit, cookieOptions, field, type PortalContext, preSessionFormToken, remoteIp, sendPage } from './context.js';

type TokenRequest = FastifyRequest<{ Params: { token: string } }>;

/** Longest attachment index accepted in a URL (more digits are not an index of ours). */
const INDEX_PATTERN = /^\d{1,5}$/;

async function sessionFor(ctx: PortalContext, request: FastifyRequest, match: TokenMatch, now: number): Promise<PortalSession | undefined> {
  return ctx.sessions.find(request.cookies[ctx.cookies.session], match.depositId, match.recipient.address, now);
}

/** The parsed message, or undefined when a page was already sent (shredded meanwhile, too large, a link's key part missing). */
async function loadMessage(ctx: PortalContext, request: FastifyRequest, reply: FastifyReply, match: TokenMatch): Promise<ParsedMail | undefined> {
  const link = linkKeyAccess(ctx, request, match);
  if (link.kind === 'missing') {
    sendPage(ctx, reply, 400, linkKeyMissingPage(ctx.shell, false), { script: true });
    return undefined;
  }
  let source: Buffer;
  try {
    source = await readBounded(await ctx.portal.open(match.depositId, link.kind === 'ok' ? link.access : undefined), ctx.limits.maxMessageBytes);
  } catch (err) {
    if (isSealgateError(err, 'SG_PORTAL_LINK_KEY')) {
      sendPage(ctx, reply, 400, linkKeyMissingPage(ctx.shell, true), { script: true });
      return undefined;
    }
    if (isSealgateError(err, 'SG_PORTAL_SHREDDED')) {
      sendPage(ctx, reply, 410, gonePage(ctx.shell, 'unavailable', match.expiresAt));
      return undefined;
    }
    if (err instanceof MessageTooLargeError) {
      ctx.log.warn({ event: 'PORTAL_MESSAGE_TOO_LARGE', queueId: match.queueId, bytes: ctx.limits.maxMessageBytes }, 'portal message larger than the portal shows');
      sendPage(ctx, reply, 500, tooLargePage(ctx.shell));
      return undefined;
    }
    throw err;
  }
  return parseMessage(source);
}

async function showMessage(ctx: PortalContext, request: FastifyRequest<{ Params: { token: string }; Querystring: { images?: unknown } }>, reply: FastifyReply, match: TokenMatch, session: PortalSession, print: boolean, now: number): Promise<FastifyReply> {
  const parsed = await loadMessage(ctx, request, reply, match);
  if (!parsed) return reply;
  const showImages = request.query.images === '1';
  const visible = await ctx.portal.recipientsVisibleTo(match.depositId, match.recipient.address);
  const message = renderMessage(parsed, {
    viewer: { address: match.recipient.address, bcc: match.recipient.bcc },
    visible,
    showRemoteImages: showImages,
    placeholder: ctx.shell.s.imagePlaceholder,
  });
  const firstOpen = await ctx.portal.markOpened(match.depositId, match.recipient.seq, now);
  if (firstOpen && ctx.readReceipts) await sendReadReceipt(ctx, match, parsed, now);
  await audit(ctx, { type: 'portal:viewed', data: { depositId: match.depositId, recipient: match.recipient.address, remoteIp: remoteIp(request) } }, now);
  ctx.metrics?.inc('sealgate_portal_opens_total');
  const html = messagePage(ctx.shell, {
    token: request.params.token,
    csrf: session.csrfToken,
    viewer: match.recipient.address,
    message,
    expiresAt: match.expiresAt,
    showImages,
    print,
    passkeyOffer: offersPasskey(ctx.passkeys, session),
    ...(print ? {} : await replyParts(ctx, match, parsed, (request.query as { replied?: unknown }).replied === '1')),
  });
  return sendPage(ctx, reply, 200, html, { remoteImages: showImages });
}

/** portal.readReceipts: tells the original sender who opened the message and when (no content); a failure is logged, never shown. */
async function sendReadReceipt(ctx: PortalContext, match: TokenMatch, parsed: ParsedMail, now: number): Promise<void> {
  const send = ctx.mailer.sendReadReceipt?.bind(ctx.mailer);
  const sender = ctx.replies ? await ctx.replies.senderOf(match.depositId) : '';
  if (!send || !sender) return;
  try {
    await send({ to: sender, recipient: match.recipient.address, openedAt: now, sentAt: match.createdAt, inReplyTo: parsed.messageId });
  } catch (err) {
    ctx.log.error({ event: 'PORTAL_READ_RECEIPT_FAILED', depositId: match.depositId, err: { message: (err as Error).message } }, 'read receipt not queued');
  }
}

/** The reply form's facts and the viewer's thread, when secure replies are on. */
async function replyParts(ctx: PortalContext, match: TokenMatch, parsed: ParsedMail, sent: boolean): Promise<Pick<MessagePageInput, 'reply' | 'thread'>> {
  const replies = ctx.replies;
  if (!replies) return {};
  const sender = await replies.senderOf(match.depositId);
  const viewer = match.recipient.address;
  const others = replyAddressees({ sender, visible: [...headerAddresses(parsed.to), ...headerAddresses(parsed.cc)] }, viewer, true, match.recipient.bcc);
  const thread = [];
  for (const r of await replies.thread(match.depositId, viewer)) {
    try {
      const copy = await parseMessage(await readBounded(await ctx.portal.open(r.depositId), ctx.limits.maxMessageBytes));
      thread.push({ at: r.createdAt, text: copy.text ?? '', files: copy.attachments.length });
    } catch (err) {
      // a copy shredded meanwhile is left out; anything else is a real failure
      if (!isSealgateError(err, 'SG_PORTAL_SHREDDED')) throw err;
    }
  }
  return { reply: sender ? { sender, canReplyAll: others.cc.length > 0, maxBytes: ctx.replyMaxBytes, sent } : undefined, thread };
}

export function registerMessageRoutes(app: FastifyInstance, ctx: PortalContext): void {
  app.get<{ Params: { token: string }; Querystring: { images?: unknown; replied?: unknown } }>('/m/:token', async (request, reply) => {
    const now = ctx.now();
    const live = await liveLink(ctx, request, reply, now);
    if (!live) return reply;
    const session = await sessionFor(ctx, request, live.match, now);
    if (session) return showMessage(ctx, request, reply, live.match, session, false, now);
    const csrf = preSessionFormToken(ctx, request, reply, live.linkHash, now);
    const passkey = await passkeySignIn(ctx, live.match.recipient.address, request.params.token, csrf);
    // a zero-knowledge link: the page's script keeps the link's key part (its #fragment) for the later pages
    const linkKey = live.match.linkKey;
    return sendPage(ctx, reply, 200, signInPage(ctx.shell, { token: request.params.token, masked: maskAddress(live.match.recipient.address), csrf, expiresAt: live.match.expiresAt, passkey, linkKey }), { script: passkey !== undefined || linkKey });
  });

  app.get<{ Params: { token: string }; Querystring: { images?: unknown } }>('/m/:token/print', async (request, reply) => {
    const now = ctx.now();
    const live = await liveLink(ctx, request, reply, now);
    if (!live) return reply;
    const session = await sessionFor(ctx, request, live.match, now);
    if (!session) return reply.code(303).header('location', `/m/${request.params.token}`).send('');
    return showMessage(ctx, request, reply, live.match, session, true, now);
  });

  app.get<{ Params: { token: string; n: string } }>('/m/:token/attachments/:n', async (request, reply) => {
    const now = ctx.now();
    const live = await liveLink(ctx, request as TokenRequest, reply, now);
    if (!live) return reply;
    const { match } = live;
    const session = await sessionFor(ctx, request, match, now);
    if (!session) return reply.code(303).header('location', `/m/${request.params.token}`).send('');
    const n = INDEX_PATTERN.test(request.params.n) ? Number(request.params.n) : -1;
    const parsed = n >= 0 ? await loadMessage(ctx, request, reply, match) : undefined;
    if (n >= 0 && !parsed) return reply;
    const attachment = parsed ? attachmentAt(parsed, n) : undefined;
    if (!attachment) return sendPage(ctx, reply, 404, errorPage(ctx.shell, 404, request.params.token));
    await audit(
      ctx,
      { type: 'portal:downloaded', data: { depositId: match.depositId, recipient: match.recipient.address, remoteIp: remoteIp(request), attachment: n, size: attachment.content.length } },
      now,
    );
    return reply
      .code(200)
      .header('content-type', attachment.contentType)
      .header('content-disposition', contentDisposition(attachment.filename))
      .header('content-length', String(attachment.content.length))
      .header('content-security-policy', DOWNLOAD_CSP)
      .send(attachment.content);
  });

  app.post<{ Params: { token: string } }>('/m/:token/sign-out', { config: { rateLimit: { max: ctx.limits.postsPerMinute, timeWindow: 60_000 } } }, async (request, reply) => {
    const now = ctx.now();
    const live = await liveLink(ctx, request, reply, now);
    if (!live) return reply;
    const { match } = live;
    const session = await sessionFor(ctx, request, match, now);
    if (session) {
      if (!sameSecret(field(request.body, 'csrf'), session.csrfToken)) return sendPage(ctx, reply, 403, errorPage(ctx.shell, 403, request.params.token));
      await ctx.sessions.delete(session.hash);
      await audit(ctx, { type: 'portal:signed_out', data: { depositId: match.depositId, recipient: match.recipient.address, remoteIp: remoteIp(request) } }, now);
    }
    reply.clearCookie(ctx.cookies.session, cookieOptions(ctx));
    return sendPage(ctx, reply, 200, signedOutPage(ctx.shell, request.params.token));
  });
}
