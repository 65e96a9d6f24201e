/**
 * A private S3-compatible server for tests: s3rver (npm, pure JavaScript, no
 * binary downloaded) in a child process on 127.0.0.1 on a free port, its
 * objects in a fresh temporary directory, one bucket made at start. The tests
 * drive it with the real AWS SDK (the store under test), over real HTTP.
 *
 * Why a child process: s3rver signs its ListObjectsV2 continuation tokens
 * with DES, which Node 20's OpenSSL 3 only offers with the legacy provider
 * (`node --openssl-legacy-provider`); without it every listing of more than
 * one page fails with a 500. The flag stays in the child; the tests'
 * process, and so the store under test, keeps the default providers. It is
 * also a real process boundary: stop() ends it as an outage would.
 *
 * s3rver's limits (3.7.1, the version in package-lock.json), named where a
 * test depends on them:
 *   - no AbortMultipartUpload (405 MethodNotAllowed): the parts of a failed
 *     multipart upload stay in its directory. They never become an object
 *     (it has nothing to complete), which is what the tests check; the
 *     abort's own 405 is the error a failed put reports, still mapped to
 *     SG_STORAGE_FAILED.
 *   - listings follow its directory tree, not S3's byte order, where a key
 *     segment is a prefix of a sibling's ("a" beside "a/b" or "a-b"): the
 *     shared listing tests use keys whose two orders agree (fixed-width
 *     segments, as the gateway's own keys mostly are), and one test uses
 *     the disagreement to show the store refuses an out-of-order listing.
 *   - one account (S3RVER / S3RVER), and only its access key id is checked:
 *     s3rver does not verify V4 signatures, so a wrong secret is not refused
 *     (the credential test uses an unknown key id); no quotas, no storage-full answer, no versioning, no lifecycle rules.
 *   - objects are files written in place: no durability promise of its own,
 *     and concurrent PUTs of one key can interleave (S3 keeps the last whole
 *     one), so that race is tested on the local store only.
 *   - its filesystem store answers a PUT (and an uploaded part) before the
 *     file's write stream has finished: a listing or a read made at once
 *     could see a short file (a listing gave size 0 once). Patched in the
 *     child below: the answer waits until the file holds what was sent.
 *   - a PUT is answered before its file is flushed (its filesystem store
 *     resolves on `end()` of the write stream, not on its 'finish'), so a
 *     listing made at once may give a size of 0 for the newest object: the
 *     listInfo test reads sizes once they settle, on s3rver only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestS3 {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  /** The bucket made at start. */
  readonly bucket: string;
  readonly region: 'us-east-1';
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** s3rver's directory (bucket and object files). */
  readonly dir: string;
  /** Ends the server process (as an outage would) and removes its directory. */
  stop(): Promise<void>;
  /** Ends the server process (an outage), keeping its directory: `start` brings it back. */
  kill(): Promise<void>;
  /** A new server process on the same port and directory (after `kill`; the objects stored before are there). */
  start(): Promise<void>;
  /**
   * Stops the server process (SIGSTOP) without ending it: connections are
   * still accepted by the kernel, but no request is answered until `resume`
   * (SIGCONT) — a store that hangs, for work that must still be running.
   */
  pause(): void;
  resume(): void;
}

const SERVER_SCRIPT = `
import S3rver from 's3rver';
import FilesystemStore from 's3rver/lib/stores/filesystem.js';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
// s3rver resolves a PUT (and an uploaded part) before its write stream has finished: answer only once the file holds
// what it reported, as S3 answers only once the object is stored (the limit is named in test/helpers/s3-server.ts)
const whole = async (file, size) => {
  for (let i = 0; i < 2000; i++) {
    if ((await stat(file).catch(() => ({ size: -1 }))).size >= size) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('s3rver: ' + file + ' never reached ' + size + ' bytes');
};
const putObject = FilesystemStore.prototype.putObject;
FilesystemStore.prototype.putObject = async function (object) {
  const r = await putObject.call(this, object);
  await whole(this.getResourcePath(object.bucket, object.key, 'object'), r.size);
  return r;
};
const putPart = FilesystemStore.prototype.putPart;
FilesystemStore.prototype.putPart = async function (bucket, uploadId, partNumber, content) {
  const r = await putPart.call(this, bucket, uploadId, partNumber, content);
  await whole(join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId, String(partNumber)), r.size);
  return r;
};
const [dir, bucket, wanted] = process.argv.slice(-3);
const server = new S3rver({ address: '127.0.0.1', port: Number(wanted), silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
const { port } = await server.run();
process.stdout.write('PORT ' + port + '\\n');
const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('disconnect', stop);
`;

/** s3rver in a child process on `port` (0: a free one), with its objects in `dir`; the port it listens on. */
async function spawnS3rver(dir: string, bucket: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--openssl-legacy-provider', '--no-warnings', '--input-type=module', '-e', SERVER_SCRIPT, '--', dir, bucket, String(port)],
    // cwd: the repository, so the script finds s3rver in node_modules; an IPC channel so it ends with its parent
    { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    if (stderr.length < 4096) stderr += c.toString('utf8');
  });
  const listening = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 30 s: ${stderr}`)), 30_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const m = /PORT (\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited (${code}) before it listened: ${stderr}`));
    });
  });
  return { child, port: listening };
}

async function end(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

export async function startS3Server(bucket = 'sealgate-test'): Promise<TestS3> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-s3rver-'));
  let { child, port } = await spawnS3rver(dir, bucket, 0);
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    bucket,
    region: 'us-east-1',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    dir,
    stop: () =>
      (stopped ??= (async () => {
        await end(child);
        await rm(dir, { recursive: true, force: true });
      })()),
    kill: () => end(child),
    start: async () => {
      await end(child);
      ({ child, port } = await spawnS3rver(dir, bucket, port));
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
  };
}
