/**
 * Recipient states and which operator actions apply to which state. The
 * delivery engine moves recipients between the active states; an operator
 * (`sealgate queue …`) may hold, release, retry, bounce or delete.
 */

export const RECIPIENT_STATES = ['queued', 'in-flight', 'deferred', 'delivered', 'bounced', 'held', 'expired'] as const;
export type RecipientState = (typeof RECIPIENT_STATES)[number];

export function isRecipientState(value: string): value is RecipientState {
  return (RECIPIENT_STATES as readonly string[]).includes(value);
}

/** Finished recipients never change again. */
export const FINAL_STATES: readonly RecipientState[] = ['delivered', 'bounced', 'expired'];

/** Whether a recipient in `state` (as stored: any text) is finished (FINAL_STATES). */
export function isFinalState(state: string): boolean {
  return (FINAL_STATES as readonly string[]).includes(state);
}

export type QueueAction = 'hold' | 'release' | 'retry' | 'bounce';

/**
 * States an action changes. In-flight recipients are never touched by an
 * operator: the attempt under way decides them, and the action can be
 * repeated once it has.
 */
export const ACTION_APPLIES_TO: Readonly<Record<QueueAction, readonly RecipientState[]>> = {
  hold: ['queued', 'deferred'],
  release: ['held'],
  retry: ['queued', 'deferred'],
  bounce: ['queued', 'deferred', 'held'],
};

/** The state after an action (release/retry also set next_attempt to now). */
export function stateAfterAction(action: QueueAction, current: RecipientState, attempts: number): RecipientState {
  if (!ACTION_APPLIES_TO[action].includes(current)) return current;
  switch (action) {
    case 'hold':
      return 'held';
    case 'release':
      return attempts > 0 ? 'deferred' : 'queued';
    case 'retry':
      return current;
    case 'bounce':
      return 'bounced';
  }
}
