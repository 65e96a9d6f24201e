/**
 * The e2e part of `npm run bench`: encryption throughput of Sealgate's
 * OpenPGP and S/MIME transforms next to GnuPG and OpenSSL on the same data,
 * in the same run. Not a test: it asserts nothing about speed.
 *
 * Data: a 1 MB and a 25 MB message (a short text part and a base64
 * attachment, deterministic: test/smime/large-message.ts), written to a file
 * for the tools. Keys: one OpenPGP RSA-3072 key (sign primary, RSA-3072
 * encryption subkey) made by GnuPG in a temporary GNUPGHOME; an RSA 2048 and
 * an EC P-256 S/MIME certificate made by OpenSSL (test/keys/fixtures.ts).
 *
 * - ours, OpenPGP: streamPgpMime (SEIPDv1, AES-256 from the key's
 *   preferences, uncompressed, ASCII armor — what PGP/MIME sends), output
 *   read into a sink that discards it;
 * - gpg --encrypt --armor --compress-algo none --trust-model always, the same
 *   key, the message file in, /dev/null out (one process per run: its start
 *   and keyring read are in the time);
 * - ours, S/MIME: streamSmime (AES-256-CBC, BER as it streams, base64), RSA
 *   PKCS#1 v1.5 and EC P-256 ECDH, into a discarding sink;
 * - openssl cms -encrypt -aes256 -binary -stream, the same certificate, the
 *   message file in, /dev/null out (S/MIME base64 output, like ours).
 *
 * After the timing of each size, each of our outputs is decrypted once by
 * gpg / openssl and compared with the original entity (the bench stops
 * without figures if one differs).
 *
 * Each figure is the median of BENCH_E2E_REPS runs (default 7; the methods
 * take turns, one run each per round): MB/s is the
 * message size (MiB) over the time from the call until the last output byte.
 * Peak RSS: ours is the highest RSS of this process, sampled at every output
 * chunk, and how far that is above the RSS just before the run (the heap is
 * collected once per size, not before each run, which would slow the run
 * after it); the tools' is their process's maximum RSS from /usr/bin/time.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { streamPgpMime } from '../src/e2e/pgp-mime.js';
import { streamSmime } from '../src/smime/envelope.js';
import { innerEntityParts, splitMessage } from '../src/smime/entity.js';
import { makeCertFixtures, type CertFixtures } from '../test/keys/fixtures.js';
import { haveTool } from '../test/helpers/peers.js';
import { largeMessage } from '../test/smime/large-message.js';

const run = promisify(execFile);
const MB = 1024 * 1024;
const REPS = Math.max(1, Number(process.env.BENCH_E2E_REPS ?? 7));
const SIZES = [
  { label: '1 MB', bytes: 1 * MB },
  { label: '25 MB', bytes: 25 * MB },
] as const;

interface Measured {
  readonly seconds: number;
  /** Highest RSS: ours, of this process while the output was read; a tool's, of its process. Bytes. */
  readonly peak: number;
  /** Ours only: how far that is above the RSS before the run. Bytes. */
  readonly rise?: number;
}

