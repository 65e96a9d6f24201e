/**
 * The daemon: wires the real ports (clock, randomness, file system, SQLite,
 * sockets) into the stages and owns the process lifecycle — start-up
 * recovery, SIGHUP reload, SIGTERM drain.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { InspectionPool } from './inspect/inspect-pool.js';
import { workerUrl } from './workers/worker-url.js';
import { Metrics } from './metrics/registry.js';
import { startMetricsServer } from './metrics/http.js';
import { registerQueueGauges } from './metrics/queue-gauges.js';
import { AlertMonitor } from './alerts/monitor.js';
import { DatabaseCheck, diskCheck, judgeReadiness, listenersCheck, ObjectStoreCheck, writeHealthProbe, type ReadinessReport } from './health/readiness.js';
import { StoreWatch } from './health/outage.js';
import { FailureRun } from './log/failure-run.js';
import { mkdir } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from './config/load.js';
import { planReload } from './config/reload-table.js';
import type { Config } from './config/schema.js';
import { endToEndDeps } from './e2e/runtime.js';
import type { SqlDatabase } from './db/sql-database.js';
import { appendAudit } from './audit/log.js';
import { isSealgateError } from './errors.js';
import { createLogger, type Logger } from './log/logger.js';
import { createResolver } from './delivery/dns.js';
import { cachingResolver } from './delivery/dns-cache.js';
import { DeliveryEngine, loadTrustedCas } from './delivery/engine.js';
import { newNodeId } from './queue/claim.js';
import { loadDkimKeys } from './dkim/keys.js';
import { loadClientCertificate } from './delivery/client-certificate.js';
import { DkimService } from './dkim/service.js';
import { startTlsReporter } from './probe/tlsrpt-reporter.js';
import { Inspector } from './inspect/worker.js';
import { Archiver } from './archive/archiver.js';
import { sweepArchiveOrphans } from './archive/orphans.js';
import { builtInSettings, resolveSettings } from './policy/profile.js';
import { startCheckpointWriter } from './archive/checkpoints.js';
import { describeObjectStore, openObjectStore } from './objects/open.js';
import { Ingress } from './smtp/ingress.js';
import { FreeSpaceProbe } from './spool/free-space.js';
import { SPOOL_ORPHAN_MIN_AGE_MS } from './spool/object-blobs.js';
import { startSpoolObjectSweep } from './spool/object-sweep.js';
import { FinishedPruner } from './queue/finished-pruner.js';
import { NodeHeartbeat } from './cluster/heartbeat.js';
import { jobGate, type SingletonJob } from './cluster/job-lease.js';
import { ensureDevCertificates } from './tls/dev-certs.js';
import { VERSION } from './version.js';
import { databasePath, gatewayHostname, openDatabase, openKeyring, openSpool, openStore } from './runtime/stores.js';

// the CLI's store openers, where they used to live
export { databasePath, gatewayHostname, openDatabase, openKeyring };
import type { PortalStorage } from './portal/portal-runtime.js';

/** Creates development certificates for listeners whose files are missing (tls.generateDevCerts). */
export async function prepareDevCertificates(config: Config, hostname: string, log?: Logger): Promise<void> {
  if (!config.tls.generateDevCerts) return;
  const wanted = config.smtp.listeners.filter((l) => l.tls !== 'none' && l.certFile && l.keyFile).map((l) => ({ name: l.name, certFile: l.certFile ?? '', keyFile: l.keyFile ?? '' }));
  const p = config.portal;
  if (p.enabled && p.certFile && p.keyFile) wanted.push({ name: 'portal', certFile: p.certFile, keyFile: p.keyFile });
  if (config.admin.enabled && config.admin.certFile && config.admin.keyFile) wanted.push({ name: 'console', certFile: config.admin.certFile, keyFile: config.admin.keyFile });
  for (const l of wanted) {
    const result = await ensureDevCertificates({
      certFile: resolve(l.certFile),
      keyFile: resolve(l.keyFile),
      caDir: dirname(resolve(l.certFile)),
      hostnames: [...new Set([hostname.toLowerCase(), 'localhost'])],
      ipAddresses: ['127.0.0.1', '::1'],
    });
    if (result.created) {
      log?.warn({ event: 'DEV_CERT_CREATED', listener: l.name, caCertFile: result.caCertFile }, 'created a development certificate; replace it with a CA-issued one for production');
    }
  }
}

