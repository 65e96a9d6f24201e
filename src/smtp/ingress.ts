/**
 * The SMTP ingress: one smtp-server instance per configured listener, with
 * our handlers for connect, TLS, AUTH, MAIL, RCPT and DATA. The protocol is
 * smtp-server's; every decision is ours (connector-policy.ts) and every
 * message goes through acceptMessage() before a 250.
 *
 * Reload swaps the runtime (connectors, limits, certificates) in place, so
 * open sessions keep going; a changed listener address needs a restart.
 */
import { createHmac, randomBytes, type X509Certificate } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerAddress, type SMTPServerAuthentication, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { Config, ConnectorLimits, ListenerConfig } from '../config/schema.js';
import type { AuditEventData } from '../audit/events.js';
import type { Metrics } from '../metrics/registry.js';
import { SenderLimits, type LimitSnapshot, type OverLimit } from './sender-limits.js';
import { BurstDetector, sweepContacts } from './sender-burst.js';
import { addToWindows, sweepCounts } from './limit-counts.js';
import type { SqlDatabase, SqlQueryable } from '../db/sql-database.js';
import { SealgateError, isSealgateError, toSmtpError, type ErrorCode } from '../errors.js';
import { appendAudit } from '../audit/log.js';
import { RefusalAggregator, type RefusalStage } from './refusal-audit.js';
import type { Logger } from '../log/logger.js';
import { classifyDomain } from '../net/address-literal.js';
import { ipInAny, normalizeIp, parseCidr, type Cidr } from '../net/cidr.js';
import { generateQueueId, type RandomBytes } from '../queue/ids.js';
import { strongest } from '../delivery/transport-requirement.js';
import { hasRoomFor } from '../spool/free-space.js';
import type { Spool } from '../spool/spool.js';
import { verifyUser } from '../users/store.js';
import { acceptMessage } from './accept-message.js';
import type { MessageFactsRow } from '../queue/store.js';
import { addressDomain, chooseConnector, compileConnector, connectorsForClient, domainMatches, whyClientNotAllowed, type ClientCertFacts, type ConnectorRule } from './connector-policy.js';
import { installBdat } from './bdat.js';
import { installFastDataFeed } from './data-feed.js';
import { installCommandTimeout, type CommandTimeoutOptions } from './command-timeout.js';
import { installJunkCommandLimit, resetJunkCount, type JunkCommandOptions } from './junk-commands.js';
import { answerAfterHalfClose, installHalfCloseHandling } from './half-close.js';
import { installReplyCodePatch } from './reply-codes.js';
import { clientCertFacts, connectorCas, listenerTls } from './tls-material.js';
import { installTlsHandshakeBounds } from './tls-handshake.js';
import { FailureRun } from '../log/failure-run.js';

installReplyCodePatch();
// before BDAT, which wraps the method this replaces
installFastDataFeed();
installBdat();
installHalfCloseHandling();
installTlsHandshakeBounds();
installCommandTimeout();
installJunkCommandLimit();

export interface IngressDeps {
  readonly db: SqlDatabase;
  readonly spool: Spool;
  readonly log: Logger;
  readonly now: () => number;
  readonly random: RandomBytes;
  readonly hostname: string;
  readonly spoolKeyId: () => string;
  /** Bytes free on the spool's file system. */
  readonly availableBytes: () => Promise<number>;
  /** Called after a message is queued, with its messages row's facts as committed (the stages after it take it from there). */
  readonly onQueued?: (facts: MessageFactsRow) => void;
  /** Counts rate-limit decisions (sealgate_rate_limited_total). */
  readonly metrics?: Metrics;
  /** Key of the sender hash in rate-limit audit events (derived from the master key); absent: a key for this process only. */
  readonly auditKey?: Buffer;
  /** This node's id (nodes.id), recorded on each message it accepts. */
  readonly nodeId?: string | undefined;
}

/** Most sender-recipient pairs burst detection remembers when no connector says (connectors[].limits.maxTrackedKeys). */
const DEFAULT_TRACKED_KEYS = 100_000;

/** How often the rate-limit counts no window reaches are removed. */
const LIMIT_SWEEP_MS = 60_000;

interface Runtime {
  readonly config: Config;
  readonly connectors: readonly ConnectorRule[];
  readonly cas: ReadonlyMap<string, X509Certificate[]>;
  /** connectors[].limits by connector name (only the connectors that have some). */
  readonly limits: ReadonlyMap<string, ConnectorLimits>;
  /** The largest maxTrackedKeys over the connectors: the remembered pairs are shared. */
  readonly maxTrackedKeys: number;
}

interface SessionState {
  readonly listener: ListenerConfig;
  readonly remoteIp: string;
  readonly log: Logger;
  candidates: readonly ConnectorRule[];
  clientCert?: ClientCertFacts | undefined;
  connector?: ConnectorRule | undefined;
  /** The rate-limit counts read at MAIL FROM (action defer): this transaction's recipients are checked against them. */
  limits?: LimitSnapshot | undefined;
  authFailures: number;
  countedIp: boolean;
}

interface RunningListener {
  readonly config: ListenerConfig;
  readonly index: number;
  readonly server: SMTPServer;
}

