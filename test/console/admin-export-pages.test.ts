/**
 * The pure parts of the console's export and admin pages, table-driven:
 * export admission (one running export per user, a few in all), when a
 * finished export is removed, the progress text and page (a <progress>
 * element, "n of N messages", a self-reload only while it runs), the form's
 * filters and the download name; the configuration's redaction (secret keys,
 * PEM text, otpauth URIs; paths kept), the queue actions a message's states
 * allow, and that the admin pages escape what they show.
 */
import { describe, expect, it } from 'vitest';
import { admission, expired, type ExportJob } from '../../src/console/http/export-jobs.js';
import { renderPage } from '../../src/console/http/layout.js';
import { configPage, queueActions, queuePage, redactForDisplay, usersPage } from '../../src/console/http/pages-admin.js';
import { exportFormPage, exportJobPage, progressText } from '../../src/console/http/pages-export.js';
import { downloadName, exportFiltersOf } from '../../src/console/http/routes-export.js';

const LIMITS = { perUser: 1, total: 3, keptPerUser: 2 };

describe('export admission', () => {
  it.each<[string, { owner: string; state: ExportJob['state'] }[], string, ReturnType<typeof admission>]>([
    ['nothing running', [], 'ann', 'ok'],
    ['finished ones do not count as running', [{ owner: 'ann', state: 'done' }, { owner: 'ann', state: 'failed' }], 'ann', 'ok'],
    ['one running of the same user', [{ owner: 'ann', state: 'running' }], 'ann', 'user-busy'],
    ['one running of another user', [{ owner: 'bob', state: 'running' }], 'ann', 'ok'],
    ['three running in all', [{ owner: 'bob', state: 'running' }, { owner: 'cy', state: 'running' }, { owner: 'di', state: 'running' }], 'ann', 'busy'],
    ['own running first, even when full', [{ owner: 'ann', state: 'running' }, { owner: 'cy', state: 'running' }, { owner: 'di', state: 'running' }], 'ann', 'user-busy'],
    ['two waiting for download', [{ owner: 'ann', state: 'done' }, { owner: 'ann', state: 'done' }], 'ann', 'user-full'],
    ['failed ones keep no file', [{ owner: 'ann', state: 'done' }, { owner: 'ann', state: 'failed' }, { owner: 'ann', state: 'failed' }], 'ann', 'ok'],
  ])('%s', (_name, jobs, owner, verdict) => {
    expect(admission(jobs, owner, LIMITS)).toBe(verdict);
  });

  it.each<[ExportJob['state'], number | undefined, number, boolean]>([
    ['running', undefined, 10 * 3600_000, false],
    ['done', 0, 4 * 3600_000 - 1, false],
    ['done', 0, 4 * 3600_000, true],
    ['failed', 0, 4 * 3600_000, true],
  ])('expired: %s, finished at %s, now %i → %s', (state, finishedAt, now, gone) => {
    expect(expired({ state, ...(finishedAt !== undefined ? { finishedAt } : {}) }, now, 4 * 3600_000)).toBe(gone);
  });
});

function job(over: Partial<ExportJob>): ExportJob {
  return { id: 'a'.repeat(32), owner: 'cora', content: true, startedAt: Date.UTC(2026, 11, 5, 9, 0, 0), state: 'running', total: undefined, done: 0, bytes: 0, ...over };
}