export interface RunningDaemon {
  readonly ingress: Ingress;
  readonly db: SqlDatabase;
  readonly log: Logger;
  stop(reason: string): Promise<void>;
}

export async function startDaemon(loaded: LoadedConfig, configPath: string | undefined): Promise<RunningDaemon> {
  let config = loaded.config;
  const log = createLogger({ level: config.log.level, pretty: config.log.pretty });
  const hostname = gatewayHostname(config);
  const now = (): number => Date.now();
  // DKIM keys are read first and on every reload: a missing or bad key file refuses the start (or the reload)
  const dkimKeys = loadDkimKeys(config.dkim.keys);

  await mkdir(resolve(config.dataDir), { recursive: true, mode: 0o700 });
  const keyring = await openKeyring(config, true);
  await prepareDevCertificates(config, hostname, log);
  const db = await openStore(config, (line) => log.warn({ event: 'STORE_WARNING' }, line));
  // signs the chain head as found (after a crash too) before anything new is written, then periodically (docs/archive.md)
  const checkpoints = await startCheckpointWriter({ db, keyring, log, now });
  // the object store (objects.kind: dataDir/store or S3): portal copies and archive entries, and with kind s3 the
  // spool's content beyond the inline limit and the end-to-end copies; all encrypted before they are put
  const objects = await openObjectStore(config);
  await objects.init();
  log.info({ event: 'OBJECT_STORE_OPENED', kind: config.objects.kind, location: describeObjectStore(config) }, 'object store ready');
  const spool = openSpool(config, keyring, db, {
    store: objects,
    // ids and the store's error name only: never content
    onRemoveFailed: (id, err) => log.warn({ event: 'SPOOL_OBJECT_REMOVE_FAILED', queueId: id, reason: err.code, s3: (err.detail as { s3?: string } | undefined)?.s3 }, 'spool object not removed; the spool sweep removes it later'),
  });
  await spool.init();
  const isQueued = async (id: string): Promise<boolean> => (await db.get('SELECT 1 AS x FROM messages WHERE id = ?', [id])) !== undefined;
  // several nodes on one database: content younger than the sweep's minimum age may be another node's message being queued
  const cleaned = await spool.removeOrphans(isQueued, now(), { inlineMinAgeMs: db.dialect === 'postgres' ? SPOOL_ORPHAN_MIN_AGE_MS : 0 });
  if (cleaned.tmp + cleaned.orphans > 0) log.info({ event: 'SPOOL_ORPHANS_REMOVED', tmp: cleaned.tmp, orphans: cleaned.orphans }, 'removed unacknowledged spool files');
  // in a shared object store: objects whose removal failed, or whose node died between put and commit, go hourly
  const spoolSweep = spool.blobs.kind === 'objects' ? startSpoolObjectSweep(spool, isQueued, now, log) : undefined;

  // the file system this node writes content to: the spool directory, or with the content in the object store
  // (objects.kind s3, where the spool directory is never made) dataDir, the node's only local writes
  const freeSpace = new FreeSpaceProbe(spool.blobs.kind === 'objects' ? resolve(config.dataDir) : spool.root, now);
  const metrics = new Metrics();
  registerQueueGauges(metrics, db, now);
  const dkim = new DkimService(dkimKeys, now, metrics);
  if (dkimKeys.length > 0) log.info({ event: 'DKIM_KEYS_LOADED', keys: dkimKeys.map((k) => `${k.selector}._domainkey.${k.domain} ${k.algorithm}`) }, 'DKIM signing keys loaded');
  const trustedCas = await loadTrustedCas(config.tls.trustedCaFiles.map((f) => resolve(f)));
  // the secure portal's storage and deposit step (portal.enabled): start-up cleanup first
  // (the portal's and the console's modules are loaded only when enabled: a node without them does not hold them in memory)
  const portal: PortalStorage | undefined = config.portal.enabled
    ? await (await import('./portal/portal-runtime.js')).startPortalStorage({ config: () => config, db, spool, keyring, log, now, hostname, objects, metrics, onQueued: () => wakeAfterQueued() })
    : undefined;
  // set once the listeners are bound: delivery never sends mail to our own listening addresses
  let ownAddresses: () => readonly { host: string; port: number }[] = () => [];
  // delivery asks the same few names for every attempt: answers are kept (dns.cacheSeconds, TTLs honoured), concurrent questions shared
  const deliveryResolver = cachingResolver(createResolver({ servers: config.dns.servers }), { maxTtlMs: config.dns.cacheSeconds * 1000, now });
  // this process's id on its delivery leases, the same for an engine started again on reload (docs/scale-out.md "Delivery claims")
  const nodeId = newNodeId();
  // with several nodes: each inspects and archives the mail it accepted, and that of nodes no longer live
  const owner = { id: nodeId, heartbeatMs: () => config.store.heartbeat };
  const newEngine = (cfg: Config): DeliveryEngine =>
    new DeliveryEngine(cfg, {
        db,
        spool,
        log,
        now,
        random: Math.random,
        randomBytes,
        spoolKeyId: () => keyring.current.id,
        resolver: deliveryResolver,
        hostname,
        trustedCas,
        metrics,
        ownAddresses: () => ownAddresses(),
        portal: portal?.depositor,
        dkim,
        nodeId,
      });
  // delivery.enabled applies on reload (src/config/reload-table.ts): the engine and the TLS-RPT reporter stop or start
  let engine = config.delivery.enabled ? newEngine(config) : undefined;
  const inspectionPool =
    config.inspection.enabled && config.inspection.threads > 0
      ? new InspectionPool({
          threads: config.inspection.threads,
          url: workerUrl(import.meta.url, 'inspect/inspect-thread'),
          maxHeapMb: config.inspection.threadMemory,
          smallThreads: config.inspection.smallMessageThreads,
          smallMessageBytes: config.inspection.smallMessageSize,
          burstThreads: config.inspection.burstThreads,
          burstAfterMs: config.inspection.burstAfter,
          maxThreadMemoryMb: config.inspection.maxThreadMemory,
          recycleBytes: config.inspection.recycleSize,
          recycleHeapMb: config.inspection.recycleHeap,
          onEvent: (e) => {
            // thread ids, roles and reasons only: nothing about the message
            if (e.type === 'spawn' && e.role === 'burst') {
              metrics.inc('sealgate_inspection_thread_changes_total', { change: 'burst' });
              log.info({ event: 'INSPECTION_BURST_THREAD', thread: e.thread }, 'every inspection thread is busy on a long job: burst thread started');
            } else if (e.type === 'recycle') {
              metrics.inc('sealgate_inspection_thread_changes_total', { change: 'recycle' });
              log.debug({ event: 'INSPECTION_THREAD_RECYCLED', thread: e.thread, replacement: e.replacement, role: e.role, reason: e.reason }, 'inspection thread replaced after a job');
            } else if (e.type === 'retire') {
              metrics.inc('sealgate_inspection_thread_changes_total', { change: 'retire' });
              log.debug({ event: 'INSPECTION_THREAD_RETIRED', thread: e.thread }, 'burst thread stopped');
            }
          },
        })
      : undefined;
  // the archive stage: every message that needs it is archived after inspection and before delivery
  const archiveObjects = objects;
  // objects a crash left without an entry (src/archive/orphans.ts): in the background, safe while archiving
  let stoppingSweep = false;
  const orphanSweep = sweepArchiveOrphans(db, archiveObjects, { now: now(), via: 'daemon', stopped: () => stoppingSweep }).then(
    (s) => (s.removed > 0 ? log.info({ event: 'ARCHIVE_ORPHANS_REMOVED', objects: s.removed, bytes: s.bytes }, 'removed archive objects that no entry needs') : undefined),
    (err: unknown) => log.warn({ event: 'ARCHIVE_ORPHAN_SWEEP_FAILED', err: { message: (err as Error).message } }, 'archive orphan sweep failed; tried again at the next start'),
  );
  const archiver = new Archiver({
    db,
    spool,
    objects: archiveObjects,
    keyring,
    log,
    now,
    // a sender's policy profile may keep their mail longer (archiveRetention), never shorter
    retentionMs: (who) => Math.max(config.archive.retention, resolveSettings(config.policy, who, builtInSettings(config.inspection.e2eDomains)).settings.archiveRetention ?? 0),
    onArchived: () => engine?.wake(),
    metrics,
    journal: { to: () => config.archive.journalTo, hostname, random: randomBytes, spoolKeyId: () => keyring.current.id },
    owner,
  });
  // mail queued without inspection (portal replies, inspection off) goes to the archive stage, then to delivery
  const wakeAfterQueued = (): void => {
    archiver.wake();
    engine?.wake();
  };
  const inspector = config.inspection.enabled
    ? new Inspector({
        db,
        spool,
        log,
        now,
        policy: () => ({ config: config.policy, e2eDomains: config.inspection.e2eDomains, custom: config.inspection.customDetectors, maxScanTimeMs: config.inspection.maxScanTime }),
        pool: inspectionPool,
        smallMessageBytes: config.inspection.smallMessageSize,
        // with the archive on, delivery claims only archived mail: the archive stage wakes the engine (onArchived), and a
        // claim now would be a write transaction that finds nothing (one for every message at a light load); a message
        // archived with its verdict has woken it already
        onInspected: ({ archived, claimed }) => {
          if (!archived) {
            if (config.archive.enabled) archiver.wake();
            else wakeAfterQueued();
          } else if (!claimed) engine?.wake();
        },
        archive: config.archive.enabled ? archiver : undefined,
        // the engine in force (a reload may start or stop it)
        delivery: { claimWithVerdict: (id) => engine?.claimWithVerdict(id) },
        portalEnabled: () => portal !== undefined && config.portal.enabled,
        metrics,
        notices: { hostname, random: randomBytes, spoolKeyId: () => keyring.current.id, requirement: config.delivery.defaultRequirement },
        e2e: endToEndDeps({ config: () => config, db, spool, keyring, log, now }),
        owner,
      })
    : undefined;
  const ingress = new Ingress(config, {
    db,
    spool,
    log,
    now,
    nodeId,
    random: randomBytes,
    hostname,
    spoolKeyId: () => keyring.current.id,
    availableBytes: () => freeSpace.availableBytes(),
    metrics,
    // sender hashes in rate-limit audit events: stable across restarts, meaningless without the master key
    auditKey: createHmac('sha256', keyring.current.key).update('sealgate-audit-sender-v1').digest(),
    onQueued: (facts) => {
      metrics.inc('sealgate_messages_accepted_total', { connector: facts.connector });
      if (inspector) {
        // handed over with its facts: the inspector starts it without reading the queue for it
        inspector.offer(facts);
        // its archive content is sealed while it is inspected: the entry, written with the verdict, carries it (no object write)
        if (config.archive.enabled) void archiver.storeAhead(facts.id, facts);
      } else wakeAfterQueued();
    },
  });
  await ingress.start();
  ownAddresses = () => ingress.addresses();
  // this node in the database's list of nodes (`sealgate nodes`), beating while it runs (docs/scale-out.md "Nodes")
  const nodeHeartbeat = new NodeHeartbeat({
    db,
    node: () => ({ id: nodeId, hostname: osHostname(), address: ingress.addresses().map((a) => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`)).join(', '), version: VERSION }),
    intervalMs: () => config.store.heartbeat,
    now,
    onFailure: (err) => log.error({ event: 'NODE_HEARTBEAT_FAILED', node: nodeId, err: { message: (err as Error).message } }, 'this node could not record its heartbeat; other nodes will list it as stale'),
    onRecovery: () => log.info({ event: 'NODE_HEARTBEAT_RECOVERED', node: nodeId }, 'heartbeat recorded again'),
  });
  await nodeHeartbeat.start();
  const gateOf = (job: SingletonJob, leaseMs: () => number): (() => Promise<boolean>) => {
    // the database away: the first failed ask at error, the rest at debug, and the end of the run once
    const failures = new FailureRun();
    let failed = false;
    const gate = jobGate(db, job, nodeId, leaseMs, now, (err) => {
      failed = true;
      log[failures.fail() ? 'error' : 'debug']({ event: 'JOB_LEASE_FAILED', job, err: { message: (err as Error).message } }, 'could not ask for the job lease; this pass is skipped');
    });
    return async () => {
      failed = false;
      const held = await gate();
      const ended = failed ? 0 : failures.succeed();
      if (ended > 0) log.info({ event: 'STAGE_RECOVERED', stage: 'job-lease', what: job, failures: ended }, 'the job lease can be asked for again');
      return held;
    };
  };
  inspector?.start();
  archiver.start();
  await engine?.start();
  portal?.sweeper.start();
  // finished messages stay for `queue show` for queue.keepFinished (read at each run, so a reload applies)
  const finishedPruner = new FinishedPruner({
    db,
    keepMs: () => config.queue.keepFinished,
    now,
    onPruned: (count) => log.info({ event: 'QUEUE_FINISHED_PRUNED', count }, 'finished messages older than queue.keepFinished removed'),
    onError: (err) => log.error({ event: 'QUEUE_FINISHED_PRUNE_FAILED', err: { message: (err as Error).message } }, 'pruning finished messages failed; retried at the next run'),
  });
  finishedPruner.start();
  const startReporter = (): { stop(): void } | undefined => {
    const running = engine;
    return running
      ? startTlsReporter({
          db,
          spool,
          resolver: deliveryResolver,
          log,
          now,
          random: randomBytes,
          hostname,
          spoolKeyId: () => keyring.current.id,
          requirement: config.delivery.defaultRequirement,
          onQueued: () => running.wake(),
          trustedCas,
          // one node of several reports: the lease outlives two hourly passes
          mayRun: gateOf('tlsrpt-reports', () => 2 * 3_600_000),
        })
      : undefined;
  };
  const portalWeb = portal ? await (await import('./portal/portal-runtime.js')).startPortalWeb(portal, { config: () => config, db, keyring, log, now, metrics }) : undefined;
  // the console on SQLite or PostgreSQL: its sessions and users live in the database, so with several nodes any one answers
  const consoleWeb = config.admin.enabled ? await (await import('./console/http/console-web.js')).startConsoleWeb({ config, db, keyring, objects: archiveObjects, hostname, log, now, node: owner, currentConfig: () => ({ config, source: configPath ?? 'the embedded default' }) }) : undefined;
  let reporter = startReporter();
  // one delivery switch at a time, in order; stop() waits for the last one
  let deliverySwitch: Promise<void> = Promise.resolve();
  const switchDelivery = (enabled: boolean): void => {
    deliverySwitch = deliverySwitch.then(async () => {
      if (enabled && !engine && !stopping) {
        engine = newEngine(config);
        await engine.start();
        reporter = startReporter();
        log.info({ event: 'DELIVERY_STARTED' }, 'delivery engine started (delivery.enabled: true)');
      } else if (!enabled && engine) {
        const stopped = engine;
        engine = undefined;
        reporter?.stop();
        reporter = undefined;
        await stopped.stop(config.smtp.shutdownTimeoutMs);
        log.info({ event: 'DELIVERY_STOPPED' }, 'delivery engine stopped (delivery.enabled: false); accepted mail stays queued');
      }
    }).catch((err: unknown) => log.error({ event: 'DELIVERY_SWITCH_FAILED', err: { message: (err as Error).message } }, 'delivery engine could not be switched; restart to apply delivery.enabled'));
  };
  // operational alerts (docs/alerts.md): the monitor runs while alerts.to or alerts.webhookUrl names somewhere to send them
  const alertMonitor = new AlertMonitor({
    db,
    spool,
    config: () => config,
    log,
    now,
    random: randomBytes,
    hostname,
    spoolKeyId: () => keyring.current.id,
    metrics,
    availableBytes: () => freeSpace.availableBytes(),
    webhook: { resolver: deliveryResolver, trustedCas },
    onQueued: () => engine?.wake(),
    // one node of several checks and alerts: the lease outlives three passes
    mayRun: gateOf('alerts', () => 3 * config.alerts.checkInterval),
  });
  let alertsOn = false;
  const syncAlerts = async (): Promise<void> => {
    const want = config.alerts.to.length > 0 || config.alerts.webhookUrl !== null;
    if (want && !alertsOn) alertMonitor.start();
    else if (!want && alertsOn) await alertMonitor.stop();
    alertsOn = want;
  };
  await syncAlerts();
  const newDatabaseCheck = (): DatabaseCheck => new DatabaseCheck({ writeTransaction: () => db.transaction((tx) => writeHealthProbe(tx, now())), get timeoutMs() { return config.metrics.readyTimeout; } });
  const newObjectsCheck = (): ObjectStoreCheck => new ObjectStoreCheck({ probe: (ms) => objects.probe(ms), get timeoutMs() { return config.metrics.readyTimeout; } });
  const databaseCheck = newDatabaseCheck();
  const objectsCheck = newObjectsCheck();
  // a store that stops answering is logged once when it goes and once when it is back (docs/scale-out.md "When a store is down")
  const storeWatch = new StoreWatch({
    intervalMs: () => config.store.heartbeat,
    now,
    checks: [
      {
        name: 'database',
        run: ((c) => () => c.run())(newDatabaseCheck()),
        tell: (news) =>
          news.kind === 'down'
            ? log.error({ event: 'DATABASE_UNAVAILABLE', reason: news.reason }, 'the database does not take a write: mail is answered 451 4.3.0 and /readyz is not ready until it does')
            : log.info({ event: 'DATABASE_AVAILABLE', downForMs: news.downForMs }, 'the database takes writes again'),
      },
      {
        name: 'objects',
        run: ((c) => () => c.run())(newObjectsCheck()),
        tell: (news) =>
          news.kind === 'down'
            ? log.error({ event: 'OBJECT_STORE_UNAVAILABLE', reason: news.reason }, 'the object store does not answer: mail whose content needs it is answered 451 4.3.0 and /readyz is not ready until it does')
            : log.info({ event: 'OBJECT_STORE_AVAILABLE', downForMs: news.downForMs }, 'the object store answers again'),
      },
    ],
  });
  storeWatch.start();
  metrics.gauge('sealgate_store_up', () =>
    Promise.resolve(
      (['database', 'objects'] as const).flatMap((store) => {
        const up = storeWatch.up(store);
        return up === undefined ? [] : [{ labels: { store }, value: up ? 1 : 0 }];
      }),
    ),
  );
  const readiness = async (): Promise<ReadinessReport> => {
    const [database, objectStore, availableBytes] = await Promise.all([databaseCheck.run(), objectsCheck.run(), freeSpace.availableBytes().catch(() => undefined)]);
    return judgeReadiness({
      database,
      objects: objectStore,
      disk: availableBytes === undefined ? { ok: false, detail: 'free space of the spool unknown' } : diskCheck({ availableBytes, minFreeBytes: config.smtp.minFreeBytes, maxMessageBytes: config.smtp.maxMessageBytes }),
      listeners: listenersCheck(ingress.listening()),
      masterKey: keyring.current.key.length === 32 ? { ok: true } : { ok: false, detail: 'master key not loaded' },
    });
  };
  const metricsServer = config.metrics.enabled ? await startMetricsServer(metrics, { host: config.metrics.host, port: config.metrics.port }, readiness) : undefined;
  if (metricsServer) log.info({ event: 'METRICS_LISTENING', host: metricsServer.host, port: metricsServer.port }, 'metrics endpoint ready');
  await appendAudit(db, { type: 'daemon:started', data: { version: VERSION, configSource: loaded.source, configSha256: loaded.sha256 } }, now());
  log.info({ event: 'DAEMON_READY', version: VERSION, config: loaded.source, listeners: ingress.addresses(), portal: portalWeb?.address, keyId: keyring.current.id }, 'sealgate ready');

  let stopping: Promise<void> | undefined;
  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      log.info({ event: 'DAEMON_STOPPING', reason }, 'stopping');
      // new SMTP sessions get 421 from this moment; DATA in flight may finish while the rest stops
      const ingressDrained = ingress.shutdown(config.smtp.shutdownTimeoutMs);
      reporter?.stop();
      await portal?.sweeper.stop();
      await finishedPruner.stop();
      await portalWeb?.server.close();
      await consoleWeb?.close();
      await metricsServer?.close();
      await storeWatch.stop();
      await alertMonitor.stop();
      inspector?.stop();
      archiver.stop();
      stoppingSweep = true;
      await orphanSweep;
      await inspectionPool?.close();
      await deliverySwitch;
      await Promise.all([ingressDrained, engine?.stop(config.smtp.shutdownTimeoutMs)]);
      await nodeHeartbeat.stop();
      await appendAudit(db, { type: 'daemon:stopped', data: { reason } }, now()).catch(() => undefined);
      // the clean-stop checkpoint covers everything, daemon:stopped included
      await checkpoints.stop();
      await spoolSweep?.stop();
      objects.close();
      // everything is committed by now: a database that does not close cleanly is worth a line, not a silent stop
      await db.close().catch((err: unknown) => log.warn({ event: 'DATABASE_CLOSE_FAILED', err: { message: (err as Error).message } }, 'database did not close cleanly'));
      log.info({ event: 'DAEMON_STOPPED' }, 'stopped');
    })();
    return stopping;
  };

  const reload = (): void => {
    try {
      const next = loadConfig(configPath);
      // restart-only changes keep their running value: the daemon never runs half on a value (src/config/reload-table.ts)
      const plan = planReload(config, next.config);
      const nextConfig = plan.effective;
      const nextDkimKeys = loadDkimKeys(nextConfig.dkim.keys);
      // a client certificate that cannot be read refuses the reload before anything changed
      loadClientCertificate(nextConfig.delivery.clientCertificate);
      const listeners = ingress.reload(nextConfig);
      // the plan keeps listener addresses as they run, so the ingress has nothing left to report; if it does, say so
      const restartNeeded = listeners.restartNeeded.length > 0 && !plan.restartNeeded.includes('smtp.listeners') ? [...plan.restartNeeded, 'smtp.listeners'] : plan.restartNeeded;
      engine?.reload(nextConfig);
      dkim.setKeys(nextDkimKeys);
      const deliveryWas = config.delivery.enabled;
      config = nextConfig;
      if (config.delivery.enabled !== deliveryWas) switchDelivery(config.delivery.enabled);
      void syncAlerts();
      void consoleWeb?.reloadTls(config.admin).catch((err: unknown) => log.error({ event: 'CONSOLE_TLS_RELOAD_FAILED', err: { message: (err as Error).message } }, 'console certificate not reloaded; the old one stays'));
      void portalWeb?.reloadTls(config.portal).catch((err: unknown) => log.error({ event: 'PORTAL_TLS_RELOAD_FAILED', err: { message: (err as Error).message } }, 'portal certificate not reloaded; the old one stays'));
      log.level = config.log.level;
      if (restartNeeded.length > 0) {
        // paths only, never values (a value may be a secret or a file name)
        log.warn({ event: 'CONFIG_RESTART_NEEDED', paths: restartNeeded }, 'some changed config keys apply only after a restart; they keep their running values until then');
      }
      log.info({ event: 'CONFIG_RELOADED', source: next.source, applied: plan.applied, restartNeeded }, restartNeeded.length ? 'config reloaded; some changes need a restart' : 'config reloaded');
      void appendAudit(db, { type: 'config:reloaded', data: { source: next.source, sha256: next.sha256, trigger: 'SIGHUP', restartNeeded } }, now()).catch(() => undefined);
    } catch (err) {
      const problems = isSealgateError(err) && Array.isArray(err.detail?.problems) ? (err.detail.problems as string[]) : [(err as Error).message];
      log.error({ event: 'CONFIG_RELOAD_REFUSED', problems }, 'new config refused; the running config stays');
      void appendAudit(db, { type: 'config:reload_refused', data: { problems: problems.length } }, now()).catch(() => undefined);
    }
  };

  process.on('SIGHUP', reload);
  const onTerm = (signal: string) => () => {
    void stop(signal).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', onTerm('SIGTERM'));
  process.once('SIGINT', onTerm('SIGINT'));

  return { ingress, db, log, stop };
}
