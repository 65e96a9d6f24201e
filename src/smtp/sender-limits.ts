/**
 * Rate-limit decisions for the ingress: messages and recipients per sender
 * address and per connector, per minute and per hour (sliding windows,
 * rate-counter.ts). Counts are taken when a message is accepted (250), so
 * refused and aborted transactions cost nothing; a check asks whether one
 * more message, or n more recipients, would go over. In memory, per node:
 * a restart forgets the counts and several nodes count apart (docs/rate-limits.md).
 */
import type { ConnectorLimits } from '../config/schema.js';
import { RateCounter } from './rate-counter.js';

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

const PERIODS: readonly Period[] = ['Minute', 'Hour'];
const SCOPES: readonly Scope[] = ['perSender', 'perConnector'];

export class SenderLimits {
  private readonly counters: Record<Unit, Record<Period, RateCounter>>;

  constructor(options: { readonly now: () => number; readonly maxKeys: () => number }) {
    const make = (windowMs: number): RateCounter => new RateCounter({ windowMs, maxKeys: options.maxKeys, now: options.now });
    this.counters = {
      messages: { Minute: make(60_000), Hour: make(3_600_000) },
      recipients: { Minute: make(60_000), Hour: make(3_600_000) },
    };
  }

  /** The first message limit one more message from `sender` would go over. */
  messageOver(connector: string, limits: ConnectorLimits, sender: string): OverLimit | undefined {
    return this.over('messages', connector, limits, sender, 1);
  }

  /** The first recipient limit `n` more recipients from `sender` would go over. */
  recipientsOver(connector: string, limits: ConnectorLimits, sender: string, n: number): OverLimit | undefined {
    return this.over('recipients', connector, limits, sender, n);
  }

  /**
   * Counts an accepted message and its recipients, in the windows `limits`
   * sets only (memory goes to what is limited; a limit added by a reload
   * starts counting then).
   */
  record(connector: string, limits: ConnectorLimits, sender: string, recipients: number): void {
    for (const scope of SCOPES) {
      const key = keyOf(scope, connector, sender);
      if (key === undefined) continue;
      for (const p of PERIODS) {
        if (limits[scope][`messagesPer${p}`] !== undefined) this.counters.messages[p].add(key, 1);
        if (limits[scope][`recipientsPer${p}`] !== undefined) this.counters.recipients[p].add(key, recipients);
      }
    }
  }

  private over(unit: Unit, connector: string, limits: ConnectorLimits, sender: string, n: number): OverLimit | undefined {
    for (const scope of SCOPES) {
      const key = keyOf(scope, connector, sender);
      if (key === undefined) continue;
      for (const p of PERIODS) {
        const max = limits[scope][`${unit}Per${p}`];
        if (max === undefined) continue;
        const count = this.counters[unit][p].count(key);
        if (count + n > max) {
          const who = scope === 'perSender' ? 'sender' : `connector ${connector}`;
          return { limit: `${scope}.${unit}Per${p}`, max, count, text: `${who} over its limit of ${max} ${unit} per ${p.toLowerCase()}${scope === 'perSender' ? ` on connector ${connector}` : ''}` };
        }
      }
    }
    return undefined;
  }
}

/** The counter key; undefined for per-sender limits of the null sender (bounces count per connector only). */
function keyOf(scope: Scope, connector: string, sender: string): string | undefined {
  if (scope === 'perConnector') return `c\u0000${connector}`;
  return sender === '' ? undefined : `s\u0000${connector}\u0000${sender.toLowerCase()}`;
}
