/**
 * Runs inspection and the per-recipient decision on accepted messages, after
 * the durable accept and before delivery (the delivery engine only claims
 * recipients of inspected messages). For each message: read it from the
 * encrypted spool, extract its text (src/inspect/extract.ts), build the
 * verdict, decide each recipient's method and requirement, and commit — in
 * one transaction — the raised requirements, the methods, the verdict
 * summary (categories, counts, confidences; never values) and an audit event.
 * Recipients whose method cannot be carried out (quarantine, block, and the
 * portal while it is disabled) are held for an administrator: never sent
 * weaker. Portal recipients of an enabled portal stay queued for the
 * delivery engine, which deposits them (src/portal/deposit-step.ts).
 * End-to-end: recipients whose message needs protection have their keys
 * looked up (discovery bounded in time); each OpenPGP / S/MIME recipient's
 * encrypted copy is built and spooled before the commit (src/e2e/copies.ts),
 * and a recipient whose copy cannot be built is decided again without keys.
 * Idempotent: a crash before the commit repeats the inspection.
 */
import { ownedMessages, type StageOwner } from '../cluster/ownership.js';
import { maybeCommitted, type SqlDatabase } from '../db/sql-database.js';
import type { Metrics } from '../metrics/registry.js';
import { CoalescedRun } from '../workers/coalesced-run.js';
import { appendAuditAtCommit } from '../audit/log.js';
import { strongest, isTransportRequirement } from '../delivery/transport-requirement.js';
import type { Logger } from '../log/logger.js';
import { Readable } from 'node:stream';
import { isE2eMethod, NEUTRAL_SUBJECT, subjectTag, type E2eMethod, type Method, type RecipientCapabilities } from '../policy/decide.js';
import { buildCopies, type CopyDeps, type CopyOutcome } from '../e2e/copies.js';
import { keyCapabilities, type RecipientKeys } from '../e2e/recipient-keys.js';
import { mapLimit } from '../e2e/map-limit.js';
import type { KeyRecord } from '../keys/types.js';
import { evaluatePolicy, type PolicyEvaluation, type RecipientPolicy } from '../policy/evaluate.js';
import { buildPolicyNotice } from '../policy/policy-notice.js';
import { builtInSettings } from '../policy/profile.js';
import { messageFacts, messageRewrite } from '../policy/message-facts.js';
import type { PolicyConfig, PolicyRule } from '../policy/schema.js';
import { generateQueueId, type RandomBytes } from '../queue/ids.js';
import { insertQueuedMessage, internalMessage, removeIfFinished } from '../queue/store.js';
import type { PendingSpoolFile } from '../spool/spool.js';
import type { Finding } from './detect/types.js';
import { explainProtectedMail, probeFromRows } from '../probe/domain-probe.js';
import { RECIPIENTS_WITH_PROBES, recipientsWithProbes, type RecipientProbeRow } from './recipient-probes.js';
import type { Spool } from '../spool/spool.js';
import type { CustomIdentifier } from './detect/personal.js';
import type { InspectionPool } from './inspect-pool.js';
import { FailureRun } from '../log/failure-run.js';
import type { ArchiveInTransaction } from '../archive/archiver.js';
import { QUEUE_RECIPIENT_COLUMNS, type QueueRecipientRow } from '../archive/entries.js';
import { MESSAGE_FACTS_COLUMNS, type MessageFactsRow } from '../queue/store.js';
import type { VerdictClaim } from '../delivery/engine.js';

/** What recording a message's verdict also did: its archive entry written (`archived`), and every due recipient claimed for delivery (`claimed`). */
export interface InspectOutcome {
  readonly archived: boolean;
  readonly claimed: boolean;
}

const NOTHING_MORE: InspectOutcome = { archived: false, claimed: false };

