/**
 * Secure reply: POST /m/:token/reply (multipart/form-data: csrf, body,
 * attachments, all=0|1) from a signed-in recipient. The multipart parser is
 * registered in this route's own scope, so no other route accepts
 * multipart; the whole form is bounded by portal.replyMaxBytes (plus room
 * for the form itself), at most REPLY_MAX_ATTACHMENTS files, and the text
 * by REPLY_MAX_TEXT. The reply itself is queued by PortalReplies (reply.ts),
 * which also audits it. Success redirects (303) to the message with a
 * "sent" note; a refusal shows why, with the way back.
 */
import fastifyMultipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isSealgateError } from '../../errors.js';
import { REPLY_MAX_ATTACHMENTS, REPLY_MAX_TEXT, type PortalReplies, type ReplyAttachment } from '../reply.js';
import { sameSecret } from './csrf.js';
import { linkKeyAccess } from './link-key-web.js';
import { errorPage, linkKeyMissingPage, replyRefusedPage } from './pages.js';
import { liveLink } from './routes-sign-in.js';
import { type PortalContext, remoteIp, sendPage } from './context.js';

type TokenRequest = FastifyRequest<{ Params: { token: string } }>;

/** Room for the form's own fields and multipart framing beyond the reply bytes. */
const FORM_OVERHEAD = 512 * 1024;
/** Longest file name kept (characters). */
const FILENAME_LIMIT = 200;

interface ReplyForm {
  csrf?: string;
  body: string;
  all: boolean;
  attachments: ReplyAttachment[];
}

class FormTooLarge extends Error {}

/** Pure: a file name from a browser made safe to put in a MIME header (no path, no control characters, bounded). */
export function safeFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base.replace(/[\p{Cc}\p{Cf}]/gu, '').trim();
  const chars = Array.from(cleaned);
  return (chars.length > FILENAME_LIMIT ? chars.slice(chars.length - FILENAME_LIMIT).join('') : cleaned) || 'attachment';
}

/** Pure: a browser-declared content type kept only when it looks like one. */
export function safeContentType(type: string | undefined): string {
  return type && /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i.test(type) && type.length <= 100 ? type.toLowerCase() : 'application/octet-stream';
}

async function readForm(request: FastifyRequest, maxBytes: number): Promise<ReplyForm> {
  const form: ReplyForm = { body: '', all: false, attachments: [] };
  let total = 0;
  for await (const part of request.parts({ limits: { files: REPLY_MAX_ATTACHMENTS + 1, fields: 10, fieldSize: REPLY_MAX_TEXT * 4, fileSize: maxBytes + 1, parts: REPLY_MAX_ATTACHMENTS + 12 } })) {
    if (part.type === 'file') {
      const chunks: Buffer[] = [];
      for await (const chunk of part.file) {
        total += (chunk as Buffer).length;
        if (total > maxBytes) throw new FormTooLarge();
        chunks.push(chunk as Buffer);
      }
      if (part.file.truncated) throw new FormTooLarge();
      // an empty file input still sends a part with no name and no bytes
      if (part.filename === '' && chunks.length === 0) continue;
      form.attachments.push({ filename: safeFilename(part.filename), contentType: safeContentType(part.mimetype), content: Buffer.concat(chunks) });
      continue;
    }
    const value = typeof part.value === 'string' ? part.value : '';
    if (part.fieldname === 'csrf') form.csrf = value;
    else if (part.fieldname === 'body') {
      total += Buffer.byteLength(value, 'utf8');
      form.body = value;
    } else if (part.fieldname === 'all') form.all = value === '1';
  }
  return form;
}

export function registerReplyRoutes(app: FastifyInstance, ctx: PortalContext, replies: PortalReplies, maxBytes: () => number): void {
  const limit = maxBytes() + FORM_OVERHEAD;
  void app.register(async (scope) => {
    // multipart for this route alone; the rest of the portal still parses only URL-encoded forms
    await scope.register(fastifyMultipart, { limits: { fileSize: maxBytes() + 1 } });
    scope.post<{ Params: { token: string } }>(
      '/m/:token/reply',
      { bodyLimit: limit, config: { rateLimit: { max: ctx.limits.postsPerMinute, timeWindow: 60_000 } } },
      async (request: TokenRequest, reply: FastifyReply) => {
        const now = ctx.now();
        const live = await liveLink(ctx, request, reply, now);
        if (!live) return reply;
        const { match } = live;
        const session = await ctx.sessions.find(request.cookies[ctx.cookies.session], match.depositId, match.recipient.address, now);
        if (!session) return sendPage(ctx, reply, 403, errorPage(ctx.shell, 403, request.params.token));
        if (!request.isMultipart()) return sendPage(ctx, reply, 415, errorPage(ctx.shell, 415, request.params.token));
        let form: ReplyForm;
        try {
          form = await readForm(request, maxBytes());
        } catch (err) {
          if (err instanceof FormTooLarge || (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE' || (err as { code?: string }).code === 'FST_FILES_LIMIT') {
            return sendPage(ctx, reply, 413, replyRefusedPage(ctx.shell, request.params.token, 'too-large'));
          }
          throw err;
        }
        // the form token is checked once the form is read: a multipart body carries it among the parts
        if (!sameSecret(form.csrf, session.csrfToken)) return sendPage(ctx, reply, 403, errorPage(ctx.shell, 403, request.params.token));
        const link = linkKeyAccess(ctx, request, match);
        if (link.kind === 'missing') return sendPage(ctx, reply, 400, linkKeyMissingPage(ctx.shell, false), { script: true });
        try {
          await replies.submit({ depositId: match.depositId, recipient: match.recipient.address, all: form.all, body: form.body, attachments: form.attachments, remoteIp: remoteIp(request), link: link.kind === 'ok' ? link.access : undefined });
        } catch (err) {
          if (isSealgateError(err, 'SG_PORTAL_LINK_KEY')) return sendPage(ctx, reply, 400, linkKeyMissingPage(ctx.shell, true), { script: true });
          if (isSealgateError(err, 'SG_PORTAL_REPLY_REFUSED')) {
            const reason = String(err.detail?.reason ?? '');
            return sendPage(ctx, reply, reason === 'too-large' ? 413 : 400, replyRefusedPage(ctx.shell, request.params.token, reason));
          }
          throw err;
        }
        return reply.code(303).header('location', `/m/${request.params.token}?replied=1`).send('');
      },
    );
  });
}
