/**
 * Rate-limit decisions for the ingress: messages and recipients per sender
 * address and per connector, per minute and per hour (sliding windows
 * counted in the database, limit-counts.ts, so every node and a restart see
 * the same counts). Counts are taken when a message is accepted (250), in
 * the transaction that queues it, so refused and aborted transactions cost
 * nothing; a check reads the counts once (`snapshot`) and asks whether one
 * more message, or n more recipients, would go over.
 *
 * The counted keys are keyed hashes (`hash`, derived from the master key by
 * the caller) of the unit, window, scope, connector and sender: the database
 * never holds the address.
 */
import type { ConnectorLimits } from '../config/schema.js';
import type { SqlQueryable } from '../db/sql-database.js';
import { windowSums, type WindowAdd, type WindowKey } from './limit-counts.js';

export interface OverLimit {
  /** Which limit, as its config path below `limits`, e.g. "perSender.messagesPerMinute". */
  readonly limit: string;
  readonly max: number;
  /** Accepted within the window before this one. */
  readonly count: number;
  /** One line for the SMTP reply and logs: names the limit, never the address. */
  readonly text: string;
}

type Scope = 'perSender' | 'perConnector';
type Unit = 'messages' | 'recipients';
type Period = 'Minute' | 'Hour';

const PERIODS: readonly [Period, number][] = [
  ['Minute', 60_000],
  ['Hour', 3_600_000],
];
const SCOPES: readonly Scope[] = ['perSender', 'perConnector'];
const UNITS: readonly Unit[] = ['messages', 'recipients'];

/** A limit set for a connector, and the key its counts are kept under for one sender. */
interface LimitWindow extends WindowKey {
  readonly unit: Unit;
  readonly scope: Scope;
  readonly period: Period;
  readonly max: number;
}

/** A keyed hash of what is counted (hex): the same on every node that has the master key. */
export type CountKeyHash = (material: string) => string;

/**
 * Pure: the windows `limits` sets for `sender` on `connector`, in the order
 * they are checked (per sender before per connector, minute before hour).
 * The null sender has no per-sender windows: bounces count per connector only.
 */
export function limitWindows(connector: string, limits: ConnectorLimits, sender: string, hash: CountKeyHash): LimitWindow[] {
  const out: LimitWindow[] = [];
  for (const unit of UNITS) {
    for (const scope of SCOPES) {
      if (scope === 'perSender' && sender === '') continue;
      for (const [period, windowMs] of PERIODS) {
        const max = limits[scope][`${unit}Per${period}`];
        if (max === undefined) continue;
        const who = scope === 'perSender' ? `${connector}\u0000${sender.toLowerCase()}` : connector;
        out.push({ unit, scope, period, max, windowMs, key: hash(`limit\u0000${unit}\u0000${period}\u0000${scope}\u0000${who}`) });
      }
    }
  }
  return out;
}

/** The counts of one sender's windows, read at one moment: the checks of one transaction. */
export class LimitSnapshot {
  constructor(
    private readonly connector: string,
    private readonly counted: readonly (readonly [LimitWindow, number])[],
  ) {}

  /** The first message limit one more message would go over. */
  messageOver(): OverLimit | undefined {
    return this.over('messages', 1);
  }

  /** The first recipient limit `n` more recipients would go over. */
  recipientsOver(n: number): OverLimit | undefined {
    return this.over('recipients', n);
  }

  private over(unit: Unit, n: number): OverLimit | undefined {
    for (const [w, count] of this.counted) {
      if (w.unit !== unit || count + n <= w.max) continue;
      const who = w.scope === 'perSender' ? 'sender' : `connector ${this.connector}`;
      return { limit: `${w.scope}.${unit}Per${w.period}`, max: w.max, count, text: `${who} over its limit of ${w.max} ${unit} per ${w.period.toLowerCase()}${w.scope === 'perSender' ? ` on connector ${this.connector}` : ''}` };
    }
    return undefined;
  }
}

export class SenderLimits {
  constructor(private readonly hash: CountKeyHash) {}

  /** Reads what `limits` counts for `sender` on `connector` now (one statement; none when nothing is limited). */
  async snapshot(q: SqlQueryable, connector: string, limits: ConnectorLimits, sender: string, now: number): Promise<LimitSnapshot> {
    const windows = limitWindows(connector, limits, sender, this.hash);
    const sums = windows.length > 0 ? await windowSums(q, windows, now) : [];
    return new LimitSnapshot(connector, windows.map((w, i) => [w, sums[i] ?? 0] as const));
  }

  /**
   * What an accepted message adds, in the windows `limits` sets only (a
   * limit added by a reload starts counting then); written with the message.
   */
  additions(connector: string, limits: ConnectorLimits, sender: string, recipients: number): WindowAdd[] {
    return limitWindows(connector, limits, sender, this.hash).map((w) => ({ key: w.key, windowMs: w.windowMs, n: w.unit === 'messages' ? 1 : recipients }));
  }
}
