/**
 * Pure: what happens to one recipient after the decision — the method and
 * transport requirement `decide` chose, and what the probe of its domain
 * says delivery would come to (deliveryOutlook, the same function
 * `sealgate probe` prints). `sealgate policy test` shows it per recipient, so
 * a dry run never says "waits" where `probe` says "bounces".
 */
import { deliveryOutlook, type DeliveryOutcome, type DomainProbe } from '../probe/domain-probe.js';
import type { Method, RecipientDecision } from './decide.js';

export type RecipientOutcome = DeliveryOutcome | 'held' | 'blocked' | 'portal' | 'unknown';

export interface RecipientOutlook {
  readonly outcome: RecipientOutcome;
  readonly via?: string | undefined;
  readonly reasons: readonly string[];
}

/** Methods whose copy (or notification) leaves through the recipient domain's MX. */
const THROUGH_MX: ReadonlySet<Method> = new Set(['tls-verified', 'tls-opportunistic', 'pgp', 'smime']);

export function recipientOutlook(decision: Pick<RecipientDecision, 'method' | 'requirement'>, probe: DomainProbe | undefined): RecipientOutlook {
  if (decision.method === 'block') return { outcome: 'blocked', reasons: ['a policy rule blocks it: the recipient bounces and the sender gets a policy notice'] };
  if (decision.method === 'quarantine') return { outcome: 'held', reasons: ['held in quarantine for an administrator (sealgate quarantine list)'] };
  if (decision.method === 'portal') return { outcome: 'portal', reasons: ['stored in the secure portal; the recipient gets a notification with a link'] };
  if (!THROUGH_MX.has(decision.method)) return { outcome: 'unknown', reasons: [] };
  if (!probe) return { outcome: 'unknown', reasons: ['the recipient domain was not probed'] };
  return deliveryOutlook(probe, decision.requirement);
}
