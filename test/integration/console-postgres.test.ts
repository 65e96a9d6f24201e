/**
 * The auditor console on PostgreSQL (issue 19): two gateway nodes (the built
 * daemon, two processes, two data directories, one master key) with
 * `admin.enabled: true` on one private PostgreSQL (test/helpers/postgres.ts)
 * and one s3rver (test/helpers/s3-server.ts; its limits are in that file),
 * delivering to one loopback MX sink:
 *   - both nodes start with the console on (the start no longer refuses it);
 *   - console users made with `sealgate console-users add` on PostgreSQL sign
 *     in with a TOTP code as an authenticator app computes it;
 *   - a session made on node A works on node B, and signing out on B ends it
 *     on A: the sessions live in the database, a load balancer needs no
 *     stickiness;
 *   - the audit page, the reports page (figures from the mail the nodes
 *     delivered and quarantined), the archive search, an entry's evidence and
 *     its content (from the bucket, with a reason), an export with content
 *     (started on node A, watched and downloaded on node B, accepted by
 *     `sealgate archive verify-export`, recorded as `archive:exported` via
 *     console, in the bucket only encrypted), a second export of the same
 *     user refused on node B while the first runs on node A (the bucket
 *     paused: s3-server.ts `pause`), the admin configuration and users
 *     pages (a user added on one node signs in on the other; disabling them
 *     ends that session) and the admin queue page with a release (`queue:released` via console), each read or done on
 *     PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/console/totp.js';
import { PostgresDatabase } from '../../src/db/postgres.js';
import { Client, csrfOf, secretOfUri, type Response } from '../console/console-web-helper.js';
import { filePaths } from '../helpers/files.js';
import { runCli, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import type { SharedStores } from '../helpers/shared-stores.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { startTwoNodes, type TwoNodes } from '../helpers/two-nodes.js';
import { until } from '../helpers/wait.js';

const PASSWORD = 'correct horse battery staple';
const MARKER = 'CONSOLE-PG-MARKER';

let cluster: TwoNodes;
let shared: SharedStores;
let a: TestSetup;
let nodes: RunningGateway[];
/** Each node's console port. */
const consolePorts: number[] = [];
const delivered: string[] = [];
let held = '';
const secrets = new Map<string, Buffer>();

function mail(to: string, subject: string, marker: string): string {
  return ['From: alice@example.com', `To: ${to}`, `Subject: ${subject}`, `Message-ID: <${randomUUID()}@example.com>`, '', `${marker} body`, ''].join('\r\n');
}

async function pgDb(): Promise<PostgresDatabase> {
  return PostgresDatabase.open({ url: shared.pg.url, password: shared.pg.password, poolSize: 2 });
}

async function addUser(name: string, role: string): Promise<void> {
  const r = await runCli(['-c', a.configPath, 'console-users', 'add', name, '--role', role, '--password-stdin'], { input: `${PASSWORD}\n` });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  secrets.set(name, secretOfUri(/^otpauth:\/\/totp\/\S+$/m.exec(r.stdout)?.[0] ?? ''));
}

/** A client of node `i`'s console signed in as `name` (the code as an authenticator app computes it now). */
async function signIn(i: number, name: string): Promise<Client> {
  const c = new Client(consolePorts[i] ?? 0, a.pki.ca.certPem);
  const r = await c.signIn(name, PASSWORD, totpCode(secrets.get(name) ?? Buffer.alloc(0), Date.now()));
  expect(r.status).toBe(303);
  return c;
}

/** A client of node `i`'s console holding the cookies `from` holds (a load balancer sending the browser elsewhere). */
function sameBrowser(from: Client, i: number): Client {
  const c = new Client(consolePorts[i] ?? 0, a.pki.ca.certPem);
  for (const [k, v] of from.jar) c.jar.set(k, v);
  return c;
}

async function auditData(type: string): Promise<Record<string, unknown>[]> {
  const db = await pgDb();
  try {
    return (await db.all<{ data: string }>('SELECT data FROM audit_log WHERE type = ? ORDER BY seq', [type])).map((r) => JSON.parse(r.data) as Record<string, unknown>);
  } finally {
    await db.close();
  }
}

const context = (): string => cluster.context();

