/** Open file descriptors of a process (Linux /proc): this one by default, or a child by pid. */
import { readdir } from 'node:fs/promises';

export async function openFds(pid: number | 'self' = 'self'): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}
