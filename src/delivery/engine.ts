/**
 * The delivery engine: takes due recipients from the SQLite queue, delivers
 * them to their MX hosts (or the smarthost) and records each outcome.
 *
 * Queue discipline (nothing lost, nothing scheduled only in memory):
 *   - claim: in one write transaction, due recipients become `in-flight`
 *     under this node's lease (src/queue/claim.ts; on PostgreSQL with
 *     `FOR UPDATE SKIP LOCKED`, so nodes sharing the queue never claim a row twice)
 *   - attempt: connect, transaction(s) (src/delivery/smtp-session.ts); the
 *     node's leases are renewed meanwhile (every delivery.leaseTime / 3)
 *   - record: in one write transaction, each recipient's new state
 *     (delivered / deferred with next_attempt / bounced / expired), attempt
 *     count, last reply, plus one audit event per recipient — only for rows
 *     this node still holds
 *   - at start, `in-flight` rows left by a crash return to `deferred` (on
 *     SQLite all of them: no other node can hold a lease on the file); while
 *     running, other nodes' rows whose lease ran out are taken over likewise
 * A crash between the remote 250 and the record step delivers that message
 * again after the restart: the one duplicate window (docs/queue.md); with
 * several nodes, so does a node that stalls past its lease (docs/scale-out.md).
 *
 * Fairness: each claim takes up to half its batch from fresh (`queued`) and
 * half from retried (`deferred`) recipients, so a backlog of retries never
 * starves new mail. Idle: a single timer sleeps until the earliest
 * next_attempt (at most `pollMs`, to notice operator changes); ingress wakes
 * it when a message arrives.
 */
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { networkInterfaces } from 'node:os';
import { prepend } from '../dkim/prepend.js';
import type { Config } from '../config/schema.js';
import { maybeCommitted, type SqlDatabase, type SqlQueryable } from '../db/sql-database.js';
import { appendAuditAtCommit } from '../audit/log.js';
import { isSealgateError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { classifyReply, outcomeAfterAttempt, type RecipientOutcome, type RetryPolicy } from '../queue/retry-policy.js';
import { removeIfFinished } from '../queue/store.js';
import { readQueuedWithArchive, updateArchiveRecipientIn } from '../archive/entries.js';
import { attemptEvidence } from '../archive/evidence.js';
import type { RandomBytes } from '../queue/ids.js';
import type { Spool } from '../spool/spool.js';
import type { DsnAction } from './dsn.js';
import { commitNotice, discardNotice, prepareNotice, type NoticeDeps, type NoticeRecipient, type PreparedNotice } from './notices.js';
import type { DnsResolver } from './dns.js';
import { resolveDestination, type Destination } from './mx.js';
import { isOwnAddress, localAddressRanges, type ListeningAddress } from './self-loop.js';
import { literalAddress } from '../net/address-literal.js';
import { bindingPosture, loadPosture, postureLevel, PostureSeen, recordPosture } from '../probe/posture.js';
import { classifyTlsFailure, countTlsResult, utcDay, type PolicyType, type TlsResultType } from '../probe/tlsrpt.js';
import { daneRequirement, type TlsaRecord } from '../probe/dane.js';
import { fetchStsPolicyText } from '../probe/mta-sts-fetch.js';
import { stsMxMatches } from '../probe/mta-sts-policy.js';
import { MtaStsResolver, type StsLookup } from '../probe/mta-sts.js';
import { lookupTlsa, type TlsaLookup } from '../probe/tlsa-dns.js';
import { domainPolicyFor, effectiveRequirement, type DomainPolicy } from '../probe/requirement.js';
import type { Metrics } from '../metrics/registry.js';
import { loadClientCertificate, type ClientCertificate } from './client-certificate.js';
import { loopStopStamp, ownDomainPatterns, stampBytes, withStamp } from './loop-stop.js';
import { rewriteMessage, type MessageRewrite } from './header-rewrite.js';
import { loadBuckets, lockClaims, othersInFlight, saveBuckets } from './shared-limits.js';
import { DomainRateLimiter } from './rate-limit.js';
import { DeadHosts, SessionPool, sessionKey } from './session-pool.js';
import { SessionError, SmtpSession, type RemoteReply, type SessionTarget, type TlsFacts } from './smtp-session.js';
import { isTransportRequirement, strongest, TRANSPORT_REQUIREMENTS, type TransportRequirement } from './transport-requirement.js';
import { isE2eMethod } from '../policy/decide.js';
import { FailureRun } from '../log/failure-run.js';
import { heldSeqs, LeaseLostError, markInFlight, newNodeId, readDueMessage, recordOutcome, releaseHeld, renewLeases, selectDue, takeOverLeases, type ClaimedRecipient, type DueMessage } from '../queue/claim.js';

export interface EngineDeps {
  readonly db: SqlDatabase;
  readonly spool: Spool;
  readonly log: Logger;
  readonly now: () => number;
  readonly random: () => number;
  readonly randomBytes: RandomBytes;
  readonly spoolKeyId: () => string;
  readonly resolver: DnsResolver;
  readonly hostname: string;
  /** Extra trusted CAs (PEM texts) from tls.trustedCaFiles. */
  readonly trustedCas: readonly string[];
  /** Called once a message's every recipient is final, before its rows and spool file go. */
  readonly onMessageFinished?: (tx: SqlQueryable, messageId: string) => Promise<void>;
  readonly pollMs?: number;
  readonly metrics?: Metrics | undefined;
  /** TLSA lookup of an MX host; default: lookupTlsa through dns.servers. */
  readonly lookupTlsa?: (mxHost: string) => Promise<TlsaLookup>;
  /** The addresses our SMTP listeners are bound to (Ingress.addresses()); absent: no loop check. */
  readonly ownAddresses?: () => readonly ListeningAddress[];
  /** This machine's addresses and loopback ranges; default: from os.networkInterfaces(). */
  readonly localAddresses?: () => readonly string[];
  /**
   * The secure portal's deposit step (portal enabled): recipients whose
   * method is `portal` go there instead of to an MX. Absent: such recipients
   * are never claimed (they wait, never sent weaker).
   */
  readonly portal?: { deposit(messageId: string, recipients: readonly { seq: number; address: string; bcc: boolean }[], leaseNode?: string): Promise<boolean> } | undefined;
  /**
   * DKIM signing of the final outgoing bytes (src/dkim/service.ts): the
   * DKIM-Signature field(s) to put on top, undefined when no key signs the
   * message's From domain. Absent: nothing is signed.
   */
  readonly dkim?: { sign(source: () => Readable): Promise<Buffer | undefined> } | undefined;
  /** This node's id on its delivery leases (one per process: src/queue/claim.ts newNodeId); default: a new one. */
  readonly nodeId?: string | undefined;
}

/** What an attempt found besides the per-recipient records. */
interface AttemptNotes {
  /** MX hosts (or the literal, or the smarthost) skipped because they are our own listening addresses. */
  loop?: { readonly hosts: readonly string[]; readonly outcome: 'skipped' | 'bounced' | 'deferred' } | undefined;
}

/** Pure: can mail with this transport requirement go to an address literal (opportunistic TLS at most)? */
export function literalCanCarry(requirement: TransportRequirement): boolean {
  return TRANSPORT_REQUIREMENTS.indexOf(requirement) <= TRANSPORT_REQUIREMENTS.indexOf('may');
}

interface Job {
  readonly messageId: string;
  readonly domain: string;
  readonly requirement: TransportRequirement;
  readonly recipients: ClaimedRecipient[];
  /** Recipients of the secure portal: deposited, not sent. */
  readonly portal?: boolean;
  /** An end-to-end recipient (a job of its own): what is sent is its encrypted copy. */
  readonly e2e?: { readonly method: string; readonly copy: string | null; readonly size: number | null } | undefined;
}

/**
 * Pure: the SIZE to declare for what a job sends (before a DKIM signature):
 * an end-to-end copy's own size (about 1.4 times the original), else the
 * message plus the header fields the policy adds.
 */
export function outgoingSize(job: { readonly e2e?: { readonly size: number | null } | undefined }, message: { readonly size: number; readonly rewrite: string | null }, stamped = 0): number {
  if (job.e2e?.size != null) return job.e2e.size + stamped;
  const added = rewriteOf(message)?.addHeaders ?? {};
  return message.size + stamped + Object.entries(added).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
}

/** Pure: the policy's header rewrite stored with a message, if any. */
function rewriteOf(message: { readonly rewrite: string | null }): MessageRewrite | undefined {
  return message.rewrite ? (JSON.parse(message.rewrite) as MessageRewrite) : undefined;
}

type MessageRow = DueMessage;

/** A fixed next hop instead of the recipient's MX: the smarthost, or a message's own route. */
interface NextHop {
  readonly host: string;
  readonly port: number;
  readonly requirement: TransportRequirement;
  /** Only the configured smarthost authenticates. */
  readonly smarthost: boolean;
}

/** Pure: a message's route `host:port` (`[v6]:port` too) as a next hop that needs verified TLS. */
export function routeHop(route: string): NextHop | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(route);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port, requirement: 'verify', smarthost: false };
}