export interface InspectorDeps {
  readonly db: SqlDatabase;
  readonly spool: Spool;
  readonly log: Logger;
  readonly now: () => number;
  /** The policy in force (re-read for every message, so a reload applies at once). */
  readonly policy: () => {
    readonly config: PolicyConfig;
    readonly e2eDomains: readonly string[];
    /** inspection.customDetectors as configured (the inspection threads, or this thread without them, build the profile). */
    readonly custom: readonly (CustomIdentifier & { identifier?: boolean })[];
    readonly maxScanTimeMs: number;
  };
  /** Inspection threads; without them, messages are inspected on this thread. */
  readonly pool?: InspectionPool | undefined;
  /** inspection.smallMessageSize: with a pool, messages up to it have their own window (see fill). */
  readonly smallMessageBytes?: number | undefined;
  /** Called after a message was inspected (wakes the archive stage, or the delivery engine). */
  readonly onInspected?: (outcome: InspectOutcome) => void;
  /**
   * The archive stage, which may write a message's entry in the transaction
   * that records its verdict (src/archive/archiver.ts withVerdict); absent
   * (the archive off): nothing is archived here.
   */
  readonly archive?: { withVerdict(id: string): Promise<ArchiveInTransaction | undefined> } | undefined;
  /**
   * The delivery engine, which may claim a message archived with its
   * verdict in that same transaction (src/delivery/engine.ts
   * claimWithVerdict); absent: the engine claims it after, as before.
   */
  readonly delivery?: { claimWithVerdict(id: string): VerdictClaim | undefined } | undefined;
  /** With several nodes on PostgreSQL: this node, which inspects the mail it accepted and that of nodes no longer live. */
  readonly owner?: StageOwner | undefined;
  /** The secure portal is serving (portal.enabled): its method is deliverable, not held. */
  readonly portalEnabled?: (() => boolean) | undefined;
  readonly metrics?: Metrics | undefined;
  /** End-to-end encryption: key lookup and copy building; absent: decisions are made without recipient keys. */
  readonly e2e?: E2eDeps | undefined;
  /** For the notices the policy sends (blocked, held, rule matched). */
  readonly notices: {
    readonly hostname: string;
    readonly random: RandomBytes;
    readonly spoolKeyId: () => string;
    readonly requirement: string;
  };
}

export interface E2eDeps {
  readonly findKeys: (address: string) => Promise<RecipientKeys>;
  /** keys.prefer (re-read for every message). */
  readonly prefer: () => E2eMethod;
  /** How copies are built (re-read for every message). */
  readonly copies: () => CopyDeps;
}

const MARK_INSPECTED = 'UPDATE messages SET inspected = 1, verdict = ?, rewrite = ? WHERE id = ? AND inspected = 0';
const MARK_INSPECTED_AND_ARCHIVED = 'UPDATE messages SET inspected = 1, archived = 1, verdict = ?, rewrite = ? WHERE id = ? AND inspected = 0';

/** Messages inspected at once on this thread (no pool). */
const INSPECT_PARALLEL = 4;
/**
 * Messages handed to the pool at once, per lane (small, large): the pool
 * queues them and picks small ones first. A queued message costs a row id
 * and a promise; nothing is read from the spool before a thread takes it.
 */
const POOL_WINDOW = 32;
/** Recipient key lookups of one message run at most this many at once. */
const KEY_LOOKUPS_AT_ONCE = 8;
/** A message whose inspection failed (spool or database error) is tried again after this long. */
const RETRY_AFTER_MS = 10_000;
/** The queue is read for messages to inspect at least this often (and at start, on wake(), after a full page, when a failure's wait is over). */
const POLL_EVERY_MS = 10_000;
/** Messages handed over by the ingress (offer) kept to be started; beyond, they wait for the next read of the queue. */
const MAX_OFFERED = 1024;

/** Methods this build can deliver; the others hold the recipient. */
const DELIVERABLE: ReadonlySet<Method> = new Set(['tls-verified', 'tls-opportunistic', 'pgp', 'smime']);

type Lane = 'small' | 'large';

