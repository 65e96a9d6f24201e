/**
 * Burst detection: one sender suddenly mailing many external recipients it
 * has not mailed before. A recipient is new to a sender when no accepted
 * message from that sender (on that connector) went to it within `remember`;
 * more than `newRecipients` new ones within `within` is a burst, and the
 * ingress holds the message and raises an alert. In memory, per node, with an
 * injected clock; at most `maxKeys` sender-recipient pairs are remembered
 * (least recently seen forgotten first: a forgotten pair counts as new again,
 * which errs towards holding) and, per sender, only the last newRecipients+1
 * first-contact times are kept.
 */
import type { ConnectorLimits } from '../config/schema.js';

export type BurstLimits = NonNullable<ConnectorLimits['burst']>;

export interface BurstAssessment {
  /** External recipients (lower case, once each) new to this sender. */
  readonly fresh: readonly string[];
  /** New recipients within the window, this message's included. */
  readonly count: number;
  readonly burst: boolean;
}

export class BurstDetector {
  /** connector\0sender\0recipient → when last sent to. */
  private readonly pairs = new Map<string, number>();
  /** connector\0sender → times of first contacts within the window (oldest first). */
  private readonly firsts = new Map<string, number[]>();

  constructor(private readonly options: { readonly now: () => number; readonly maxKeys: () => number }) {}

  /** Whether a message to `external` recipients would be a burst; changes nothing. */
  assess(connector: string, limits: BurstLimits, sender: string, external: readonly string[]): BurstAssessment {
    const now = this.options.now();
    const s = sender.toLowerCase();
    const fresh = [...new Set(external.map((r) => r.toLowerCase()))].filter((r) => {
      const seen = this.pairs.get(pairKey(connector, s, r));
      return seen === undefined || now - seen >= limits.remember;
    });
    const recent = (this.firsts.get(senderKey(connector, s)) ?? []).filter((t) => now - t < limits.within).length;
    const count = recent + fresh.length;
    return { fresh, count, burst: fresh.length > 0 && count > limits.newRecipients };
  }

  /** Remembers an accepted message: every external recipient is known now; the fresh ones count as first contacts. */
  record(connector: string, limits: BurstLimits, sender: string, external: readonly string[], fresh: readonly string[]): void {
    const now = this.options.now();
    const s = sender.toLowerCase();
    for (const r of new Set(external.map((x) => x.toLowerCase()))) {
      const key = pairKey(connector, s, r);
      this.pairs.delete(key);
      this.pairs.set(key, now);
    }
    evictOldest(this.pairs, this.options.maxKeys());
    const sk = senderKey(connector, s);
    const times = [...(this.firsts.get(sk) ?? []).filter((t) => now - t < limits.within), ...fresh.map(() => now)].slice(-(limits.newRecipients + 1));
    this.firsts.delete(sk);
    if (times.length > 0) this.firsts.set(sk, times);
    evictOldest(this.firsts, this.options.maxKeys());
  }

  /** Pairs and senders held now (for tests and bounds). */
  get size(): { pairs: number; senders: number } {
    return { pairs: this.pairs.size, senders: this.firsts.size };
  }
}

function evictOldest(map: Map<string, unknown>, max: number): void {
  while (map.size > max) {
    const first = map.keys().next();
    if (first.done === true) return;
    map.delete(first.value);
  }
}

function pairKey(connector: string, sender: string, recipient: string): string {
  return `${connector}\u0000${sender}\u0000${recipient}`;
}

function senderKey(connector: string, sender: string): string {
  return `${connector}\u0000${sender}`;
}
