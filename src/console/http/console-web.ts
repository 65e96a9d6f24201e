/**
 * The console's web listener as the daemon runs it (admin.enabled): over the
 * daemon's database (SQLite, or the PostgreSQL several nodes share), keyring
 * and the archive's object store (dataDir/store, or the shared S3 bucket).
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { StageOwner } from '../../cluster/ownership.js';
import type { Config } from '../../config/schema.js';
import type { Keyring } from '../../crypto/keyring.js';
import type { SqlDatabase } from '../../db/sql-database.js';
import { openSpool } from '../../runtime/stores.js';
import type { Logger } from '../../log/logger.js';
import type { ObjectStore } from '../../objects/object-store.js';
import { createConsoleServer, type ConsoleServer } from './server.js';

export interface ConsoleWeb {
  readonly server: ConsoleServer;
  readonly address: { readonly host: string; readonly port: number };
  /** Re-reads admin.certFile/keyFile (SIGHUP). */
  reloadTls(admin: Config['admin']): Promise<void>;
  close(): Promise<void>;
}

export interface ConsoleWebDeps {
  readonly config: Config;
  readonly db: SqlDatabase;
  readonly keyring: Keyring;
  readonly objects: ObjectStore;
  readonly hostname: string;
  readonly log: Logger;
  readonly now: () => number;
  /** This node (its id in `nodes`, its heartbeat interval): exports of a node no longer live show as failed. */
  readonly node?: StageOwner | undefined;
  /** The configuration the daemon runs with now (it changes on SIGHUP); `config` when absent. */
  readonly currentConfig?: (() => { readonly config: Config; readonly source?: string | undefined }) | undefined;
}

export async function startConsoleWeb(deps: ConsoleWebDeps): Promise<ConsoleWeb> {
  const admin = deps.config.admin;
  const server = await createConsoleServer({
    config: { ...admin, certFile: admin.certFile && resolve(admin.certFile), keyFile: admin.keyFile && resolve(admin.keyFile) },
    db: deps.db,
    keyring: deps.keyring,
    objects: deps.objects,
    // the same issuer `sealgate console-users` puts in the otpauth URI
    issuer: `Sealgate ${deps.hostname}`,
    log: deps.log,
    now: deps.now,
    // console exports: jobs in the database, ZIPs written under this node's dataDir/exports, then encrypted into the
    // object store (any node serves the page and the download); each read in one snapshot of the database (export-jobs.ts)
    exports: { dir: join(resolve(deps.config.dataDir), 'exports'), node: deps.node },
    admin: {
      runningConfig: deps.currentConfig ?? (() => ({ config: deps.config })),
      // as `sealgate queue delete`: the spool's own remove (the message's file or object and its end-to-end copies)
      removeSpoolFile: (id) => openSpool(deps.config, deps.keyring, deps.db, { store: deps.objects }).remove(id),
    },
  });
  const address = await server.listen();
  deps.log.info({ event: 'CONSOLE_LISTENING', host: address.host, port: address.port }, 'auditor console ready');
  return {
    server,
    address,
    reloadTls: async (a) => {
      if (!a.certFile || !a.keyFile) return;
      const [cert, key] = await Promise.all([readFile(resolve(a.certFile)), readFile(resolve(a.keyFile))]);
      server.reloadTls(cert, key);
    },
    close: () => server.close(),
  };
}