export class Inspector {
  private readonly loop: CoalescedRun;
  /** Messages being inspected now, by lane. */
  private readonly inFlight = new Map<string, Lane>();
  /** Messages whose inspection failed, and when (they wait RETRY_AFTER_MS). */
  private readonly failedAt = new Map<string, number>();
  /**
   * Messages this node just queued, handed over with their facts (offer), by
   * lane, oldest first: started without a read of the queue. The queue stays
   * the truth: it is read at start, on every wake() from outside, at least
   * every POLL_EVERY_MS, while its reads fill a whole page, and when a failed
   * message's wait is over — whatever was not handed over (another node's
   * message adopted, one queued before a restart, one past MAX_OFFERED) is
   * found there.
   */
  private readonly offered: Record<Lane, MessageFactsRow[]> = { small: [], large: [] };
  private readonly offeredIds = new Set<string>();
  private pollDue = true;
  private lastPollAt = Number.NEGATIVE_INFINITY;
  /**
   * End-to-end copies are built one message at a time: each holds its
   * message (and an encrypted copy) in memory, so many large messages
   * inspected together must not encrypt together.
   */
  private copyLane: Promise<unknown> = Promise.resolve();

  /** Failures in a row (a store away): the first is logged at error, the rest at debug, the end of the run once (docs/events.md). */
  private readonly queueFailures = new FailureRun();
  private readonly messageFailures = new FailureRun();

  constructor(private readonly deps: InspectorDeps) {
    this.loop = new CoalescedRun(
      async () => {
        const more = await this.fill();
        this.recovered('queue', this.queueFailures.succeed());
        return more;
      },
      (err) => {
        const first = this.queueFailures.fail();
        this.deps.log[first ? 'error' : 'debug']({ event: 'INSPECTION_FAILED', err: { message: (err as Error).message } }, 'could not read the inspection queue; retried later');
      },
    );
  }

  private recovered(what: 'queue' | 'messages', failures: number): void {
    if (failures > 0) this.deps.log.info({ event: 'STAGE_RECOVERED', stage: 'inspection', what, failures }, 'inspection works again after failures');
  }

  private get stopped(): boolean {
    return this.loop.stopped;
  }

  /** Something changed in the queue (or may have): its next run reads the queue. */
  wake(): void {
    this.pollDue = true;
    this.loop.wake();
  }

  /** A message this node just queued, with its facts as committed: started without reading the queue for it. */
  offer(facts: MessageFactsRow): void {
    if (this.offeredIds.size >= MAX_OFFERED) {
      this.wake();
      return;
    }
    this.offered[this.laneOf(facts.size)].push(facts);
    this.offeredIds.add(facts.id);
    this.loop.wake();
  }

  /** inspection.smallMessageSize when a pool gives small messages a window of their own; undefined: one lane. */
  private get smallLimit(): number | undefined {
    return this.deps.pool ? this.deps.smallMessageBytes : undefined;
  }

  /** The lane of a message of `size` bytes. */
  private laneOf(size: number): Lane {
    const small = this.smallLimit;
    return small !== undefined && size <= small ? 'small' : 'large';
  }

  start(): void {
    this.loop.start(10_000);
  }

  stop(): void {
    this.loop.stop();
  }