describe('export pages', () => {
  it.each<[Partial<ExportJob>, string]>([
    [{ total: undefined }, 'Selecting the entries\u2026'],
    [{ total: 12, done: 5 }, '5 of 12 messages'],
    [{ content: false, total: 0 }, 'Writing the metadata and evidence\u2026'],
    [{ state: 'done', entries: 3, messages: 2 }, '3 entries, 2 messages: ready'],
    [{ state: 'done', content: false, entries: 1 }, '1 entry, no message content: ready'],
    [{ state: 'failed' }, 'failed'],
  ])('progressText %o → %s', (over, text) => {
    expect(progressText(job(over))).toBe(text);
  });

  it('a running content export shows a labelled <progress> with n of N, in a page that reloads itself every 2 seconds', () => {
    const page = exportJobPage(job({ total: 12, done: 5, bytes: 2048 }), 4 * 3600_000);
    expect(page.main).toContain('<label for="export-progress">Messages written</label>');
    expect(page.main).toContain('<progress id="export-progress" max="12" value="5" aria-describedby="export-status">');
    expect(page.main).toContain('5 of 12 messages');
    const html = renderPage('/s.css', { ...page, refreshSeconds: 2 });
    expect(html).toContain('<meta http-equiv="refresh" content="2">');
    expect(renderPage('/s.css', page)).not.toContain('http-equiv="refresh"');
  });

  it('a finished export links its download and says until when it stays; a failed one says why, escaped', () => {
    const done = exportJobPage(job({ state: 'done', entries: 3, messages: 3, bytes: 5000, manifestSha256: 'f'.repeat(64), finishedAt: Date.UTC(2026, 11, 5, 9, 1, 0) }), 4 * 3600_000);
    expect(done.main).toContain(`href="/export/${'a'.repeat(32)}/download"`);
    expect(done.main).toContain('2026-12-05 13:01:00Z');
    expect(done.main).toContain('f'.repeat(64));
    const failed = exportJobPage(job({ state: 'failed', problem: 'no <entry> matches' }), 1000);
    expect(failed.main).toContain('no &lt;entry&gt; matches');
  });

  it('the form keeps the filters (escaped), offers content only to the roles that may, and lists the user\u2019s exports', () => {
    const withContent = exportFormPage({ csrf: 'tok', raw: { from: 'a"b@example.com' }, mayContent: true, jobs: [job({ total: 2, done: 1 })] });
    expect(withContent.main).toContain('value="a&quot;b@example.com"');
    expect(withContent.main).toContain('name="content" value="yes" aria-describedby="content-hint">');
    expect(withContent.main).toContain('1 of 2 messages');
    const without = exportFormPage({ csrf: 'tok', raw: {}, mayContent: false, jobs: [] });
    expect(without.main).not.toContain('name="content"');
    expect(without.main).toContain('metadata and evidence only');
  });

  it('takes the search filters of a form without the paging cursor; names the download from the clock only', () => {
    expect(exportFiltersOf({ from: ' a@example.com ', since: '7d', after: 'X', subject: '', csrf: 't', content: 'yes' })).toEqual({ from: 'a@example.com', since: '7d' });
    expect(downloadName(Date.UTC(2026, 11, 5, 9, 30, 15, 123))).toBe('sealgate-export-20261205T093015Z.zip');
  });
});

describe('admin pages', () => {
  it('redacts secret keys, PEM text and otpauth URIs at any depth; keeps paths and other values', () => {
    const input = {
      keys: { masterKeyFile: '/etc/sealgate/master.key' },
      delivery: { smarthost: { host: 'relay.example', user: 'gw', passwordFile: '/etc/sealgate/relay.pass', password: 'hunter2hunter2' } },
      misc: [{ token: 'abc' }, { pem: '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----' }, 'otpauth://totp/x?secret=ABC', { clientSecret: 's', apiPassphrase: 'p' }],
      port: 25,
    };
    expect(redactForDisplay(input)).toEqual({
      keys: { masterKeyFile: '/etc/sealgate/master.key' },
      delivery: { smarthost: { host: 'relay.example', user: 'gw', passwordFile: '/etc/sealgate/relay.pass', password: '[redacted]' } },
      misc: [{ token: '[redacted]' }, { pem: '[redacted]' }, '[redacted]', { clientSecret: '[redacted]', apiPassphrase: '[redacted]' }],
      port: 25,
    });
    const page = configPage(input, '/etc/sealgate/sealgate.yaml');
    expect(page.main).not.toContain('hunter2');
    expect(page.main).not.toContain('MIIB');
    expect(page.main).toContain('/etc/sealgate/relay.pass');
  });

  it.each<[Record<string, number>, string[]]>([
    [{ queued: 1 }, ['hold', 'delete']],
    [{ deferred: 2, held: 1 }, ['hold', 'release', 'delete']],
    [{ held: 1 }, ['release', 'delete']],
    [{ 'in-flight': 1, queued: 1 }, ['hold']],
    [{ delivered: 1 }, ['delete']],
  ])('queue actions for %o → %o', (states, actions) => {
    expect(queueActions(states)).toEqual(actions);
  });

  it('the queue and users pages escape what they show and put the CSRF token in every form', () => {
    const q = queuePage({ counts: { queued: 1 }, messages: 1, bytes: 10, limit: 50, csrf: 'TOKEN', rows: [{ id: '0123456789ABCDEFGHJK', createdAt: 0, size: 10, recipients: 1, states: { queued: 1 }, lastReason: '451 4.7.0 <script>x</script>' }] });
    expect(q.main).toContain('&lt;script&gt;');
    expect(q.main).not.toContain('<script>');
    expect(q.main.match(/<form /g)?.length).toBe(q.main.match(/name="csrf" value="TOKEN"/g)?.length);
    const u = usersPage({ users: [{ name: 'root', role: 'admin', disabled: false, mfaUsed: true, lastSignInAt: null, lockedUntil: 0 }, { name: 'ann', role: 'auditor', disabled: false, mfaUsed: false, lastSignInAt: null, lockedUntil: 0 }], self: 'root', csrf: 'TOKEN', now: 0, notice: { kind: 'enrolled', name: 'ann', uri: 'otpauth://totp/a<b', added: true } });
    expect(u.main).toContain('otpauth://totp/a&lt;b');
    // no disable button for oneself
    expect(u.main).not.toContain('/admin/users/root/disable');
    expect(u.main).toContain('/admin/users/ann/disable');
    expect(u.main.match(/<form /g)?.length).toBe(u.main.match(/name="csrf" value="TOKEN"/g)?.length);
  });
});