/** A claim made in an inspection's verdict transaction (DeliveryEngine.claimWithVerdict). */
export interface VerdictClaim {
  claim(tx: SqlQueryable, now: number): Promise<void>;
  /** After the commit: the jobs start; true when every due recipient of the message was claimed. */
  committed(): boolean;
  /** Not committed: the rate tokens go back, the jobs no longer count. */
  failed(): void;
}

/**
 * What a claim did outside the database: the rate tokens it took and the
 * jobs it counts against the limits (`reserved`, until they start). Undone
 * before the claim runs again and when it is not committed.
 */
class ClaimEffects {
  /** Domains whose rate token the claim took (jobsOf notes them here). */
  readonly taken: string[] = [];
  private jobs: readonly Job[] = [];

  constructor(
    private readonly giveBack: (domain: string) => void,
    private readonly reserved: Set<Job>,
  ) {}

  /** The claim's jobs count against the limits from now on. */
  reserve(jobs: readonly Job[]): void {
    for (const job of jobs) this.reserved.add(job);
    this.jobs = jobs;
  }

  /** The claim committed: its jobs, for the caller to start (launch ends their reservation); nothing is undone any more. */
  kept(): readonly Job[] {
    const jobs = this.jobs;
    this.jobs = [];
    this.taken.length = 0;
    return jobs;
  }

  undo(): void {
    for (const domain of this.taken.splice(0)) this.giveBack(domain);
    for (const job of this.jobs) this.reserved.delete(job);
    this.jobs = [];
  }
}

/** What happened to one recipient in one attempt. */
export interface AttemptRecord {
  readonly reply: RemoteReply;
  readonly mx?: string | undefined;
  readonly ip?: string | undefined;
  readonly tls?: TlsFacts | undefined;
  /** The TLS-RPT policy that governed this MX. */
  readonly policy?: PolicyType | undefined;
  /** A TLS-RPT failure decided before or apart from the session (MTA-STS mismatch, testing-mode failure, TLSA lookup). */
  readonly tlsFailure?: TlsResultType | undefined;
  /** MTA-STS mode of the recipient domain when a policy was in force. */
  readonly stsMode?: 'enforce' | 'testing' | undefined;
}

/** How one MX host must be approached, or why it is skipped. */
type MxGate =
  | { readonly requirement: TransportRequirement; readonly dane?: readonly TlsaRecord[] | undefined; readonly policy: PolicyType; readonly stsMode?: 'enforce' | 'testing' | undefined; readonly stsMxAllowed: boolean }
  | { readonly skip: AttemptRecord };

/** How long the machine's interface addresses are reused for the self-loop test (an address added later is seen within this). */
const INTERFACES_TTL_MS = 30_000;

function synthetic(code: number, enhanced: string, text: string): RemoteReply {
  return { code, enhanced, text };
}

/**
 * Pure: what an unexpected delivery-job error is recorded as (the
 * recipient's last error, its DSN's diagnostic code): the SealgateError
 * code, else "internal error" — never the error's message, which may quote
 * a row or a path.
 */
export function jobErrorReply(err: unknown): { reason: string; text: string } {
  const reason = isSealgateError(err) ? err.code : 'internal error';
  return { reason, text: `Sealgate internal error during the delivery attempt (${reason}); counted as a temporary failure` };
}

/**
 * Pure: an unexpected error as logged: its class and code, a SealgateError's
 * message (written without content, src/errors.ts) and the code locations
 * of its stack — never another error's message, which may quote a row (a
 * JSON.parse error quotes its input) or a path.
 */
export function errorFacts(err: unknown): { name: string; code?: string; message?: string; at?: string[] } {
  if (!(err instanceof Error)) return { name: typeof err };
  const at = (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 5).map((l) => l.trim());
  return { name: err.name, ...(isSealgateError(err) ? { code: err.code, message: err.message } : {}), ...(at.length ? { at } : {}) };
}

export function deliveryConfig(config: Config): { policy: RetryPolicy } & Config['delivery'] {
  return { ...config.delivery, policy: { backoffMs: config.delivery.retry.backoff, maxLifetimeMs: config.delivery.retry.maxLifetime } };
}

export class DeliveryEngine {
  private config: ReturnType<typeof deliveryConfig>;
  /** The organisation's own domains (connectors' senderDomains): where the loop-stop header goes. */
  private ownDomains: readonly string[];
  /** delivery.clientCertificate, read from its files (start and reload). */
  private clientCert: ClientCertificate | undefined;
  private readonly pool: SessionPool;
  private readonly dead: DeadHosts;
  private rate: DomainRateLimiter;
  private tlsPolicies: Readonly<Record<string, DomainPolicy>>;
  private postureMemoryMs: number;
  private readonly activePerDomain = new Map<string, number>();
  /** The jobs under way (their count bounds delivery.concurrency); their recipients' leases are the ones renewed. */
  private readonly running = new Set<Job>();
  /** Jobs claimed and not started yet (their claim's transaction has not committed, or has just): they count against the limits. */
  private readonly reserved = new Set<Job>();
  /** Posture rows read lately: a delivery at the domain's best level records nothing and reads nothing (probe/posture.ts). */
  private readonly postureSeen = new PostureSeen();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private again = false;
  /** Loop passes failing in a row (the database away): logged once per run (src/log/failure-run.ts). */
  private readonly loopFailures = new FailureRun();
  private stopping = false;
  private idleWaiters: (() => void)[] = [];
  private smarthostPassword: string | undefined;
  private mtaSts: MtaStsResolver | undefined;
  private dnssecValidating: boolean;
  private dnsServers: readonly string[];
  private portalFallback: { enabled: boolean; after: number };
  /** The DKIM signature of a job's message, made once for all its MX attempts (a retry later is a new job). */
  private readonly signatures = new WeakMap<Job, Promise<Buffer | undefined>>();
  /** The node id on this engine's leases. */
  readonly nodeId: string;
  /** Renews this node's leases and takes over other nodes' expired ones (every leaseTime / 3). */
  private leaseTimer: NodeJS.Timeout | undefined;
  /** stop() is done: the lease timer stays off. */
  private closed = false;

  constructor(
    config: Config,
    private readonly deps: EngineDeps,
  ) {
    this.config = deliveryConfig(config);
    this.nodeId = deps.nodeId ?? newNodeId();
    this.ownDomains = ownDomainPatterns(config.connectors);
    this.clientCert = loadClientCertificate(config.delivery.clientCertificate);
    this.pool = new SessionPool(this.config.connectionIdle, this.config.maxMessagesPerConnection);
    this.dead = new DeadHosts(this.config.deadHostTime, deps.now);
    this.rate = this.rateLimiter();
    this.tlsPolicies = config.tls.policies;
    this.postureMemoryMs = config.tls.postureMemory;
    this.mtaSts = this.stsResolver(config);
    this.dnssecValidating = config.dns.dnssecValidating;
    this.dnsServers = config.dns.servers;
    this.portalFallback = config.tls.portalFallback;
  }

  private stsResolver(config: Config): MtaStsResolver | undefined {
    const sts = config.tls.mtaSts;
    if (!sts.enabled) return undefined;
    return new MtaStsResolver({
      db: this.deps.db,
      resolver: this.deps.resolver,
      now: this.deps.now,
      recheckMs: sts.recheck,
      fetchText: (domain) => fetchStsPolicyText(domain, { resolver: this.deps.resolver, port: sts.httpsPort, trustedCas: this.deps.trustedCas, timeoutMs: sts.fetchTimeout, maxBytes: 64 * 1024 }),
    });
  }