  /**
   * Starts inspections up to each lane's window, oldest first, without
   * waiting for them: each one that ends wakes this again, so one slow
   * message never holds up the ones behind it. With a pool, small messages
   * (up to inspection.smallMessageSize) have a window of their own, so a
   * queue full of large ones cannot keep a small one from reaching the pool.
   */
  private async fill(): Promise<void> {
    const now = this.deps.now();
    for (const [id, at] of this.failedAt) {
      if (now - at < RETRY_AFTER_MS) continue;
      this.failedAt.delete(id);
      this.pollDue = true;
    }
    if (now - this.lastPollAt >= POLL_EVERY_MS) this.pollDue = true;
    const polling = this.pollDue;
    /** Whether the queue must be read again: a lane full before its read, or a read that filled its page. */
    let stillDue = false;
    const small = this.smallLimit;
    const lanes: { lane: Lane; where: string; params: number[]; window: number }[] =
      small === undefined
        ? [{ lane: 'large', where: '', params: [], window: this.deps.pool ? POOL_WINDOW : INSPECT_PARALLEL }]
        : [
            { lane: 'small', where: 'AND size <= ?', params: [small], window: POOL_WINDOW },
            { lane: 'large', where: 'AND size > ?', params: [small], window: POOL_WINDOW },
          ];
    for (const { lane, where, params, window } of lanes) {
      if (this.stopped) return;
      let busy = [...this.inFlight.values()].filter((l) => l === lane).length;
      // handed over first: no read of the queue for them
      const handed = this.offered[lane];
      while (busy < window && handed.length > 0) {
        const facts = handed.shift() as MessageFactsRow;
        this.offeredIds.delete(facts.id);
        if (this.inFlight.has(facts.id) || this.failedAt.has(facts.id)) continue;
        this.begin(facts.id, lane, facts);
        busy++;
      }
      if (!polling) continue;
      if (busy >= window) {
        stillDue = true;
        continue;
      }
      const owned = ownedMessages(this.deps.db.dialect, this.deps.owner, now);
      const limit = window + this.inFlight.size + this.failedAt.size;
      const rows = await this.deps.db.all<{ id: string }>(`SELECT id FROM messages WHERE inspected = 0 ${where}${owned.sql} ORDER BY created_at LIMIT ?`, [...params, ...owned.params, limit]);
      if (rows.length >= limit) stillDue = true;
      const next = rows.filter((r) => !this.inFlight.has(r.id) && !this.failedAt.has(r.id) && !this.offeredIds.has(r.id)).slice(0, window - busy);
      for (const { id } of next) {
        if (this.stopped) return;
        this.begin(id, lane, undefined);
      }
    }
    if (polling) {
      this.lastPollAt = now;
      this.pollDue = stillDue;
    }
  }

  /** Starts inspecting message `id` in `lane` (with its facts when they were handed over), not waiting for it. */
  private begin(id: string, lane: Lane, facts: MessageFactsRow | undefined): void {
    this.inFlight.set(id, lane);
    let outcome = NOTHING_MORE;
    void this.inspect(id, facts)
      .then((o) => (outcome = o))
      .catch((err: unknown) => {
        // left uninspected (and undelivered): tried again later, or after a restart when stopping
        if (this.stopped) return;
        this.failedAt.set(id, this.deps.now());
        const first = this.messageFailures.fail();
        this.deps.log[first ? 'error' : 'debug']({ event: 'INSPECTION_FAILED', queueId: id, err: { message: (err as Error).message } }, 'inspection failed; retried later');
      })
      .finally(() => {
        this.inFlight.delete(id);
        this.deps.onInspected?.(outcome);
        // the next one from what was handed over (the queue itself is read only when due)
        this.loop.wake();
      });
  }

