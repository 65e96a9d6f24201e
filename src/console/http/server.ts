/**
 * The auditor console's web server (docs/console.md): a fastify app on its
 * own HTTPS listener (admin.listen), server-rendered HTML, no JavaScript.
 *
 *   - HTTPS only (admin.certFile/keyFile; reloadTls swaps the certificate
 *     for new connections): the session cookie is always Secure.
 *   - The portal's security headers and strict CSP (no script at all) on
 *     every response; Cache-Control: no-store on everything but the
 *     versioned stylesheet.
 *   - Bounded: URL-encoded form bodies of 16 KiB at most (no JSON), per-IP
 *     rate limits (a tight one on sign-in, on top of the per-name lockout),
 *     request and connection timeouts.
 *   - Every error is a page without detail; a 500 is logged with its error
 *     code only (never the URL: it can hold search filters).
 *
 * Side effects are injected: clock, randomness, database, keyring, object
 * store, log.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { StageOwner } from '../../cluster/ownership.js';
import type { Config } from '../../config/schema.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { SqlDatabase } from '../../db/sql-database.js';
import { isSealgateError, SealgateError } from '../../errors.js';
import type { Logger } from '../../log/logger.js';
import type { ObjectStore } from '../../objects/object-store.js';
import { contentSecurityPolicy, securityHeaders } from '../../portal/http/headers.js';
import { type ConsoleContext, type ConsoleLimits, DEFAULT_LIMITS, sendPage } from './context.js';
import { ExportJobs, type ExportLimits } from './export-jobs.js';
import { errorPage, type ErrorStatus } from './pages.js';
import { type AdminDeps, registerAdminRoutes } from './routes-admin.js';
import { registerArchiveRoutes } from './routes-archive.js';
import { registerAuditRoutes } from './routes-audit.js';
import { registerExportRoutes } from './routes-export.js';
import { registerReportRoutes } from './routes-reports.js';
import { registerSignInRoutes } from './routes-sign-in.js';
import { ConsoleSessions } from './sessions.js';
import { buildConsoleStylesheet } from './stylesheet.js';

export interface ConsoleServerOptions {
  readonly config: Config['admin'];
  /** SQLite or PostgreSQL (several nodes on one database: sessions and users are shared, a load balancer needs no stickiness). */
  readonly db: SqlDatabase;
  readonly keyring: Keyring;
  /** The archive's object store (content of entries). */
  readonly objects: ObjectStore;
  /** Issuer of the users' authenticator entries (users.ts). */
  readonly issuer: string;
  readonly log: Logger;
  readonly now?: () => number;
  readonly random?: (n: number) => Buffer;
  readonly limits?: Partial<ConsoleLimits>;
  /**
   * Exports from the console (export-jobs.ts): where the ZIPs are written before they are encrypted into the object
   * store, and this node (its id and heartbeat interval: a running export of a node no longer live is failed); absent:
   * the export pages answer 503.
   */
  readonly exports?: { readonly dir: string; readonly node?: StageOwner | undefined; readonly limits?: Partial<ExportLimits> } | undefined;
  /** The admin pages' view of the daemon: its running configuration, its spool (queue delete). */
  readonly admin?: AdminDeps | undefined;
  /** TLS material instead of reading config.certFile/keyFile (tests). */
  readonly tls?: { readonly cert: Buffer | string; readonly key: Buffer | string } | undefined;
}

export interface ConsoleServer {
  /** Binds config.listen (port 0: a free one) and resolves with the address. */
  listen(): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
  /** New certificate and key for new connections. */
  reloadTls(cert: Buffer | string, key: Buffer | string): void;
}

/** Routes and the methods they answer; another method on one of these paths is a 405. */
const ROUTES: readonly { readonly path: RegExp; readonly allow: string }[] = [
  { path: /^\/$/, allow: 'GET' },
  { path: /^\/healthz$/, allow: 'GET, HEAD' },
  { path: /^\/static\/console\.css$/, allow: 'GET, HEAD' },
  { path: /^\/sign-in$/, allow: 'GET, POST' },
  { path: /^\/sign-out$/, allow: 'POST' },
  { path: /^\/archive$/, allow: 'GET' },
  { path: /^\/audit$/, allow: 'GET' },
  { path: /^\/reports$/, allow: 'GET' },
  { path: /^\/archive\/[^/]+$/, allow: 'GET' },
  { path: /^\/archive\/[^/]+\/content$/, allow: 'GET, POST' },
  { path: /^\/export$/, allow: 'GET, POST' },
  { path: /^\/export\/[^/]+$/, allow: 'GET' },
  { path: /^\/export\/[^/]+\/download$/, allow: 'GET' },
  { path: /^\/admin$/, allow: 'GET' },
  { path: /^\/admin\/(config|queue|users)$/, allow: 'GET' },
  { path: /^\/admin\/users$/, allow: 'GET, POST' },
  { path: /^\/admin\/(queue|users)\/[^/]+\/[^/]+$/, allow: 'POST' },
];

