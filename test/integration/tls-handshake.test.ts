/**
 * A TLS handshake that never completes does not hold a session: a client
 * that answers 220 to STARTTLS with FIN (or with plaintext and then FIN) is
 * closed at once, and one that goes silent is closed after
 * smtp.tlsHandshakeTimeoutMs — long before the idle timeout. On the implicit
 * TLS listener too. The daemon's descriptors return to where they were.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { RawSmtp } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';
import { openFds } from '../helpers/fds.js';

let setup: TestSetup;
let gw: RunningGateway;

beforeAll(async () => {
  setup = await setupGateway();
  const cert = { certFile: join(setup.dir, 'certs', 'server.crt'), keyFile: join(setup.dir, 'certs', 'server.key') };
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }],
    listeners: [
      { name: 'relay', host: '127.0.0.1', port: 0, tls: 'starttls', ...cert },
      { name: 'smtps', host: '127.0.0.1', port: 0, tls: 'implicit', ...cert },
    ],
    // the idle timeout stays at its 5 minutes: only the handshake limit can close these sessions in time
    smtp: { tlsHandshakeTimeoutMs: 1000 },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await setup?.cleanup();
});

/** A raw socket on the plain listener that has had its 220 to STARTTLS. */
async function afterStarttls(pipelined = ''): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect(gw.ports.get('relay') ?? 0, '127.0.0.1');
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await until('greeting', () => text.includes('220 '), { timeoutMs: 10_000 });
  socket.write(`EHLO client.test\r\nSTARTTLS\r\n${pipelined}`);
  await until('220 to STARTTLS', () => /\r\n220 [^\r]*TLS/i.test(text), { timeoutMs: 10_000, context: () => text });
  return { socket, closed };
}

/** Resolves true if `closed` settles first, false after the deadline (a bound, not a measurement). */
function closesWithin(closed: Promise<void>, ms: number): Promise<boolean> {
  return Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
}

describe('TLS handshake bounds', () => {
  it('closes a session whose client sends FIN during the STARTTLS handshake, and releases its descriptor', async () => {
    // warm up so lazily opened descriptors are in the baseline
    const { client } = await RawSmtp.connect(gw.ports.get('relay') ?? 0);
    await client.command('EHLO warm.test');
    await client.quit();
    await new Promise((r) => setTimeout(r, 300));
    const baseline = await openFds(gw.proc.pid ?? 0);
    const sessions = await Promise.all(Array.from({ length: 20 }, (_, i) => afterStarttls(i % 2 ? 'MAIL FROM:<a@example.com>\r\nQUIT\r\n' : '')));
    for (const s of sessions) s.socket.end();
    // the server closes its side at once: without the fix these sessions stayed open for the idle timeout
    expect(await Promise.all(sessions.map((s) => closesWithin(s.closed, 20_000)))).toEqual(sessions.map(() => true));
    let fds = 0;
    await until('descriptors back at baseline', async () => (fds = await openFds(gw.proc.pid ?? 0)) <= baseline, { timeoutMs: 20_000, context: () => `${fds} open, baseline ${baseline}` });
    expect(gw.proc.exitCode).toBe(null);
  });

  it('closes a session whose client starts STARTTLS and then sends nothing, after tlsHandshakeTimeoutMs', async () => {
    const { socket, closed } = await afterStarttls();
    expect(await closesWithin(closed, 20_000)).toBe(true);
    socket.destroy();
  });

  it('closes a silent client on the implicit-TLS listener after tlsHandshakeTimeoutMs', async () => {
    const socket = connect(gw.ports.get('smtps') ?? 0, '127.0.0.1');
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(await closesWithin(closed, 20_000)).toBe(true);
  });

  it('still completes an ordinary STARTTLS session', async () => {
    const { client } = await RawSmtp.connect(gw.ports.get('relay') ?? 0);
    await client.command('EHLO client.test');
    expect((await client.starttls({ ca: setup.pki.ca.certPem, servername: 'localhost' })).code).toBe(220);
    expect((await client.command('EHLO client.test')).code).toBe(250);
    expect((await client.command('MAIL FROM:<alice@example.com>')).code).toBe(250);
    await client.quit();
  });
});
