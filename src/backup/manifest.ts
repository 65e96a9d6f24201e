/**
 * The backup manifest (`manifest.json`): what the backup holds and the
 * SHA-256 of every file, so `sealgate backup verify` and `sealgate restore`
 * can tell a complete, unaltered backup from anything else. Pure.
 */

export const MANIFEST_FORMAT = 'sealgate-backup/1';
export const MANIFEST_NAME = 'manifest.json';

export interface ManifestFile {
  /** Relative to the backup directory, / separators: data/… or keys/… */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly createdAt: string;
  readonly gateway: string;
  readonly version: string;
  /** PRAGMA user_version of the database snapshot. */
  readonly schemaVersion: number;
  /** Id of the master key that wraps the data (the key itself only when includesKey). */
  readonly masterKeyId: string;
  readonly includesKey: boolean;
  readonly messages: number;
  /** Messages finished (delivered or bounced) while the backup ran: left out of the snapshot's queue. */
  readonly finishedDuringBackup: number;
  readonly files: readonly ManifestFile[];
}

export type ManifestProblem =
  | { readonly kind: 'missing'; readonly path: string }
  | { readonly kind: 'changed'; readonly path: string }
  | { readonly kind: 'unexpected'; readonly path: string };

/** Pure: compares the files found (path → size and hash) with the manifest's list. */
export function compareFiles(manifest: readonly ManifestFile[], found: ReadonlyMap<string, { size: number; sha256: string }>): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const listed = new Set<string>();
  for (const f of manifest) {
    listed.add(f.path);
    const got = found.get(f.path);
    if (!got) problems.push({ kind: 'missing', path: f.path });
    else if (got.size !== f.size || got.sha256 !== f.sha256) problems.push({ kind: 'changed', path: f.path });
  }
  for (const path of found.keys()) if (!listed.has(path)) problems.push({ kind: 'unexpected', path });
  return problems;
}

/** Pure: reads and checks the shape of a manifest; a message saying what is wrong when it is not one. */
export function parseManifest(text: string): Manifest | string {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return 'manifest.json is not JSON';
  }
  const m = raw as Partial<Manifest> | null;
  if (!m || m.format !== MANIFEST_FORMAT) return `manifest.json is not a ${MANIFEST_FORMAT} manifest`;
  if (!Array.isArray(m.files) || !m.files.every((f) => typeof f?.path === 'string' && typeof f.size === 'number' && typeof f.sha256 === 'string' && !f.path.split('/').includes('..') && !f.path.startsWith('/'))) {
    return 'manifest.json has a bad file list';
  }
  if (typeof m.masterKeyId !== 'string' || typeof m.includesKey !== 'boolean' || typeof m.schemaVersion !== 'number') return 'manifest.json lacks its key or schema facts';
  return m as Manifest;
}

export function describeProblem(p: ManifestProblem): string {
  switch (p.kind) {
    case 'missing':
      return `${p.path}: missing`;
    case 'changed':
      return `${p.path}: changed (size or SHA-256 differs from the manifest)`;
    case 'unexpected':
      return `${p.path}: not in the manifest`;
  }
}
