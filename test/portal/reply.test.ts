/**
 * Secure replies: who a reply may go to (table), the bounds (table), and the
 * whole submit over a real SQLite database, encrypted spool and object
 * store: the reply is queued from the recipient to the original sender with
 * verified TLS (and the configured route), its copy opens in the thread, the
 * original's recipient row records the reply, and the audit event carries
 * no content.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { isSealgateError } from '../../src/errors.js';
import { createLogger } from '../../src/log/logger.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { PortalStore } from '../../src/portal/portal-store.js';
import { PortalReplies, replyAddressees, replyProblem, replySubject, type ReplyRequest } from '../../src/portal/reply.js';
import { Spool } from '../../src/spool/spool.js';

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);
const DAY = 86_400_000;

describe('replyAddressees', () => {
  const original = { sender: 'dr@clinic.example', visible: ['pat@gmail.example', 'Nurse@Clinic.example', 'dr@clinic.example', 'other@x.example', 'pat@gmail.example'] };
  it.each<[string, boolean, boolean, { to: string[]; cc: string[] }]>([
    ['reply: the envelope sender only', false, false, { to: ['dr@clinic.example'], cc: [] }],
    ['reply-all: visible participants except the replier and the sender, once each', true, false, { to: ['dr@clinic.example'], cc: ['Nurse@Clinic.example', 'other@x.example'] }],
    ['reply-all from a blind copy: the sender only', true, true, { to: ['dr@clinic.example'], cc: [] }],
  ])('%s', (_name, all, bcc, expected) => {
    expect(replyAddressees(original, 'PAT@gmail.example', all, bcc)).toEqual(expected);
  });
  it('nobody when the original came from the null sender', () => {
    expect(replyAddressees({ sender: '', visible: ['a@b.example'] }, 'x@y.example', true, false)).toEqual({ to: [], cc: [] });
  });
});

describe('replySubject', () => {
  it.each([
    ['Lab results', 'Re: Lab results'],
    ['Re: Lab results', 'Re: Lab results'],
    ['RE: x', 'RE: x'],
    ['a\r\nBcc: evil@x.example', 'Re: a Bcc: evil@x.example'],
    ['', 'Re:'],
  ])('%j → %j', (subject, expected) => {
    expect(replySubject(subject)).toBe(expected);
  });
});

describe('replyProblem', () => {
  const file = (n: number) => ({ filename: 'a.bin', contentType: 'application/octet-stream', content: Buffer.alloc(n) });
  it.each<[string, Pick<ReplyRequest, 'body' | 'attachments'>, ReturnType<typeof replyProblem>]>([
    ['text only', { body: 'thanks', attachments: [] }, undefined],
    ['attachment only', { body: ' ', attachments: [file(10)] }, undefined],
    ['nothing', { body: ' \n ', attachments: [] }, 'empty'],
    ['exactly the limit', { body: 'x', attachments: [file(999)] }, undefined],
    ['one byte over', { body: 'xy', attachments: [file(999)] }, 'too-large'],
    ['too many attachments', { body: 'x', attachments: Array.from({ length: 21 }, () => file(1)) }, 'too-many-attachments'],
  ])('%s', (_name, req, expected) => {
    expect(replyProblem(req, 1000)).toBe(expected);
  });
});

describe('PortalReplies.submit', () => {
  let dir: string;
  let db: Database;
  let store: PortalStore;
  let spool: Spool;
  let replies: PortalReplies;
  let now = NOW;
  let queuedCalls = 0;

  const ORIGINAL = [
    'From: "Dr Example" <dr@clinic.example>',
    'To: pat@gmail.example, nurse@clinic.example',
    'Subject: Your results',
    'Message-ID: <orig-1@clinic.example>',
    '',
    'The original body ORIGINAL-BODY-MARKER',
    '',
  ].join('\r\n');

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealgate-reply-'));
    db = await Database.open(join(dir, 'sealgate.db'));
    await migrate(db);
    const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
    const objects = new LocalObjectStore(join(dir, 'store'));
    await objects.init();
    store = new PortalStore({ db, objects, keyring });
    spool = new Spool(join(dir, 'spool'), keyring);
    await spool.init();
    now = NOW;
    queuedCalls = 0;
    replies = new PortalReplies({
      db,
      spool,
      store,
      log: createLogger({ level: 'silent', pretty: false }),
      now: () => now,
      random: randomBytes,
      hostname: 'gw.test',
      spoolKeyId: () => keyring.current.id,
      portal: () => ({ replyRoute: '127.0.0.1:2525', replyMaxBytes: 1024 * 1024, organisation: 'Example Clinic' }),
      onQueued: () => queuedCalls++,
    });
  });

  afterEach(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function deposit(recipients = [{ address: 'pat@gmail.example', bcc: false }, { address: 'nurse@clinic.example', bcc: false }, { address: 'hidden@x.example', bcc: true }]) {
    return store.deposit({ queueId: 'Q1', source: Readable.from([Buffer.from(ORIGINAL)]), recipients, expiresAt: NOW + 30 * DAY, now: NOW, sender: 'dr@clinic.example' });
  }

  async function read(stream: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  it('queues a reply-all with an attachment from the recipient, over verified TLS on the route, and keeps a copy in the thread', async () => {
    const d = await deposit();
    now = NOW + 60_000;
    const attachment = randomBytes(5000);
    const r = await replies.submit({ depositId: d.depositId, recipient: 'pat@gmail.example', all: true, body: 'Thank you, REPLY-BODY-MARKER', attachments: [{ filename: 'insurance card.png', contentType: 'image/png', content: attachment }], remoteIp: '127.0.0.9' });
    expect(r.recipients).toEqual(['dr@clinic.example', 'nurse@clinic.example']);
    expect(queuedCalls).toBe(1);

    const msg = await db.get<{ sender: string; connector: string; listener: string; route: string; inspected: number; requiretls: number }>('SELECT sender, connector, listener, route, inspected, requiretls FROM messages WHERE id = ?', [r.queueId]);
    expect(msg).toEqual({ sender: 'pat@gmail.example', connector: 'portal', listener: 'portal', route: '127.0.0.1:2525', inspected: 1, requiretls: 1 });
    const rcpts = await db.all<{ address: string; requirement: string; method: string; state: string }>('SELECT address, requirement, method, state FROM recipients WHERE message_id = ? ORDER BY seq', [r.queueId]);
    expect(rcpts).toEqual([
      { address: 'dr@clinic.example', requirement: 'verify', method: 'tls-verified', state: 'queued' },
      { address: 'nurse@clinic.example', requirement: 'verify', method: 'tls-verified', state: 'queued' },
    ]);

    const parsed = await simpleParser(await read(spool.read(r.queueId)));
    expect(parsed.from?.value[0]?.address).toBe('pat@gmail.example');
    expect(parsed.subject).toBe('Re: Your results');
    expect(parsed.inReplyTo).toBe('<orig-1@clinic.example>');
    expect(parsed.text).toContain('REPLY-BODY-MARKER');
    expect(parsed.attachments[0]?.filename).toBe('insurance card.png');
    expect(Buffer.compare(parsed.attachments[0]?.content ?? Buffer.alloc(0), attachment)).toBe(0);

    const thread = await replies.thread(d.depositId, 'PAT@gmail.example');
    expect(thread).toHaveLength(1);
    expect((await read(await store.open(thread[0]?.depositId ?? ''))).toString()).toContain('REPLY-BODY-MARKER');
    expect(await replies.thread(d.depositId, 'nurse@clinic.example')).toEqual([]);

    const replied = await db.get<{ replied_at: number }>("SELECT replied_at FROM portal_recipients WHERE deposit_id = ? AND address = 'pat@gmail.example'", [d.depositId]);
    expect(replied?.replied_at).toBe(now);
    const audit = await db.all<{ type: string; data: string }>("SELECT type, data FROM audit_log WHERE type = 'portal:replied'");
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]?.data ?? '{}')).toMatchObject({ depositId: d.depositId, recipient: 'pat@gmail.example', replyQueueId: r.queueId, recipients: 2 });
    expect(audit[0]?.data).not.toContain('REPLY-BODY-MARKER');
    expect(audit[0]?.data).not.toContain('insurance');
  });

  it('a blind copy replies only to the sender, even with reply-all', async () => {
    const d = await deposit();
    const r = await replies.submit({ depositId: d.depositId, recipient: 'hidden@x.example', all: true, body: 'ok', attachments: [], remoteIp: '127.0.0.9' });
    expect(r.recipients).toEqual(['dr@clinic.example']);
  });

  it.each<[string, (depositId: string) => Promise<Partial<ReplyRequest>>, string]>([
    ['not a recipient', async () => ({ recipient: 'stranger@x.example' }), 'not-a-recipient'],
    ['unknown deposit', async () => ({ depositId: 'f'.repeat(32) }), 'unknown'],
    ['expired', async () => {
      now = NOW + 31 * DAY;
      return {};
    }, 'closed'],
    ['shredded', async (id) => {
      await store.shred(id, NOW);
      return {};
    }, 'closed'],
    ['empty', async () => ({ body: '  ' }), 'empty'],
    ['too large', async () => ({ attachments: [{ filename: 'big', contentType: 'application/octet-stream', content: Buffer.alloc(1024 * 1024 + 1) }] }), 'too-large'],
  ])('refused: %s', async (_name, change, reason) => {
    const d = await deposit();
    const over = await change(d.depositId);
    const err = await replies.submit({ depositId: d.depositId, recipient: 'pat@gmail.example', all: false, body: 'hello', attachments: [], remoteIp: '127.0.0.9', ...over }).catch((e: unknown) => e);
    expect(isSealgateError(err, 'SG_PORTAL_REPLY_REFUSED')).toBe(true);
    expect((err as { detail?: { reason?: string } }).detail?.reason).toBe(reason);
    expect((await db.get<{ n: number }>('SELECT count(*) AS n FROM messages'))?.n).toBe(0);
  });

  it('a reply to a reply is refused: the thread answers the original', async () => {
    const d = await deposit();
    await replies.submit({ depositId: d.depositId, recipient: 'pat@gmail.example', all: false, body: 'one', attachments: [], remoteIp: '127.0.0.9' });
    const [copy] = await replies.thread(d.depositId, 'pat@gmail.example');
    const err = await replies.submit({ depositId: copy?.depositId ?? '', recipient: 'pat@gmail.example', all: false, body: 'two', attachments: [], remoteIp: '127.0.0.9' }).catch((e: unknown) => e);
    expect((err as { detail?: { reason?: string } }).detail?.reason).toBe('unknown');
  });
});
