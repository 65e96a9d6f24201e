/**
 * The latency part's sink (bench/latency-sink.ts) is part of the harness: it
 * must answer like an MX, read pipelined and split messages, and note each
 * bench id once. Real SMTP sessions on loopback: nodemailer (pipelining, a
 * reused connection) and the raw client. Nothing here measures speed.
 */
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latencyMessage } from '../../bench/latency.js';
import { sinkReply, startLatencySink, type LatencySink } from '../../bench/latency-sink.js';
import { freePort } from '../helpers/postfix.js';
import { dataPayload, RawSmtp } from '../helpers/smtp-client.js';

describe('sinkReply', () => {
  it.each([
    { line: 'EHLO relay.test', code: '250-', data: undefined, quit: undefined },
    { line: 'ehlo relay.test', code: '250-', data: undefined, quit: undefined },
    { line: 'HELO relay.test', code: '250 ', data: undefined, quit: undefined },
    { line: 'MAIL FROM:<a@example.com>', code: '250 ', data: undefined, quit: undefined },
    { line: 'RCPT TO:<b@bench.test>', code: '250 ', data: undefined, quit: undefined },
    { line: 'RSET', code: '250 ', data: undefined, quit: undefined },
    { line: 'NOOP', code: '250 ', data: undefined, quit: undefined },
    { line: 'DATA', code: '354 ', data: true, quit: undefined },
    { line: 'QUIT', code: '221 ', data: undefined, quit: true },
    { line: 'STARTTLS', code: '502 ', data: undefined, quit: undefined },
    { line: 'BDAT 10 LAST', code: '502 ', data: undefined, quit: undefined },
    { line: '', code: '502 ', data: undefined, quit: undefined },
  ])('$line → $code', ({ line, code, data, quit }) => {
    const r = sinkReply(line);
    expect(r.reply.slice(0, 4)).toBe(code);
    expect(r.reply.endsWith('\r\n')).toBe(true);
    expect(r.data).toBe(data);
    expect(r.quit).toBe(quit);
  });
});

describe('the latency sink over real SMTP sessions', () => {
  let sink: LatencySink;
  beforeAll(async () => {
    sink = await startLatencySink('127.0.0.1', await freePort('127.0.0.1'));
  });
  afterAll(async () => {
    await sink.close();
  });

  it('greets at once, reads messages sent by nodemailer over one pipelined connection, and notes each bench id', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true, pool: true, maxConnections: 1 });
    try {
      const ids = ['n1', 'n2', 'n3'];
      const infos = await Promise.all(ids.map((id) => transport.sendMail({ envelope: { from: 'a@example.com', to: ['b@bench.test'] }, raw: latencyMessage(id) })));
      expect(infos.map((i) => i.response.slice(0, 3))).toEqual(['250', '250', '250']);
      for (const id of ids) expect(sink.delivered.has(id)).toBe(true);
    } finally {
      transport.close();
    }
  });

  it('reads a message split across writes, one with a dot-stuffed line and an empty one, and notes an id only once', async () => {
    const { client, greeting } = await RawSmtp.connect(sink.port);
    expect(greeting.code).toBe(220);
    expect((await client.command('EHLO relay.test')).lines.some((l) => l.includes('PIPELINING'))).toBe(true);
    const payload = dataPayload(Buffer.concat([latencyMessage('r1'), Buffer.from('.leading dot\r\n', 'latin1')]));
    expect((await client.command('MAIL FROM:<a@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<b@bench.test>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    // the end line split between two writes: not noted before it is whole
    client.write(payload.subarray(0, payload.length - 3));
    await new Promise((r) => setTimeout(r, 50));
    expect(sink.delivered.has('r1')).toBe(false);
    client.write(payload.subarray(payload.length - 3));
    expect((await client.read()).code).toBe(250);
    const first = sink.delivered.get('r1');
    expect(first).toBeDefined();
    // the same id again: still the first time noted
    expect((await client.command('MAIL FROM:<a@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<b@bench.test>')).code).toBe(250);
    expect((await client.data(dataPayload(latencyMessage('r1')))).code).toBe(250);
    expect(sink.delivered.get('r1')).toBe(first);
    // an empty message: its first line is the end line
    expect((await client.command('MAIL FROM:<a@example.com>')).code).toBe(250);
    expect((await client.command('RCPT TO:<b@bench.test>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    expect((await client.command('.')).code).toBe(250);
    expect((await client.command('QUIT')).code).toBe(221);
  });
});
