/**
 * Which files under the data directory a backup copies, and copying and
 * hashing them. Committed files only: in-progress writes (spool/tmp,
 * store/tmp), console exports (transient, and already signed copies of
 * archived data: the ZIPs being written under exports/, and their encrypted
 * copies under store/objects/exports/) and the database files (copied as a consistent snapshot
 * instead) are left out, and so are the master key files (only with
 * --include-key, apart).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** Pure: whether a path relative to the data directory (with / separators) belongs in a backup. */
export function isBackedUp(rel: string, excluded: ReadonlySet<string>): boolean {
  if (excluded.has(rel)) return false;
  if (/^sealgate\.db(-wal|-shm|-journal)?$/.test(rel)) return false;
  if (rel === 'exports' || rel.startsWith('exports/')) return false;
  // the console exports' encrypted ZIPs in the local object store (export-jobs.ts): as transient as the files above
  if (/^store\/objects\/exports(\/|$)/.test(rel)) return false;
  if (/^(spool|store)\/tmp(\/|$)/.test(rel)) return false;
  return true;
}

/** Every regular file under `root` (relative paths with / separators), sorted; a file removed while listing is skipped. */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.isFile()) out.push(relative(root, path).split(sep).join('/'));
    }
  };
  await walk(root);
  return out.sort();
}

/** Copies `rel` from `fromRoot` to `toRoot` (dirs 0700, file mode kept); false when the source vanished meanwhile. */
export async function copyRelative(fromRoot: string, toRoot: string, rel: string): Promise<boolean> {
  const to = join(toRoot, ...rel.split('/'));
  await mkdir(dirname(to), { recursive: true, mode: 0o700 });
  try {
    await copyFile(join(fromRoot, ...rel.split('/')), to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

export async function sha256File(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return { sha256: hash.digest('hex'), size: (await stat(path)).size };
}

/** Pure: the data-relative paths of key files that live inside the data directory (never copied with the data). */
export function keyFilesInside(dataDir: string, keyFiles: readonly string[]): Set<string> {
  const root = resolve(dataDir);
  const out = new Set<string>();
  for (const f of keyFiles) {
    const rel = relative(root, resolve(f));
    if (rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep)) out.add(rel.split(sep).join('/'));
  }
  return out;
}