  private rateLimiter(): DomainRateLimiter {
    const r = this.config.perDomainRate;
    return new DomainRateLimiter(r ? { messages: r.messages, perMs: r.per } : undefined, this.deps.now);
  }

  reload(config: Config): void {
    // read first: a bad file refuses the reload before anything changed
    const clientCert = loadClientCertificate(config.delivery.clientCertificate);
    this.config = deliveryConfig(config);
    this.ownDomains = ownDomainPatterns(config.connectors);
    this.clientCert = clientCert;
    this.rate = this.rateLimiter();
    this.tlsPolicies = config.tls.policies;
    this.postureMemoryMs = config.tls.postureMemory;
    this.mtaSts = this.stsResolver(config);
    this.dnssecValidating = config.dns.dnssecValidating;
    this.dnsServers = config.dns.servers;
    this.portalFallback = config.tls.portalFallback;
    this.smarthostPassword = undefined;
    this.wake();
  }

  /**
   * Returns crashed in-flight recipients to the queue — those whose lease ran
   * out or that this node holds; on SQLite every one, since no other node can
   * hold a lease on the file — then starts the loop and the lease timer.
   */
  async start(): Promise<void> {
    const now = this.deps.now();
    const expiredBefore = this.deps.db.dialect === 'sqlite' ? Infinity : now;
    const recovered = await this.deps.db.transaction(async (tx) => {
      const rows = await takeOverLeases(tx, { now, expiredBefore, node: this.nodeId, own: true });
      if (rows.length > 0) await appendAuditAtCommit(tx, { type: 'delivery:recovered', data: { recipients: rows.length } }, now);
      return rows.length;
    });
    if (recovered > 0) this.deps.log.warn({ event: 'DELIVERY_RECOVERED', recipients: recovered }, 'recipients left in flight returned to the queue');
    this.deps.log.info({ event: 'DELIVERY_NODE', node: this.nodeId, leaseMs: this.config.leaseTime }, 'delivery engine started; its claims carry this node id');
    this.scheduleLeases();
    this.wake();
  }

  /** The lease timer: every leaseTime / 3, renew this node's leases and take over expired ones. */
  private scheduleLeases(): void {
    if (this.closed) return;
    if (this.leaseTimer) clearTimeout(this.leaseTimer);
    this.leaseTimer = setTimeout(() => void this.leaseTick(), Math.max(1, Math.floor(this.config.leaseTime / 3)));
    this.leaseTimer.unref();
  }

  private async leaseTick(): Promise<void> {
    try {
      await this.renewLeases();
      if (!this.stopping) await this.takeOverExpired();
    } catch (err) {
      // the next tick tries again; a lease renewed late is still ours unless another node took it over meanwhile
      this.deps.log.warn({ event: 'DELIVERY_LEASE_FAILED', err: { message: (err as Error).message } }, 'could not renew or take over delivery leases; trying again');
    }
    this.scheduleLeases();
  }

  /** One UPDATE for every recipient this node has in flight (none while idle). */
  async renewLeases(): Promise<number> {
    // the rows of attempts under way only: one left in flight without its job lets its lease run out (takeOverExpired)
    const rows = [...this.running].flatMap((job) => job.recipients);
    if (rows.length === 0) return 0;
    const lease = { node: this.nodeId, until: this.deps.now() + this.config.leaseTime };
    return this.deps.db.transaction((tx) => renewLeases(tx, lease, rows));
  }

  /** Other nodes' in-flight recipients whose lease ran out (their node died or stalled) return to the queue, due now. */
  async takeOverExpired(): Promise<number> {
    const now = this.deps.now();
    const taken = await this.deps.db.transaction(async (tx) => {
      const rows = await takeOverLeases(tx, { now, expiredBefore: now, node: this.nodeId, own: false });
      const perMessage = new Map<string, number>();
      for (const r of rows) perMessage.set(r.message_id, (perMessage.get(r.message_id) ?? 0) + 1);
      for (const [queueId, recipients] of perMessage) await appendAuditAtCommit(tx, { type: 'delivery:lease_taken_over', data: { queueId, recipients, node: this.nodeId } }, now);
      return perMessage;
    });
    const count = [...taken.values()].reduce((a, b) => a + b, 0);
    if (count > 0) {
      this.deps.log.warn({ event: 'DELIVERY_LEASE_TAKEN_OVER', recipients: count, messages: taken.size, node: this.nodeId }, 'in-flight recipients whose lease ran out returned to the queue');
      this.wake();
    }
    return count;
  }

