/**
 * The console's export and admin pages over HTTPS on the real daemon
 * (admin.enabled), over real archive entries and a real queue: three
 * messages accepted over SMTP, inspected and archived, left queued
 * (delivery off). Users made with `sealgate console-users add`, codes from
 * the printed otpauth URI.
 *
 *   - export as auditor-content with content: the form, POST with CSRF, the
 *     job's page, the download (attachment; the ZIP written under
 *     dataDir/exports, then kept only encrypted in the object store, file
 *     0600, until the download), `sealgate archive verify-export` accepts
 *     it, `archive:exported` via console;
 *   - export as a plain auditor: no content whatever the form says; another
 *     user cannot see or download it; a POST without CSRF is 403; at most
 *     5 exports per user waiting for download; an export that selects
 *     nothing fails on its page, with no file and no record;
 *   - admin: the configuration without the master key or any code secret;
 *     hold, release and delete through the queue page, audited as the CLI's
 *     with via console; users: add (the URI shown once works), reset MFA,
 *     disable (their session ends), not oneself;
 *   - an auditor gets 403 on every admin page and action, each audited.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/console/totp.js';
import { auditEvents, runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';
import { Client, csrfOf, secretOfUri, type Response } from './console-web-helper.js';

const PASSWORD = 'correct horse battery staple';
const MARKER = 'ADMIN-EXPORT-MARKER';

let setup: TestSetup;
let gw: RunningGateway;
let port: number;
let work: string;
const ids: string[] = [];
const secrets = new Map<string, Buffer>();
const clients = new Map<string, Client>();

async function addUser(name: string, role: string): Promise<void> {
  const r = await runCli(['-c', setup.configPath, 'console-users', 'add', name, '--role', role, '--password-stdin'], { input: `${PASSWORD}\n` });
  expect(r.code).toBe(0);
  secrets.set(name, secretOfUri(/^otpauth:\/\/totp\/\S+$/m.exec(r.stdout)?.[0] ?? ''));
}

async function signIn(name: string, secret = secrets.get(name) ?? Buffer.alloc(0)): Promise<Client> {
  const c = new Client(port, setup.pki.ca.certPem);
  const r = await c.signIn(name, PASSWORD, totpCode(secret, Date.now()));
  expect(r.status).toBe(303);
  return c;
}

function client(name: string): Client {
  const c = clients.get(name);
  if (!c) throw new Error(`${name} is not signed in`);
  return c;
}

async function events(type: string): Promise<Record<string, unknown>[]> {
  return (await auditEvents(setup.configPath, 1000)).filter((e) => e.type === type).map((e) => e.data);
}

/** Follows a POST's 303 to the export's page and waits until it is no longer running. */
async function finishedExport(c: Client, started: Response): Promise<{ path: string; page: Response }> {
  expect(started.status).toBe(303);
  const path = String(started.headers.location);
  expect(path).toMatch(/^\/export\/[0-9a-f]{32}$/);
  const page = await until('the export finished', async () => {
    const p = await c.get(path);
    return p.body.includes('http-equiv="refresh"') ? undefined : p;
  });
  return { path, page };
}

beforeAll(async () => {
  setup = await setupGateway();
  work = await mkdtemp(join(tmpdir(), 'sealgate-admin-test-'));
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      inspection: { enabled: true },
      admin: { enabled: true, listen: { host: '127.0.0.1', port: 0 }, certFile: join(setup.dir, 'certs', 'server.crt'), keyFile: join(setup.dir, 'certs', 'server.key') },
    },
  });
  gw = await startGateway(setup.configPath);
  port = Number((await gw.waitForEvent('CONSOLE_LISTENING')).port);
  for (const [i, to] of ['carol@dest.test', 'dave@dest.test', 'erin@dest.test'].entries()) {
    const mail = ['From: alice@example.com', `To: ${to}`, `Subject: Admin test ${i}`, `Message-ID: <admin-${i}@example.com>`, '', `Body ${i} ${MARKER}`, ''].join('\r\n');
    ids.push(await sendMessage(gw.port, 'alice@example.com', [to], mail));
  }
  await until('the messages archived', async () => {
    const rows = await withDb(setup.dataDir, (db) => db.all<{ id: string }>('SELECT id FROM archive_messages'));
    return ids.every((id) => rows.some((r) => r.id === id));
  }, { context: () => gw.stdout.slice(-3000) });
  for (const [name, role] of [['ann', 'auditor'], ['cora', 'auditor-content'], ['root', 'admin']] as const) {
    await addUser(name, role);
    clients.set(name, await signIn(name));
  }
}, 180_000);

