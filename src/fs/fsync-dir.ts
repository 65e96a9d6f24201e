/**
 * fsync of a directory, so a rename, link or unlink in it survives a crash.
 * The handle is opened and closed here, once, also on error (the descriptor
 * rule of src/spool/file-writer.ts). Some file systems cannot fsync a
 * directory (EINVAL, EISDIR, ENOTSUP): the change itself is still made, so
 * those are not errors.
 */
import { open } from 'node:fs/promises';

const UNSUPPORTED = new Set(['EINVAL', 'EISDIR', 'ENOTSUP']);

export async function fsyncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } catch (err) {
    if (!UNSUPPORTED.has(String((err as NodeJS.ErrnoException | undefined)?.code ?? ''))) throw err;
  } finally {
    await fh.close();
  }
}
