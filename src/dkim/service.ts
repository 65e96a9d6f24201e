/**
 * The daemon's DKIM signer: the loaded keys of the running config (swapped
 * on reload), the clock, and the count of what happened. What the delivery
 * engine calls (EngineDeps.dkim).
 */
import type { Readable } from 'node:stream';
import type { Metrics } from '../metrics/registry.js';
import type { DkimKey } from './keys.js';
import { signMessage } from './signer.js';

export class DkimService {
  constructor(
    private keys: readonly DkimKey[],
    private readonly now: () => number,
    private readonly metrics?: Metrics,
  ) {}

  /** The keys of a reloaded config (already checked by loadDkimKeys). */
  setKeys(keys: readonly DkimKey[]): void {
    this.keys = keys;
  }

  /** The DKIM-Signature field(s) to put on top of the message, undefined when no key signs it; throws on a signing failure. */
  async sign(source: () => Readable): Promise<Buffer | undefined> {
    if (this.keys.length === 0) return undefined;
    try {
      const result = await signMessage(source, { keys: this.keys, now: this.now });
      this.metrics?.inc('sealgate_dkim_messages_total', { result: result.signed ? 'signed' : result.reason });
      return result.signed ? result.header : undefined;
    } catch (err) {
      this.metrics?.inc('sealgate_dkim_messages_total', { result: 'failed' });
      throw err;
    }
  }
}
