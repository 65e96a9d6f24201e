/** Every file under a directory, for tests that prove nothing readable was left on disk. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Paths of every file under `dir` (recursive; directories left out). */
export async function filePaths(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

/** Every file under `dir` with its bytes. */
export async function filesUnder(dir: string): Promise<{ path: string; bytes: Buffer }[]> {
  return Promise.all((await filePaths(dir)).map(async (path) => ({ path, bytes: await readFile(path) })));
}
