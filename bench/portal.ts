/**
 * The portal part of `npm run bench`: deposits per second (encrypt, object
 * put with fsync, rows committed) and signed-in message page views per
 * second with their latency (decrypt, parse, sanitise, render, audit) over
 * HTTPS on loopback. Real SQLite, a real object store in a temp directory,
 * the real fastify server with the development certificate; the code mail
 * is recorded instead of queued (the mail path has its own bench: relay).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { Keyring, masterKeyFromBytes } from '../src/crypto/keyring.js';
import { Database } from '../src/db/database.js';
import { migrate } from '../src/db/schema.js';
import { createLogger } from '../src/log/logger.js';
import { LocalObjectStore } from '../src/objects/local-store.js';
import { CodeStore } from '../src/portal/code-store.js';
import { portalSchema } from '../src/portal/config-schema.js';
import { derivePortalCsrfKey } from '../src/portal/http/csrf.js';
import { createPortalServer } from '../src/portal/http/server.js';
import type { CodeMailInput, PortalMailer } from '../src/portal/mailer.js';
import { deriveCodeKey } from '../src/portal/one-time-code.js';
import { PortalStore } from '../src/portal/portal-store.js';
import { ensureDevCertificates } from '../src/tls/dev-certs.js';

const DEPOSITS = Number(process.env.BENCH_PORTAL_DEPOSITS ?? 400);
const VIEWS = Number(process.env.BENCH_PORTAL_VIEWS ?? 1000);
const CONCURRENCY = 8;
const DAY = 86_400_000;

function message(size: number): Buffer {
  const head = [
    'From: "Dr. Example" <dr@clinic.example>',
    'To: pat@gmail.example',
    'Subject: Your results',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Your potassium is 4.1 mmol/L.',
    '--b',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Your <b>potassium</b> is 4.1 mmol/L.</p>',
  ].join('\r\n');
  const filler = '<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\r\n'.repeat(Math.max(0, Math.ceil((size - head.length) / 66)));
  return Buffer.from(`${head}\r\n${filler}--b--\r\n`);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function pool<T>(n: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const i = next++;
        if (i >= n) return;
        out[i] = await work(i);
      }
    }),
  );
  return out;
}

/** Kept-alive connections, as a browser keeps them: the figure is page views, not TLS handshakes. */
const keepAlive = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, rejectUnauthorized: false });

function get(port: number, path: string, cookie: string): Promise<{ status: number; ms: number }> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: { cookie }, agent: keepAlive }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Number(process.hrtime.bigint() - start) / 1e6 }));
    });
    req.on('error', reject);
    req.end();
  });
}

function post(port: number, path: string, form: Record<string, string>, cookie: string): Promise<{ status: number; setCookie: string[]; body: string }> {
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }, rejectUnauthorized: false, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, setCookie: res.headers['set-cookie'] ?? [], body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function getText(port: number, path: string, cookie: string): Promise<{ body: string; setCookie: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', headers: { cookie }, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ body: Buffer.concat(chunks).toString('utf8'), setCookie: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    req.end();
  });
}

const cookiesOf = (lines: string[]): string => lines.map((l) => l.split(';')[0]).join('; ');
const csrfOf = (html: string): string => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

export async function portalBench(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-bench-portal-'));
  const db = await Database.open(join(dir, 'sealgate.db'));
  try {
    await migrate(db);
    const objects = new LocalObjectStore(join(dir, 'store'));
    await objects.init();
    const master = masterKeyFromBytes(randomBytes(32));
    const portal = new PortalStore({ db, objects, keyring: new Keyring(master) });
    const now = Date.now();

    // deposits: 20 KB messages, one recipient each
    const body = message(20_000);
    const depositMs: number[] = [];
    const started = process.hrtime.bigint();
    const tokens = await pool(DEPOSITS, async (i) => {
      const t = process.hrtime.bigint();
      const d = await portal.deposit({ queueId: `BENCH${i}`, source: Readable.from([body]), recipients: [{ address: 'pat@gmail.example', bcc: false }], expiresAt: now + 30 * DAY, now, sender: 'dr@clinic.example' });
      depositMs.push(Number(process.hrtime.bigint() - t) / 1e6);
      return d.recipients[0]?.token ?? '';
    });
    const depositSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    depositMs.sort((a, b) => a - b);

    // page views of one signed-in session
    const certs = await ensureDevCertificates({ certFile: join(dir, 'certs', 'server.crt'), keyFile: join(dir, 'certs', 'server.key'), caDir: join(dir, 'certs'), hostnames: ['localhost'], ipAddresses: ['127.0.0.1'] });
    void certs;
    const config = portalSchema(z.string(), z.string()).parse({ listen: { host: '127.0.0.1', port: 0 }, publicUrl: 'https://localhost:8443', certFile: join(dir, 'certs', 'server.crt'), keyFile: join(dir, 'certs', 'server.key') });
    const codes: CodeMailInput[] = [];
    const mailer: PortalMailer = { sendCode: (c) => (codes.push(c), Promise.resolve(`BENCHCODE${codes.length}`)) };
    const server = await createPortalServer({
      config,
      db,
      portal,
      codes: new CodeStore({ db, key: deriveCodeKey(master.key) }),
      mailer,
      csrfKey: derivePortalCsrfKey(master.key),
      log: createLogger({ level: 'silent', pretty: false }),
      limits: { requestsPerMinute: 1_000_000, postsPerMinute: 1_000_000 },
    });
    const { port } = await server.listen();
    try {
      const token = tokens[0] ?? '';
      const landing = await getText(port, `/m/${token}`, '');
      let cookie = cookiesOf(landing.setCookie);
      const asked = await post(port, `/m/${token}/code`, { csrf: csrfOf(landing.body) }, cookie);
      const signed = await post(port, `/m/${token}/sign-in`, { csrf: csrfOf(asked.body), code: codes.at(-1)?.code ?? '' }, cookie);
      cookie = cookiesOf([...landing.setCookie, ...signed.setCookie].filter((l) => !/=;/.test(l)));
      if (signed.status !== 303) throw new Error(`sign-in failed (${signed.status})`);
      const viewStart = process.hrtime.bigint();
      const views = await pool(VIEWS, () => get(port, `/m/${token}`, cookie));
      const viewSeconds = Number(process.hrtime.bigint() - viewStart) / 1e9;
      const bad = views.filter((v) => v.status !== 200).length;
      if (bad) throw new Error(`${bad} page views did not answer 200`);
      const viewMs = views.map((v) => v.ms).sort((a, b) => a - b);
      return [
        '## portal',
        `deposits of a 20 KB message (encrypt, object put + fsync, rows committed), ${CONCURRENCY} at a time; signed-in message page views over HTTPS (decrypt, parse, sanitise, render, audit), ${CONCURRENCY} kept-alive connections.`,
        '',
        '| figure | count | per second | p50 ms | p95 ms |',
        '| --- | --- | --- | --- | --- |',
        `| deposits | ${DEPOSITS} | ${(DEPOSITS / depositSeconds).toFixed(0)} | ${percentile(depositMs, 50).toFixed(1)} | ${percentile(depositMs, 95).toFixed(1)} |`,
        `| page views | ${VIEWS} | ${(VIEWS / viewSeconds).toFixed(0)} | ${percentile(viewMs, 50).toFixed(1)} | ${percentile(viewMs, 95).toFixed(1)} |`,
      ];
    } finally {
      keepAlive.destroy();
      await server.close();
    }
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  }
}
