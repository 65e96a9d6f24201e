/**
 * The portal web server on loopback over real stores (SQLite, a local object
 * store in a temp directory, a real keyring), for the HTTP and browser
 * tests. The code mailer is a port: this one records what it was asked to
 * send, so a test can read the code "from the mail". The clock is injected.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { ConfigInput } from '../../src/config/schema.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { createLogger } from '../../src/log/logger.js';
import { Metrics } from '../../src/metrics/registry.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { CodeStore } from '../../src/portal/code-store.js';
import { portalSchema } from '../../src/portal/config-schema.js';
import { derivePortalCsrfKey } from '../../src/portal/http/csrf.js';
import type { PortalLimits } from '../../src/portal/http/context.js';
import { createPortalServer, type PortalServer } from '../../src/portal/http/server.js';
import type { CodeMailInput, PortalMailer, ReadReceiptMailInput } from '../../src/portal/mailer.js';
import { deriveCodeKey } from '../../src/portal/one-time-code.js';
import { type PortalRecipientInput, PortalStore } from '../../src/portal/portal-store.js';
import { PortalReplies } from '../../src/portal/reply.js';
import { PortalLifecycle } from '../../src/portal/lifecycle.js';
import { Spool } from '../../src/spool/spool.js';

export const NOW = Date.UTC(2026, 11, 4, 9, 0, 0);
export const DAY = 86_400_000;

export class RecordingMailer implements PortalMailer {
  readonly sent: CodeMailInput[] = [];
  readonly receipts: ReadReceiptMailInput[] = [];
  async sendReadReceipt(input: ReadReceiptMailInput): Promise<string> {
    this.receipts.push(input);
    return `RECEIPT${String(this.receipts.length).padStart(4, '0')}`;
  }
  async sendCode(input: CodeMailInput): Promise<string> {
    this.sent.push(input);
    return `CODEMAIL${String(this.sent.length).padStart(4, '0')}`;
  }
  /** The code of the latest mail to `recipient`. */
  lastCode(recipient: string): string {
    const mail = [...this.sent].reverse().find((m) => m.recipient.toLowerCase() === recipient.toLowerCase());
    if (!mail) throw new Error(`no code mail to ${recipient}`);
    return mail.code;
  }
}

export interface PortalWeb {
  readonly dir: string;
  readonly db: Database;
  readonly portal: PortalStore;
  readonly codes: CodeStore;
  readonly mailer: RecordingMailer;
  readonly metrics: Metrics;
  readonly server: PortalServer;
  readonly base: string;
  readonly logLines: string[];
  /** With `replies`: the spool the replies are queued in, and the replies themselves. */
  readonly spool: Spool;
  readonly replies: PortalReplies | undefined;
  clock: number;
  deposit(mime: Buffer | string, recipients: readonly PortalRecipientInput[], expiresIn?: number, linkKey?: boolean): Promise<{ depositId: string; tokens: Record<string, string>; fragments: Record<string, string> }>;
  stop(): Promise<void>;
}

export interface PortalWebOptions {
  readonly portal?: NonNullable<ConfigInput['portal']>;
  readonly limits?: Partial<PortalLimits>;
  readonly tls?: { cert: string; key: string };
  /** Secure replies on: a real PortalReplies over an encrypted spool in the test directory. */
  readonly replies?: boolean;
  /** The sender's withdraw links on: a real PortalLifecycle behind /w/:token. */
  readonly lifecycle?: boolean;
}