const ERROR_STATUSES = new Set<number>([400, 403, 404, 405, 413, 429, 500, 503]);

export async function readConsoleTls(config: Config['admin']): Promise<{ cert: Buffer; key: Buffer }> {
  const read = async (path: string | undefined, key: string) => {
    if (path === undefined) throw new SealgateError('SG_CONFIG_INVALID', { message: `admin.${key}: the console speaks HTTPS only; set admin.certFile and admin.keyFile` });
    try {
      return await readFile(path);
    } catch (err) {
      throw new SealgateError('SG_CONFIG_INVALID', { message: `admin.${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}): check the path and its permissions`, cause: err });
    }
  };
  return { cert: await read(config.certFile, 'certFile'), key: await read(config.keyFile, 'keyFile') };
}

export async function createConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const { config, log } = options;
  const now = options.now ?? Date.now;
  const limits: ConsoleLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const tls = options.tls ?? (await readConsoleTls(config));
  const stylesheet = buildConsoleStylesheet();
  const random = options.random ?? randomBytes;
  const exportJobs = options.exports
    ? new ExportJobs({ db: options.db, keyring: options.keyring, objects: options.objects, dir: options.exports.dir, node: options.exports.node, now, random, log, limits: options.exports.limits })
    : undefined;
  await exportJobs?.init();
  const ctx: ConsoleContext = {
    db: options.db,
    keyring: options.keyring,
    objects: options.objects,
    users: { db: options.db, keyring: options.keyring, issuer: options.issuer },
    sessions: new ConsoleSessions(options.db, random),
    now,
    log,
    stylesheetHref: `/static/console.css?v=${stylesheet.version}`,
    limits,
  };

  const app = Fastify({
    logger: false,
    bodyLimit: limits.bodyLimit,
    trustProxy: false,
    exposeHeadRoutes: false,
    return503OnClosing: true,
    forceCloseConnections: true,
    connectionTimeout: 60_000,
    keepAliveTimeout: 5_000,
    requestTimeout: 30_000,
    routerOptions: { maxParamLength: 100, ignoreTrailingSlash: false },
    https: { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' },
  }) as unknown as FastifyInstance;

  const fixedHeaders = securityHeaders(true);
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(fixedHeaders)) reply.header(name, value);
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', contentSecurityPolicy());
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
  app.setErrorHandler((err: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
    const code = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (code >= 500) {
      log.error(
        { event: 'CONSOLE_REQUEST_FAILED', reason: isSealgateError(err) ? err.code : undefined, errno: typeof err.code === 'string' && !isSealgateError(err) ? err.code.slice(0, 64) : undefined },
        'console request failed',
      );
    }
    return sendPage(ctx, reply, errorStatus(code), errorPage(errorStatus(code)));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const route = ROUTES.find((r) => r.path.test(path));
    if (route) {
      reply.header('allow', route.allow);
      return sendPage(ctx, reply, 405, errorPage(405));
    }
    return sendPage(ctx, reply, 404, errorPage(404));
  });

  app.route({ method: ['GET', 'HEAD'], url: '/healthz', config: { rateLimit: false }, handler: (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok\n') });
  app.route({
    method: ['GET', 'HEAD'],
    url: '/static/console.css',
    handler: (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=31536000, immutable').send(stylesheet.css),
  });
  registerSignInRoutes(app, ctx);
  registerArchiveRoutes(app, ctx);
  registerAuditRoutes(app, ctx);
  registerExportRoutes(app, ctx, exportJobs);
  registerAdminRoutes(app, ctx, options.admin ?? {});
  registerReportRoutes(app, ctx);
  await app.ready();

  return {
    async listen() {
      await app.listen({ host: config.listen.host, port: config.listen.port });
      return { host: config.listen.host, port: (app.server.address() as AddressInfo).port };
    },
    async close() {
      await app.close();
      await exportJobs?.close();
    },
    reloadTls(cert, key) {
      (app.server as HttpsServer).setSecureContext({ cert, key, minVersion: 'TLSv1.2' });
    },
  };
}