  /** Inspects message `id` and records its verdict and decisions (and, when it can, its archive entry and delivery claim with them). */
  async inspect(id: string, handed?: MessageFactsRow): Promise<InspectOutcome> {
    // what an archive entry written with the verdict takes from the row too (fixed since the message was queued): as the
    // ingress handed it over, else read (the verdict's UPDATE below still tells whether the message is there)
    const msg = handed ?? (await this.deps.db.get<MessageFactsRow>(`SELECT ${MESSAGE_FACTS_COLUMNS} FROM messages WHERE id = ?`, [id]));
    if (!msg) return NOTHING_MORE;
    const policy = this.deps.policy();
    const content = this.deps.pool
      ? await this.deps.pool.inspect({ source: () => this.deps.spool.read(id), custom: policy.custom, timeoutMs: policy.maxScanTimeMs, size: msg.size })
      : await (await import('./inspect-here.js')).inspectHereWith(() => this.deps.spool.read(id), policy.custom, policy.maxScanTimeMs);
    const { extracted, verdict } = content;
    const visible = new Set(extracted.visibleRecipients);
    const { tagged } = subjectTag(extracted.subject);
    const now = this.deps.now();
    // the recipients and their domains' stored probe results, in one read
    const rows = recipientsWithProbes(await this.deps.db.all<RecipientProbeRow>(RECIPIENTS_WITH_PROBES, [id]));
    const recipients: RecipientCapabilities[] = rows.map((r) => {
      const probe = probeFromRows(r.domain, r.probeRows, now);
      return { address: r.address, domain: r.domain, verifiedTls: probe ? explainProtectedMail(probe).method === 'tls-verified' : undefined };
    });
    const portalEnabled = this.deps.portalEnabled?.() ?? false;
    const facts = messageFacts(msg, extracted, verdict, tagged);
    const evaluate = (caps: readonly RecipientCapabilities[]): PolicyEvaluation =>
      evaluatePolicy({ policy: policy.config, builtIn: builtInSettings(policy.e2eDomains), message: facts, recipients: caps, portalEnabled, prefer: this.deps.e2e?.prefer() });
    let evaluation = evaluate(recipients);
    const rewrite = messageRewrite(evaluation, tagged);
    const e2e = await this.endToEnd(id, rows, recipients, evaluation, evaluate, rewrite, content.subjectSensitive);
    evaluation = e2e.evaluation;
    const copies = new Map(e2e.copies.map((c) => [c.seq, c]));
    const decisions = evaluation.recipients;
    const methods = [...new Set(decisions.map((d) => d.method))];
    const summary = {
      phi: verdict.phi,
      phiConfidence: verdict.phiConfidence,
      // which PHI rule decided (clinical-format, patient-identifier, identifier-and-health, individual-and-health): a name, never a value
      phiRule: verdict.phiBasis?.rule,
      notFullyScanned: verdict.notFullyScanned,
      protection: evaluation.baseProtection,
      subjectTag: tagged,
      // for the E2E and portal methods: their copy must then carry a neutral outer subject
      subjectSensitive: content.subjectSensitive,
      findings: verdict.findings.map((f) => ({ category: f.category, count: f.count, confidence: f.confidence })),
      methods,
      rules: evaluation.matchedRules,
    };
    const discardCopies = (): Promise<unknown> => Promise.all(e2e.copies.map((c) => (c.kind === 'copy' ? c.file.discard() : undefined)));
    let notices: PreparedPolicyNotice[];
    try {
      notices = await this.prepareNotices(id, msg, evaluation, verdict.findings, policy.config.rules);
    } catch (err) {
      await discardCopies();
      throw err;
    }
    let finished = false;
    const verdictJson = JSON.stringify(summary);
    // a recipient blocked here may make every one final: the archive stage archives such a message and removes it
    const archiving = decisions.some((d) => d.method === 'block') ? undefined : await this.deps.archive?.withVerdict(id);
    // archived with its verdict, it can be claimed for delivery in the same transaction too
    const claiming = archiving ? this.deps.delivery?.claimWithVerdict(id) : undefined;
    let archived = false;
    try {
      await this.deps.db.transaction(async (tx) => {
        finished = false;
        archived = false;
        // the recipients' rows as their UPDATEs leave them: the archive entry is made of them, without a read of its own
        const updated: QueueRecipientRow[] = [];
        // marked inspected first (and archived, when its entry is written below), in the same statement that tells whether
        // it was deleted or done meanwhile
        const marked = await tx.run(archiving ? MARK_INSPECTED_AND_ARCHIVED : MARK_INSPECTED, [verdictJson, rewrite ? JSON.stringify(rewrite) : null, id]);
        if (marked.changes === 0) throw new AlreadyInspected();
        for (const [i, d] of decisions.entries()) {
          const row = rows[i];
          if (!row) continue;
          const requirement = strongest(isTransportRequirement(row.requirement) ? row.requirement : 'may', d.requirement);
          if (d.method === 'block') {
            // final: the sender gets the policy notice instead of a DSN
            await tx.run(
              `UPDATE recipients SET requirement = ?, method = ?, decision = ?, state = 'bounced', finished_at = ?, last_error = ?, dsn_sent = 1 WHERE message_id = ? AND seq = ?`,
              [requirement, d.method, JSON.stringify(d.reasons), now, `blocked by policy (${d.rules.join(', ')})`, id, row.seq],
            );
            continue;
          }
          const hold = !(DELIVERABLE.has(d.method) || (portalEnabled && d.method === 'portal'));
          // a blind copy (not in To/Cc) gets a transaction of its own: no other recipient's delivery carries it
          const bcc = visible.has(row.address.toLowerCase()) ? 0 : 1;
          const copy = isE2eMethod(d.method) ? copies.get(row.seq) : undefined;
          const e2eCopy = copy?.kind === 'copy' ? copy.name : copy?.kind === 'passthrough' ? 'passthrough' : null;
          updated.push(
            ...(await tx.all<QueueRecipientRow>(
              `UPDATE recipients SET requirement = ?, method = ?, decision = ?, bcc = ?, e2e_copy = ?, e2e_copy_size = ?, key_fingerprint = ?, key_source = ?, state = CASE WHEN ? = 1 AND state = 'queued' THEN 'held' ELSE state END WHERE message_id = ? AND seq = ? RETURNING ${QUEUE_RECIPIENT_COLUMNS}`,
              [requirement, d.method, JSON.stringify(d.reasons), bcc, e2eCopy, copy?.kind === 'copy' ? copy.size : null, e2eCopy ? (d.key?.fingerprint ?? null) : null, e2eCopy ? (d.key?.source ?? null) : null, hold ? 1 : 0, id, row.seq],
            )),
          );
          if (copy && copy.kind !== 'failed') {
            await appendAuditAtCommit(
              tx,
              {
                type: 'inspect:encrypted_copy',
                data:
                  copy.kind === 'copy'
                    ? { queueId: id, recipient: row.address, method: d.method, keyFingerprint: d.key?.fingerprint, keySource: d.key?.source, signed: String(copy.signed), detail: copy.detail }
                    : { queueId: id, recipient: row.address, method: d.method, passthrough: copy.encrypted },
              },
              now,
            );
          }
        }
        await appendAuditAtCommit(
          tx,
          { type: 'inspect:verdict', data: { queueId: id, phi: String(verdict.phi), categories: verdict.categories.map(String), notFullyScanned: String(verdict.notFullyScanned), protection: evaluation.baseProtection, methods, rules: [...evaluation.matchedRules] } },
          now,
        );
        for (const f of e2e.failed) await appendAuditAtCommit(tx, { type: 'inspect:encrypted_copy_failed', data: { queueId: id, recipient: f.address, method: f.method, keyFingerprint: f.fingerprint, why: f.why } }, now);
        for (const n of notices) {
          await insertQueuedMessage(tx, internalMessage({ id: n.id, createdAt: now, size: n.size, spoolKeyId: this.deps.notices.spoolKeyId(), helo: this.deps.notices.hostname, requirement: this.deps.notices.requirement, recipients: n.to }));
          await appendAuditAtCommit(tx, { type: 'policy:notice_queued', data: { queueId: id, noticeQueueId: n.id, kind: n.kind, recipients: n.to.length } }, now);
        }
        // only a recipient blocked here can have made every one final (one read fewer for every other message)
        if (decisions.some((d) => d.method === 'block')) finished = await removeIfFinished(tx, id);
        // its archive entry with the verdict it records: no transaction of the archive stage's between them and delivery
        if (archiving) {
          // every recipient's row came back from its UPDATE (the message's recipients are those read before; none is added
          // later, and one deleted goes with its message, which the first UPDATE would have found gone): no read needed
          const all = updated.length === rows.length ? updated : undefined;
          if ((await archiving.write(tx, now, { ...msg, verdict: verdictJson }, all)).finished) finished = true;
          archived = true;
          // nothing to deliver once every recipient is final (and what an earlier run of this transaction claimed is undone)
          if (!finished) await claiming?.claim(tx, now);
          else claiming?.failed();
        }
      }, { rerunnable: true, key: id });
    } catch (err) {
      // a COMMIT whose answer was lost may have queued the notices and recorded the copies: they stay, for the orphan sweep
      // a claim whose COMMIT answer was lost leaves its rows in flight: their lease runs out and they are due again
      claiming?.failed();
      if (maybeCommitted(err)) throw err;
      await Promise.all(notices.map((n) => n.file.discard()));
      // done meanwhile: the copies at these paths are the winner's (or, for a deleted message, orphans the next start removes)
      if (err instanceof AlreadyInspected) return NOTHING_MORE;
      await discardCopies();
      throw err;
    }
    if (archived) archiving?.committed();
    const claimed = archived && !finished && claiming !== undefined && claiming.committed();
    if (finished) await this.deps.spool.removeFinished(id);
    this.deps.metrics?.inc('sealgate_inspections_total', { verdict: verdict.phi ? 'phi' : verdict.categories.length > 0 || verdict.notFullyScanned ? 'sensitive' : 'clean' });
    this.recovered('messages', this.messageFailures.succeed());
    this.deps.log.info({ event: 'MESSAGE_INSPECTED', queueId: id, phi: verdict.phi, categories: verdict.categories, notFullyScanned: verdict.notFullyScanned, protection: evaluation.baseProtection, methods, rules: evaluation.matchedRules }, 'message inspected');
    for (const n of notices) this.deps.log.info({ event: 'POLICY_NOTICE_QUEUED', queueId: id, noticeQueueId: n.id, kind: n.kind }, 'policy notice queued');
    if (finished) this.deps.log.info({ event: 'MESSAGE_FINISHED', queueId: id }, 'every recipient is final; message removed from the queue');
    return { archived, claimed };
  }

