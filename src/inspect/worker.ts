/**
 * Runs inspection and the per-recipient decision on accepted messages, after
 * the durable accept and before delivery (the delivery engine only claims
 * recipients of inspected messages). For each message: read it from the
 * encrypted spool, extract its text (src/inspect/extract.ts), build the
 * verdict, decide each recipient's method and requirement, and commit — in
 * one transaction — the raised requirements, the methods, the verdict
 * summary (categories, counts, confidences; never values) and an audit event.
 * Recipients whose method cannot be carried out (quarantine, block, and for
 * now E2E and portal) are held for an administrator: never sent weaker.
 * Idempotent: a crash before the commit repeats the inspection.
 */
import type { Database } from '../db/database.js';
import type { Metrics } from '../metrics/registry.js';
import { appendAuditEvent } from '../audit/log.js';
import { strongest, isTransportRequirement } from '../delivery/transport-requirement.js';
import type { Logger } from '../log/logger.js';
import { decide, defaultProtection, subjectTag, type Method } from '../policy/decide.js';
import { loadProbe, explainProtectedMail } from '../probe/domain-probe.js';
import type { Spool } from '../spool/spool.js';
import { extractMessage } from './extract.js';
import { inspectExtracted } from './verdict.js';

export interface InspectorDeps {
  readonly db: Database;
  readonly spool: Spool;
  readonly log: Logger;
  readonly now: () => number;
  /** Domains where verified TLS is not enough for PHI. */
  readonly e2eDomains: () => ReadonlySet<string>;
  /** Called after a message was inspected (wakes the delivery engine). */
  readonly onInspected?: () => void;
  readonly metrics?: Metrics | undefined;
}

/** Methods this build can deliver; the others hold the recipient. */
const INSPECT_PARALLEL = 4;

const DELIVERABLE: ReadonlySet<Method> = new Set(['tls-verified', 'tls-opportunistic']);

export class Inspector {
  private running = false;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: InspectorDeps) {}

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain().finally(() => {
      this.running = false;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  start(): void {
    this.wake();
    this.timer = setInterval(() => this.wake(), 10_000);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  private async drain(): Promise<void> {
    for (;;) {
      const next = await this.deps.db.all<{ id: string }>('SELECT id FROM messages WHERE inspected = 0 ORDER BY created_at LIMIT 20');
      if (next.length === 0 || this.stopped) return;
      // a few at a time: spool reads and commits of one overlap with the parsing of another
      let failed = false;
      for (let i = 0; i < next.length; i += INSPECT_PARALLEL) {
        await Promise.all(
          next.slice(i, i + INSPECT_PARALLEL).map(({ id }) =>
            this.inspect(id).catch((err: unknown) => {
              // left uninspected (and undelivered): retried on the next pass
              failed = true;
              this.deps.log.error({ event: 'INSPECTION_FAILED', queueId: id, err: { message: (err as Error).message } }, 'inspection failed; retried later');
            }),
          ),
        );
        this.deps.onInspected?.();
      }
      if (failed) return;
    }
  }

  async inspect(id: string): Promise<void> {
    const extracted = await extractMessage(this.deps.spool.read(id));
    const verdict = inspectExtracted(extracted);
    const { tagged } = subjectTag(extracted.subject);
    const protection = defaultProtection(verdict, tagged);
    const now = this.deps.now();
    const rows = await this.deps.db.all<{ seq: number; address: string; domain: string; requirement: string }>('SELECT seq, address, domain, requirement FROM recipients WHERE message_id = ? ORDER BY seq', [id]);
    const recipients = [];
    for (const r of rows) {
      const probe = await loadProbe(this.deps.db, r.domain, now);
      recipients.push({ address: r.address, domain: r.domain, verifiedTls: probe ? explainProtectedMail(probe).method === 'tls-verified' : undefined });
    }
    const decisions = decide({ protection, recipients, portalEnabled: false, e2eDomains: this.deps.e2eDomains(), phi: verdict.phi });
    const summary = {
      phi: verdict.phi,
      phiConfidence: verdict.phiConfidence,
      notFullyScanned: verdict.notFullyScanned,
      protection,
      subjectTag: tagged,
      findings: verdict.findings.map((f) => ({ category: f.category, count: f.count, confidence: f.confidence })),
      methods: [...new Set(decisions.map((d) => d.method))],
    };
    await this.deps.db.transaction(async (tx) => {
      const msg = await tx.get<{ inspected: number }>('SELECT inspected FROM messages WHERE id = ?', [id]);
      if (!msg || msg.inspected === 1) return; // deleted or done meanwhile
      for (const [i, d] of decisions.entries()) {
        const row = rows[i];
        if (!row) continue;
        const current = isTransportRequirement(row.requirement) ? row.requirement : 'may';
        const hold = !DELIVERABLE.has(d.method);
        await tx.run(
          `UPDATE recipients SET requirement = ?, method = ?, decision = ?, state = CASE WHEN ? = 1 AND state = 'queued' THEN 'held' ELSE state END WHERE message_id = ? AND seq = ?`,
          [strongest(current, d.requirement), d.method, JSON.stringify(d.reasons), hold ? 1 : 0, id, row.seq],
        );
      }
      await tx.run('UPDATE messages SET inspected = 1, verdict = ? WHERE id = ?', [JSON.stringify(summary), id]);
      await appendAuditEvent(
        tx,
        { type: 'inspect:verdict', data: { queueId: id, phi: String(verdict.phi), categories: verdict.categories.map(String), notFullyScanned: String(verdict.notFullyScanned), protection, methods: summary.methods } },
        now,
      );
    });
    this.deps.metrics?.inc('sealgate_inspections_total', { verdict: verdict.phi ? 'phi' : verdict.categories.length > 0 || verdict.notFullyScanned ? 'sensitive' : 'clean' });
    this.deps.log.info({ event: 'MESSAGE_INSPECTED', queueId: id, phi: verdict.phi, categories: verdict.categories, notFullyScanned: verdict.notFullyScanned, protection, methods: summary.methods }, 'message inspected');
  }
}