/**
 * smtp-server compares a `useProxy` list with the peer address for equality;
 * `proxyProtocol` lists CIDR ranges of load balancers, so the check is ours.
 * `useProxy` still gets the configured value: should the library stop calling
 * this method, exact addresses keep working and ranges fail closed.
 */
class IngressServer extends SMTPServer {
  private readonly proxyFrom: boolean | readonly Cidr[];

  constructor(options: SMTPServerOptions, proxyProtocol: ListenerConfig['proxyProtocol']) {
    super(options);
    this.proxyFrom = Array.isArray(proxyProtocol) ? proxyProtocol.map((r) => parseCidr(r)).filter((r): r is Cidr => r !== undefined) : proxyProtocol;
  }

  override _expectsProxyHeader(socket: Socket): boolean {
    if (typeof this.proxyFrom === 'boolean') return this.proxyFrom;
    return socket.remoteAddress !== undefined && ipInAny(socket.remoteAddress, this.proxyFrom);
  }
}

/**
 * smtp-server's own client cap is only a backstop (its refusal has no
 * enhanced status code): smtp.maxConnections is enforced in onConnect with
 * 421 4.7.0, and the sessions refused there close at once.
 */
function hardConnectionCap(maxConnections: number): number {
  return maxConnections * 2 + 10;
}

function sameProxySetting(a: ListenerConfig['proxyProtocol'], b: ListenerConfig['proxyProtocol']): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function compileRuntime(config: Config): Runtime {
  const connectors = config.connectors.map((c) => compileConnector(c));
  // a connector's own limits replace the top-level default whole: one place says what applies to it
  const limits = new Map(config.connectors.flatMap((c) => {
    const l = c.limits ?? config.limits;
    return l ? [[c.name, l] as const] : [];
  }));
  const maxTrackedKeys = Math.max(DEFAULT_TRACKED_KEYS, ...[...limits.values()].map((l) => l.maxTrackedKeys));
  return { config, connectors, cas: connectorCas(connectors), limits, maxTrackedKeys };
}

function smtpError(code: ErrorCode, message?: string): Error {
  return toSmtpError(new SealgateError(code, message === undefined ? {} : { message }));
}

// a client that vanishes mid-session, or fails our TLS handshake (cleartext on the TLS port, TLS below tls.minVersion)
const CLIENT_SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_UNSUPPORTED_PROTOCOL']);

