import { describe, expect, it } from 'vitest';
import { isBackedUp, keyFilesInside } from '../../src/backup/files.js';
import { compareFiles, describeProblem, parseManifest } from '../../src/backup/manifest.js';

describe('isBackedUp', () => {
  const keys = new Set(['keys/master.key']);
  it.each<[string, boolean]>([
    ['spool/msg/ab/01ABCDEFab', true],
    ['spool/msg/ab/01ABCDEFab.copies/r1', true],
    ['store/objects/archive/2026/12/x.obj', true],
    ['spool/tmp/01ABCDEF', false],
    ['store/tmp/abc.tmp', false],
    ['sealgate.db', false],
    ['sealgate.db-wal', false],
    ['sealgate.db-shm', false],
    ['exports/alice-1.zip', false],
    ['store/objects/exports/0123456789abcdef0123456789abcdef@', false],
    ['store/objects/exportsx/a@', true],
    ['keys/master.key', false],
    ['keys/other.pem', true],
    ['certs/dev-server.crt', true],
  ])('%s → %s', (rel, want) => {
    expect(isBackedUp(rel, keys)).toBe(want);
  });
});

describe('keyFilesInside', () => {
  it('names the key files under the data directory, and only those', () => {
    expect([...keyFilesInside('/var/lib/sg', ['/var/lib/sg/keys/master.key', '/etc/sealgate/old.key', '/var/lib/sg-other/k'])]).toEqual(['keys/master.key']);
    expect([...keyFilesInside('./data', ['./data/keys/master.key'])]).toEqual(['keys/master.key']);
  });
});

describe('compareFiles', () => {
  const listed = [
    { path: 'data/a', size: 1, sha256: 'aa' },
    { path: 'data/b', size: 2, sha256: 'bb' },
  ];
  it.each<[string, [string, { size: number; sha256: string }][], string[]]>([
    ['all match', [['data/a', { size: 1, sha256: 'aa' }], ['data/b', { size: 2, sha256: 'bb' }]], []],
    ['one missing', [['data/a', { size: 1, sha256: 'aa' }]], ['data/b: missing']],
    ['one changed', [['data/a', { size: 1, sha256: 'ab' }], ['data/b', { size: 2, sha256: 'bb' }]], ['data/a: changed (size or SHA-256 differs from the manifest)']],
    ['one added', [['data/a', { size: 1, sha256: 'aa' }], ['data/b', { size: 2, sha256: 'bb' }], ['data/c', { size: 0, sha256: '' }]], ['data/c: not in the manifest']],
  ])('%s', (_name, found, want) => {
    expect(compareFiles(listed, new Map(found)).map(describeProblem)).toEqual(want);
  });
});

describe('parseManifest', () => {
  const good = { format: 'sealgate-backup/1', masterKeyId: 'k', includesKey: false, schemaVersion: 21, files: [{ path: 'data/a', size: 1, sha256: 'aa' }] };
  it.each<[string, unknown, string | undefined]>([
    ['a good one', good, undefined],
    ['another format', { ...good, format: 'x' }, 'manifest.json is not a sealgate-backup/1 manifest'],
    ['a path that climbs out', { ...good, files: [{ path: 'data/../../etc/passwd', size: 1, sha256: 'a' }] }, 'manifest.json has a bad file list'],
    ['an absolute path', { ...good, files: [{ path: '/etc/passwd', size: 1, sha256: 'a' }] }, 'manifest.json has a bad file list'],
    ['no key facts', { ...good, masterKeyId: undefined }, 'manifest.json lacks its key or schema facts'],
  ])('%s', (_name, value, problem) => {
    const r = parseManifest(JSON.stringify(value));
    expect(typeof r === 'string' ? r : undefined).toBe(problem);
  });
  it('not JSON', () => {
    expect(parseManifest('{')).toBe('manifest.json is not JSON');
  });
});