export async function startPortalWeb(options: PortalWebOptions = {}): Promise<PortalWeb> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-portal-web-'));
  const db = await Database.open(join(dir, 'sealgate.db'));
  await migrate(db);
  const objects = new LocalObjectStore(join(dir, 'objects'));
  await objects.init();
  const master = masterKeyFromBytes(randomBytes(32));
  const keyring = new Keyring(master);
  const portal = new PortalStore({ db, objects, keyring });
  const codes = new CodeStore({ db, key: deriveCodeKey(master.key) });
  const mailer = new RecordingMailer();
  const metrics = new Metrics();
  const logLines: string[] = [];
  const log = createLogger({
    level: 'debug',
    pretty: false,
    destination: {
      write(line: string) {
        logLines.push(line);
        return true;
      },
    } as unknown as NodeJS.WritableStream,
  });
  const config = portalSchema(z.string(), z.string()).parse({ listen: { host: '127.0.0.1', port: 0 }, ...options.portal });
  const web = {
    clock: NOW,
  } as { clock: number };
  const spool = new Spool(join(dir, 'spool'), keyring);
  await spool.init();
  const replies = options.replies
    ? new PortalReplies({ db, spool, store: portal, log, now: () => web.clock, random: randomBytes, hostname: 'gw.test', spoolKeyId: () => keyring.current.id, portal: () => ({ replyRoute: config.replyRoute, replyMaxBytes: config.replyMaxBytes, organisation: config.branding.organisationName }) })
    : undefined;
  const server = await createPortalServer({
    config,
    db,
    portal,
    codes,
    mailer,
    csrfKey: derivePortalCsrfKey(master.key),
    log,
    now: () => web.clock,
    metrics,
    limits: options.limits,
    tls: options.tls,
    replies,
    lifecycle: options.lifecycle ? new PortalLifecycle({ db, portal, objects, codes, now: () => web.clock }) : undefined,
  });
  const address = await server.listen();
  const base = `${server.https ? 'https' : 'http'}://127.0.0.1:${address.port}`;
  return Object.assign(web, {
    dir,
    db,
    portal,
    codes,
    mailer,
    metrics,
    server,
    base,
    logLines,
    spool,
    replies,
    async deposit(mime: Buffer | string, recipients: readonly PortalRecipientInput[], expiresIn = 30 * DAY, linkKey = false) {
      const dep = await portal.deposit({
        queueId: 'QPORTALWEB01',
        source: Readable.from([Buffer.from(mime)]),
        recipients,
        expiresAt: web.clock + expiresIn,
        now: web.clock,
        sender: 'dr.who@clinic.example',
        linkKey,
      });
      return {
        depositId: dep.depositId,
        tokens: Object.fromEntries(dep.recipients.map((r) => [r.address, r.token])),
        fragments: Object.fromEntries(dep.recipients.map((r) => [r.address, r.fragment ?? ''])),
      };
    },
    async stop() {
      await server.close();
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  });
}

/** A tiny browser for fetch: a cookie jar, no automatic redirects. */
export class Client {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1] ?? '') < Date.now()));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(method: string, path: string, init: { form?: Record<string, string>; body?: string; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size) headers.cookie = this.cookieHeader();
    let body: string | undefined = init.body;
    if (init.form) {
      body = new URLSearchParams(init.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(this.base + path, { method, headers, body, redirect: 'manual' });
    this.keep(res);
    return res;
  }

  get(path: string): Promise<Response> {
    return this.request('GET', path);
  }

  post(path: string, form: Record<string, string>): Promise<Response> {
    return this.request('POST', path, { form });
  }

  /** A multipart/form-data POST (fetch builds the body and its boundary). */
  async postMultipart(path: string, form: FormData): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.cookie = this.cookieHeader();
    const res = await fetch(this.base + path, { method: 'POST', headers, body: form, redirect: 'manual' });
    this.keep(res);
    return res;
  }
}

/** The CSRF field of the first form on a page. */
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no csrf field on the page');
  return m[1].replace(/&amp;/g, '&');
}

/** Signs in through the pages: sign-in page → ask for a code → enter the mailed code. Returns the message page. */
export async function signIn(web: PortalWeb, client: Client, token: string, address: string): Promise<Response> {
  const page = await client.get(`/m/${token}`);
  const asked = await client.post(`/m/${token}/code`, { csrf: csrfOf(await page.text()) });
  if (asked.status !== 200) throw new Error(`code request answered ${asked.status}`);
  const entered = await client.post(`/m/${token}/sign-in`, { csrf: csrfOf(await asked.text()), code: web.mailer.lastCode(address) });
  if (entered.status !== 303) throw new Error(`sign-in answered ${entered.status}`);
  return client.get(entered.headers.get('location') ?? '');
}

export { readAll } from './read-all.js';
