/**
 * The secure portal's web server (docs/portal.md, "Web pages"): a fastify
 * app on its own listener, server-rendered HTML, no JavaScript.
 *
 *   - HTTPS when portal.certFile and keyFile are set (reloadTls swaps the
 *     certificate for new connections), plain HTTP otherwise (behind a
 *     reverse proxy).
 *   - `trustProxy` only for portal.trustedProxies: request.ip is the
 *     forwarded client only when the connection comes from a listed proxy.
 *   - Security headers and a strict CSP on every response (headers.ts);
 *     Cache-Control: no-store on everything but the versioned stylesheet.
 *   - Per-IP rate limits: a generous one on every route, a tight one per
 *     form route; bounded form bodies (16 KiB); only URL-encoded forms
 *     are parsed (no JSON).
 *   - Every error is an HTML page in the same layout, without detail; a
 *     500 is logged with its error code only (never the URL: it holds the
 *     link token).
 *
 * Passkeys (routes-passkey.ts): the only pages with a script — our own,
 * same-origin — and the only JSON bodies, in a scope of their own.
 *
 * Side effects are injected: clock, randomness, stores, the code mailer,
 * audit (through the database), log, metrics.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Config } from '../../config/schema.js';
import type { SqlDatabase } from '../../db/sql-database.js';
import { isSealgateError, SealgateError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { Metrics } from '../../metrics/registry.js';
import type { CodeStore } from '../code-store.js';
import type { PortalMailer } from '../mailer.js';
import type { PortalReplies } from '../reply.js';
import { registerReplyRoutes } from './routes-reply.js';
import { registerLinkKeyScript } from './link-key-web.js';
import { registerWithdrawRoutes } from './routes-withdraw.js';
import type { PortalLifecycle } from '../lifecycle.js';
import type { PortalStore } from '../portal-store.js';
import { cookieNames, DEFAULT_LIMITS, type PortalContext, type PortalLimits, sendPage } from './context.js';
import { contentSecurityPolicy, logoOriginOf, securityHeaders } from './headers.js';
import { shellFor } from './layout.js';
import { errorPage } from './pages.js';
import { registerMessageRoutes } from './routes-message.js';
import { createPasskeys } from './passkeys.js';
import { registerPasskeyRoutes } from './routes-passkey.js';
import { registerSignInRoutes } from './routes-sign-in.js';
import { SessionStore } from './sessions.js';
import type { ErrorStatus } from './strings.js';
import { buildStylesheet } from './stylesheet.js';

export interface PortalServerOptions {
  readonly config: Config['portal'];
  readonly db: SqlDatabase;
  readonly portal: PortalStore;
  readonly codes: CodeStore;
  readonly mailer: PortalMailer;
  /** HMAC key of the pre-sign-in form tokens: derivePortalCsrfKey(master key). */
  readonly csrfKey: Buffer;
  readonly log: Logger;
  readonly now?: () => number;
  readonly random?: (n: number) => Buffer;
  readonly metrics?: Metrics | undefined;
  readonly limits?: Partial<PortalLimits>;
  /** Secure replies; absent: no reply form. */
  readonly replies?: PortalReplies | undefined;
  /** Revoke and shred (the sender's withdraw link); absent: /w/ links answer 404. */
  readonly lifecycle?: Pick<PortalLifecycle, 'revoke'> | undefined;
  /** TLS material instead of reading config.certFile/keyFile (tests). */
  readonly tls?: { readonly cert: Buffer | string; readonly key: Buffer | string } | undefined;
}

export interface PortalServer {
  /** Binds config.listen (port 0: a free one) and resolves with the address. */
  listen(): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
  /** New certificate and key for new connections (HTTPS only). */
  reloadTls(cert: Buffer | string, key: Buffer | string): void;
  readonly https: boolean;
}

/** Routes and the methods they answer; another method on one of these paths is a 405. */
const ROUTES: readonly { readonly path: RegExp; readonly allow: string }[] = [
  { path: /^\/healthz$/, allow: 'GET, HEAD' },
  { path: /^\/static\/portal\.css$/, allow: 'GET, HEAD' },
  { path: /^\/static\/link-key\.js$/, allow: 'GET, HEAD' },
  { path: /^\/w\/[^/]+$/, allow: 'GET, POST' },
  { path: /^\/static\/(?:passkey|simplewebauthn-browser)\.js$/, allow: 'GET, HEAD' },
  { path: /^\/m\/[^/]+\/passkey$/, allow: 'GET' },
  { path: /^\/m\/[^/]+\/passkey\/(?:register|login)\/(?:options|verify)$/, allow: 'POST' },
  { path: /^\/m\/[^/]+$/, allow: 'GET' },
  { path: /^\/m\/[^/]+\/print$/, allow: 'GET' },
  { path: /^\/m\/[^/]+\/attachments\/[^/]+$/, allow: 'GET' },
  { path: /^\/m\/[^/]+\/(?:code|sign-in|sign-out|reply)$/, allow: 'GET, POST' },
];

const ERROR_STATUSES = new Set<number>([400, 403, 404, 405, 413, 415, 429, 500, 503]);

async function readTls(config: Config['portal']): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (config.certFile === undefined || config.keyFile === undefined) return undefined;
  const read = async (path: string, key: string) => {
    try {
      return await readFile(path);
    } catch (err) {
      throw new SealgateError('SG_CONFIG_INVALID', {
        message: `portal.${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}): check the path and its permissions`,
        cause: err,
      });
    }
  };
  return { cert: await read(config.certFile, 'certFile'), key: await read(config.keyFile, 'keyFile') };
}

