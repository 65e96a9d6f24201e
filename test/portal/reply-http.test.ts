/**
 * Secure reply through the portal's web server, for real: fastify on
 * loopback with a real PortalReplies over SQLite, the encrypted spool and
 * the object store. A signed-in recipient posts the reply form
 * (multipart: text + an attachment); the reply is queued from them to the
 * original sender, shows in their thread, and the form enforces the
 * session, the CSRF token, the size limit and the addressing rules.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { safeContentType, safeFilename } from '../../src/portal/http/routes-reply.js';
import { composePortalMail } from '../../src/portal/portal-mail.js';
import { buildReadReceipt } from '../../src/portal/read-receipt.js';
import { buildMime } from '../helpers/portal-mime.js';
import { Client, csrfOf, type PortalWeb, readAll, signIn, startPortalWeb } from '../helpers/portal-web.js';

const PAT = 'pat@gmail.example';
const CARER = 'carer@outlook.example';
const HIDDEN = 'hidden@bcc.example';

let web: PortalWeb;
let tokens: Record<string, string>;

beforeEach(async () => {
  web = await startPortalWeb({ replies: true, portal: { replyMaxBytes: 200_000 } });
  const dep = await web.deposit(buildMime({ attachment: Buffer.alloc(100, 1), bcc: HIDDEN }), [
    { address: PAT, bcc: false },
    { address: CARER, bcc: false },
    { address: HIDDEN, bcc: true },
  ]);
  tokens = dep.tokens;
});

afterEach(async () => {
  await web.stop();
});

function replyForm(csrf: string, body: string, files: { name: string; type: string; bytes: Buffer }[] = [], all = false): FormData {
  const form = new FormData();
  form.set('csrf', csrf);
  form.set('body', body);
  for (const f of files) form.append('attachments', new Blob([f.bytes], { type: f.type }), f.name);
  form.set('all', all ? '1' : '0');
  return form;
}

async function queuedReplies(): Promise<{ id: string; sender: string; recipients: string[] }[]> {
  const rows = await web.db.all<{ id: string; sender: string }>("SELECT id, sender FROM messages WHERE connector = 'portal' ORDER BY created_at, id");
  const out = [];
  for (const r of rows) {
    const rc = await web.db.all<{ address: string }>('SELECT address FROM recipients WHERE message_id = ? ORDER BY seq', [r.id]);
    out.push({ ...r, recipients: rc.map((x) => x.address) });
  }
  return out;
}

describe('the reply form', () => {
  it('is on the message page with the contract field names, reply-all only when there is someone else', async () => {
    const client = new Client(web.base);
    await signIn(web, client, tokens[PAT] ?? '', PAT);
    const html = await (await client.get(`/m/${tokens[PAT]}`)).text();
    expect(html).toContain('<textarea id="reply-body" name="body"');
    expect(html).toMatch(/<form method="post" action="\/m\/[^"]+\/reply" enctype="multipart\/form-data">/);
    expect(html).toContain('<button type="submit" name="all" value="0">Send reply</button>');
    expect(html).toContain('Reply to all');
    expect(html).toContain('Your reply goes to dr.who@clinic.example');

    const hidden = new Client(web.base);
    await signIn(web, hidden, tokens[HIDDEN] ?? '', HIDDEN);
    const hiddenHtml = await (await hidden.get(`/m/${tokens[HIDDEN]}`)).text();
    expect(hiddenHtml).toContain('name="body"');
    expect(hiddenHtml).not.toContain('Reply to all');
  });

  it('queues a reply with an attachment from the recipient to the sender, and shows it in the thread', async () => {
    const client = new Client(web.base);
    await signIn(web, client, tokens[PAT] ?? '', PAT);
    const csrf = csrfOf(await (await client.get(`/m/${tokens[PAT]}`)).text());
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    const res = await client.postMultipart(`/m/${tokens[PAT]}/reply`, replyForm(csrf, 'Thanks — see my card. REPLY-MARKER-77', [{ name: 'card.png', type: 'image/png', bytes }]));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/m/${tokens[PAT]}?replied=1`);

    const queued = await queuedReplies();
    expect(queued).toEqual([{ id: expect.any(String), sender: PAT, recipients: ['dr.who@clinic.example'] }]);
    const mime = await simpleParser(await readAll(web.spool.read(queued[0]?.id ?? '')));
    expect(mime.text).toContain('REPLY-MARKER-77');
    expect(mime.attachments[0]?.filename).toBe('card.png');
    expect(Buffer.compare(mime.attachments[0]?.content ?? Buffer.alloc(0), bytes)).toBe(0);

    const page = await (await client.get(`/m/${tokens[PAT]}?replied=1`)).text();
    expect(page).toContain('Your reply was sent securely.');
    expect(page).toContain('Your reply</h2>');
    expect(page).toContain('REPLY-MARKER-77');
    expect(page).toContain('1 file attached');

    // the carer, signed in on the same message, does not see the patient's reply
    const carer = new Client(web.base);
    await signIn(web, carer, tokens[CARER] ?? '', CARER);
    expect(await (await carer.get(`/m/${tokens[CARER]}`)).text()).not.toContain('REPLY-MARKER-77');
  });

  it('reply-all goes to the sender and the visible participants, never the blind copy', async () => {
    const client = new Client(web.base);
    await signIn(web, client, tokens[PAT] ?? '', PAT);
    const csrf = csrfOf(await (await client.get(`/m/${tokens[PAT]}`)).text());
    expect((await client.postMultipart(`/m/${tokens[PAT]}/reply`, replyForm(csrf, 'to all', [], true))).status).toBe(303);
    const [q] = await queuedReplies();
    expect(q?.recipients).toContain('dr.who@clinic.example');
    expect(q?.recipients).toContain(CARER);
    expect(q?.recipients).not.toContain(HIDDEN);
    expect(q?.recipients).not.toContain(PAT);
  });

  it.each<[string, (csrf: string) => FormData, number, RegExp]>([
    ['an empty reply', (csrf) => replyForm(csrf, '   '), 400, /Write a reply or attach a file/],
    ['attachments over replyMaxBytes', (csrf) => replyForm(csrf, 'big', [{ name: 'big.bin', type: 'application/octet-stream', bytes: Buffer.alloc(200_001) }]), 413, /too large/],
    ['a wrong CSRF token', () => replyForm('x'.repeat(43), 'hello'), 403, /could not be accepted/],
  ])('refuses %s', async (_name, form, status, text) => {
    const client = new Client(web.base);
    await signIn(web, client, tokens[PAT] ?? '', PAT);
    const csrf = csrfOf(await (await client.get(`/m/${tokens[PAT]}`)).text());
    const res = await client.postMultipart(`/m/${tokens[PAT]}/reply`, form(csrf));
    expect(res.status).toBe(status);
    expect(await res.text()).toMatch(text);
    expect(await queuedReplies()).toEqual([]);
  });

  it('refuses a reply without a session, and a URL-encoded post', async () => {
    const stranger = new Client(web.base);
    const res = await stranger.postMultipart(`/m/${tokens[PAT]}/reply`, replyForm('x'.repeat(43), 'hi'));
    expect(res.status).toBe(403);
    const client = new Client(web.base);
    await signIn(web, client, tokens[PAT] ?? '', PAT);
    const csrf = csrfOf(await (await client.get(`/m/${tokens[PAT]}`)).text());
    const plain = await client.post(`/m/${tokens[PAT]}/reply`, { csrf, body: 'hi', all: '0' });
    expect([415, 400]).toContain(plain.status);
    expect(await queuedReplies()).toEqual([]);
    expect((await client.get(`/m/${tokens[PAT]}/reply`)).status).toBe(303);
  });
});

describe('read receipts (portal.readReceipts)', () => {
  it.each<[boolean, number]>([
    [true, 1],
    [false, 0],
  ])('with readReceipts %s, the first open sends %d receipt to the original sender, later opens none', async (on, expected) => {
    const w = await startPortalWeb({ replies: true, portal: { readReceipts: on } });
    try {
      const dep = await w.deposit(buildMime({ attachment: Buffer.alloc(10, 1) }), [{ address: PAT, bcc: false }]);
      const client = new Client(w.base);
      await signIn(w, client, dep.tokens[PAT] ?? '', PAT);
      await client.get(`/m/${dep.tokens[PAT]}`);
      await client.get(`/m/${dep.tokens[PAT]}`);
      expect(w.mailer.receipts).toHaveLength(expected);
      if (on) expect(w.mailer.receipts[0]).toMatchObject({ to: 'dr.who@clinic.example', recipient: PAT, sentAt: w.clock, openedAt: w.clock });
    } finally {
      await w.stop();
    }
  });

  it('the receipt mail names who and when, threads by In-Reply-To, and holds no subject or content', async () => {
    const receipt = buildReadReceipt({ branding: { organisationName: 'Example Clinic', colour: '#1f4e79' }, recipient: PAT, openedAt: Date.UTC(2026, 11, 4, 10, 5), sentAt: Date.UTC(2026, 11, 4, 9, 0) });
    expect(receipt.subject).toBe('Example Clinic: your secure message was opened');
    expect(receipt.text).toContain(`${PAT} opened the secure message you sent on Friday, 4 December 2026, 09:00 UTC. First opened: Friday, 4 December 2026, 10:05 UTC.`);
    const mime = (await composePortalMail({ to: 'dr.who@clinic.example', ...receipt, inReplyTo: '<orig-1@clinic.example>' }, { from: 'portal@gw.test', fromName: 'Example Clinic', messageId: '<r1@gw.test>', now: 0 })).toString();
    expect(mime).toMatch(/^In-Reply-To: <orig-1@clinic\.example>\r$/m);
    const bad = (await composePortalMail({ to: 'x@y.example', ...receipt, inReplyTo: '<a>\r\nBcc: evil@x.example' }, { from: 'portal@gw.test', fromName: 'E', messageId: '<r2@gw.test>', now: 0 })).toString();
    expect(bad).not.toContain('In-Reply-To');
    expect(bad).not.toContain('evil@x.example');
  });
});

describe('pure parts of the reply form', () => {
  it.each([
    ['card.png', 'card.png'],
    ['C:\\Users\\pat\\card.png', 'card.png'],
    ['../../etc/passwd', 'passwd'],
    ['a\u0000b\r\nc.txt', 'abc.txt'],
    ['', 'attachment'],
    [`${'x'.repeat(300)}.pdf`, `${'x'.repeat(196)}.pdf`],
  ])('safeFilename(%j) = %j', (name, expected) => {
    expect(safeFilename(name)).toBe(expected);
  });
  it.each([
    ['image/png', 'image/png'],
    ['Application/PDF', 'application/pdf'],
    ['text/html; charset=utf-8', 'application/octet-stream'],
    [undefined, 'application/octet-stream'],
    ['nonsense', 'application/octet-stream'],
  ])('safeContentType(%j) = %j', (type, expected) => {
    expect(safeContentType(type)).toBe(expected);
  });
});