beforeAll(async () => {
  cluster = await startTwoNodes({
    sink: { ip: '127.0.0.129' },
    domains: ['example.net', 'held.test'],
    objectsPrefix: 'console/',
    extra: (first, stores) => ({
      store: stores.store({ heartbeat: '2s' }),
      objects: stores.objects('console/', { timeout: '20s' }),
      delivery: { retry: { backoff: ['1s'] } },
      inspection: { enabled: true },
      policy: { rules: [{ id: 'hold-held-test', when: { recipients: ['held.test'] }, then: { action: 'quarantine' } }] },
      // both consoles speak HTTPS with the first node's development certificate
      admin: { enabled: true, listen: { host: '127.0.0.1', port: 0 }, certFile: join(first.dir, 'certs', 'server.crt'), keyFile: join(first.dir, 'certs', 'server.key') },
    }),
    started: async (gw) => {
      consolePorts.push(Number((await gw.waitForEvent('CONSOLE_LISTENING', 60_000)).port));
    },
  });
  ({ shared, nodes } = cluster);
  [a] = cluster.setups;
  const first = nodes[0] as RunningGateway;
  for (let i = 0; i < 3; i++) delivered.push(await sendMessage(first.port, 'alice@example.com', ['bob@example.net'], mail('bob@example.net', `Invoice ${i}`, `${MARKER}-${i}`)));
  held = await sendMessage((nodes[1] as RunningGateway).port, 'alice@example.com', ['erin@held.test'], mail('erin@held.test', 'Held', `${MARKER}-held`));
  const db = await pgDb();
  try {
    await until(
      'the mail archived, delivered or held',
      async () => {
        const rows = await db.all<{ archive_id: string; state: string }>('SELECT archive_id, state FROM archive_recipients');
        const state = (id: string) => rows.find((r) => r.archive_id === id)?.state;
        return delivered.every((id) => state(id) === 'delivered') && state(held) === 'held';
      },
      { timeoutMs: 90_000, context },
    );
  } finally {
    await db.close();
  }
  // one user per sign-in below: a code works once (each sign-in here falls in one 30-second step)
  await addUser('ann', 'auditor');
  await addUser('abe', 'auditor');
  await addUser('cora', 'auditor-content');
  await addUser('cora2', 'auditor-content');
  await addUser('cora3', 'auditor-content');
  await addUser('root', 'admin');
  await addUser('root2', 'admin');
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('the auditor console on two nodes sharing PostgreSQL', () => {
  it('a session made on node A works on node B, and signing out on B ends it on A', async () => {
    const onA = await signIn(0, 'ann');
    expect((await onA.get('/archive')).status).toBe(200);
    const onB = sameBrowser(onA, 1);
    const page = await onB.get('/audit');
    expect(page.status).toBe(200);
    // the sign-in node A recorded, read on node B
    expect(page.body).toContain('console:signed_in');
    const out = await onB.post('/sign-out', { csrf: csrfOf(page.body) });
    expect(out.status).toBe(303);
    // node A's browser still sends the cookie node B ended
    const after = await onA.get('/archive');
    expect(after.status).toBe(303);
    expect(after.headers.location).toBe('/sign-in?expired=1');
    expect((await auditData('console:signed_out')).map((d) => [d.user, d.reason])).toContainEqual(['ann', 'sign-out']);
  });

  it('the audit page, the reports page and the archive search read PostgreSQL, each view audited', async () => {
    const c = await signIn(1, 'abe');
    const audit = await c.get('/audit?stage=ingress');
    expect(audit.status).toBe(200);
    // the messages node A and node B accepted, in the one chain
    expect(audit.body).toContain('ingress:message_accepted');

    const day = new Date().toISOString().slice(0, 10);
    const reports = await c.get(`/reports?since=${day}&until=${day}`);
    expect(reports.status).toBe(200);
    expect(reports.body).toContain(`On ${day} (UTC): 4 messages to 4 recipients.`);
    const methods = /<table class="data"><caption id="table-methods-caption">[\s\S]*?<\/table>/.exec(reports.body)?.[0] ?? '';
    const header = [...methods.matchAll(/<th scope="col">([^<]+)<\/th>/g)].map((m) => m[1]);
    const totals = [...(/<tfoot>(.*?)<\/tfoot>/.exec(methods)?.[1] ?? '').matchAll(/<td class="num">(\d+)<\/td>/g)].map((m) => Number(m[1]));
    // the sink has no STARTTLS: the three delivered opportunistically; the fourth quarantined
    expect(Object.fromEntries(header.slice(1).map((h, i) => [h, totals[i]]))).toEqual({ 'tls-opportunistic': 3, quarantine: 1 });
    expect(reports.body).toMatch(/<tr><th scope="row">example.net<\/th><td class="num">3<\/td><td class="num">0<\/td>/);
    for (const secret of ['bob@', 'alice@', MARKER, 'Invoice']) expect(reports.body).not.toContain(secret);

    const search = await c.get('/archive?from=alice%40example.com');
    expect(search.status).toBe(200);
    for (const id of [...delivered, held]) expect(search.body).toContain(id);

    expect(await auditData('audit:viewed')).toContainEqual({ operator: 'abe', via: 'console', stage: 'ingress', events: expect.any(Number) as number });
    expect(await auditData('console:report_viewed')).toContainEqual({ operator: 'abe', via: 'console', since: day, until: day });
    expect(await auditData('archive:searched')).toContainEqual({ operator: 'abe', via: 'console', filters: ['from'], results: 4 });
  });

  it('the evidence page of an entry, and its content (read from the bucket) opened with a reason, recorded via console', async () => {
    const c = await signIn(1, 'cora');
    const id = delivered[0] ?? '';
    const entry = await c.get(`/archive/${id}`);
    expect(entry.status).toBe(200);
    expect(entry.body).toContain('bob@example.net');
    const form = await c.get(`/archive/${id}/content`);
    expect(form.status).toBe(200);
    const opened = await c.post(`/archive/${id}/content`, { csrf: csrfOf(form.body), reason: 'ticket 42' });
    expect(opened.status).toBe(200);
    expect(opened.body).toContain(`${MARKER}-0 body`);
    expect((await auditData('archive:read')).at(-1)).toEqual({ queueId: id, operator: 'cora', via: 'console' });
    expect((await auditData('archive:content_opened')).at(-1)).toEqual({ queueId: id, operator: 'cora', via: 'console', reason: 'ticket 42' });
  });

  it('an export with content: started on node A, watched and downloaded on node B, accepted by verify-export, only its ciphertext in the bucket, recorded via console', async () => {
    const c = await signIn(0, 'cora2');
    const form = await c.get('/export');
    expect(form.status).toBe(200);
    const started = await c.post('/export', { csrf: csrfOf(form.body), from: 'alice@example.com', content: 'yes' });
    expect(started.status).toBe(303);
    const path = String(started.headers.location);
    const id = path.slice('/export/'.length);
    // the load balancer sends the same browser to node B from here on
    const onB = sameBrowser(c, 1);
    const page = await until('the export finished', async () => {
      const p: Response = await onB.get(path);
      return p.body.includes('http-equiv="refresh"') ? undefined : p;
    });
    expect(page.status).toBe(200);
    expect(page.body).toContain('Ready');
    expect((await onB.get('/export')).body).toContain(`href="${path}"`);
    // in the bucket (s3rver's files: an object's bytes in KEY._S3rver_object, beside its metadata): the export's object,
    // encrypted on node A (SGSPOOL1); no ZIP signature, subject or body in any file under exports/
    const files = (await filePaths(shared.s3.dir)).filter((f) => f.includes(`${sep}exports${sep}`));
    const sealed = files.filter((f) => f.endsWith('._S3rver_object'));
    expect(sealed.map((f) => f.slice(f.lastIndexOf(sep) + 1))).toEqual([`${id}._S3rver_object`]);
    for (const f of files) {
      const bytes = await readFile(f);
      if (sealed.includes(f)) expect(bytes.subarray(0, 8).toString('latin1')).toBe('SGSPOOL1');
      for (const plain of ['PK\x03\x04', 'Invoice 0', `${MARKER}-0`]) expect(bytes.includes(Buffer.from(plain, 'latin1')), `${JSON.stringify(plain)} in ${f}`).toBe(false);
    }
    const download = await onB.get(`${path}/download`);
    expect(download.status).toBe(200);
    expect(download.headers['content-type']).toBe('application/zip');
    expect(Number(download.headers['content-length'])).toBe(download.bytes.length);
    const zip = join(a.dir, 'console-export.zip');
    await writeFile(zip, download.bytes);
    const verified = await runCli(['archive', 'verify-export', zip, '--json']);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, entries: 4, messages: 4 });
    const exported = (await auditData('archive:exported')).at(-1);
    expect(exported).toEqual({ operator: 'cora2', via: 'console', filters: ['from'], entries: 4, content: 'yes', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as string });
    // one download, on any node: the export is gone on both, its object from the bucket
    await until('the export removed', async () => (await c.get(path)).status === 404);
    expect((await onB.get(path)).status).toBe(404);
    expect((await filePaths(shared.s3.dir)).filter((f) => f.includes(id))).toEqual([]);
  });

  it('while an export runs on node A, a second one by the same user is refused on node B; its progress page answers on B', async () => {
    const c = await signIn(0, 'cora3');
    const form = await c.get('/export');
    const onB = sameBrowser(c, 1);
    const formB = await onB.get('/export');
    // the bucket stops answering: the export on node A waits for the first message's content, running
    shared.s3.pause();
    let path = '';
    try {
      const started = await c.post('/export', { csrf: csrfOf(form.body), from: 'alice@example.com', content: 'yes' });
      expect(started.status).toBe(303);
      path = String(started.headers.location);
      const running = await onB.get(path);
      expect(running.status).toBe(200);
      expect(running.body).toContain('http-equiv="refresh"');
      expect(running.body).toContain('Running');
      const refused = await onB.post('/export', { csrf: csrfOf(formB.body), from: 'alice@example.com' });
      expect(refused.status).toBe(409);
      expect(refused.body).toContain('You have an export running already');
      expect(refused.body).toContain(`href="${path}"`);
    } finally {
      shared.s3.resume();
    }
    // the bucket answers again: the export goes on to its end on node A, seen on node B
    const page = await until('the export finished', async () => {
      const p: Response = await onB.get(path);
      return p.body.includes('http-equiv="refresh"') ? undefined : p;
    }, { timeoutMs: 120_000, context });
    expect(page.body).toContain('Ready');
    expect((await onB.get(`${path}/download`)).status).toBe(200);
  }, 180_000);

  it('admin: the configuration page; a user added on node B signs in on node A, and disabling them on B ends that session', async () => {
    const c = await signIn(1, 'root2');
    const config = await c.get('/admin/config');
    expect(config.status).toBe(200);
    expect(config.body).toContain('postgres');
    expect(config.body).not.toContain(shared.pg.password);
    const page = await c.get('/admin/users');
    expect(page.status).toBe(200);
    const csrf = csrfOf(page.body);
    const added = await c.post('/admin/users', { csrf, name: 'newbie', role: 'auditor', password: PASSWORD });
    expect(added.status).toBe(200);
    const uri = /otpauth:\/\/totp\/[^<\s]+/.exec(added.body)?.[0] ?? '';
    expect(uri).not.toBe('');
    secrets.set('newbie', secretOfUri(uri.replace(/&amp;/g, '&')));
    const newbie = await signIn(0, 'newbie');
    expect((await newbie.get('/archive')).status).toBe(200);
    expect((await c.post('/admin/users/newbie/disable', { csrf })).status).toBe(200);
    const after = await newbie.get('/archive');
    expect(after.status).toBe(303);
    expect((await auditData('console:user_disabled')).at(-1)).toEqual({ user: 'newbie', operator: 'root2', via: 'console' });
  });

  it('the admin queue page lists the held message and releases it, recorded via console', async () => {
    const c = await signIn(1, 'root');
    const list = await c.get('/admin/queue');
    expect(list.status).toBe(200);
    expect(list.body).toContain(held);
    for (const id of delivered) expect(list.body).not.toContain(id);
    const released = await c.post(`/admin/queue/${held}/release`, { csrf: csrfOf(list.body) });
    expect(released.status).toBe(200);
    expect(released.body).toContain(`Released ${held}: 1 recipient.`);
    const db = await pgDb();
    try {
      // released before the answer: whatever delivery does with it next, it is no longer held
      const states = (await db.all<{ state: string }>('SELECT state FROM recipients WHERE message_id = ?', [held])).map((r) => r.state);
      expect(states).toHaveLength(1);
      expect(states).not.toContain('held');
    } finally {
      await db.close();
    }
    expect((await auditData('queue:released')).at(-1)).toEqual({ queueId: held, operator: 'root', recipients: 1, via: 'console' });
  });
});