const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.?[^\s@<>()[\]\\,;:"]*$|^[^\s@]+@\[[0-9a-f.:IPv]+\]$/i;

/** Our reply to a refusal, code and enhanced code (e.g. "550 5.7.1"), as audit events carry it. */
function replyOf(code: ErrorCode): string {
  const smtp = new SealgateError(code).smtp;
  return smtp ? `${smtp.code} ${smtp.enhanced}` : '451 4.3.0';
}

export class Ingress {
  private runtime: Runtime;
  private listeners: RunningListener[] = [];
  private readonly sessions = new Map<string, SessionState>();
  private readonly perIp = new Map<string, number>();
  private draining = false;
  private inFlightData = 0;
  private dataIdle: (() => void) | undefined;
  /** Audit appends not yet committed: shutdown waits for them before the database closes. */
  private readonly pendingAudits = new Set<Promise<unknown>>();
  /** Audit writes failing in a row (the database away): logged once per run (src/health/outage.ts). */
  private readonly auditFailures = new FailureRun();
  /** Refusals are audited bounded: the first per client IP, stage and reason a minute, the rest as one count (refusal-audit.ts). */
  private readonly refusals: RefusalAggregator;
  private refusalTimer: ReturnType<typeof setInterval> | undefined;
  /** Rate limits and burst detection (docs/rate-limits.md): counted in the database, shared by every node. */
  private readonly senderLimits: SenderLimits;
  private readonly bursts: BurstDetector;
  private readonly auditKey: Buffer;
  private limitSweep: ReturnType<typeof setInterval> | undefined;

  constructor(
    config: Config,
    private readonly deps: IngressDeps,
  ) {
    this.runtime = compileRuntime(config);
    this.auditKey = deps.auditKey ?? randomBytes(32);
    // the counted keys: keyed hashes, the same on every node with this master key, never an address in the database
    const countKey = createHmac('sha256', this.auditKey).update('sealgate-limit-counts-v1').digest();
    const hash = (material: string): string => createHmac('sha256', countKey).update(material, 'utf8').digest('hex').slice(0, 32);
    this.senderLimits = new SenderLimits(hash);
    this.bursts = new BurstDetector(hash);
    this.refusals = new RefusalAggregator({
      now: deps.now,
      writeRepeated: (r) => this.audit('ingress:refusals_repeated', { remoteIp: r.remoteIp, listener: r.listener, stage: r.stage, reason: r.reason, reply: r.reply, count: r.count, since: r.since }),
    });
  }

  /** Bound addresses, by listener name (port 0 resolves to the real port). */
  addresses(): { name: string; host: string; port: number }[] {
    return this.listeners.map((l) => {
      const addr = l.server.server.address() as AddressInfo | null;
      return { name: l.config.name, host: addr?.address ?? l.config.host, port: addr?.port ?? l.config.port };
    });
  }

  /** Each started listener and whether its socket is listening (readiness). */
  listening(): { name: string; listening: boolean }[] {
    return this.listeners.map((l) => ({ name: l.config.name, listening: l.server.server.listening }));
  }

  async start(): Promise<void> {
    const { config } = this.runtime;
    // windows of repeated refusals are written once they end: look every 10 s
    this.refusalTimer = setInterval(() => this.refusals.flush(), 10_000);
    this.refusalTimer.unref();
    // rate-limit buckets no window reaches and burst contacts past their memory go once a minute (every node: deletes only)
    this.limitSweep = setInterval(() => void this.sweepLimitCounts(), LIMIT_SWEEP_MS);
    this.limitSweep.unref();
    for (const [index, listener] of config.smtp.listeners.entries()) {
      const server = new IngressServer(this.serverOptions(listener, index), listener.proxyProtocol);
      server.server.on('connection', (socket: Socket) => answerAfterHalfClose(socket));
      server.on('error', (err: Error) => {
        const code = (err as NodeJS.ErrnoException).code;
        // a client that vanishes mid-session is routine, not a server fault
        const level = code !== undefined && CLIENT_SOCKET_ERRORS.has(code) ? 'debug' : 'error';
        this.deps.log[level]({ event: 'LISTENER_ERROR', listener: listener.name, err: { message: err.message, code } }, 'listener error');
      });
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => reject(new SealgateError('SG_CONFIG_INVALID', {
          message: `smtp.listeners[${index}]: cannot listen on ${listener.host}:${listener.port} (${(err as NodeJS.ErrnoException).code ?? err.message}): choose a free port or stop the other process`,
          cause: err,
        }));
        server.server.once('error', onError);
        server.listen(listener.port, listener.host, () => {
          server.server.off('error', onError);
          resolve();
        });
      });
      this.listeners.push({ config: listener, index, server });
      const bound = server.server.address() as AddressInfo;
      this.deps.log.info({ event: 'LISTENER_STARTED', listener: listener.name, host: bound.address, port: bound.port, tls: listener.tls }, 'listening');
    }
  }

  /** Applies a new, already validated config to running listeners. */
  reload(config: Config): { restartNeeded: string[] } {
    const next = compileRuntime(config);
    const restartNeeded: string[] = [];
    const byName = new Map(config.smtp.listeners.map((l, i) => [l.name, { l, i }]));
    for (const running of this.listeners) {
      const found = byName.get(running.config.name);
      if (!found || found.l.host !== running.config.host || found.l.port !== running.config.port || found.l.tls !== running.config.tls || !sameProxySetting(found.l.proxyProtocol, running.config.proxyProtocol)) {
        restartNeeded.push(running.config.name);
        continue;
      }
      const tls = listenerTls(config, found.i, next.connectors);
      const options = running.server.options as SMTPServerOptions & CommandTimeoutOptions & JunkCommandOptions & Record<string, unknown>;
      options.size = config.smtp.maxMessageBytes;
      options.socketTimeout = config.smtp.idleTimeoutMs;
      options.commandTimeoutMs = config.smtp.commandTimeoutMs;
      options.maxJunkCommands = config.smtp.maxJunkCommands;
      options.closeTimeout = config.smtp.shutdownTimeoutMs;
      options.tlsHandshakeTimeout = config.smtp.tlsHandshakeTimeoutMs;
      options.maxClients = hardConnectionCap(config.smtp.maxConnections);
      options.disabledCommands = this.disabledCommands(found.l);
      if (tls) running.server.updateSecureContext({ ...tls });
      (running as { config: ListenerConfig }).config = found.l;
    }
    for (const l of config.smtp.listeners) {
      if (!this.listeners.some((r) => r.config.name === l.name)) restartNeeded.push(l.name);
    }
    this.runtime = next;
    return { restartNeeded };
  }

  /**
   * SIGTERM: new sessions and new transactions get 421 4.3.2; DATA already
   * in progress may finish within `timeoutMs`; then the listeners close.
   */
  async shutdown(timeoutMs: number): Promise<void> {
    this.draining = true;
    if (this.inFlightData > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        this.dataIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await Promise.all(
      this.listeners.map(
        (l) =>
          new Promise<void>((resolve) => {
            (l.server.options as SMTPServerOptions).closeTimeout = 1;
            l.server.close(() => resolve());
          }),
      ),
    );
    this.listeners = [];
    // the counts of refusals still in their window, then every audit append still under way
    clearInterval(this.refusalTimer);
    clearInterval(this.limitSweep);
    this.refusals.flush(true);
    await Promise.all([...this.pendingAudits]);
  }

  /** A listener's settings as last reloaded: its handlers and open sessions outlive a reload. */
  private currentListener(started: ListenerConfig): ListenerConfig {
    return this.listeners.find((l) => l.config.name === started.name)?.config ?? started;
  }

  private disabledCommands(listener: ListenerConfig): string[] {
    const out: string[] = [];
    if (!listener.auth) out.push('AUTH');
    if (listener.tls !== 'starttls') out.push('STARTTLS');
    if (!listener.chunking) out.push('BDAT');
    return out;
  }

  private serverOptions(listener: ListenerConfig, index: number): SMTPServerOptions & CommandTimeoutOptions & JunkCommandOptions {
    const { config } = this.runtime;
    const tls = listenerTls(config, index, this.runtime.connectors);
    return {
      ...(tls ?? {}),
      name: this.deps.hostname,
      banner: 'Sealgate',
      secure: listener.tls === 'implicit',
      logger: false,
      size: config.smtp.maxMessageBytes,
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: true,
      allowInsecureAuth: false,
      disabledCommands: this.disabledCommands(listener),
      hideSTARTTLS: listener.tls !== 'starttls',
      hideDSN: false,
      hideREQUIRETLS: false,
      hideENHANCEDSTATUSCODES: false,
      hidePIPELINING: false,
      hide8BITMIME: false,
      hideSMTPUTF8: false,
      disableReverseLookup: true,
      // passed on to net.createServer: a client may pipeline "BDAT n LAST" + QUIT and half-close
      // its side (Exim does); the replies must still reach it
      allowHalfOpen: true,
      useProxy: listener.proxyProtocol,
      maxClients: hardConnectionCap(config.smtp.maxConnections),
      socketTimeout: config.smtp.idleTimeoutMs,
      // a whole command line within this (command-timeout.ts): trickled bytes reset only the idle timer
      commandTimeoutMs: config.smtp.commandTimeoutMs,
      // commands that send no mail, per session between accepted messages (junk-commands.ts)
      maxJunkCommands: config.smtp.maxJunkCommands,
      onJunkLimit: (session: SMTPServerSession) => this.sessions.get(session.id)?.log.info({ event: 'JUNK_COMMAND_LIMIT', reason: 'SG_TOO_MANY_JUNK_COMMANDS', reply: '421 4.7.0' }, 'too many commands that send no mail; session closed'),
      onCommandTimeout: (session) => this.sessions.get(session.id)?.log.info({ event: 'COMMAND_TIMEOUT', reason: 'SG_COMMAND_TIMEOUT', reply: '421 4.4.2' }, 'command line not completed in time; session closed'),
      closeTimeout: config.smtp.shutdownTimeoutMs,
      // read by tls-handshake.ts
      ...{ tlsHandshakeTimeout: config.smtp.tlsHandshakeTimeoutMs },
      onConnect: (session, cb) => this.onConnect(this.currentListener(listener), session, cb),
      onSecure: (socket, session, cb) => this.onSecure(socket as TLSSocket, session, cb),
      onAuth: (auth, session, cb) => void this.onAuth(auth, session, cb),
      onMailFrom: (address, session, cb) => void this.onMailFrom(address, session, cb),
      onRcptTo: (address, session, cb) => this.onRcptTo(address, session, cb),
      onData: (stream, session, cb) => void this.onData(stream, session, cb),
      onClose: (session) => this.onClose(session),
    };
  }

  private audit(type: Parameters<typeof appendAudit>[1]['type'], data: Record<string, unknown>): void {
    const pending = appendAudit(this.deps.db, { type, data } as Parameters<typeof appendAudit>[1], this.deps.now())
      .then(
        () => {
          const lost = this.auditFailures.succeed();
          if (lost > 0) this.deps.log.warn({ event: 'AUDIT_WRITE_RECOVERED', lost }, 'audit writes succeed again; the session events of the failed ones are not recorded');
        },
        (err: unknown) => {
          // the database away: one line per outage, not one per session (docs/events.md)
          if (this.auditFailures.fail()) this.deps.log.error({ event: 'AUDIT_WRITE_FAILED', type, err: { message: (err as Error).message } }, 'audit write failed; further failures are counted until one succeeds');
        },
      )
      .finally(() => this.pendingAudits.delete(pending));
    this.pendingAudits.add(pending);
  }

  /** Audits a refusal (`write` its detailed event) unless it repeats one of the same client, stage and reason within the window. */
  private auditRefusal(remoteIp: string, listener: string, stage: RefusalStage, code: ErrorCode, write: (reply: string) => void): void {
    const reply = replyOf(code);
    if (this.refusals.note({ remoteIp, listener, stage, reason: code, reply })) write(reply);
  }

  /** A MAIL FROM refused (connector rules, TLS, client certificate, AUTH, sender domain, syntax, storage): logged and audited with the sender's domain, never its local part. */
  private refuseSender(session: SMTPServerSession, code: ErrorCode, senderDomain: string, cb: (err?: Error | null) => void): void {
    const state = this.sessions.get(session.id);
    const remoteIp = state?.remoteIp ?? normalizeIp(session.remoteAddress);
    const listener = state?.listener.name ?? '';
    state?.log.info({ event: 'SENDER_REFUSED', reason: code, reply: replyOf(code), senderDomain }, 'sender refused');
    this.auditRefusal(remoteIp, listener, 'mail', code, (reply) =>
      // the connector(s) whose allowIps took this client: the refusal is theirs to explain
      this.audit('ingress:sender_refused', { sessionId: session.id, listener, remoteIp, connector: state?.candidates.map((c) => c.name).join(',') || undefined, reason: code, reply, senderDomain: senderDomain || undefined }),
    );
    cb(smtpError(code));
  }

  private onConnect(listener: ListenerConfig, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    const remoteIp = normalizeIp(session.remoteAddress);
    const log = this.deps.log.child({ sessionId: session.id, listener: listener.name, remoteIp });
    const refuse = (code: ErrorCode): void => {
      log.info({ event: 'SESSION_REFUSED', reason: code }, 'connection refused');
      this.auditRefusal(remoteIp, listener.name, 'connect', code, () => this.audit('ingress:connection_refused', { sessionId: session.id, listener: listener.name, remoteIp, reason: code }));
      cb(smtpError(code));
    };
    if (this.draining) return refuse('SG_SHUTTING_DOWN');
    const candidates = connectorsForClient(this.runtime.connectors, listener.connectors, remoteIp);
    if (candidates.length === 0) return refuse(whyClientNotAllowed(this.runtime.connectors, listener.connectors));
    const count = this.perIp.get(remoteIp) ?? 0;
    if (count >= this.runtime.config.smtp.maxConnectionsPerIp) return refuse('SG_TOO_MANY_CONNECTIONS');
    if (this.sessions.size >= this.runtime.config.smtp.maxConnections) return refuse('SG_TOO_MANY_CONNECTIONS');
    this.perIp.set(remoteIp, count + 1);
    this.sessions.set(session.id, { listener, remoteIp, log, candidates, authFailures: 0, countedIp: true });
    // smtp-server would advertise AUTH in cleartext too: offer it once TLS is up (onSecure)
    if (listener.auth && !session.secure) session.disabledCommands = [...this.disabledCommands(listener), 'AUTH'];
    log.debug({ event: 'SESSION_OPENED' }, 'session opened');
    this.audit('ingress:connection_accepted', { sessionId: session.id, listener: listener.name, remoteIp });
    cb();
  }

  private onClose(session: SMTPServerSession): void {
    const state = this.sessions.get(session.id);
    if (!state) return;
    this.sessions.delete(session.id);
    if (state.countedIp) {
      const left = (this.perIp.get(state.remoteIp) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(state.remoteIp);
      else this.perIp.set(state.remoteIp, left);
    }
  }

  private onSecure(socket: TLSSocket, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    answerAfterHalfClose(socket);
    const state = this.sessions.get(session.id);
    session.disabledCommands = undefined;
    if (state) {
      state.clientCert = clientCertFacts(socket, this.runtime.cas);
      const cipher = socket.getCipher();
      // the certificate's names (host names, never PHI) tell the admin what to put in clientCertNames
      state.log.debug({ event: 'TLS_ESTABLISHED', tlsVersion: socket.getProtocol(), cipher: cipher.name, clientCert: state.clientCert ? state.clientCert.verified : false, clientCertNames: state.clientCert?.names.slice(0, 10) }, 'tls established');
    }
    cb();
  }

  private async onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, cb: (err: Error | null | undefined, response?: { user?: unknown }) => void): Promise<void> {
    const state = this.sessions.get(session.id);
    if (!state) return cb(smtpError('SG_STORAGE_FAILED'));
    const user = auth.username ?? '';
    const data = { sessionId: session.id, listener: state.listener.name, remoteIp: state.remoteIp, user, method: auth.method };
    let ok = false;
    try {
      ok = (auth.method === 'PLAIN' || auth.method === 'LOGIN') && typeof auth.password === 'string' && (await verifyUser(this.deps.db, user, auth.password));
    } catch (err) {
      state.log.error({ event: 'AUTH_ERROR', err: { message: (err as Error).message } }, 'auth backend failed');
      const e = new Error('4.7.0 Temporary authentication failure') as Error & { responseCode: number };
      e.responseCode = 454;
      return cb(e);
    }
    if (ok) {
      state.log.info({ event: 'AUTH_SUCCEEDED', method: auth.method }, 'authenticated');
      this.audit('ingress:auth_succeeded', data);
      return cb(null, { user });
    }
    state.authFailures++;
    state.log.warn({ event: 'AUTH_FAILED', method: auth.method, failures: state.authFailures }, 'authentication failed');
    this.audit('ingress:auth_failed', data);
    if (state.authFailures >= this.runtime.config.smtp.maxAuthFailures) {
      const e = new Error('4.7.0 Too many authentication failures') as Error & { responseCode: number };
      e.responseCode = 421;
      return cb(e);
    }
    cb(smtpError('SG_AUTH_FAILED'));
  }

  private async onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void): Promise<void> {
    const state = this.sessions.get(session.id);
    // the domain only (never the local part), and only a plausible one: it goes into the audit chain
    const senderDomain = ADDRESS.test(address.address) ? addressDomain(address.address).slice(0, 253) : '';
    if (!state) return this.refuseSender(session, 'SG_RELAY_DENIED', senderDomain, cb);
    if (this.draining) return this.refuseSender(session, 'SG_SHUTTING_DOWN', senderDomain, cb);
    if (address.address !== '' && !ADDRESS.test(address.address)) return this.refuseSender(session, 'SG_BAD_SENDER_SYNTAX', '', cb);
    // re-evaluate on every transaction: a reload may have changed the connectors
    const candidates = connectorsForClient(this.runtime.connectors, this.currentListener(state.listener).connectors, state.remoteIp);
    state.candidates = candidates;
    const user = typeof session.user === 'string' ? session.user : undefined;
    const choice = chooseConnector(candidates, { tls: session.secure, clientCert: state.clientCert, user }, addressDomain(address.address));
    if (!choice.ok) {
      state.connector = undefined;
      return this.refuseSender(session, choice.code, senderDomain, cb);
    }
    if (!(await this.spoolHasRoom(address, state.log))) {
      state.connector = undefined;
      return this.refuseSender(session, 'SG_STORAGE_FULL', senderDomain, cb);
    }
    const limits = this.runtime.limits.get(choice.connector.name);
    state.limits = undefined;
    if (limits?.action === 'defer') {
      try {
        state.limits = await this.senderLimits.snapshot(this.deps.db, choice.connector.name, limits, address.address, this.deps.now());
      } catch (err) {
        // the counts cannot be read (the database away): a limit that cannot be checked is not passed
        state.connector = undefined;
        state.log.warn({ event: 'RATE_LIMIT_UNREADABLE', connectorId: choice.connector.name, err: { message: (err as Error).message } }, 'rate-limit counts could not be read: sender deferred');
        return this.refuseSender(session, 'SG_STORAGE_FAILED', senderDomain, cb);
      }
      const over = state.limits.messageOver();
      if (over) {
        state.connector = undefined;
        return this.deferForLimit(session, 'mail', choice.connector.name, address.address, over, cb);
      }
    }
    state.connector = choice.connector;
    cb();
  }

  /** The PHI-free description of a sender in rate-limit events: its domain and a keyed hash of the whole address. */
  private senderFacts(sender: string): { senderDomain?: string; senderHash?: string } {
    if (sender === '') return {};
    const senderHash = createHmac('sha256', this.auditKey).update(sender.toLowerCase(), 'utf8').digest('hex').slice(0, 16);
    const domain = ADDRESS.test(sender) ? addressDomain(sender).slice(0, 253) : '';
    return domain ? { senderDomain: domain, senderHash } : { senderHash };
  }

  /** The audit data of one rate-limit decision. */
  private limitEvent(session: SMTPServerSession, stage: RefusalStage, action: 'defer' | 'hold', connector: string, sender: string, over: Pick<OverLimit, 'limit' | 'max' | 'count'>): AuditEventData<'ingress:rate_limited'> {
    const state = this.sessions.get(session.id);
    return { sessionId: session.id, listener: state?.listener.name ?? '', remoteIp: state?.remoteIp ?? normalizeIp(session.remoteAddress), connector, stage, action, limit: over.limit, max: over.max, count: over.count, ...this.senderFacts(sender) };
  }

  /** 451 4.7.1 naming the limit (never the address): logged, counted and audited (bounded as refusals are). */
  private deferForLimit(session: SMTPServerSession, stage: 'mail' | 'rcpt', connector: string, sender: string, over: OverLimit, cb: (err?: Error | null) => void): void {
    const event = this.limitEvent(session, stage, 'defer', connector, sender, over);
    this.sessions.get(session.id)?.log.info({ event: 'RATE_LIMITED', action: 'defer', stage, connectorId: connector, limit: over.limit, max: over.max, count: over.count, senderDomain: event.senderDomain, senderHash: event.senderHash }, 'over a rate limit: deferred');
    this.deps.metrics?.inc('sealgate_rate_limited_total', { connector, action: 'defer' });
    this.auditRefusal(event.remoteIp, event.listener, stage, 'SG_RATE_LIMITED', () => this.audit('ingress:rate_limited', event));
    cb(smtpError('SG_RATE_LIMITED', `${over.text}; try again later`));
  }

  /**
   * At DATA: the reasons to accept this message held (action hold over a
   * limit; a burst of new external recipients, whatever the action), and
   * what to record once it is accepted.
   */
  private async holdDecision(session: SMTPServerSession, connector: ConnectorRule, sender: string, recipients: readonly string[]): Promise<{ events: AuditEventData<'ingress:rate_limited'>[]; count?: (tx: SqlQueryable, now: number) => Promise<void> }> {
    const limits = this.runtime.limits.get(connector.name);
    if (!limits) return { events: [] };
    const { db, now } = this.deps;
    const events: AuditEventData<'ingress:rate_limited'>[] = [];
    if (limits.action === 'hold') {
      const counts = await this.senderLimits.snapshot(db, connector.name, limits, sender, now());
      const over = counts.messageOver() ?? counts.recipientsOver(recipients.length);
      if (over) events.push(this.limitEvent(session, 'data', 'hold', connector.name, sender, over));
    }
    const burst = limits.burst;
    // external: outside the domains this connector sends for (the organisation's own)
    const external = burst && sender !== '' ? recipients.filter((r) => !connector.senderDomains.some((p) => domainMatches(p, addressDomain(r)))) : [];
    const assessed = burst && external.length > 0 ? await this.bursts.assess(db, connector.name, burst, sender, external, now()) : undefined;
    if (burst && assessed?.burst) events.push(this.limitEvent(session, 'data', 'hold', connector.name, sender, { limit: 'burst.newRecipients', max: burst.newRecipients, count: assessed.count - assessed.fresh.length }));
    const additions = this.senderLimits.additions(connector.name, limits, sender, recipients.length);
    return {
      events,
      // in the transaction that queues the message: counted exactly when it is accepted
      count: async (tx, at) => {
        await addToWindows(tx, additions, at);
        if (assessed) await this.bursts.record(tx, assessed, at);
      },
    };
  }

  /** Removes the rate-limit buckets no window reaches and the burst contacts past the longest `remember` (or beyond maxTrackedKeys). */
  private async sweepLimitCounts(): Promise<void> {
    const rememberMs = Math.max(0, ...[...this.runtime.limits.values()].map((l) => l.burst?.remember ?? 0));
    try {
      const now = this.deps.now();
      await this.deps.db.transaction(async (tx) => {
        await sweepCounts(tx, now);
        await sweepContacts(tx, now, rememberMs, this.runtime.maxTrackedKeys);
      });
    } catch (err) {
      // the database away: the next sweep does it (each deletes only what is over)
      this.deps.log.debug({ event: 'RATE_LIMIT_SWEEP_FAILED', err: { message: (err as Error).message } }, 'rate-limit counts not swept; tried again in a minute');
    }
  }

  private async spoolHasRoom(address: SMTPServerAddress, log: Logger): Promise<boolean> {
    const { smtp } = this.runtime.config;
    if (smtp.minFreeBytes === 0) return true;
    const args = address.args === false ? {} : address.args;
    const size = Number(args.SIZE ?? Number.NaN);
    let availableBytes: number;
    try {
      availableBytes = await this.deps.availableBytes();
    } catch (err) {
      // cannot tell: let the spool write find out (ENOSPC still answers 452)
      log.warn({ event: 'FREE_SPACE_UNKNOWN', err: { message: (err as Error).message } }, 'cannot read free space of the spool');
      return true;
    }
    const room = hasRoomFor({ availableBytes, minFreeBytes: smtp.minFreeBytes, declaredSize: Number.isFinite(size) && size >= 0 ? size : undefined, maxMessageBytes: smtp.maxMessageBytes });
    if (!room) log.warn({ event: 'SPOOL_LOW_ON_SPACE', availableBytes, minFreeBytes: smtp.minFreeBytes }, 'refusing mail: spool file system low on space');
    return room;
  }

  private onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    const state = this.sessions.get(session.id);
    const valid = ADDRESS.test(address.address);
    const domain = valid ? addressDomain(address.address) : '';
    if (!state?.connector) return this.refuseRecipient(session, 'SG_RELAY_DENIED', domain, cb);
    if (!valid) return this.refuseRecipient(session, 'SG_BAD_RECIPIENT_SYNTAX', '', cb);
    const { smtp, delivery } = this.runtime.config;
    const kind = classifyDomain(domain).kind;
    if (kind === 'malformed') return this.refuseRecipient(session, 'SG_BAD_RECIPIENT_SYNTAX', '', cb);
    // u@[192.0.2.1]: no name to check a certificate, MTA-STS or DANE against
    if (kind === 'literal' && !delivery.allowAddressLiterals) return this.refuseRecipient(session, 'SG_ADDRESS_LITERAL', domain, cb);
    const accepted = session.envelope.rcptTo.length;
    if (accepted >= smtp.maxRecipients) return this.refuseRecipient(session, 'SG_TOO_MANY_RECIPIENTS', domain, cb);
    // the null sender skips the sender-domain check (bounces must get through): a DSN has one recipient
    const nullSender = session.envelope.mailFrom !== false && session.envelope.mailFrom.address === '';
    if (nullSender && accepted >= smtp.nullSenderMaxRecipients) return this.refuseRecipient(session, 'SG_NULL_SENDER_TOO_MANY_RECIPIENTS', domain, cb);
    // the counts read at MAIL FROM: limits are checked per transaction (docs/rate-limits.md)
    const over = state.limits?.recipientsOver(accepted + 1);
    if (over) {
      const sender = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
      return this.deferForLimit(session, 'rcpt', state.connector.name, sender, over, cb);
    }
    cb();
  }

  /** A recipient refused (relay, syntax, limits, policy): logged and audited, without the address. */
  private refuseRecipient(session: SMTPServerSession, code: ErrorCode, recipientDomain: string, cb: (err?: Error | null) => void): void {
    const state = this.sessions.get(session.id);
    const remoteIp = state?.remoteIp ?? normalizeIp(session.remoteAddress);
    const listener = state?.listener.name ?? '';
    const reply = replyOf(code);
    state?.log.info({ event: 'RECIPIENT_REFUSED', reason: code, reply, connectorId: state.connector?.name, recipientDomain }, 'recipient refused');
    this.auditRefusal(remoteIp, listener, 'rcpt', code, () =>
      this.audit('ingress:recipient_refused', { sessionId: session.id, listener, remoteIp, connector: state?.connector?.name, reason: code, reply }),
    );
    cb(toSmtpError(new SealgateError(code)));
  }

  private async onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): Promise<void> {
    const state = this.sessions.get(session.id);
    const connector = state?.connector;
    if (!state || !connector) {
      stream.resume();
      stream.on('end', () => cb(smtpError('SG_RELAY_DENIED')));
      return;
    }
    this.inFlightData++;
    const { config } = this.runtime;
    const queueId = generateQueueId(this.deps.now(), this.deps.random);
    const cipher = session.secure ? (session.tlsOptions as { name?: string; version?: string } | false) : false;
    const tlsInfo = cipher ? { version: cipher.version ?? 'TLS', cipher: cipher.name ?? 'unknown' } : undefined;
    const envelope = session.envelope as SMTPServerSession['envelope'] & { requireTLS?: boolean; dsn?: { ret?: string | null; envid?: string | null } };
    const authUser = typeof session.user === 'string' ? session.user : undefined;
    const sender = envelope.mailFrom ? envelope.mailFrom.address : '';
    try {
      const hold = await this.holdDecision(session, connector, sender, envelope.rcptTo.map((r) => r.address)).catch((err: unknown) => {
        // the counts cannot be read (the database away): the message is not taken unchecked; its data is read and refused with 451
        stream.resume();
        throw new SealgateError('SG_STORAGE_FAILED', { cause: err, detail: { step: 'rate-limit-counts' } });
      });
      const accepted = await acceptMessage(
        {
          queueId,
          stream,
          sessionId: session.id,
          hostname: this.deps.hostname,
          hold: hold.events.length > 0 ? hold.events : undefined,
          count: hold.count,
          received: {
            helo: session.hostNameAppearsAs || 'unknown',
            clientIp: state.remoteIp,
            byHost: this.deps.hostname,
            tls: tlsInfo,
            authenticated: authUser !== undefined,
            smtputf8: Boolean(envelope.smtpUtf8),
            date: new Date(this.deps.now()),
          },
          envelope: {
            sender: envelope.mailFrom ? envelope.mailFrom.address : '',
            listener: state.listener.name,
            connector: connector.name,
            clientIp: state.remoteIp,
            helo: (session.hostNameAppearsAs || '').slice(0, 255),
            tlsVersion: tlsInfo?.version,
            authUser,
            bodyType: (envelope.bodyType || '7bit').toUpperCase(),
            smtputf8: Boolean(envelope.smtpUtf8),
            requireTls: Boolean(envelope.requireTLS),
            // RFC 8689: REQUIRETLS mail may only leave over verified TLS
            requirement: envelope.requireTLS ? strongest(config.delivery.defaultRequirement, 'verify') : config.delivery.defaultRequirement,
            // inspection and the decision run before delivery
            inspected: !config.inspection.enabled,
            // the archive stage copies it before delivery (archive.enabled)
            archived: !config.archive.enabled,
            dsnRet: envelope.dsn?.ret ?? undefined,
            dsnEnvid: envelope.dsn?.envid ?? undefined,
            recipients: envelope.rcptTo.map((r) => ({ address: r.address, notify: r.dsn?.notify, orcpt: r.dsn?.orcpt })),
          },
        },
        {
          maxMessageBytes: config.smtp.maxMessageBytes,
          maxHeaderBytes: config.smtp.maxHeaderBytes,
          maxReceivedHeaders: config.smtp.maxReceivedHeaders,
          dataTimeoutMs: config.smtp.dataTimeoutMs,
          // BDAT has no end-of-data sequence to smuggle: a bare LF in a chunk is data, normalised on the way in
          bareLineEndings: (stream as { chunked?: boolean }).chunked ? 'normalize' : config.smtp.bareLineEndings,
        },
        { db: this.deps.db, spool: this.deps.spool, now: this.deps.now, spoolKeyId: this.deps.spoolKeyId, nodeId: this.deps.nodeId },
      );
      state.log.info(
        { event: 'MESSAGE_ACCEPTED', queueId, connectorId: connector.name, bytes: accepted.size, recipients: envelope.rcptTo.length, senderDomain: addressDomain(envelope.mailFrom ? envelope.mailFrom.address : ''), bareLineEndings: accepted.bareLineEndings },
        'message queued',
      );
      if (hold.events.length > 0) {
        this.deps.metrics?.inc('sealgate_rate_limited_total', { connector: connector.name, action: 'hold' });
        for (const e of hold.events) state.log.warn({ event: 'RATE_LIMITED', action: 'hold', stage: 'data', queueId, connectorId: connector.name, limit: e.limit, max: e.max, count: e.count, senderDomain: e.senderDomain, senderHash: e.senderHash }, e.limit.startsWith('burst.') ? 'sender burst to new recipients: message held' : 'over a rate limit: message held');
      }
      resetJunkCount(session);
      cb(null, `2.0.0 Ok: queued as ${queueId}`);
      this.deps.onQueued?.(accepted.facts);
    } catch (err) {
      const e = isSealgateError(err) ? err : new SealgateError('SG_STORAGE_FAILED', { cause: err });
      const level = e.code === 'SG_STORAGE_FAILED' || e.code === 'SG_STORAGE_FULL' ? 'error' : 'info';
      state.log[level]({ event: 'MESSAGE_REJECTED', queueId, reason: e.code, reply: e.smtp ? `${e.smtp.code} ${e.smtp.enhanced}` : undefined, errno: (e.detail as { errno?: string } | undefined)?.errno, hops: (e.detail as { received?: number } | undefined)?.received, cause: e.code === 'SG_STORAGE_FAILED' ? String((e.cause as Error | undefined)?.message ?? '') : undefined }, 'message refused');
      this.auditRefusal(state.remoteIp, state.listener.name, 'data', e.code, (reply) => this.audit('ingress:message_rejected', { sessionId: session.id, connector: connector.name, reason: e.code, reply }));
      // a timed-out transfer closes the connection (421), the client may not be listening any more
      const out = e.code === 'SG_DATA_TIMEOUT' ? Object.assign(new Error(`${e.smtp?.enhanced ?? '4.4.2'} ${e.message}`), { responseCode: 421 }) : toSmtpError(e);
      cb(out);
    } finally {
      this.inFlightData--;
      if (this.inFlightData === 0 && this.dataIdle) {
        const idle = this.dataIdle;
        this.dataIdle = undefined;
        idle();
      }
    }
  }
}