/** The V8 collector, exposed at run time (the bench runs without --expose-gc), so each size starts from a collected heap. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

/** Reads one of our output streams to the end into a sink that keeps nothing. */
async function drain(make: () => Promise<Readable>): Promise<Measured> {
  const before = process.memoryUsage.rss();
  let max = before;
  const start = process.hrtime.bigint();
  await pipeline(
    await make(),
    new Writable({
      write(_chunk: Buffer, _enc, done) {
        max = Math.max(max, process.memoryUsage.rss());
        done();
      },
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  max = Math.max(max, process.memoryUsage.rss());
  return { seconds, peak: max, rise: max - before };
}

/** Runs a tool under /usr/bin/time; its max RSS comes from the last stderr line. */
async function tool(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  const start = process.hrtime.bigint();
  const { stderr } = await run('/usr/bin/time', ['-f', 'maxrss=%M', cmd, ...args], { env, maxBuffer: 1 << 20 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const kb = Number(/maxrss=(\d+)\s*$/.exec(stderr)?.[1] ?? 0);
  return { seconds, peak: kb * 1024 };
}

/** Every method once per round, REPS rounds (a load change on a shared machine then hits all of them alike); per method the median time and the highest RSS. */
async function interleaved(methods: readonly (readonly [string, () => Promise<Measured>])[]): Promise<[string, Measured][]> {
  const runs = methods.map((): Measured[] => []);
  for (let i = 0; i < REPS; i++) for (const [j, [, once]] of methods.entries()) runs[j]?.push(await once());
  return methods.map(([what], j) => {
    const mine = runs[j] ?? [];
    const rises = mine.map((r) => r.rise).filter((r): r is number => r !== undefined);
    return [what, { seconds: median(mine.map((r) => r.seconds)), peak: Math.max(...mine.map((r) => r.peak)), ...(rises.length > 0 ? { rise: Math.max(...rises) } : {}) }];
  });
}

/** Our output for `message` as one buffer (for the check below, not timed). */
async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Each of our outputs for the message goes through the real tool (gpg
 * --decrypt, openssl cms -decrypt) and must give back the entity byte for
 * byte, so a figure is never printed for broken output.
 */
async function checkOurs(dir: string, message: Buffer, gpgEnv: NodeJS.ProcessEnv, pgpKey: string, certs: CertFixtures): Promise<void> {
  const entity = Buffer.concat(innerEntityParts(splitMessage(message)));
  const pgp = await collect((await streamPgpMime(message, { recipientKey: pgpKey })).stream);
  const fromGpg = execFileSync('gpg', ['--batch', '--no-tty', '--quiet', '--decrypt'], { env: gpgEnv, input: pgp, maxBuffer: 256 * MB, stdio: ['pipe', 'pipe', 'ignore'] });
  if (!fromGpg.equals(entity)) throw new Error('gpg did not decrypt our OpenPGP output to the original entity');
  for (const name of ['rsa', 'ec'] as const) {
    const file = join(dir, `check-${name}.eml`);
    await writeFile(file, await collect((await streamSmime(message, certs.pem(name))).stream));
    const fromOpenssl = execFileSync('openssl', ['cms', '-decrypt', '-binary', '-in', file, '-recip', certs.file[name], '-inkey', join(certs.dir, `${name}.key`)], { maxBuffer: 256 * MB, stdio: ['ignore', 'pipe', 'ignore'] });
    if (!fromOpenssl.equals(entity)) throw new Error(`openssl did not decrypt our S/MIME (${name}) output to the original entity`);
  }
}

/** An RSA-3072 OpenPGP key in a fresh GNUPGHOME; its armored public key and fingerprint. */
function makeGpgKey(home: string): { armored: string; fpr: string } {
  const env = { ...process.env, GNUPGHOME: home };
  const gpg = (args: string[]): string => execFileSync('gpg', ['--batch', '--quiet', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
  const uid = 'Bench Recipient <bench@example.org>';
  gpg(['--quick-gen-key', uid, 'rsa3072', 'sign', 'never']);
  const fpr = (gpg(['--with-colons', '--fingerprint', uid]).split('\n').find((l) => l.startsWith('fpr:')) ?? '').split(':')[9] ?? '';
  gpg(['--quick-add-key', fpr, 'rsa3072', 'encr', 'never']);
  return { armored: gpg(['--armor', '--export', fpr]), fpr };
}

export async function e2eBench(): Promise<string[]> {
  for (const t of ['gpg', 'openssl', 'gpgconf']) if (!haveTool(t)) throw new Error(`${t} is not installed (apt-get install gnupg openssl)`);
  const gc = collector();
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-bench-e2e-'));
  const home = join(dir, 'gnupg');
  execFileSync('mkdir', ['-m', '700', home]);
  const certs = makeCertFixtures();
  const gpgEnv = { ...process.env, GNUPGHOME: home };
  const rows: string[] = [];
  try {
    const key = makeGpgKey(home);
    const rsaPem = certs.pem('rsa');
    const ecPem = certs.pem('ec');
    for (const size of SIZES) {
      const message = largeMessage(size.bytes);
      const file = join(dir, `message-${size.bytes}.eml`);
      await writeFile(file, message);
      // a collection before each size, not before each run: the collector's tail would land in the next timed run
      gc();
      await new Promise((r) => setTimeout(r, 200));
      const mb = message.length / MB;
      const results = await interleaved([
        ['Sealgate OpenPGP (streamPgpMime), RSA-3072', () => drain(async () => (await streamPgpMime(message, { recipientKey: key.armored })).stream)],
        ['gpg --encrypt --armor -z0, RSA-3072', () => tool('gpg', ['--batch', '--no-tty', '--quiet', '--trust-model', 'always', '--armor', '--compress-algo', 'none', '--recipient', key.fpr, '--yes', '--output', '/dev/null', '--encrypt', file], gpgEnv)],
        ['Sealgate S/MIME (streamSmime), RSA 2048', () => drain(async () => (await streamSmime(message, rsaPem)).stream)],
        ['openssl cms -encrypt -aes256 -stream, RSA 2048', () => tool('openssl', ['cms', '-encrypt', '-aes256', '-binary', '-stream', '-in', file, '-out', '/dev/null', certs.file.rsa])],
        ['Sealgate S/MIME (streamSmime), EC P-256', () => drain(async () => (await streamSmime(message, ecPem)).stream)],
        ['openssl cms -encrypt -aes256 -stream, EC P-256', () => tool('openssl', ['cms', '-encrypt', '-aes256', '-binary', '-stream', '-in', file, '-out', '/dev/null', certs.file.ec])],
      ]);
      // after the timing, so the decrypted copies it holds do not raise the RSS measured above
      await checkOurs(dir, message, gpgEnv, key.armored, certs);
      for (const [what, m] of results) {
        const rss = `${(m.peak / MB).toFixed(0)}${m.rise === undefined ? '' : ` (+${(m.rise / MB).toFixed(0)})`}`;
        rows.push(`| ${size.label} | ${what} | ${(mb / m.seconds).toFixed(1)} | ${(m.seconds * 1000).toFixed(0)} | ${rss} |`);
      }
    }
  } finally {
    try {
      execFileSync('gpgconf', ['--kill', 'all'], { env: gpgEnv, stdio: 'ignore' });
    } catch {
      // no agent was started
    }
    certs.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
  return [
    '## e2e: encryption throughput, Sealgate next to gpg and openssl on the same message',
    '',
    `Median of ${REPS} runs (BENCH_E2E_REPS; the methods take turns); MB = MiB of the original message; Sealgate in this process into a discarding sink, the tools as processes (start-up included) writing to /dev/null.`,
    'Peak RSS: Sealgate = the highest RSS of this process while the output was read (the message itself already in memory; in brackets how far above the RSS just before the run); tools = their process\'s max RSS (/usr/bin/time).',
    '',
    '| size | encryption | MB/s | ms | peak RSS MB |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ];
}
