/**
 * The portal's parts as the daemon runs them: the portal store over the
 * configured object store (objects.kind, opened by the daemon), the mail queue for notifications and codes, and
 * the deposit step the delivery engine calls — with the start-up cleanup
 * (temp files of unfinished puts, objects no deposit row names) done before
 * anything deposits.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Keyring } from '../crypto/keyring.js';
import type { SqlDatabase } from '../db/sql-database.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/registry.js';
import type { OpenedObjectStore } from '../objects/open.js';
import { builtInSettings, resolveSettings } from '../policy/profile.js';
import { CodeStore } from './code-store.js';
import { isLogoFile, loadLogoFile } from './logo.js';
import { derivePortalCsrfKey } from './http/csrf.js';
import { createPortalServer, type PortalServer } from './http/server.js';
import { PortalLifecycle } from './lifecycle.js';
import { deriveCodeKey } from './one-time-code.js';
import { PortalReplies } from './reply.js';
import { PortalSweeper } from './sweeper.js';
import type { Spool } from '../spool/spool.js';
import { PortalDepositor } from './deposit-step.js';
import { PortalMailQueue } from './portal-mail.js';
import { PortalStore } from './portal-store.js';
import { effectivePublicUrl } from './public-url.js';

export interface PortalStorageDeps {
  readonly config: () => Config;
  readonly db: SqlDatabase;
  readonly spool: Spool;
  readonly keyring: Keyring;
  readonly log: Logger;
  readonly now: () => number;
  readonly hostname: string;
  /** The configured object store (objects.kind), initialised: portal copies are put there, encrypted. */
  readonly objects: OpenedObjectStore;
  readonly metrics?: Metrics | undefined;
  /** A portal mail was queued outside the delivery engine's own transactions (a code mail): wake delivery. */
  readonly onQueued: () => void;
}

export interface PortalStorage {
  readonly objects: OpenedObjectStore;
  readonly store: PortalStore;
  readonly mail: PortalMailQueue;
  readonly depositor: PortalDepositor;
  readonly codes: CodeStore;
  readonly replies: PortalReplies;
  readonly lifecycle: PortalLifecycle;
  /** Expiry and revocation purge, every minute (start it once the daemon is up). */
  readonly sweeper: PortalSweeper;
}

// effectivePublicUrl lives in public-url.ts (the web server needs it too); exported here as before
export { effectivePublicUrl };

/** Pure: the From address of the portal's mail. */
export function portalFromAddress(portal: Config['portal'], hostname: string): string {
  return portal.notificationFrom ?? `portal@${hostname}`;
}

export async function startPortalStorage(deps: PortalStorageDeps): Promise<PortalStorage> {
  const { db, spool, keyring, log, now, hostname, objects } = deps;
  const store = new PortalStore({ db, objects, keyring });
  const temp = await objects.removeTemp(now());
  const orphans = await store.removeOrphans();
  if (temp + orphans > 0) log.info({ event: 'PORTAL_ORPHANS_REMOVED', temp, orphans }, 'removed portal objects of deposits that never committed');
  // a logo file is read once at start (bounded, an image by its bytes); a bad one stops the start with its path
  const logoSetting = deps.config().portal.branding.logo;
  const logo = isLogoFile(logoSetting) ? await loadLogoFile(logoSetting) : undefined;
  const mail = new PortalMailQueue({
    logo: () => logo,
    db,
    spool,
    hostname,
    now,
    random: randomBytes,
    spoolKeyId: () => keyring.current.id,
    requirement: () => deps.config().delivery.defaultRequirement,
    branding: () => deps.config().portal.branding,
    fromAddress: () => portalFromAddress(deps.config().portal, hostname),
    onQueued: deps.onQueued,
  });
  const depositor = new PortalDepositor({
    db,
    spool,
    store,
    mail,
    log,
    now,
    metrics: deps.metrics,
    portal: () => ({ config: deps.config().portal, publicUrl: effectivePublicUrl(deps.config().portal) }),
    profileExpiry: (who) => {
      const c = deps.config();
      return resolveSettings(c.policy, who, builtInSettings(c.inspection.e2eDomains)).settings.portalExpiry;
    },
  });
  const codes = new CodeStore({ db, key: deriveCodeKey(keyring.current.key) });
  const replies = new PortalReplies({
    db,
    spool,
    store,
    log,
    now,
    random: randomBytes,
    hostname,
    spoolKeyId: () => keyring.current.id,
    portal: () => {
      const p = deps.config().portal;
      return { replyRoute: p.replyRoute, replyMaxBytes: p.replyMaxBytes, organisation: p.branding.organisationName };
    },
    archiveEnabled: () => deps.config().archive.enabled,
    onQueued: deps.onQueued,
    metrics: deps.metrics,
  });
  const lifecycle = new PortalLifecycle({ db, portal: store, objects, codes, now });
  const sweeper = new PortalSweeper({
    lifecycle,
    now,
    onResult: (result, leftovers) => {
      if (result.shredded.length || leftovers) log.info({ event: 'PORTAL_PURGED', shredded: result.shredded.length, leftovers, codes: result.codes, sessions: result.sessions }, 'expired and revoked portal messages shredded');
      if (result.failed.length) log.warn({ event: 'PORTAL_PURGE_FAILED', failed: result.failed.length }, 'some portal messages could not be shredded; the next run tries again');
    },
    onError: (err) => log.error({ event: 'PORTAL_PURGE_FAILED', err: { message: (err as Error).message } }, 'portal purge run failed; the next run tries again'),
  });
  return { objects, store, mail, depositor, codes, replies, lifecycle, sweeper };
}

export interface PortalWeb {
  readonly server: PortalServer;
  readonly address: { readonly host: string; readonly port: number };
  /** Re-reads portal.certFile/keyFile (SIGHUP); a no-op for plain HTTP. */
  reloadTls(portal: Config['portal']): Promise<void>;
}

/** Starts the portal's web listener (portal.listen) over the running portal storage. */
export async function startPortalWeb(storage: PortalStorage, deps: Pick<PortalStorageDeps, 'config' | 'db' | 'keyring' | 'log' | 'now' | 'metrics'>): Promise<PortalWeb> {
  const config = deps.config().portal;
  const server = await createPortalServer({
    config,
    db: deps.db,
    portal: storage.store,
    codes: storage.codes,
    mailer: storage.mail,
    replies: storage.replies,
    lifecycle: storage.lifecycle,
    csrfKey: derivePortalCsrfKey(deps.keyring.current.key),
    log: deps.log,
    now: deps.now,
    metrics: deps.metrics,
  });
  const address = await server.listen();
  deps.log.info({ event: 'PORTAL_LISTENING', host: address.host, port: address.port, https: server.https, publicUrl: effectivePublicUrl(config) }, 'secure portal ready');
  return {
    server,
    address,
    reloadTls: async (portal) => {
      if (!server.https || !portal.certFile || !portal.keyFile) return;
      const [cert, key] = await Promise.all([readFile(resolve(portal.certFile)), readFile(resolve(portal.keyFile))]);
      server.reloadTls(cert, key);
    },
  };
}