  /**
   * Keys and copies for end-to-end recipients. Keys are looked up only for
   * recipients whose mail needs protection; with keys the policy is
   * evaluated again; each OpenPGP / S/MIME recipient's copy is then built.
   * A recipient whose copy fails is decided once more without its keys
   * (verified TLS, the portal or a hold: never weaker than required).
   */
  private async endToEnd(
    id: string,
    rows: readonly { seq: number; address: string }[],
    caps: readonly RecipientCapabilities[],
    first: PolicyEvaluation,
    evaluate: (caps: readonly RecipientCapabilities[]) => PolicyEvaluation,
    rewrite: ReturnType<typeof messageRewrite>,
    subjectIsSensitive: boolean,
  ): Promise<{ evaluation: PolicyEvaluation; copies: CopyOutcome[]; failed: { address: string; method: string; fingerprint: string; why: string }[] }> {
    const e2e = this.deps.e2e;
    if (!e2e) return { evaluation: first, copies: [], failed: [] };
    // a few lookups at once: each may reach out to the recipient's domain (bounded in time by keys.discovery.timeout)
    const keys = await mapLimit(caps, KEY_LOOKUPS_AT_ONCE, (c, i): Promise<RecipientKeys> => (first.recipients[i]?.protection === 'none' ? Promise.resolve({}) : e2e.findKeys(c.address)));
    const records = new Map<string, KeyRecord>();
    for (const k of keys) for (const r of [k.pgp, k.smime]) if (r) records.set(r.fingerprint, r);
    if (records.size === 0) return { evaluation: first, copies: [], failed: [] };
    const withKeys = caps.map((c, i) => ({ ...c, ...keyCapabilities(keys[i] ?? {}) }));
    let evaluation = evaluate(withKeys);
    const requests = evaluation.recipients.flatMap((d, i) => {
      const row = rows[i];
      const record = d.key ? records.get(d.key.fingerprint) : undefined;
      return row && record && isE2eMethod(d.method) ? [{ seq: row.seq, method: d.method, key: record }] : [];
    });
    if (requests.length === 0) return { evaluation, copies: [], failed: [] };
    const build = this.copyLane.then(() => buildCopies(e2e.copies(), id, rewrite, subjectIsSensitive ? NEUTRAL_SUBJECT : undefined, requests));
    this.copyLane = build.catch(() => undefined);
    const copies = await build;
    const failedSeqs = new Set(copies.filter((c) => c.kind === 'failed').map((c) => c.seq));
    const failed = copies.flatMap((c) => {
      const req = requests.find((r) => r.seq === c.seq);
      const row = rows.find((r) => r.seq === c.seq);
      return c.kind === 'failed' && req && row ? [{ address: row.address, method: req.method, fingerprint: req.key.fingerprint, why: c.why }] : [];
    });
    if (failed.length > 0) {
      this.deps.log.warn({ event: 'E2E_COPY_FAILED', queueId: id, recipients: failed.length, why: [...new Set(failed.map((f) => f.why))] }, 'an end-to-end copy could not be built; those recipients are decided without their keys');
      evaluation = evaluate(withKeys.map((c, i) => (failedSeqs.has(rows[i]?.seq ?? -1) ? { ...c, pgpKey: undefined, smimeCertificate: undefined } : c)));
    }
    return { evaluation, copies: copies.filter((c) => c.kind !== 'failed'), failed };
  }

