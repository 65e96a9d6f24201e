/**
 * The console's pages as pure functions: hostile values from mail are
 * escaped (no markup, no bidi or control characters), the next-page link
 * keeps the filters, the "open content" form only for auditor-content and
 * never for a purged entry, every form field labelled, and the admin config
 * section's rules (HTTPS only when enabled).
 */
import { describe, expect, it } from 'vitest';
import type { SearchResult } from '../../src/archive/search.js';
import type { ShownEntry } from '../../src/archive/show.js';
import { adminSchema } from '../../src/console/config-schema.js';
import { renderPage, type Viewer } from '../../src/console/http/layout.js';
import { contentPage, entryPage, searchPage } from '../../src/console/http/pages-archive.js';
import { signInPage } from '../../src/console/http/pages.js';

const HOSTILE = '<script>alert(1)</script>"\u202e';
const ID = '01M92TB0XXBD6CAYZ44Y';

function entry(over: Partial<ShownEntry> = {}): ShownEntry {
  return {
    id: ID,
    origin: 'smtp',
    messageId: `x${HOSTILE}@example.com`,
    receivedAt: '2026-12-05T10:00:04.827Z',
    archivedAt: '2026-12-05T10:00:04.960Z',
    sender: `a${HOSTILE}@example.com`,
    senderDomain: 'example.com',
    connector: 'loopback',
    clientIp: '127.0.0.1',
    tlsVersion: 'TLSv1.3',
    authUser: null,
    size: 375,
    contentSha256: 'ab'.repeat(32),
    retainUntil: '2032-12-03T10:00:04.827Z',
    hold: false,
    purgedAt: null,
    subject: `Subject ${HOSTILE}`,
    verdict: { inspected: true, phi: true, findings: [{ category: 'MRN', count: 1 }] },
    recipients: [
      {
        seq: 1,
        address: 'carol@verified.test',
        domain: 'verified.test',
        bcc: false,
        method: 'tls-verified',
        requirement: 'verify',
        reasons: ['PHI: verified TLS'],
        keyFingerprint: null,
        keySource: null,
        state: 'delivered',
        attempts: 1,
        lastAttemptAt: '2026-12-05T10:00:05.188Z',
        finishedAt: '2026-12-05T10:00:05.188Z',
        tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: true },
        evidence: { mx: 'mx.verified.test', ip: '127.0.0.41', tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: true }, requirement: 'verify', reply: { code: 250, enhanced: '2.6.0', text: `2.6.0 Ok ${HOSTILE}` } },
      },
    ],
    ...over,
  };
}

const viewer = (role: Viewer['role']): Viewer => ({ name: 'cora', role, csrf: 'CSRFTOKEN' });

function expectSafe(html: string, bidi = false): void {
  expect(html).not.toContain('<script');
  if (!bidi) expect(html).not.toContain('\u202e');
  expect(html).toContain('&lt;script&gt;');
}

describe('console pages', () => {
  it('the entry page escapes every value from mail and shows the evidence in a captioned table', () => {
    const html = renderPage('/static/console.css?v=1', { ...entryPage(entry(), viewer('auditor-content')), viewer: viewer('auditor-content') });
    expectSafe(html);
    expect(html).toContain('<caption id="evidence-caption">Per-recipient evidence (1)</caption>');
    expect(html).toContain('TLSv1.3 TLS_AES_256_GCM_SHA384, certificate verified');
    expect(html).toContain('PHI; MRN \u00d71');
  });

  it.each<[Viewer['role'], string | null, boolean]>([
    ['auditor-content', null, true],
    ['auditor', null, false],
    ['auditor-content', '2026-12-06T00:00:00.000Z', false],
  ])('the open-content form for %s (purged %s): %s', (role, purgedAt, shown) => {
    const html = entryPage(entry({ purgedAt }), viewer(role)).main;
    expect(html.includes(`action="/archive/${ID}/content"`)).toBe(shown);
    if (shown) {
      expect(html).toContain('<label for="reason">');
      expect(html).toContain('name="csrf" value="CSRFTOKEN"');
      expect(html).toMatch(/id="reason"[^>]* required/);
    }
  });

  it('search results escape sender and recipients; the next-page link keeps the filters', () => {
    const result: SearchResult = {
      entries: [{ id: ID, origin: 'smtp', messageId: null, receivedAt: '2026-12-05T10:00:04.827Z', archivedAt: '2026-12-05T10:00:04.960Z', sender: `a${HOSTILE}`, connector: 'c', size: 1, phi: false, categories: [], hold: true, purged: false, recipientCount: 3, recipients: [{ address: `b${HOSTILE}`, method: null, state: 'queued' }] }],
      next: ID,
      plan: 'sender',
    } as unknown as SearchResult;
    const html = searchPage({ from: 'alice@example.com', subject: 'lab "x"' }, { result }).main;
    expectSafe(html);
    expect(html).toContain(`href="/archive?from=alice%40example.com&amp;subject=lab+%22x%22&amp;after=${ID}"`);
    expect(html).toContain('and 2 more');
    expect(html).toContain('legal hold');
    expect(html).toContain('value="lab &quot;x&quot;"');
    // every input has its label
    for (const m of html.matchAll(/<(?:input|select) class="field"[^>]* id="([^"]+)"/g)) expect(html).toContain(`<label for="${m[1]}">`);
  });

  it('the content page shows the message as escaped text only', () => {
    const html = contentPage(ID, `Subject: hi\r\n\r\n<img src=x onerror=alert(1)>${HOSTILE}`, 10, 20).main;
    expectSafe(html);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;/script&gt;&quot;?');
    expect(html).toContain('The first 10 of 20 bytes are shown.');
  });

  it('the sign-in page has the contract fields and keeps a typed name escaped', () => {
    const html = signInPage({ csrf: 'T', username: HOSTILE, problem: 'locked', lockedUntil: '2026-12-05 10:10:00' }).main;
    // what the user typed goes back into the field as typed (escaped): it is their own input
    expectSafe(html, true);
    expect(html).toMatch(/name="username"/);
    expect(html).toMatch(/type="password" id="password" name="password" autocomplete="current-password"/);
    expect(html).toMatch(/name="code" autocomplete="one-time-code"/);
    expect(html).toContain('locked until 2026-12-05 10:10:00 (UTC)');
  });
});

describe('admin config section', () => {
  it('defaults: off, loopback, port 8444', () => {
    expect(adminSchema().parse(undefined)).toEqual({ enabled: false, listen: { host: '127.0.0.1', port: 8444 } });
  });

  it.each<[Record<string, unknown>, string | undefined]>([
    [{ enabled: true }, 'certFile'],
    [{ enabled: true, certFile: 'c.pem' }, 'keyFile'],
    [{ enabled: true, certFile: 'c.pem', keyFile: 'k.pem' }, undefined],
    [{ enabled: false }, undefined],
    [{ listen: { host: 'example.org' } }, 'listen.host'],
    [{ listen: { port: 70000 } }, 'listen.port'],
  ])('%j → problem at %s', (input, path) => {
    const r = adminSchema().safeParse(input);
    if (path === undefined) expect(r.success).toBe(true);
    else {
      expect(r.success).toBe(false);
      expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(path);
    }
  });
});
