/**
 * `sealgate queue list` and `queue show` on real mail: a daemon delivering
 * through a dns2 zone to loopback MX sinks — one answers 451 to every
 * recipient (the mail stays deferred), one 550 (it bounces), one takes it.
 * The list names each message's recipients (the first 3, then "+N more")
 * and why it is still queued; a finished message stays visible to
 * `queue show` with each recipient's outcome, until queue.keepFinished has
 * passed and the daemon prunes it. Nothing prints content or the subject.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestConfigOptions, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';

let setup: TestSetup;
let gw: RunningGateway;
let zone: DnsZone;
const mx: MxServer[] = [];
const SUBJECT = 'Team lunch plans for Friday';
const BODY = 'Shall we meet at noon by the fountain?';
const message = `From: alice@example.com\r\nSubject: ${SUBJECT}\r\n\r\n${BODY}\r\n`;

const config = (keepFinished: string, port: number): TestConfigOptions => ({
  connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
  extra: {
    dns: { servers: [zone.server] },
    // a long backoff keeps the deferred message deferred while the test looks at it
    delivery: { enabled: true, port, defaultRequirement: 'may', retry: { backoff: ['1h'], maxLifetime: '5d' }, connectTimeout: '5s' },
    queue: { keepFinished },
  },
});

const cli = (...args: string[]) => runCli(['-c', setup.configPath, 'queue', ...args]);

beforeAll(async () => {
  setup = await setupGateway();
  const later = await startMxServer({ ip: '127.0.0.161', port: 0, rcpt: () => [451, '4.7.1 Greylisted, try again later'] });
  const port = later.port;
  mx.push(later, await startMxServer({ ip: '127.0.0.162', port, rcpt: () => [550, '5.1.1 No such user here'] }), await startMxServer({ ip: '127.0.0.163', port }));
  zone = await startDnsZone([
    { name: 'later.test', type: 'MX', exchange: 'mx.later.test', priority: 10 },
    { name: 'mx.later.test', type: 'A', address: '127.0.0.161' },
    { name: 'strict.test', type: 'MX', exchange: 'mx.strict.test', priority: 10 },
    { name: 'mx.strict.test', type: 'A', address: '127.0.0.162' },
    // the sender's domain, where the bounce's DSN goes
    { name: 'example.com', type: 'MX', exchange: 'mx.example.com', priority: 10 },
    { name: 'mx.example.com', type: 'A', address: '127.0.0.163' },
  ]);
  await setup.writeConfig(config('1h', port));
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all(mx.map((m) => m.close()));
  await zone?.close();
  await setup?.cleanup();
});

interface Listed { id: string; recipients: number; firstRecipients: { address: string; state: string }[]; moreRecipients: number; lastDeferral: { code: number | null; enhanced: string | null; mx: string | null; reason: string } | null }

describe('sealgate queue list', () => {
  it('shows each message with its first recipients, "+N more" and the last deferral reason, in text and JSON', async () => {
    const rcpts = ['r1', 'r2', 'r3', 'r4', 'r5'].map((r) => `${r}@later.test`);
    const id = await sendMessage(gw.port, 'alice@example.com', rcpts, message);
    expect(id).toMatch(/^[0-9A-Z]{20}$/);
    const listed = await until('the 451 answers recorded', async () => {
      const all = JSON.parse((await cli('list', '--json')).stdout) as Listed[];
      const m = all.find((x) => x.id === id);
      // every recipient's attempt finished (the domain's recipients may go out in more than one transaction at once)
      return m?.lastDeferral && m.firstRecipients.every((r) => r.state !== 'queued' && r.state !== 'in-flight') ? m : undefined;
    });
    expect(listed.recipients).toBe(5);
    expect(listed.firstRecipients).toEqual(rcpts.slice(0, 3).map((address) => ({ address, state: 'deferred' })));
    expect(listed.moreRecipients).toBe(2);
    expect(listed.lastDeferral).toMatchObject({ code: 451, mx: 'mx.later.test' });
    expect(listed.lastDeferral?.reason).toContain('Greylisted, try again later');

    const text = await cli('list');
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith(id));
    expect(lines[at]).toMatch(/\s5\s+deferred:5\s+alice@example\.com$/);
    expect(lines[at + 1]).toMatch(/^ {4}\(451 .*Greylisted, try again later — \d+[smh]\S* ago via mx\.later\.test\)$/);
    expect(lines.slice(at + 2, at + 6)).toEqual(['    r1@later.test  deferred', '    r2@later.test  deferred', '    r3@later.test  deferred', '    +2 more']);
    expect(text.stdout).not.toContain(SUBJECT);
    expect(text.stdout).not.toContain(BODY);
  });

  it('is bounded by --limit (oldest first) and says how many there are in all', async () => {
    await sendMessage(gw.port, 'alice@example.com', ['solo@later.test'], message);
    const one = await cli('list', '--limit', '1');
    expect(one.stdout).toMatch(/^-- 1 of \d+ messages \(oldest first; --limit for more\), \d+ bytes$/m);
    expect(JSON.parse((await cli('list', '--limit', '1', '--json')).stdout)).toHaveLength(1);
    // the counts per state stay one command away
    expect((await cli('stats')).stdout).toMatch(/deferred [1-9]/);
  });
});

describe('a finished message in sealgate queue show', () => {
  let bounced = '';

  it('explains a bounce after the message left the queue: state, times and the remote reply per recipient', async () => {
    bounced = await sendMessage(gw.port, 'alice@example.com', ['nobody@strict.test'], message);
    const shown = await until('the message to finish', async () => {
      const r = await cli('show', bounced, '--json');
      const out = r.code === 0 ? (JSON.parse(r.stdout) as { finished?: boolean }) : undefined;
      return out?.finished ? out : undefined;
    });
    expect(shown).toMatchObject({ id: bounced, finished: true, outcome: 'bounced', sender: 'alice@example.com', connector: 'loopback' });
    expect((shown as { recipients: unknown[] }).recipients).toEqual([
      expect.objectContaining({ address: 'nobody@strict.test', state: 'bounced', attempts: 1, lastCode: 550, lastEnhanced: '5.1.1', lastMx: 'mx.strict.test' }),
    ]);
    // it is gone from the queue itself
    expect((JSON.parse((await cli('list', '--json')).stdout) as Listed[]).map((m) => m.id)).not.toContain(bounced);

    const text = await cli('show', bounced);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^finished at: \S+ — bounced; no longer in the queue/m);
    expect(text.stdout).toMatch(/1\. nobody@strict\.test {2}bounced {2}attempts 1/);
    expect(text.stdout).toMatch(/last reply \S+ via mx\.strict\.test: 550 5\.1\.1 .*No such user here/);
    expect(text.stdout).not.toContain(SUBJECT);
    expect(text.stdout).not.toContain(BODY);
  });

  it('is pruned by the daemon once queue.keepFinished has passed', async () => {
    expect(bounced).not.toBe('');
    await gw.stop();
    await setup.writeConfig(config('1s', mx[0]?.port ?? 0));
    // finished more than a second ago by now: the daemon's first prune (at start) removes it
    gw = await startGateway(setup.configPath);
    const pruned = await gw.waitForEvent('QUEUE_FINISHED_PRUNED');
    expect(pruned.count).toBeGreaterThanOrEqual(1);
    const gone = await cli('show', bounced);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`no queued message ${bounced}`);
  });
});