function tokenOf(request: FastifyRequest): string | undefined {
  const m = /^\/m\/([A-Za-z0-9_-]{43})(?:\/|$|\?)/.exec(request.url);
  return m?.[1];
}

export async function createPortalServer(options: PortalServerOptions): Promise<PortalServer> {
  const { config, log } = options;
  const now = options.now ?? Date.now;
  const limits: PortalLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const tls = options.tls ?? (await readTls(config));
  const https = tls !== undefined;
  const secureCookies = config.publicUrl !== undefined ? config.publicUrl.startsWith('https:') : https;
  const stylesheet = buildStylesheet(config.branding.colour);
  const passkeys = await createPasskeys({ config, db: options.db, csrfKey: options.csrfKey, random: options.random });
  const ctx: PortalContext = {
    db: options.db,
    portal: options.portal,
    codes: options.codes,
    mailer: options.mailer,
    sessions: new SessionStore({ db: options.db, random: options.random ?? randomBytes }),
    passkeys,
    csrfKey: options.csrfKey,
    now,
    log,
    metrics: options.metrics,
    shell: shellFor(config.branding, `/static/portal.css?v=${stylesheet.version}`),
    cookies: cookieNames(secureCookies),
    limits,
    logoOrigin: logoOriginOf(config.branding.logo),
    replies: options.replies,
    replyMaxBytes: config.replyMaxBytes,
    readReceipts: config.readReceipts,
  };

  const common = {
    logger: false,
    bodyLimit: limits.bodyLimit,
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    forceCloseConnections: true,
    connectionTimeout: 60_000,
    keepAliveTimeout: 5_000,
    requestTimeout: 30_000,
    routerOptions: { maxParamLength: 100, ignoreTrailingSlash: false },
  } satisfies FastifyServerOptions;
  // the routes only need the request/reply API, the same for HTTP and HTTPS
  const app = (
    tls ? Fastify({ ...common, https: { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' } }) : Fastify(common)
  ) as unknown as FastifyInstance;

  const fixedHeaders = securityHeaders(https);
  app.addHook('onSend', async (request, reply, payload) => {
    const httpsHere = https || request.protocol === 'https';
    for (const [name, value] of Object.entries(httpsHere === https ? fixedHeaders : securityHeaders(httpsHere))) reply.header(name, value);
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', contentSecurityPolicy({ logoOrigin: ctx.logoOrigin }));
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  // only URL-encoded forms: no JSON or text bodies
  app.removeAllContentTypeParsers();
  await app.register(fastifyFormbody, { bodyLimit: limits.bodyLimit });
  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, {
    global: true,
    max: limits.requestsPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => request.ip,
    errorResponseBuilder: (_request, context) => Object.assign(new Error('rate limited'), { statusCode: context.statusCode }),
  });

  const errorStatus = (status: number): ErrorStatus => (ERROR_STATUSES.has(status) ? (status as ErrorStatus) : status >= 500 ? 500 : 400);

  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const code = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (code >= 500) {
      // never the URL (link token), the message or a stack: the code names the failure
      log.error(
        { event: 'PORTAL_REQUEST_FAILED', reason: isSealgateError(err) ? err.code : undefined, errno: typeof err.code === 'string' && !isSealgateError(err) ? err.code.slice(0, 64) : undefined },
        'portal request failed',
      );
    }
    // an unusual 4xx is answered as 400, an unusual 5xx as 500: each status has its page
    const status = errorStatus(code);
    return sendPage(ctx, reply, status, errorPage(ctx.shell, status, tokenOf(request)));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const route = ROUTES.find((r) => r.path.test(path));
    if (route) {
      reply.header('allow', route.allow);
      return sendPage(ctx, reply, 405, errorPage(ctx.shell, 405, tokenOf(request)));
    }
    return sendPage(ctx, reply, 404, errorPage(ctx.shell, 404));
  });

  app.route({
    method: ['GET', 'HEAD'],
    url: '/healthz',
    config: { rateLimit: false },
    handler: (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok\n'),
  });
  app.route({
    method: ['GET', 'HEAD'],
    url: '/static/portal.css',
    handler: (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=31536000, immutable').send(stylesheet.css),
  });
  // a form URL opened with GET (refresh, bookmark): back to the message link
  for (const action of ['code', 'sign-in', 'sign-out', 'reply']) {
    app.get<{ Params: { token: string } }>(`/m/:token/${action}`, (request, reply) => {
      if (!/^[A-Za-z0-9_-]{43}$/.test(request.params.token)) return sendPage(ctx, reply, 404, errorPage(ctx.shell, 404));
      return reply.code(303).header('location', `/m/${request.params.token}`).send('');
    });
  }
  registerLinkKeyScript(app);
  registerSignInRoutes(app, ctx);
  registerMessageRoutes(app, ctx);
  registerPasskeyRoutes(app, ctx, passkeys);
  if (options.replies) registerReplyRoutes(app, ctx, options.replies, () => config.replyMaxBytes);
  if (options.lifecycle) registerWithdrawRoutes(app, ctx, options.lifecycle);
  await app.ready();

  return {
    https,
    async listen() {
      await app.listen({ host: config.listen.host, port: config.listen.port });
      const address = app.server.address() as AddressInfo;
      return { host: config.listen.host, port: address.port };
    },
    async close() {
      await app.close();
    },
    reloadTls(cert, key) {
      if (!https) throw new SealgateError('SG_CONFIG_INVALID', { message: 'portal: the listener was started without TLS; restart to turn TLS on' });
      (app.server as HttpsServer).setSecureContext({ cert, key, minVersion: 'TLSv1.2' });
    },
  };
}
