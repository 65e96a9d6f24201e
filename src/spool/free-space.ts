/**
 * Refuse mail before the disk is full, not after: like Postfix's
 * queue_minfree, a transaction is accepted only when the spool's file system
 * keeps `minFreeBytes` free after a message of the declared (or largest
 * allowed) size. The answer is 452 4.3.1, a temporary failure the sending MTA
 * retries, instead of a spool write that fails half-way.
 */
import { statfs as statfsAsync } from 'node:fs/promises';

export interface FreeSpaceInput {
  /** Bytes available to this process on the spool's file system. */
  readonly availableBytes: number;
  /** smtp.minFreeBytes */
  readonly minFreeBytes: number;
  /** SIZE= from MAIL FROM when given, else undefined. */
  readonly declaredSize: number | undefined;
  /** smtp.maxMessageBytes: what an undeclared message may grow to. */
  readonly maxMessageBytes: number;
}

/**
 * Room for one more message? An undeclared size counts as a quarter of the
 * maximum, so one client cannot block all mail on a disk with room for
 * ordinary messages; a SIZE declaration counts as itself. The data stage
 * still turns a real ENOSPC into 452 4.3.1 with nothing left behind.
 */
export function hasRoomFor(input: FreeSpaceInput): boolean {
  const expected = input.declaredSize ?? Math.ceil(input.maxMessageBytes / 4);
  return input.availableBytes - expected >= input.minFreeBytes;
}

export type StatFs = (path: string) => Promise<{ bavail: number | bigint; bsize: number | bigint }>;

/** Free-space reading with a short cache, so a busy listener does not statfs per command. */
export class FreeSpaceProbe {
  private cached: { at: number; bytes: number } | undefined;

  constructor(
    private readonly path: string,
    private readonly now: () => number,
    private readonly statfs: StatFs = statfsAsync,
    private readonly cacheMs = 1000,
  ) {}

  async availableBytes(): Promise<number> {
    const t = this.now();
    if (this.cached && t - this.cached.at < this.cacheMs) return this.cached.bytes;
    const s = await this.statfs(this.path);
    const bytes = Number(s.bavail) * Number(s.bsize);
    this.cached = { at: t, bytes };
    return bytes;
  }
}