  /** Builds and spools the notices the evaluation calls for; their rows go in the caller's transaction. */
  private async prepareNotices(id: string, msg: { sender: string; created_at: number }, evaluation: PolicyEvaluation, findings: readonly Finding[], configured: readonly PolicyRule[]): Promise<PreparedPolicyNotice[]> {
    const { hostname, random } = this.deps.notices;
    // the rules that caused the notice: blocking ones for "blocked", holding ones for "held", all matched for "rule-matched"
    const rules = (ids: readonly string[], action?: 'block' | 'quarantine'): { id: string; description?: string | undefined }[] =>
      [...new Set(ids)]
        .map((rid) => configured.find((r) => r.id === rid))
        .filter((r): r is PolicyRule => r !== undefined && (action === undefined || r.then.action === action))
        .map((r) => ({ id: r.id, description: r.description }));
    const out: PreparedPolicyNotice[] = [];
    const make = async (kind: 'blocked' | 'held' | 'rule-matched', to: readonly string[], about: readonly RecipientPolicy[]): Promise<void> => {
      const now = this.deps.now();
      const noticeId = generateQueueId(now, random);
      const bytes = await buildPolicyNotice({
        kind,
        to,
        hostname,
        queueId: id,
        receivedAt: msg.created_at,
        now,
        messageId: `<${noticeId}.policy@${hostname}>`,
        recipientCount: about.length,
        rules: kind === 'rule-matched' ? rules(evaluation.matchedRules) : rules(about.flatMap((d) => d.rules), kind === 'blocked' ? 'block' : 'quarantine'),
        findings: findings.map((f) => ({ category: f.category, count: f.count, confidence: f.confidence, evidence: f.evidence })),
        sender: kind === 'rule-matched' ? msg.sender || '<>' : undefined,
        reasons: kind === 'held' ? [...new Set(about.flatMap((d) => d.reasons.filter((r) => /held|quarantine|portal|key/.test(r))))] : undefined,
      });
      const file = await this.deps.spool.write(noticeId, Readable.from([bytes]));
      await file.commit();
      out.push({ id: noticeId, kind, to, size: bytes.length, file });
    };
    try {
      // no notice to the null sender: a notice about a notice would loop
      if (msg.sender) {
        const blocked = evaluation.recipients.filter((d) => d.method === 'block');
        const held = evaluation.recipients.filter((d) => d.method === 'quarantine');
        if (blocked.length) await make('blocked', [msg.sender], blocked);
        if (held.length) await make('held', [msg.sender], held);
      }
      if (evaluation.notify.length) await make('rule-matched', evaluation.notify, evaluation.recipients);
    } catch (err) {
      await Promise.all(out.map((n) => n.file.discard()));
      throw err;
    }
    return out;
  }
}

class AlreadyInspected extends Error {}

interface PreparedPolicyNotice {
  readonly id: string;
  readonly kind: 'blocked' | 'held' | 'rule-matched';
  readonly to: readonly string[];
  readonly size: number;
  readonly file: PendingSpoolFile;
}
