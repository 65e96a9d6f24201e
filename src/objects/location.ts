/**
 * Where the local object store lives: one directory under dataDir that
 * belongs to it alone (LocalObjectStore keeps `objects/` and `tmp/` in it).
 * The daemon and the CLI both open the store here.
 */
import { join, resolve } from 'node:path';

export function objectStoreRoot(dataDir: string): string {
  return join(resolve(dataDir), 'store');
}
