/**
 * What the console's route handlers share: stores, keyring, clock, cookie
 * names, the stylesheet URL, and small helpers (send a page, read a form
 * field, the signed-in viewer of a request).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Keyring } from '../../crypto/keyring.js';
import type { SqlDatabase } from '../../db/sql-database.js';
import type { Logger } from '../../log/logger.js';
import type { ObjectStore } from '../../objects/object-store.js';
import { contentSecurityPolicy } from '../../portal/http/headers.js';
import type { ConsoleUsersDeps } from '../users.js';
import { sessionCsrfToken } from './csrf.js';
import { renderPage, type ConsolePage, type Viewer } from './layout.js';
import type { ConsoleSession, ConsoleSessions } from './sessions.js';

export interface ConsoleLimits {
  /** Largest form body (bytes); more answers 413. */
  readonly bodyLimit: number;
  /** Requests per minute per client IP, all routes. */
  readonly requestsPerMinute: number;
  /** Sign-in POSTs per minute per client IP (on top of the per-name lockout). */
  readonly signInsPerMinute: number;
  /** Most bytes of a message's content shown on its page. */
  readonly maxContentBytes: number;
}

export const DEFAULT_LIMITS: ConsoleLimits = {
  bodyLimit: 16 * 1024,
  requestsPerMinute: 600,
  signInsPerMinute: 20,
  maxContentBytes: 2 * 1024 * 1024,
};

/** __Host-: only settable with Secure, Path=/ and no Domain; the console speaks HTTPS only. */
export const COOKIES = { session: '__Host-sealgate_console', pre: '__Host-sealgate_console_pre' } as const;

export interface ConsoleContext {
  /**
   * The gateway's database, SQLite or PostgreSQL. Long reads (reports, the
   * audit page, archive search, the queue page, exports) go through
   * `db.readSnapshot`: one consistent picture, read beside the writers
   * (SQLite: a read transaction on a connection of its own; PostgreSQL:
   * REPEATABLE READ on a pooled connection), never holding them up.
   */
  readonly db: SqlDatabase;
  readonly keyring: Keyring;
  readonly objects: ObjectStore;
  readonly users: ConsoleUsersDeps;
  readonly sessions: ConsoleSessions;
  readonly now: () => number;
  readonly log: Logger;
  readonly stylesheetHref: string;
  readonly limits: ConsoleLimits;
}

export function sendPage(ctx: ConsoleContext, reply: FastifyReply, status: number, page: ConsolePage): FastifyReply {
  return reply.code(status).header('content-security-policy', contentSecurityPolicy()).type('text/html; charset=utf-8').send(renderPage(ctx.stylesheetHref, page));
}

/** A form or query field as a string, or undefined (missing, repeated, not text). */
export function field(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const v = (body as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

export function cookieOptions(maxAgeMs?: number) {
  return { path: '/', httpOnly: true, secure: true, sameSite: 'strict' as const, ...(maxAgeMs === undefined ? {} : { maxAge: Math.floor(maxAgeMs / 1000) }) };
}

export function remoteIp(request: FastifyRequest): string {
  return request.ip || 'unknown';
}

export interface SignedIn {
  readonly session: ConsoleSession;
  readonly viewer: Viewer;
}

/** The request's live session and its viewer (name, role, the forms' CSRF token), or undefined. */
export async function signedIn(ctx: ConsoleContext, request: FastifyRequest): Promise<SignedIn | undefined> {
  const cookie = request.cookies[COOKIES.session];
  const session = await ctx.sessions.find(cookie, ctx.now());
  if (!session || cookie === undefined) return undefined;
  return { session, viewer: { name: session.name, role: session.role, csrf: sessionCsrfToken(cookie) } };
}
