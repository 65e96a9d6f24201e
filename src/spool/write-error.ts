/**
 * What a failed spool write reports: a storage failure, or the error of the
 * data being written.
 *
 * Why it matters: the callers act on the code. A storage failure
 * (SG_STORAGE_FULL, SG_STORAGE_FAILED; temporary) is nobody's fault but the
 * disk's, so the step is tried again whole — ingress answers 452 / 451, the
 * inspection is retried. An error raised by the source or by a caller's
 * stage belongs to that data: an end-to-end copy whose encryption fails
 * part-way is that one recipient's failure (decided again without keys),
 * and labelling it a storage failure retried the inspection for ever.
 *
 * So only the file system's failures are storage errors: an error of the
 * spool file writer's own calls (open, write, fsync, close; file-writer.ts
 * marks them), or any error carrying an errno code (ENOSPC, EIO, ... from
 * wherever it came: a source reading a file fails like the disk it reads).
 * Everything else keeps its identity: a SealgateError as it is
 * (SG_CLIENT_GONE, SG_DATA_TIMEOUT, SG_E2E_FAILED, ...), any other error
 * unchanged, for the caller to name.
 */
import { SealgateError } from '../errors.js';

/**
 * Pure: an errno code as the system and libuv set it (ENOSPC, EIO,
 * ECONNRESET): 'E' and capitals or digits. Node's own codes (ERR_*) and
 * DOMException's numeric `code` are not errno codes.
 */
export function errnoCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** Pure: `err` as a storage error (ENOSPC, EDQUOT: full; anything else: failed), its errno kept for the log. */
export function storageError(err: unknown): SealgateError {
  if (err instanceof SealgateError) return err;
  const code = errnoCode(err);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new SealgateError('SG_STORAGE_FULL', { cause: err, detail: { errno: code } });
  return new SealgateError('SG_STORAGE_FAILED', { cause: err, detail: { errno: code ?? 'unknown' } });
}

/**
 * Pure: what a failed write reports. `fromWriter`: the error came from the
 * spool file writer's own file-system calls.
 */
export function writeError(err: unknown, fromWriter: boolean): unknown {
  if (err instanceof SealgateError) return err;
  if (fromWriter || errnoCode(err) !== undefined) return storageError(err);
  return err;
}