  /** Look for due work now (after a message was queued, or an operator change). */
  wake(): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), 0);
  }

  /** Stops claiming; waits up to `timeoutMs` for attempts under way. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.running.size > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        t.unref();
        this.idleWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.closed = true;
    if (this.leaseTimer) clearTimeout(this.leaseTimer);
    this.pool.closeAll();
  }

  private async tick(): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    try {
      // a wake while the next wake-up was being worked out (scheduleNext reads the queue) was lost before: the
      // message archived then waited for the next job to end, or for the poll; now it makes another pass
      do {
        do {
          this.again = false;
          const jobs = await this.claim();
          this.deps.log.debug({ event: 'DELIVERY_TICK', claimed: jobs.length, active: this.running.size }, 'queue scan');
          for (const job of jobs) this.launch(job);
        } while (this.again && !this.stopping);
        await this.scheduleNext();
      } while (this.again && !this.stopping);
      const failures = this.loopFailures.succeed();
      if (failures > 0) this.deps.log.info({ event: 'STAGE_RECOVERED', stage: 'delivery', what: 'queue', failures }, 'the delivery loop works again after failures');
    } catch (err) {
      // the database away: the first failure at error, the rest at debug until a pass succeeds
      const first = this.loopFailures.fail();
      this.deps.log[first ? 'error' : 'debug']({ event: 'DELIVERY_LOOP_ERROR', err: { message: (err as Error).message } }, 'delivery loop failed; retrying');
      this.schedule(this.deps.pollMs ?? 10_000);
    } finally {
      this.ticking = false;
    }
  }

  private schedule(ms: number): void {
    if (this.stopping) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), Math.max(0, ms));
    this.timer.unref();
  }

  private async scheduleNext(): Promise<void> {
    const poll = this.deps.pollMs ?? 10_000;
    const row = await this.deps.db.get<{ due: number | null }>(`SELECT min(r.next_attempt) AS due FROM recipients r JOIN messages m ON m.id = r.message_id AND m.inspected = 1 AND m.archived = 1 WHERE r.state IN ('queued', 'deferred')`);
    const due = row?.due ?? undefined;
    const now = this.deps.now();
    // Something due that this tick did not claim is waiting for a concurrency
    // slot: the job that frees it wakes us, so sleep instead of spinning.
    const wait = due === undefined ? poll : due <= now ? (this.running.size > 0 ? poll : 1000) : Math.min(poll, due - now);
    this.schedule(wait);
  }

  /** Claims due recipients as jobs (message × domain × requirement; each blind copy alone), within the concurrency limits. */
  private async claim(): Promise<Job[]> {
    if (this.freeSlots() <= 0 || this.stopping) return [];
    const now = this.deps.now();
    const lease = { node: this.nodeId, until: now + this.config.leaseTime };
    const portal = this.deps.portal !== undefined;
    const effects = this.claimEffects();
    // re-runnable: its effects outside the transaction, the rate tokens it takes and the jobs it counts, are undone before it runs again
    return this.deps.db.transaction(async (tx) => {
      effects.undo();
      // several nodes on one PostgreSQL: claims one at a time, the limits counting every node's attempts (shared-limits.ts)
      const shared = tx.dialect === 'postgres';
      if (shared) await lockClaims(tx);
      // counted now, not before the transaction ran: a claim made with a verdict meanwhile holds some of it
      const capacity = this.freeSlots();
      if (capacity <= 0) return [];
      // without the portal, its recipients are not claimed: they wait, never sent weaker
      // fresh and retried mail interleaved, so neither starves the other
      const rows = await selectDue(tx, now, Math.max(capacity * 4, 8), portal);
      const perDomain = this.busyPerDomain();
      const domains = [...new Set(rows.filter((r) => r.method !== 'portal').map((r) => r.domain))];
      const sharedRate = shared && this.config.perDomainRate !== undefined && domains.length > 0;
      if (shared && domains.length > 0) {
        for (const [domain, n] of await othersInFlight(tx, this.nodeId)) perDomain.set(domain, (perDomain.get(domain) ?? 0) + n);
      }
      if (sharedRate) this.rate.adopt(domains, await loadBuckets(tx, domains));
      // the limits as they are now, after the reads (a claim made with a verdict may have taken some meanwhile)
      const jobs = this.jobsOf(rows, this.freeSlots(), perDomain, effects.taken);
      // counted from now on: a claim made with a verdict before these start (after the COMMIT) leaves room for them
      effects.reserve(jobs);
      // one UPDATE for the claim (a statement per 100 recipients), not one per recipient
      await markInFlight(tx, jobs.flatMap((job) => job.recipients), lease);
      if (sharedRate) await saveBuckets(tx, this.rate.bucketsOf(new Set(jobs.filter((j) => !j.portal).map((j) => j.domain))));
      return jobs;
    }, { rerunnable: true }).catch((err: unknown) => {
      // not committed: the tokens were not used (a COMMIT whose answer was lost may have claimed them: the lease sweep returns those)
      effects.undo();
      throw err;
    });
  }

  /** Jobs that may start besides those under way and those claimed and not started (delivery.concurrency). */
  private freeSlots(): number {
    return this.config.concurrency - this.running.size - this.reserved.size;
  }

  /** A claim's effects outside the database, to undo if it runs again or is not committed. */
  private claimEffects(): ClaimEffects {
    return new ClaimEffects((domain) => this.rate.giveBack(domain), this.reserved);
  }

  /** Jobs under way or reserved, by domain. */
  private busyPerDomain(): Map<string, number> {
    const perDomain = new Map(this.activePerDomain);
    for (const job of this.reserved) perDomain.set(job.domain, (perDomain.get(job.domain) ?? 0) + 1);
    return perDomain;
  }

  /**
   * Due recipients → jobs (message × domain × requirement; each blind copy
   * and each end-to-end recipient alone; a message's portal recipients
   * together): at most `capacity` jobs, within the per-domain concurrency
   * (`perDomain`: jobs by domain, counted up here) and rate (each token
   * taken is noted in `taken`, to be given back if the claim is not
   * committed). A recipient that fits no job waits for the next claim.
   */
  private jobsOf(rows: readonly ClaimedRecipient[], capacity: number, perDomain: Map<string, number>, taken: string[]): Job[] {
    const jobs = new Map<string, Job>();
    for (const row of rows) {
      if (row.method === 'portal') {
        // one deposit per message: every portal recipient of it in one job, no MX, no domain limits
        const key = `${row.message_id}|portal`;
        const existing = jobs.get(key);
        if (existing) existing.recipients.push(row);
        else if (jobs.size < capacity) jobs.set(key, { messageId: row.message_id, domain: '', requirement: 'may', recipients: [row], portal: true });
        continue;
      }
      const requirement = isTransportRequirement(row.requirement) ? row.requirement : 'may';
      // a blind copy is a job of its own, so no transaction names it beside other recipients;
      // so is an end-to-end recipient: its copy is encrypted to its key alone
      const e2e = isE2eMethod(row.method);
      const key = `${row.message_id}|${row.domain}|${requirement}${row.bcc || e2e ? `|own${row.seq}` : ''}`;
      const existing = jobs.get(key);
      if (existing) {
        existing.recipients.push(row);
        continue;
      }
      if (jobs.size >= capacity) continue;
      const busy = perDomain.get(row.domain) ?? 0;
      if (busy >= this.config.perDomainConcurrency) continue;
      if (!this.rate.take(row.domain)) continue;
      taken.push(row.domain);
      perDomain.set(row.domain, busy + 1);
      jobs.set(key, { messageId: row.message_id, domain: row.domain, requirement, recipients: [row], e2e: e2e && row.method ? { method: row.method, copy: row.e2e_copy, size: row.e2e_copy_size } : undefined });
    }
    return [...jobs.values()];
  }

  /**
   * For the inspection, at a light load: message `id`'s due recipients
   * claimed in the transaction that records its verdict and archives it,
   * so that no claim transaction of the engine's (and no wait for one)
   * comes between the verdict and delivery. Only on SQLite (nodes sharing
   * PostgreSQL claim under their common lock), and only while a job's worth
   * of capacity is free; the same limits as a claim, the jobs counted
   * against them from the claim on. `claim` runs in that transaction (again
   * if it runs again); `committed` starts the jobs and says whether every
   * due recipient was claimed (if not, the engine's next pass claims the
   * rest); `failed` undoes the claim's effects outside the database (rate
   * tokens, the jobs counted). undefined: the engine claims it as before.
   */
  claimWithVerdict(id: string): VerdictClaim | undefined {
    if (this.stopping || this.deps.db.dialect !== 'sqlite' || this.freeSlots() <= 0) return undefined;
    const effects = this.claimEffects();
    let every = false;
    return {
      claim: async (tx, now) => {
        effects.undo();
        every = false;
        const free = this.freeSlots();
        if (free <= 0 || this.stopping) return;
        const rows = await selectDue(tx, now, Math.max(free * 4, 8), this.deps.portal !== undefined, id);
        // the limits as they are now, after the read: verdict transactions run side by side, each claiming (and
        // counting its jobs) in one synchronous step here, so two never take the same free capacity
        const jobs = this.jobsOf(rows, this.freeSlots(), this.busyPerDomain(), effects.taken);
        effects.reserve(jobs);
        every = jobs.reduce((n, job) => n + job.recipients.length, 0) === rows.length;
        await markInFlight(tx, jobs.flatMap((job) => job.recipients), { node: this.nodeId, until: now + this.config.leaseTime });
      },
      committed: () => {
        for (const job of effects.kept()) {
          if (this.closed) this.reserved.delete(job);
          else this.launch(job);
        }
        return every && !this.closed;
      },
      failed: () => effects.undo(),
    };
  }

  private launch(job: Job): void {
    this.reserved.delete(job);
    this.running.add(job);
    this.activePerDomain.set(job.domain, (this.activePerDomain.get(job.domain) ?? 0) + 1);
    void this.runJob(job)
      .catch((err: unknown) => {
        if (err instanceof LeaseLostError) {
          // a portal deposit found recipients taken over: it was undone; what this node still holds is due again at once
          this.deps.log.warn({ event: 'DELIVERY_LEASE_LOST', queueId: job.messageId, recipients: err.seqs.length, node: this.nodeId }, 'another node took these recipients over while this attempt ran; its outcome for them is not recorded');
          return this.deps.db.transaction((tx) => releaseHeld(tx, job.recipients, this.nodeId, this.deps.now())).catch(() => undefined);
        }
        return this.failJob(job, err);
      })
      .finally(() => {
        this.running.delete(job);
        const left = (this.activePerDomain.get(job.domain) ?? 1) - 1;
        if (left <= 0) this.activePerDomain.delete(job.domain);
        else this.activePerDomain.set(job.domain, left);
        if (this.running.size === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          waiters.forEach((w) => w());
        }
        this.wake();
      });
  }

  /**
   * An unexpected error in a job (a bug, a corrupt row, a store that
   * failed): as Postfix does, a temporary failure of the recipients this
   * node still holds, recorded by the normal 4xx path (record(): the attempt
   * counted, the next one by the backoff schedule for that count, expiry at
   * delivery.retry.maxLifetime with its DSN), the reason a PHI-free text
   * naming the error's code (jobErrorReply). A persistent error therefore
   * ends like any persistent 4xx instead of being retried for ever. When
   * that cannot be recorded either (the database away), the recipients stay
   * in flight until their lease runs out (only running jobs' leases are
   * renewed), when the lease sweep of this node or another returns them to
   * the queue, due at once.
   */
  private async failJob(job: Job, err: unknown): Promise<void> {
    const reply = jobErrorReply(err);
    const logged = { event: 'DELIVERY_JOB_ERROR', queueId: job.messageId, reason: reply.reason, err: errorFacts(err) };
    try {
      const message = await this.messageRow(job.messageId);
      // what this node still holds: the job may have failed after its outcome was recorded (or an operator deleted the message)
      const held = message ? await heldSeqs(this.deps.db, job.messageId, this.nodeId) : new Set<number>();
      const recipients = job.recipients.filter((r) => held.has(r.seq));
      if (!message || recipients.length === 0) {
        this.deps.log.error({ ...logged, recipients: 0 }, 'delivery job failed unexpectedly after its recipients were recorded (or the message was deleted); nothing left to record');
        return;
      }
      await this.record({ ...job, recipients }, message, new Map(recipients.map((r) => [r.seq, { reply: synthetic(451, '4.3.0', reply.text) }])));
      this.deps.log.error(
        { ...logged, recipients: recipients.length },
        'delivery job failed unexpectedly; recorded as a temporary failure of its recipients (attempt counted): retried by the backoff schedule, expired with a DSN at delivery.retry.maxLifetime',
      );
    } catch (recordErr) {
      this.deps.log.error(
        { ...logged, recorded: false, recordErr: errorFacts(recordErr) },
        'delivery job failed unexpectedly and the failure could not be recorded (database unavailable?); its recipients stay in flight until their lease runs out (delivery.leaseTime), then return to the queue, due at once',
      );
    }
  }

  /** The queued message a job delivers (undefined once an operator deleted it). */
  private messageRow(id: string): Promise<MessageRow | undefined> {
    return readDueMessage(this.deps.db, id);
  }

  private async runJob(job: Job): Promise<void> {
    if (job.portal && this.deps.portal) {
      await this.deps.portal.deposit(job.messageId, job.recipients.map((r) => ({ seq: r.seq, address: r.address, bcc: r.bcc === 1 })), this.nodeId);
      this.deps.metrics?.inc('sealgate_delivery_attempts_total', { outcome: 'delivered' }, job.recipients.length);
      return;
    }
    // read with the claim: its columns are fixed once it is inspected, and `queue delete` refuses a message with a recipient in flight
    const message = job.recipients[0]?.message ?? (await this.messageRow(job.messageId));
    if (!message) return; // deleted by an operator meanwhile
    const posture = await this.bindingPosture(job, message);
    const notes: AttemptNotes = {};
    const records = await this.attempt(job, message, posture, notes);
    await this.record(job, message, records, posture, notes);
  }

  /**
   * The remembered posture that binds this job: only for protected mail
   * (requirement encrypt or stronger) sent to the domain's own MX hosts.
   */
  private async bindingPosture(job: Job, message: MessageRow): Promise<TransportRequirement | undefined> {
    if (this.nextHop(message)) return undefined;
    const decided = strongest(job.requirement, message.requiretls ? 'verify' : 'none');
    if (TRANSPORT_REQUIREMENTS.indexOf(decided) < TRANSPORT_REQUIREMENTS.indexOf('encrypt')) return undefined;
    return bindingPosture(await loadPosture(this.deps.db, job.domain), this.deps.now(), this.postureMemoryMs);
  }

  /** The fixed next hop of a message: its own route, else the smarthost, else none (MX routing). */
  private nextHop(message: MessageRow): NextHop | undefined {
    if (message.route) return routeHop(message.route);
    const sh = this.config.smarthost;
    return sh ? { host: sh.host, port: sh.port, requirement: sh.requirement, smarthost: true } : undefined;
  }

  private async smarthostDestination(sh: NextHop): Promise<Destination> {
    if (/^[0-9.]+$|:/.test(sh.host)) return { kind: 'targets', implicit: false, targets: [{ host: sh.host, addresses: [sh.host] }] };
    const [v4, v6] = await Promise.all([this.deps.resolver.a(sh.host), this.deps.resolver.aaaa(sh.host)]);
    const addresses = [...v4, ...v6];
    return addresses.length ? { kind: 'targets', implicit: false, targets: [{ host: sh.host, addresses }] } : { kind: 'no-route' };
  }

  private async smarthostAuth(): Promise<{ user: string; pass: string } | undefined> {
    const sh = this.config.smarthost;
    if (!sh?.user || !sh.passwordFile) return undefined;
    this.smarthostPassword ??= (await readFile(sh.passwordFile, 'utf8')).replace(/\r?\n$/, '');
    return { user: sh.user, pass: this.smarthostPassword };
  }

  /** The job's own transport requirement: its decision, REQUIRETLS, tls.policies and posture memory (per-MX raises come later). */
  private jobRequirement(job: Job, message: MessageRow, posture: TransportRequirement | undefined): TransportRequirement {
    return effectiveRequirement({ decided: strongest(job.requirement, message.requiretls ? 'verify' : 'none'), domainPolicy: domainPolicyFor(this.tlsPolicies, job.domain), posture }).requirement;
  }

  /** Pure over the injected listening set: does `ip`:`port` reach one of our own listeners? */
  private interfaceCache: { readonly at: number; readonly ranges: ReturnType<typeof localAddressRanges> } | undefined;

  /** This machine's addresses, read again at most every INTERFACES_TTL_MS (os.networkInterfaces() on every attempt was 1.5 % of the main thread). */
  private interfaceRanges(): ReturnType<typeof localAddressRanges> {
    const now = this.deps.now();
    if (!this.interfaceCache || now - this.interfaceCache.at > INTERFACES_TTL_MS || now < this.interfaceCache.at) {
      this.interfaceCache = { at: now, ranges: localAddressRanges(networkInterfaces()) };
    }
    return this.interfaceCache.ranges;
  }

  private ownAddressTest(port: number): (ip: string) => boolean {
    const listening = this.deps.ownAddresses?.() ?? [];
    if (listening.length === 0) return () => false;
    const local = this.deps.localAddresses?.() ?? this.interfaceRanges();
    return (ip) => isOwnAddress(ip, port, listening, local);
  }

  /** Tries the destination's hosts in order; returns a record per recipient seq. */
  private async attempt(job: Job, message: MessageRow, posture: TransportRequirement | undefined, notes: AttemptNotes): Promise<Map<number, AttemptRecord>> {
    const all = (record: AttemptRecord): Map<number, AttemptRecord> => new Map(job.recipients.map((r) => [r.seq, record]));
    // an end-to-end recipient without its encrypted copy never gets the message in the clear
    if (job.e2e && job.e2e.copy === null) return all({ reply: synthetic(451, '4.7.0', 'The end-to-end encrypted copy for this recipient is missing; not sending the message unencrypted') });
    const sh = this.nextHop(message);
    if (message.route && !sh) return all({ reply: synthetic(554, '5.3.5', 'The message route is not a valid host:port') });
    let requirement = strongest(this.jobRequirement(job, message, posture), sh?.requirement ?? 'none');
    const literal = sh ? undefined : literalAddress(job.domain);
    let destination: Destination;
    if (literal !== undefined) {
      // u@[192.0.2.1]: no DNS, and no name to check a certificate, MTA-STS or DANE against
      if (!this.config.allowAddressLiterals) return all({ reply: synthetic(550, '5.1.2', 'Address literals are not accepted here (delivery.allowAddressLiterals is off)') });
      // like an MX that cannot meet the requirement: deferred (portal fallback, expiry), never sent weaker
      if (!literalCanCarry(requirement)) {
        return all({ reply: synthetic(451, '4.7.5', `Transport requirement ${requirement} cannot be met at an address literal (opportunistic TLS only); not delivering`), policy: 'no-policy-found' });
      }
      requirement = 'may';
      destination = { kind: 'targets', implicit: false, targets: [{ host: job.domain, addresses: [literal] }] };
    } else {
      try {
        destination = sh ? await this.smarthostDestination(sh) : await resolveDestination(job.domain, this.deps.resolver, this.deps.random);
      } catch (err) {
        if (isSealgateError(err, 'SG_DNS_TEMPORARY')) return all({ reply: synthetic(451, '4.4.3', err.message) });
        throw err;
      }
    }
    if (destination.kind === 'null-mx') return all({ reply: synthetic(556, '5.1.10', `Recipient domain ${job.domain} accepts no mail (null MX)`) });
    if (destination.kind === 'no-route') return all({ reply: synthetic(550, '5.1.2', `No MX or address records for ${sh ? sh.host : job.domain}`) });

    // Addresses we listen on ourselves are skipped; when nothing else is left the mail would loop
    const own = this.ownAddressTest(sh ? sh.port : this.config.port);
    const targets = destination.targets.map((t) => ({ host: t.host, addresses: t.addresses.filter((ip) => !own(ip)) }));
    const looping = destination.targets.filter((t, i) => (targets[i]?.addresses.length ?? 0) < t.addresses.length).map((t) => t.host);
    const usable = targets.filter((t) => t.addresses.length > 0);
    if (looping.length > 0) {
      // a smarthost that is ourselves is a configuration error: the mail waits for the fix instead of bouncing
      const outcome = usable.length > 0 ? 'skipped' : sh ? 'deferred' : 'bounced';
      notes.loop = { hosts: looping, outcome };
      this.deps.log.warn({ event: 'DELIVERY_LOOP', queueId: job.messageId, domain: job.domain, mx: looping.join(','), outcome }, 'a next hop resolves to one of our own listening addresses');
      if (usable.length === 0) {
        return all(
          sh
            ? { reply: synthetic(451, '4.4.6', sh.smarthost ? `Smarthost ${sh.host} loops back to myself; check delivery.smarthost` : `Route ${sh.host} loops back to myself; check portal.replyRoute`), mx: sh.host }
            : { reply: synthetic(554, '5.4.6', `mail for ${job.domain} loops back to myself`), mx: looping[0] },
        );
      }
    }

    const auth = sh?.smarthost ? await this.smarthostAuth() : undefined;
    const sts = sh || literal !== undefined || !this.mtaSts ? undefined : await this.mtaSts.policyFor(job.domain);
    const pending = job.recipients;
    const records = new Map<number, AttemptRecord>();
    let last: AttemptRecord = { reply: synthetic(451, '4.4.1', 'All MX hosts are recently unreachable; will retry') };
    for (const target of usable) {
      if (pending.length === 0) return records;
      const gate = sh || literal !== undefined ? ({ requirement, policy: 'no-policy-found', stsMxAllowed: true } as const) : await this.mxGate(job.domain, target.host, requirement, sts);
      if ('skip' in gate) {
        last = gate.skip;
        continue;
      }
      for (const ip of target.addresses) {
        if (pending.length === 0) return records;
        if (this.dead.isDead(ip)) continue;
        const sessionTarget: SessionTarget = {
          host: target.host,
          ip,
          port: sh ? sh.port : this.config.port,
          requirement: gate.requirement,
          dane: gate.dane,
          heloName: this.deps.hostname,
          trustedCas: this.deps.trustedCas,
          clientCert: this.clientCert,
          connectTimeoutMs: this.config.connectTimeout,
          greetingTimeoutMs: this.config.greetingTimeout,
          socketTimeoutMs: this.config.commandTimeout,
          auth,
        };
        const key = sessionKey(sessionTarget);
        const outcome = await this.transact(job, message, pending, sessionTarget, key);
        const evidence = { policy: gate.policy, stsMode: gate.stsMode };
        if ('failed' in outcome) {
          last = { ...outcome.failed, ...evidence };
          continue;
        }
        const { session, replies } = outcome;
        void this.pool.put(key, session);
        // MTA-STS testing mode: delivered as the base requirement allows, what enforce would have refused is reported
        const testingFailure = gate.stsMode === 'testing' ? stsTestingFailure(gate.stsMxAllowed, session.tls) : undefined;
        const base = { mx: target.host, ip, tls: session.tls, ...evidence, tlsFailure: testingFailure };
        const temporary: ClaimedRecipient[] = [];
        for (const r of pending) {
          const reply = replies.get(r.address) ?? synthetic(451, '4.4.0', 'no reply for this recipient');
          records.set(r.seq, { ...base, reply });
          if (classifyReply(reply.code) === 'temporary') temporary.push(r);
        }
        // every recipient deferred by this host (e.g. 4xx at MAIL FROM): the next MX may take them
        if (temporary.length === pending.length) {
          last = records.get(pending[0]?.seq ?? -1) ?? last;
          continue;
        }
        return records;
      }
    }
    for (const r of pending) if (!records.has(r.seq)) records.set(r.seq, last);
    return records;
  }

  /**
   * What one MX host needs: MTA-STS enforce allows only the MX hosts its
   * policy lists, over verified TLS; usable DNSSEC-authenticated TLSA records
   * make DANE the authentication (it takes precedence over MTA-STS, RFC 8461
   * §2); an authenticated TLSA RRset with no usable record still requires
   * TLS. A `dane` requirement with no usable TLSA for this host, or a TLSA
   * lookup that failed, skips the host: never a weaker way.
   */
  private async mxGate(domain: string, host: string, requirement: TransportRequirement, sts: StsLookup | undefined): Promise<MxGate> {
    let req = requirement;
    let policy: PolicyType = 'no-policy-found';
    const mode = sts?.policy && sts.policy.mode !== 'none' ? sts.policy.mode : undefined;
    const stsMxAllowed = !mode || stsMxMatches(host, sts?.policy?.mx ?? []);
    if (mode) policy = 'sts';
    if (mode === 'enforce') {
      if (!stsMxAllowed) {
        return { skip: { reply: synthetic(451, '4.7.5', `MX ${host} is not listed in the MTA-STS policy of ${domain}; not delivering there`), mx: host, policy, stsMode: mode, tlsFailure: 'validation-failure' } };
      }
      req = strongest(req, 'verify');
    }
    if (this.dnssecValidating) {
      let tlsa: TlsaLookup;
      try {
        tlsa = await (this.deps.lookupTlsa ?? ((h: string) => lookupTlsa(h, { servers: this.dnsServers, port: this.config.port })))(host);
      } catch (err) {
        if (!isSealgateError(err, 'SG_DNS_TEMPORARY')) throw err;
        // RFC 7672 §2.2: a TLSA lookup that fails is not "no TLSA"; the host is skipped for now
        return { skip: { reply: synthetic(451, '4.4.3', `TLSA lookup for ${host} failed temporarily; not delivering there until it answers`), mx: host, policy: 'tlsa', tlsFailure: 'dnssec-invalid' } };
      }
      const dane = daneRequirement({ authenticated: tlsa.authenticated, records: tlsa.records, dnssecValidating: true, malformed: tlsa.malformed });
      if (dane.applies) return { requirement: 'dane', dane: dane.usable, policy: 'tlsa', stsMode: mode, stsMxAllowed };
      if (dane.requireTls) req = strongest(req, 'encrypt');
    }
    if (req === 'dane') {
      return { skip: { reply: synthetic(451, '4.7.5', `DANE required but ${host} has no usable DNSSEC-authenticated TLSA records`), mx: host, policy: 'tlsa', tlsFailure: 'dane-required' } };
    }
    return { requirement: req, policy, stsMode: mode, stsMxAllowed };
  }

  /**
   * One transaction on one MX address: a pooled session when there is one
   * (retried once on a fresh connection if the pooled one turns out dead),
   * else a new session.
   */
  private async transact(
    job: Job,
    message: MessageRow,
    pending: readonly ClaimedRecipient[],
    target: SessionTarget,
    key: string,
  ): Promise<{ session: SmtpSession; replies: Map<string, RemoteReply> | ReadonlyMap<string, RemoteReply> } | { failed: AttemptRecord }> {
    const { body, added } = await this.signed(job, this.bodyOf(job, message));
    let session = this.pool.take(key);
    for (;;) {
      const reused = session !== undefined;
      try {
        session ??= await SmtpSession.open(target);
      } catch (err) {
        if (!(err instanceof SessionError)) throw err;
        // a host that does not answer is skipped for a while; a TLS or policy refusal is not "dead"
        if (err.reply.code === undefined && err.stage !== 'starttls') this.dead.mark(target.ip);
        this.deps.log.info({ event: 'DELIVERY_CONNECT_FAILED', queueId: job.messageId, mx: target.host, ip: target.ip, stage: err.stage, reply: err.reply.code ? `${err.reply.code} ${err.reply.enhanced ?? ''}`.trim() : undefined }, 'could not open a session');
        return { failed: { reply: err.reply, mx: target.host, ip: target.ip } };
      }
      try {
        const replies = await session.send({
          sender: message.sender,
          recipients: pending.map((r) => ({ address: r.address, notify: r.dsn_notify, orcpt: r.dsn_orcpt })),
          size: outgoingSize(job, message, stampBytes(this.loopStop(job))) + added,
          eightBit: message.body_type === '8BITMIME',
          requireTlsExtension: message.requiretls === 1,
          dsnRet: message.dsn_ret,
          dsnEnvid: message.dsn_envid,
          body,
        });
        return { session, replies };
      } catch (err) {
        session.close();
        if (!(err instanceof SessionError)) throw err;
        if (reused) {
          session = undefined; // the server closed the idle connection: once more on a new one
          continue;
        }
        return { failed: { reply: err.reply, mx: target.host, ip: target.ip, tls: session.tls } };
      }
    }
  }

  /**
   * What a job sends: an end-to-end recipient's own encrypted copy (the
   * policy's header rewrite was applied before it was encrypted), else the
   * message with that rewrite — also for mail that arrived encrypted.
   */
  private bodyOf(job: Job, message: MessageRow): () => Readable {
    const stamp = this.loopStop(job);
    const copy = job.e2e?.copy;
    if (copy && copy !== 'passthrough') return () => rewriteMessage(this.deps.spool.readCopy(message.id, copy), withStamp(undefined, stamp));
    const rewrite = withStamp(rewriteOf(message), stamp);
    return () => rewriteMessage(this.deps.spool.read(message.id), rewrite);
  }

  /** The loop-stop header for a job to one of the organisation's own domains (delivery.loopStopHeader), else undefined. */
  private loopStop(job: Job): { name: string; value: string } | undefined {
    return loopStopStamp(job.domain, this.ownDomains, this.config.loopStopHeader);
  }

  /**
   * The job's final bytes with their DKIM signature on top, signed once per
   * job before any session is opened (a slow signature never holds an idle
   * connection). A signing failure does not hold mail back: DKIM proves the
   * origin, it protects no content, so the message goes unsigned and the
   * failure is logged (no content, no addresses) and counted.
   */
  private async signed(job: Job, body: () => Readable): Promise<{ body: () => Readable; added: number }> {
    const dkim = this.deps.dkim;
    if (!dkim) return { body, added: 0 };
    let signature = this.signatures.get(job);
    if (!signature) {
      signature = dkim.sign(body).catch((err: unknown) => {
        this.deps.log.warn({ event: 'DKIM_SIGN_FAILED', queueId: job.messageId, err: { message: (err as Error).message } }, 'DKIM signing failed; the message goes unsigned');
        return undefined;
      });
      this.signatures.set(job, signature);
    }
    const header = await signature;
    return header ? { body: prepend(header, body), added: header.length } : { body, added: 0 };
  }

  /**
   * Stores each recipient's outcome and audit event, and the DSN they call
   * for (failure, expiry, or a first delay warning), in one transaction;
   * removes a message whose recipients are all final.
   */
  private async record(job: Job, message: MessageRow, records: Map<number, AttemptRecord>, posture?: TransportRequirement, notes: AttemptNotes = {}): Promise<void> {
    const now = this.deps.now();
    // an address literal is no domain: no posture to remember, no TLS-RPT policy to report to
    const literal = literalAddress(job.domain) !== undefined;
    // the TLS a successful delivery to the domain's MX had: its posture, remembered below
    const deliveredVia = [...records.values()].find((rec) => classifyReply(rec.reply.code) === 'success');
    const fixedHop = this.nextHop(message) !== undefined;
    const observed = deliveredVia && !fixedHop && !literal ? postureLevel(deliveredVia.tls) : undefined;
    // protected mail that no MX could take at the remembered posture: a downgrade, alerted
    const downgrade = posture !== undefined && !deliveredVia && [...records.values()].some((rec) => rec.reply.enhanced === '4.7.5' && rec.mx !== undefined);
    const results = job.recipients.map((r) => {
      const rec = records.get(r.seq) ?? { reply: synthetic(451, '4.4.0', 'not attempted') };
      const outcome: RecipientOutcome = outcomeAfterAttempt(this.config.policy, { replyClass: classifyReply(rec.reply.code), attempts: r.attempts + 1, createdAt: message.created_at, now });
      return { r, rec, outcome };
    });
    const noticeMessage = { id: message.id, createdAt: message.created_at, sender: message.sender, dsnEnvid: message.dsn_envid };
    const dsnRecipient = (x: (typeof results)[number], action: DsnAction): NoticeRecipient => ({
      address: x.r.address,
      orcpt: x.r.dsn_orcpt ?? undefined,
      notify: x.r.dsn_notify,
      action,
      status: x.rec.reply.enhanced ?? (action === 'failed' ? (x.outcome.state === 'expired' ? '4.4.7' : '5.0.0') : '4.0.0'),
      remoteMta: x.rec.mx,
      diagnosticCode: x.rec.reply.code !== undefined ? `${x.rec.reply.code} ${x.rec.reply.enhanced ?? ''} ${x.rec.reply.text}`.replace(/\s+/g, ' ').trim() : x.rec.reply.text,
      lastAttemptAt: now,
      willRetryUntil: action === 'delayed' ? message.created_at + this.config.policy.maxLifetimeMs : undefined,
    });
    const failed = results.filter((x) => x.outcome.state === 'bounced' || x.outcome.state === 'expired');
    const warnAfter = this.config.delayWarningAfter;
    const delayed = warnAfter > 0 && now - message.created_at >= warnAfter ? results.filter((x) => x.outcome.state === 'deferred' && x.r.delay_warned === 0) : [];
    const noticeDeps = this.noticeDeps();
    const notices: PreparedNotice[] = [];
    try {
      if (failed.length) {
        const n = await prepareNotice(noticeDeps, noticeMessage, 'failed', failed.map((x) => dsnRecipient(x, 'failed')));
        if (n) notices.push(n);
      }
      if (delayed.length) {
        const n = await prepareNotice(noticeDeps, noticeMessage, 'delayed', delayed.map((x) => dsnRecipient(x, 'delayed')));
        if (n) notices.push(n);
      }
    } catch (err) {
      // a notice that cannot be built must not cost the outcome: record it, log the failure
      await Promise.all(notices.map((n) => discardNotice(n)));
      notices.length = 0;
      this.deps.log.error({ event: 'DSN_FAILED', queueId: message.id, err: { message: (err as Error).message } }, 'could not create a delivery status notification');
    }
    let finished = false;
    /** Whether a recipient of the message has an end-to-end copy in the spool (the record's read says). */
    let copies = true;
    const fallbacks: string[] = [];
    /** Log lines of what the record says, told once it is committed. */
    const told: (() => void)[] = [];
    const requirement = this.jobRequirement(job, message, posture);
    try {
      await this.deps.db.transaction(async (tx) => {
        fallbacks.length = 0;
        told.length = 0;
        const lost: number[] = [];
        // first the queue rows (a recipient another node took over stops the record here), then one read of them as they
        // now are with their archive rows, which the archive's evidence and the finishing check below both use
        const fellBack = new Set<number>();
        for (const { r, rec, outcome } of results) {
          const final = outcome.state !== 'deferred';
          const warned = delayed.some((x) => x.r.seq === r.seq) ? 1 : r.delay_warned;
          const held = await recordOutcome(tx, r, this.nodeId, {
            state: outcome.state,
            nextAttempt: outcome.state === 'deferred' ? outcome.nextAttempt : now,
            at: now,
            code: rec.reply.code ?? null,
            enhanced: rec.reply.enhanced ?? null,
            mx: rec.mx ?? null,
            error: rec.reply.text,
            finishedAt: final ? now : null,
            delayWarned: warned,
            dsnSent: final && notices.some((n) => n.action === 'failed') ? 1 : 0,
          });
          if (!held) {
            lost.push(r.seq);
            continue;
          }
          // the gateway's own mail never goes to the portal: a portal notification that fell back would notify again, for ever
          if (message.connector !== 'internal' && portalFallbackDue(this.portalFallback, { requirement, tlsFailure: rec.reply.enhanced === '4.7.5' || rec.tlsFailure !== undefined, state: outcome.state, createdAt: message.created_at, now })) {
            // with the portal on, straight to its deposit step; without it, held for an administrator
            await tx.run(`UPDATE recipients SET state = ?, next_attempt = ?, method = 'portal', decision = ? WHERE message_id = ? AND seq = ? AND state = 'deferred'`, [
              this.deps.portal ? 'queued' : 'held',
              now,
              JSON.stringify([`no recipient MX met the transport requirement (${requirement}) for ${Math.round((now - message.created_at) / 60_000)} min: portal fallback`]),
              r.message_id,
              r.seq,
            ]);
            fellBack.add(r.seq);
          }
        }
        // a recipient another node took over is that node's now: this transaction (its notices too) is undone, and the record made again without it
        if (lost.length > 0) throw new LeaseLostError(lost);
        const read = await readQueuedWithArchive(tx, message.id);
        copies = read.copies;
        for (const { r, rec, outcome } of results) {
          const final = outcome.state !== 'deferred';
          if (fellBack.has(r.seq)) {
            await appendAuditAtCommit(tx, { type: 'delivery:portal_fallback', data: { queueId: message.id, recipient: r.address, requirement } }, now);
            fallbacks.push(r.address);
          }
          const reply = rec.reply.code !== undefined ? `${rec.reply.code}${rec.reply.enhanced ? ` ${rec.reply.enhanced}` : ''}` : undefined;
          // the archive entry's evidence for this recipient: how this attempt went (nothing when the message is not archived)
          await updateArchiveRecipientIn(
            tx,
            message.id,
            read,
            r.seq,
            { state: outcome.state, attempts: r.attempts + 1, last_attempt_at: now, finished_at: final ? now : null, evidence: attemptEvidence(rec, job) },
            now,
          );
          await appendAuditAtCommit(
            tx,
            { type: 'delivery:attempt', data: { queueId: message.id, recipient: r.address, mx: rec.mx, ip: rec.ip, tlsVersion: rec.tls?.version, cipher: rec.tls?.cipher, certSha256: rec.tls?.certSha256, certVerified: rec.tls ? String(rec.tls.authorized) : undefined, certError: rec.tls?.authError, dane: rec.tls?.dane, mtaSts: rec.stsMode, tlsPolicy: rec.policy, requirement: job.requirement, reply, outcome: outcome.state, ...(job.e2e ? { method: job.e2e.method, keyFingerprint: r.key_fingerprint ?? undefined, keySource: r.key_source ?? undefined } : {}) } },
            now,
          );
          told.push(() =>
            this.deps.log.info(
              { event: 'DELIVERY_ATTEMPT', queueId: message.id, domain: job.domain, mx: rec.mx, ip: rec.ip, tlsVersion: rec.tls?.version, reply, outcome: outcome.state, attempts: r.attempts + 1 },
              'delivery attempt',
            ),
          );
        }
        if (observed) await recordPosture(tx, job.domain, observed, now, this.postureSeen);
        const tlsOutcome = fixedHop || literal ? undefined : tlsReportResult(records);
        if (tlsOutcome) await countTlsResult(tx, { day: utcDay(now), domain: job.domain, ...tlsOutcome });
        if (notes.loop) await appendAuditAtCommit(tx, { type: 'delivery:loop_detected', data: { queueId: message.id, domain: job.domain, hosts: [...notes.loop.hosts], outcome: notes.loop.outcome } }, now);
        if (downgrade) {
          const mx = [...records.values()].find((rec) => rec.mx)?.mx ?? '';
          await appendAuditAtCommit(tx, { type: 'delivery:posture_downgrade', data: { queueId: message.id, domain: job.domain, remembered: posture ?? '', mx } }, now);
          told.push(() => this.deps.log.warn({ event: 'POSTURE_DOWNGRADE', queueId: message.id, domain: job.domain, remembered: posture, mx }, 'recipient MX no longer meets the transport security it showed before; protected mail held back'));
        }
        for (const n of notices) {
          await commitNotice(tx, noticeDeps, noticeMessage, n);
          await appendAuditAtCommit(tx, { type: 'delivery:dsn_queued', data: { queueId: message.id, dsnQueueId: n.id, action: n.action, recipients: n.recipients.length } }, now);
        }
        finished = await removeIfFinished(tx, message.id, this.deps.onMessageFinished, read);
        // re-runnable: nothing here reaches outside the transaction but the return; the log lines wait for the commit
      }, { rerunnable: true, key: message.id });
    } catch (err) {
      if (!maybeCommitted(err)) await Promise.all(notices.map((n) => discardNotice(n)));
      if (!(err instanceof LeaseLostError)) throw err;
      this.deps.log.warn({ event: 'DELIVERY_LEASE_LOST', queueId: message.id, recipients: err.seqs.length, node: this.nodeId }, 'another node took these recipients over while this attempt ran; its outcome for them is not recorded');
      const still = job.recipients.filter((r) => !err.seqs.includes(r.seq));
      if (still.length > 0) await this.record({ ...job, recipients: still }, message, records, posture, notes);
      return;
    }
    for (const tell of told) tell();
    this.countMetrics(results.map((x) => x.outcome.state), records, downgrade, (now - message.created_at) / 1000);
    if (fallbacks.length) this.deps.log.warn({ event: 'PORTAL_FALLBACK', queueId: message.id, recipients: fallbacks.length }, 'protected mail no MX could take securely moved to the portal method');
    for (const n of notices) this.deps.log.info({ event: 'DSN_QUEUED', queueId: message.id, dsnQueueId: n.id, action: n.action, recipients: n.recipients.length }, 'delivery status notification queued');
    if (finished) {
      await this.deps.spool.removeFinished(message.id, { copies });
      this.deps.log.info({ event: 'MESSAGE_FINISHED', queueId: message.id }, 'every recipient is final; message removed from the queue');
    }
  }

  /** Metrics of what the record step committed. */
  private countMetrics(states: readonly string[], records: ReadonlyMap<number, AttemptRecord>, downgrade: boolean, sinceAcceptedSeconds: number): void {
    const m = this.deps.metrics;
    if (!m) return;
    for (const state of states) {
      m.inc('sealgate_delivery_attempts_total', { outcome: state });
      if (state === 'delivered') m.observe('sealgate_delivery_latency_seconds', Math.max(0, sinceAcceptedSeconds));
    }
    for (const rec of records.values()) if (rec.reply.enhanced === '4.7.5') m.inc('sealgate_tls_enforcement_failures_total');
    const tls = this.config.smarthost ? undefined : tlsReportResult(records);
    if (tls) m.inc('sealgate_tls_sessions_total', { policy: tls.policyType, result: tls.resultType });
    if (downgrade) m.inc('sealgate_posture_downgrades_total');
  }

  private noticeDeps(): NoticeDeps {
    return { spool: this.deps.spool, hostname: this.deps.hostname, now: this.deps.now, random: this.deps.randomBytes, requirement: this.config.defaultRequirement, spoolKeyId: this.deps.spoolKeyId };
  }
}

