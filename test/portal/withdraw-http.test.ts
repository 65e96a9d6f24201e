/**
 * The sender's withdraw link through the web server, for real: a deposit
 * made with a withdraw token, the confirm page (no content), the CSRF-bound
 * form, and the withdrawal revoking and shredding the copy at once through
 * the real lifecycle — after which the recipients' links show the withdrawn
 * page and the audit names the sender as the operator.
 */
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildWithdrawMail } from '../../src/portal/withdraw-mail.js';
import { BODY_SECRET, buildMime, SUBJECT } from '../helpers/portal-mime.js';
import { Client, csrfOf, DAY, type PortalWeb, startPortalWeb } from '../helpers/portal-web.js';

const PAT = 'pat@gmail.example';
let web: PortalWeb;
let withdrawToken: string;
let recipientToken: string;
let depositId: string;

beforeEach(async () => {
  web = await startPortalWeb({ lifecycle: true });
  const dep = await web.portal.deposit({
    queueId: 'QWITHDRAW01',
    source: Readable.from([Buffer.from(buildMime({ attachment: Buffer.alloc(10, 1) }))]),
    recipients: [{ address: PAT, bcc: false }, { address: 'carer@outlook.example', bcc: false }],
    expiresAt: web.clock + 30 * DAY,
    now: web.clock,
    sender: 'dr.who@clinic.example',
    withdrawLink: true,
  });
  withdrawToken = dep.withdrawToken ?? '';
  recipientToken = dep.recipients[0]?.token ?? '';
  depositId = dep.depositId;
});

afterEach(async () => {
  await web.stop();
});

describe('the sender withdraw link', () => {
  it('shows what would be withdrawn without content, and withdraws with the form', async () => {
    expect(withdrawToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const client = new Client(web.base);
    const page = await client.get(`/w/${withdrawToken}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Withdraw your secure message?');
    expect(html).toContain('2 recipients');
    expect(html).not.toContain(SUBJECT);
    expect(html).not.toContain(BODY_SECRET);

    expect((await client.post(`/w/${withdrawToken}`, { csrf: 'x' })).status).toBe(403);
    expect((await web.db.get<{ revoked_at: number | null }>('SELECT revoked_at FROM portal_messages WHERE deposit_id = ?', [depositId]))?.revoked_at).toBeNull();

    const done = await client.post(`/w/${withdrawToken}`, { csrf: csrfOf(html) });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('The message was withdrawn');
    const row = await web.db.get<{ revoked_by: string; shredded_at: number | null; wrapped_key: Buffer | null }>('SELECT revoked_by, shredded_at, wrapped_key FROM portal_messages WHERE deposit_id = ?', [depositId]);
    expect(row).toMatchObject({ revoked_by: 'sender dr.who@clinic.example', wrapped_key: null });
    expect(row?.shredded_at).not.toBeNull();
    const audit = await web.db.all<{ type: string; data: string }>("SELECT type, data FROM audit_log WHERE type IN ('portal:revoked', 'portal:shredded') ORDER BY seq");
    expect(audit.map((a) => a.type)).toEqual(['portal:revoked', 'portal:shredded']);
    expect(JSON.parse(audit[0]?.data ?? '{}')).toMatchObject({ depositId, operator: 'sender dr.who@clinic.example' });

    // the recipients' link now says so; the withdraw link says it is gone
    const recipientPage = await new Client(web.base).get(`/m/${recipientToken}`);
    expect(recipientPage.status).toBe(410);
    expect(await recipientPage.text()).toContain('This message was withdrawn');
    expect((await client.get(`/w/${withdrawToken}`)).status).toBe(410);
  });

  it.each([
    ['an unknown token', () => 'A'.repeat(43), 404],
    ['a malformed token', () => 'short', 404],
    ['a recipient link used as a withdraw link', () => recipientToken, 404],
  ])('answers %s with %d', async (_name, token, status) => {
    expect((await new Client(web.base).get(`/w/${token()}`)).status).toBe(status);
  });

  it('the withdraw mail carries the link and no content', () => {
    const mail = buildWithdrawMail({ branding: { organisationName: 'Example Clinic', colour: '#1f4e79' }, publicUrl: 'https://portal.example.org/', token: withdrawToken, sentAt: Date.UTC(2026, 11, 4, 9), expiresAt: Date.UTC(2027, 0, 3, 9) });
    expect(mail.link).toBe(`https://portal.example.org/w/${withdrawToken}`);
    expect(mail.text).toContain(mail.link);
    expect(mail.text).toContain('Friday, 4 December 2026, 09:00 UTC');
    expect(mail.subject).toBe('Example Clinic: your message was delivered securely');
    expect(() => buildWithdrawMail({ branding: { organisationName: 'E', colour: '#000000' }, publicUrl: 'https://x', token: 'bad', sentAt: 0, expiresAt: 1 })).toThrow(RangeError);
  });
});
