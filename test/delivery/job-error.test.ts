/**
 * An unexpected error in a delivery job (here a corrupt queue row: the
 * message's header rewrite is not JSON, so building what is sent throws)
 * through the real daemon (SQLite), a dns2 zone and a loopback MX: it counts
 * as a temporary failure of the recipient — attempts go up by the backoff
 * schedule, the reason recorded is PHI-free — and at the queue's maximum
 * age the recipient expires and the sender gets a DSN, instead of the job
 * being retried for ever without counting. The log says so and quotes
 * nothing of the row.
 *
 * The message is accepted, inspected and archived with delivery off; the
 * row is corrupted while the daemon is stopped (its lifetime starting then),
 * and the daemon started again with delivery on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorFacts, jobErrorReply } from '../../src/delivery/engine.js';
import { SealgateError } from '../../src/errors.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { auditEvents, queueShow, setupGateway, startGateway, type RunningGateway, type TestConfigOptions, type TestSetup } from '../helpers/gateway.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { withDb } from '../helpers/spool-reader.js';
import { until } from '../helpers/wait.js';

const MARKER = 'CORRUPT-ROW-MARKER';

let setup: TestSetup;
let zone: DnsZone;
let mx: MxServer;
let gw: RunningGateway | undefined;

function options(delivery: Record<string, unknown>, port: number): TestConfigOptions {
  return {
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: { dns: { servers: [zone.server] }, delivery: { port, defaultRequirement: 'none', ...delivery } },
  };
}

beforeAll(async () => {
  mx = await startMxServer({ ip: '127.0.0.73', port: 0 });
  zone = await startDnsZone([
    { name: 'job.test', type: 'MX', exchange: 'mx.job.test', priority: 10 },
    { name: 'mx.job.test', type: 'A', address: '127.0.0.73' },
    // the sender's domain, where the DSN goes
    { name: 'example.com', type: 'MX', exchange: 'mx.example.com', priority: 10 },
    { name: 'mx.example.com', type: 'A', address: '127.0.0.73' },
  ]);
  setup = await setupGateway();
  await setup.writeConfig(options({ enabled: false }, mx.port));
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await mx?.close();
  await zone?.close();
  await setup?.cleanup();
});

interface Row {
  state: string;
  attempts: number;
  last_code: number | null;
  last_enhanced: string | null;
  last_error: string | null;
}

describe('an unexpected delivery-job error', () => {
  it('counts as a temporary failure: attempts rise by the backoff, then the recipient expires with a DSN', async () => {
    gw = await startGateway(setup.configPath);
    const id = await sendMessage(gw.port, 'alice@example.com', ['bob@job.test'], 'From: alice@example.com\r\nTo: bob@job.test\r\nSubject: job error\r\n\r\nhello\r\n');
    await until('inspected and archived', async () => (await withDb(setup.dataDir, (db) => db.get<{ a: number }>('SELECT archived AS a FROM messages WHERE id = ? AND inspected = 1', [id])))?.a === 1);
    await gw.stop();
    // a corrupt row; its lifetime starts now, so the daemon's start-up is not counted in it
    await withDb(setup.dataDir, (db) => db.run('UPDATE messages SET rewrite = ?, created_at = ? WHERE id = ?', [`{"addHeaders": ${MARKER}`, Date.now(), id]));
    await setup.writeConfig(options({ enabled: true, retry: { backoff: ['1s'], maxLifetime: '20s' } }, mx.port));
    gw = await startGateway(setup.configPath);
    const running = gw;
    const context = (): string => running.stdout.slice(-3000);

    const row = (): Promise<Row | undefined> => withDb(setup.dataDir, (db) => db.get<Row>('SELECT state, attempts, last_code, last_enhanced, last_error FROM recipients WHERE message_id = ?', [id]));
    const retried = await until('two attempts counted', async () => {
      const r = await row();
      return r && r.attempts >= 2 && r.state === 'deferred' ? r : undefined;
    }, { context });
    expect(retried).toMatchObject({ last_code: 451, last_enhanced: '4.3.0', last_error: 'Sealgate internal error during the delivery attempt (internal error); counted as a temporary failure' });

    // the queue's maximum age: expired, the message leaves the queue, the sender gets a DSN
    const dsn = await until('the DSN at the sender\'s MX', () => mx.received.find((m) => m.to.some((t) => t.address === 'alice@example.com')), { context, timeoutMs: 90_000 });
    const text = dsn.body.toString('utf8');
    expect(text).toMatch(/^Action: failed$/m);
    expect(text).toMatch(/^Final-Recipient: rfc822;\s*bob@job\.test$/m);
    expect(text).toMatch(/^Diagnostic-Code: smtp; 451 4\.3\.0 Sealgate internal error during the delivery attempt \(internal error\)/m);
    const shown = await queueShow(setup.configPath, id);
    expect(shown.recipients).toMatchObject([{ address: 'bob@job.test', state: 'expired' }]);
    expect(mx.received.some((m) => m.to.some((t) => t.address === 'bob@job.test'))).toBe(false);

    const attempts = (await auditEvents(setup.configPath, 500)).filter((e) => e.type === 'delivery:attempt' && e.data.queueId === id);
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.slice(0, -1).every((e) => e.data.outcome === 'deferred' && e.data.reply === '451 4.3.0')).toBe(true);
    expect(attempts.at(-1)?.data).toMatchObject({ outcome: 'expired', reply: '451 4.3.0' });

    const errors = running.logLines().filter((l) => l.event === 'DELIVERY_JOB_ERROR');
    expect(errors.length).toBe(attempts.length);
    expect(errors[0]).toMatchObject({ queueId: id, reason: 'internal error', recipients: 1, err: { name: 'SyntaxError' } });
    expect(errors[0]?.msg).toMatch(/recorded as a temporary failure of its recipients \(attempt counted\)/);
    // nothing of the corrupt row (a JSON.parse error message quotes its input) in the log
    expect(running.stdout).not.toContain(MARKER);
  });
});

describe('jobErrorReply and errorFacts (pure)', () => {
  it.each([
    ['a SealgateError: its code', new SealgateError('SG_STORAGE_FAILED', { message: 'spool read failed' }), 'SG_STORAGE_FAILED'],
    ['another error: "internal error"', new SyntaxError(`Unexpected token in JSON "${MARKER}"`), 'internal error'],
    ['a thrown string: "internal error"', MARKER, 'internal error'],
  ])('%s', (_what, err, reason) => {
    const reply = jobErrorReply(err);
    expect(reply.reason).toBe(reason);
    expect(reply.text).toBe(`Sealgate internal error during the delivery attempt (${reason}); counted as a temporary failure`);
    expect(JSON.stringify(errorFacts(err))).not.toContain(MARKER);
  });

  it.each([
    [new SealgateError('SG_STORAGE_FAILED', { message: 'spool read failed' }), { name: 'SealgateError', code: 'SG_STORAGE_FAILED', message: 'spool read failed' }],
    [new TypeError(`cannot read ${MARKER}`), { name: 'TypeError' }],
    ['a string', { name: 'string' }],
  ])('errorFacts(%s) keeps the class, a SealgateError\'s code and message, and code locations only', (err, facts) => {
    const out = errorFacts(err);
    expect(out).toMatchObject(facts);
    if (err instanceof Error) expect(out.at?.every((l) => l.startsWith('at '))).toBe(true);
    if (!(err instanceof SealgateError)) expect(out.message).toBeUndefined();
  });
});