afterAll(async () => {
  await gw?.stop();
  await setup?.cleanup();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('export', () => {
  it('auditor-content: starts an export with content, downloads it once (kept encrypted in the object store until then), and verify-export accepts it', async () => {
    const c = client('cora');
    const form = await c.get('/export');
    expect(form.status).toBe(200);
    // content is a choice: the box is not ticked until the user ticks it
    expect(form.body).toContain('name="content" value="yes" aria-describedby="content-hint">');
    const { path, page } = await finishedExport(c, await c.post('/export', { csrf: csrfOf(form.body), from: 'alice@example.com', content: 'yes' }));
    expect(page.status).toBe(200);
    expect(page.body).toContain('3 entries, 3 messages: ready');
    const dir = join(setup.dataDir, 'exports');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    // the ZIP was written there and is gone once encrypted into the object store (dataDir/store, file 0600)
    expect(await readdir(dir)).toEqual([]);
    const object = join(setup.dataDir, 'store', 'objects', 'exports', `${path.slice('/export/'.length)}@`);
    expect((await stat(object)).mode & 0o777).toBe(0o600);
    const sealed = await readFile(object);
    expect(sealed.subarray(0, 8).toString('latin1')).toBe('SGSPOOL1');
    expect(sealed.includes(Buffer.from('PK\x03\x04', 'latin1'))).toBe(false);
    expect(sealed.includes(Buffer.from(MARKER))).toBe(false);

    const download = await c.get(`${path}/download`);
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('application/zip');
    expect(download.headers['content-disposition']).toMatch(/^attachment; filename="sealgate-export-\d{8}T\d{6}Z\.zip"$/);
    expect(download.headers['cache-control']).toBe('no-store');
    const zip = join(work, 'cora.zip');
    await writeFile(zip, download.bytes);
    const verified = await runCli(['archive', 'verify-export', zip, '--json']);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, entries: 3, messages: 3, content: true });

    expect(download.bytes.subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');
    // one download: the object and the job are gone
    await until('the object removed', async () => (await stat(object).catch(() => undefined)) === undefined);
    expect((await c.get(`${path}/download`)).status).toBe(404);
    expect((await c.get(path)).status).toBe(404);
    expect((await events('archive:exported')).at(-1)).toEqual({ operator: 'cora', via: 'console', filters: ['from'], entries: 3, content: 'yes', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  }, 60_000);

  it('a plain auditor exports metadata and evidence only, whatever the form says; nobody else can see or download it; CSRF is required', async () => {
    const c = client('ann');
    const form = await c.get('/export');
    expect(form.body).not.toContain('name="content"');
    expect((await c.post('/export', { csrf: 'forged', content: 'yes' })).status).toBe(403);
    const { path, page } = await finishedExport(c, await c.post('/export', { csrf: csrfOf(form.body), queueId: ids[0] ?? '', content: 'yes' }));
    expect(page.body).toContain('1 entry, no message content: ready');
    // another user: as if there were no such export
    expect((await client('cora').get(path)).status).toBe(404);
    expect((await client('cora').get(`${path}/download`)).status).toBe(404);
    const download = await c.get(`${path}/download`);
    expect(download.status).toBe(200);
    expect(download.bytes.includes(Buffer.from(MARKER))).toBe(false);
    const zip = join(work, 'ann.zip');
    await writeFile(zip, download.bytes);
    const verified = await runCli(['archive', 'verify-export', zip, '--json']);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, entries: 1, content: false });
    expect((await events('archive:exported')).at(-1)).toMatchObject({ operator: 'ann', via: 'console', filters: ['queueId'], entries: 1, content: 'no' });
  }, 60_000);

  it('a user keeps at most 5 exports waiting for download: the sixth is refused until one is downloaded', async () => {
    const c = client('cora');
    const csrf = csrfOf((await c.get('/export')).body);
    const paths: string[] = [];
    for (let i = 0; i < 5; i++) paths.push((await finishedExport(c, await c.post('/export', { csrf, queueId: ids[i % 3] ?? '' }))).path);
    const refused = await c.post('/export', { csrf, queueId: ids[0] ?? '' });
    expect(refused.status).toBe(409);
    expect(refused.body).toContain('as many exports waiting for download as one user may keep');
    // the form lists them, newest first, each linked
    for (const p of paths) expect(refused.body).toContain(`href="${p}"`);
    expect((await c.get(`${paths[0] ?? ''}/download`)).status).toBe(200);
    await until('the download removed', async () => (await c.get(paths[0] ?? '')).status === 404);
    const again = await c.post('/export', { csrf, queueId: ids[0] ?? '' });
    expect(again.status).toBe(303);
    await finishedExport(c, again);
  }, 60_000);

  it('an export that selects nothing fails on its page with the reason, leaves no file and no audit record', async () => {
    const c = client('ann');
    const before = (await events('archive:exported')).length;
    // the ZIPs being written, and the encrypted ones in the object store
    const exportFiles = async () => [...(await readdir(join(setup.dataDir, 'exports'))), ...(await readdir(join(setup.dataDir, 'store', 'objects', 'exports')).catch(() => []))].sort();
    const files = await exportFiles();
    const { page } = await finishedExport(c, await c.post('/export', { csrf: csrfOf((await c.get('/export')).body), from: 'nobody@example.com' }));
    expect(page.body).toContain('role="alert"');
    expect(page.body).toContain('The export failed: no archive entry matches the search: nothing to export');
    expect(page.body).not.toContain('/download');
    // (the other user's exports waiting for download are there still; this one added nothing, not even a partial file)
    expect(await exportFiles()).toEqual(files);
    expect((await events('archive:exported')).length).toBe(before);
  }, 30_000);

  it('a filter that does not parse shows the form again with the reason', async () => {
    const c = client('cora');
    const form = await c.get('/export');
    const r = await c.post('/export', { csrf: csrfOf(form.body), since: 'yesterday-ish' });
    expect(r.status).toBe(400);
    expect(r.body).toContain('role="alert"');
    expect(r.body).toContain('value="yesterday-ish"');
  });
});

describe('admin pages', () => {
  it('an auditor gets 403 on every admin page and action, each refusal audited', async () => {
    const c = client('ann');
    const page = await c.get('/export');
    const before = (await events('console:admin_refused')).length;
    for (const path of ['/admin/config', '/admin/queue', '/admin/users']) expect((await c.get(path)).status).toBe(403);
    expect((await c.post(`/admin/queue/${ids[0] ?? ''}/hold`, { csrf: csrfOf(page.body) })).status).toBe(403);
    expect((await c.post('/admin/users', { csrf: csrfOf(page.body), name: 'mallory', role: 'admin', password: PASSWORD })).status).toBe(403);
    expect((await events('console:admin_refused')).slice(before)).toEqual([
      { operator: 'ann', via: 'console', page: 'config' },
      { operator: 'ann', via: 'console', page: 'queue' },
      { operator: 'ann', via: 'console', page: 'users' },
      { operator: 'ann', via: 'console', page: 'queue' },
      { operator: 'ann', via: 'console', page: 'users' },
    ]);
    await withDb(setup.dataDir, async (db) => expect(await db.get("SELECT name FROM console_users WHERE name = 'mallory'")).toBeUndefined());
  }, 30_000);

  it('the configuration page shows the running config without the master key or any code secret', async () => {
    const r = await client('root').get('/admin/config');
    expect(r.status).toBe(200);
    expect(r.body).toContain('masterKeyFile');
    expect(r.body).toContain(setup.configPath);
    const keyFile = (await readFile(setup.masterKeyFile, 'utf8')).trim();
    const keyHex = keyFile.slice(-64);
    expect(keyHex).toMatch(/^[0-9a-f]{64}$/);
    expect(r.body).not.toContain(keyHex);
    expect(r.body.toLowerCase()).not.toContain(keyHex.toLowerCase());
    for (const secret of secrets.values()) {
      expect(r.body).not.toContain(new Secret({ buffer: new Uint8Array(secret).buffer }).base32);
      expect(r.body).not.toContain(secret.toString('hex'));
    }
  });

  it('queue: hold, release and delete, each audited as the CLI does with via console; no subject or sender shown', async () => {
    const c = client('root');
    const list = await c.get('/admin/queue');
    expect(list.status).toBe(200);
    for (const id of ids) expect(list.body).toContain(id);
    expect(list.body).not.toContain('Admin test');
    expect(list.body).not.toContain('alice@example.com');
    const [first, , third] = ids as [string, string, string];
    const state = (id: string) => withDb(setup.dataDir, (db) => db.all<{ state: string }>('SELECT state FROM recipients WHERE message_id = ?', [id]));

    expect((await c.post(`/admin/queue/${first}/hold`, { csrf: 'forged' })).status).toBe(403);
    expect(await state(first)).toEqual([{ state: 'queued' }]);
    const held = await c.post(`/admin/queue/${first}/hold`, { csrf: csrfOf(list.body) });
    expect(held.status).toBe(200);
    expect(held.body).toContain(`Held ${first}: 1 recipient.`);
    expect(await state(first)).toEqual([{ state: 'held' }]);
    const released = await c.post(`/admin/queue/${first}/release`, { csrf: csrfOf(list.body) });
    expect(released.body).toContain(`Released ${first}: 1 recipient.`);
    expect(await state(first)).toEqual([{ state: 'queued' }]);
    // delete asks first: the button's POST shows a confirmation, which posts confirm=yes
    const ask = await c.post(`/admin/queue/${third}/delete`, { csrf: csrfOf(list.body) });
    expect(ask.status).toBe(200);
    expect(ask.body).toContain('name="confirm" value="yes"');
    expect(await state(third)).toEqual([{ state: 'queued' }]);
    const deleted = await c.post(`/admin/queue/${third}/delete`, { csrf: csrfOf(ask.body), confirm: 'yes' });
    expect(deleted.body).toContain(`Deleted ${third}: 1 recipient.`);
    expect(await state(third)).toEqual([]);
    const again = await c.post(`/admin/queue/${third}/delete`, { csrf: csrfOf(list.body), confirm: 'yes' });
    expect(again.status).toBe(409);
    expect(again.body).toContain(`no queued message ${third}`);

    expect((await events('queue:held')).at(-1)).toEqual({ queueId: first, operator: 'root', recipients: 1, via: 'console' });
    expect((await events('queue:released')).at(-1)).toEqual({ queueId: first, operator: 'root', recipients: 1, via: 'console' });
    expect((await events('queue:deleted')).at(-1)).toEqual({ queueId: third, operator: 'root', recipients: 1, via: 'console' });
  }, 30_000);

  it('users: add (the URI shown once signs in), reset MFA, disable ends their session, not oneself', async () => {
    const c = client('root');
    const page = await c.get('/admin/users');
    expect(page.status).toBe(200);
    for (const name of ['ann', 'cora', 'root']) expect(page.body).toContain(`<th scope="row">${name}`);
    const csrf = csrfOf(page.body);

    const short = await c.post('/admin/users', { csrf, name: 'newbie', role: 'auditor', password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body).toContain('password must be 12 to 1024 characters long');
    const added = await c.post('/admin/users', { csrf, name: 'newbie', role: 'auditor', password: PASSWORD });
    expect(added.status).toBe(200);
    const uri = /otpauth:\/\/totp\/[^<\s]+/.exec(added.body)?.[0] ?? '';
    expect(uri).not.toBe('');
    // the URI is shown once: the list afterwards does not have it
    expect((await c.get('/admin/users')).body).not.toContain('otpauth://');
    const newbie = await signIn('newbie', secretOfUri(uri.replace(/&amp;/g, '&')));
    expect((await newbie.get('/archive')).status).toBe(200);
    const taken = await c.post('/admin/users', { csrf, name: 'newbie', role: 'auditor', password: PASSWORD });
    expect(taken.status).toBe(400);
    expect(taken.body).toContain('already exists');

    const self = await c.post('/admin/users/root/disable', { csrf });
    expect(self.status).toBe(400);
    expect(self.body).toContain('You cannot disable yourself');
    const disabled = await c.post('/admin/users/newbie/disable', { csrf });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toContain('newbie is disabled');
    expect((await newbie.get('/archive')).status).toBe(303);

    const reset = await c.post('/admin/users/cora/reset-mfa', { csrf });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatch(/New code secret for cora/);
    expect(reset.body).toMatch(/otpauth:\/\/totp\//);
    expect((await client('cora').get('/export')).status).toBe(303);
    expect((await c.post('/admin/users/nobody/disable', { csrf })).status).toBe(404);

    expect((await events('console:user_added')).at(-1)).toEqual({ user: 'newbie', role: 'auditor', operator: 'root', via: 'console' });
    expect((await events('console:user_disabled')).at(-1)).toEqual({ user: 'newbie', operator: 'root', via: 'console' });
    expect((await events('console:mfa_reset')).at(-1)).toEqual({ user: 'cora', operator: 'root', via: 'console' });
  }, 60_000);
});