/**
 * Pure: the TLS-RPT outcome of a job's attempt: a success when the message
 * went out over TLS, a failure when TLS could not be established as
 * required (4.7.5); nothing for cleartext sessions nobody required TLS for.
 */
export function tlsReportResult(records: ReadonlyMap<number, AttemptRecord>): { mx: string; resultType: TlsResultType; policyType: PolicyType } | undefined {
  const all = [...records.values()];
  const delivered = all.find((r) => classifyReply(r.reply.code) === 'success' && (r.tls || r.tlsFailure) && r.mx);
  if (delivered?.mx) return { mx: delivered.mx, resultType: delivered.tlsFailure ?? 'success', policyType: delivered.policy ?? 'no-policy-found' };
  const failed = all.find((r) => (r.reply.enhanced === '4.7.5' || r.tlsFailure) && r.mx);
  if (failed?.mx) return { mx: failed.mx, resultType: failed.tlsFailure ?? classifyTlsFailure(failed.reply.text), policyType: failed.policy ?? 'no-policy-found' };
  return undefined;
}

/**
 * Pure: protected mail (a requirement of encrypt or more) that no MX could
 * take at its requirement (a TLS failure, 4.7.5) goes to the portal once it
 * has waited the grace period, when the portal fallback is on.
 */
export function portalFallbackDue(fallback: { enabled: boolean; after: number }, r: { requirement: TransportRequirement; tlsFailure: boolean; state: string; createdAt: number; now: number }): boolean {
  const protectedMail = r.requirement === 'encrypt' || r.requirement === 'verify' || r.requirement === 'dane';
  return fallback.enabled && protectedMail && r.tlsFailure && r.state === 'deferred' && r.now - r.createdAt >= fallback.after;
}

/** Pure: what MTA-STS enforce would have refused in a session that went ahead under testing mode. */
export function stsTestingFailure(mxAllowed: boolean, tls: TlsFacts | undefined): TlsResultType | undefined {
  if (!mxAllowed) return 'validation-failure';
  if (!tls) return 'starttls-not-supported';
  if (!tls.authorized) return classifyTlsFailure(tls.authError ?? 'untrusted');
  return undefined;
}

/** Loads tls.trustedCaFiles for outbound TLS. */
export async function loadTrustedCas(files: readonly string[]): Promise<string[]> {
  return Promise.all(files.map((f) => readFile(f, 'utf8')));
}

