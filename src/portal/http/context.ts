/**
 * What the portal's route handlers share: the injected stores and ports,
 * the clock, the page shell, cookie names, and small helpers (the state of
 * a link, sending a page, the audit append, the pre-session cookie).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { appendAudit } from '../../audit/log.js';
import type { AuditEvent, AuditEventType } from '../../audit/events.js';
import type { SqlDatabase } from '../../db/sql-database.js';
import type { Logger } from '../../log/logger.js';
import type { Metrics } from '../../metrics/registry.js';
import type { CodeStore } from '../code-store.js';
import type { PortalMailer } from '../mailer.js';
import type { PortalReplies } from '../reply.js';
import { hashPortalToken, type PortalStore, type TokenMatch } from '../portal-store.js';
import { PRE_SESSION_TTL_MS, preSessionToken, SECRET_PATTERN } from './csrf.js';
import { contentSecurityPolicy } from './headers.js';
import type { Shell } from './layout.js';
import type { Passkeys } from './passkeys.js';
import type { GoneKind } from './pages.js';
import type { SessionStore } from './sessions.js';

export interface PortalLimits {
  /** Largest form body (bytes); more answers 413. */
  readonly bodyLimit: number;
  /** Largest stored message the portal decrypts and shows (bytes). */
  readonly maxMessageBytes: number;
  /** POSTs per minute per client IP, per form route. */
  readonly postsPerMinute: number;
  /** Requests per minute per client IP, all routes. */
  readonly requestsPerMinute: number;
}

export const DEFAULT_LIMITS: PortalLimits = {
  bodyLimit: 16 * 1024,
  maxMessageBytes: 160 * 1024 * 1024,
  postsPerMinute: 30,
  requestsPerMinute: 300,
};

export interface CookieNames {
  readonly session: string;
  readonly pre: string;
  /** The Secure attribute (publicUrl is https, or the listener speaks TLS). */
  readonly secure: boolean;
}

export function cookieNames(secure: boolean): CookieNames {
  // __Host-: only settable with Secure, Path=/ and no Domain, so no sibling host can plant one
  return secure
    ? { session: '__Host-sealgate_session', pre: '__Host-sealgate_pre', secure }
    : { session: 'sealgate_session', pre: 'sealgate_pre', secure };
}

export interface PortalContext {
  readonly db: SqlDatabase;
  readonly portal: PortalStore;
  readonly codes: CodeStore;
  readonly mailer: PortalMailer;
  readonly sessions: SessionStore;
  /** Passkeys (passkeys.ts); absent in contexts built without them. */
  readonly passkeys?: Passkeys | undefined;
  readonly csrfKey: Buffer;
  readonly now: () => number;
  readonly log: Logger;
  readonly metrics: Metrics | undefined;
  readonly shell: Shell;
  readonly cookies: CookieNames;
  readonly limits: PortalLimits;
  readonly logoOrigin: string | undefined;
  /** Secure replies (absent: the message page shows no reply form). */
  readonly replies?: PortalReplies | undefined;
  /** portal.replyMaxBytes. */
  readonly replyMaxBytes: number;
  /** portal.readReceipts: mail the original sender on each recipient's first open. */
  readonly readReceipts: boolean;
}

export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export type LinkState =
  | { readonly kind: 'invalid' }
  | { readonly kind: 'gone'; readonly gone: GoneKind; readonly match: TokenMatch }
  | { readonly kind: 'live'; readonly match: TokenMatch; readonly linkHash: string };

/** Pure: what a found link allows at `now`: withdrawn (revoked) before expired before shredded. */
export function goneKind(match: TokenMatch, now: number): GoneKind | undefined {
  if (match.revokedAt !== null) return 'withdrawn';
  if (match.expiresAt <= now) return 'expired';
  if (match.shreddedAt !== null) return 'unavailable';
  return undefined;
}

export async function linkState(ctx: PortalContext, token: string, now: number): Promise<LinkState> {
  if (!TOKEN_PATTERN.test(token)) return { kind: 'invalid' };
  const match = await ctx.portal.findByToken(token);
  if (!match) return { kind: 'invalid' };
  const gone = goneKind(match, now);
  if (gone) return { kind: 'gone', gone, match };
  return { kind: 'live', match, linkHash: hashPortalToken(token) };
}

export interface SendOptions {
  /** Allow the message's https images in this response. */
  readonly remoteImages?: boolean;
  /** A passkey page: its CSP allows our own script (headers.ts). */
  readonly script?: boolean;
}

/** Sends an HTML page with its status and this response's CSP. */
export function sendPage(ctx: PortalContext, reply: FastifyReply, status: number, html: string, options: SendOptions = {}): FastifyReply {
  return reply
    .code(status)
    .header('content-security-policy', contentSecurityPolicy({ remoteImages: options.remoteImages === true, logoOrigin: ctx.logoOrigin, script: options.script === true }))
    .type('text/html; charset=utf-8')
    .send(html);
}

/** One audit event in a transaction of its own, at the injected time. */
export async function audit<T extends AuditEventType>(ctx: PortalContext, event: AuditEvent<T>, now: number): Promise<void> {
  await appendAudit(ctx.db, event, now);
}

/** A form field as a string, or undefined (missing, repeated, not text). */
export function field(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const v = (body as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

export function cookieOptions(ctx: PortalContext, maxAgeMs?: number) {
  return {
    path: '/',
    httpOnly: true,
    secure: ctx.cookies.secure,
    sameSite: 'strict' as const,
    ...(maxAgeMs === undefined ? {} : { maxAge: Math.floor(maxAgeMs / 1000) }),
  };
}

/**
 * The form token for the pre-sign-in forms of this link: bound to the
 * request's pre-session cookie, which is created when the request has
 * none.
 */
export function preSessionFormToken(ctx: PortalContext, request: FastifyRequest, reply: FastifyReply, linkHash: string, now: number): string {
  let pre = request.cookies[ctx.cookies.pre];
  if (pre === undefined || !SECRET_PATTERN.test(pre)) pre = ctx.sessions.secret();
  // (re)set with a fresh lifetime, so the cookie lives as long as the form token made now
  reply.setCookie(ctx.cookies.pre, pre, cookieOptions(ctx, PRE_SESSION_TTL_MS));
  return preSessionToken(ctx.csrfKey, pre, linkHash, now);
}

/** The client's address as the audit records it (the real client only behind a trusted proxy). */
export function remoteIp(request: FastifyRequest): string {
  return request.ip || 'unknown';
}
