import { describe, expect, it } from 'vitest';
import { dsnRcptArgs, parseReply, xtext, type RemoteReply } from '../../src/delivery/smtp-session.js';
import { strongest, tlsClientSettings, type TlsClientSettings, type TransportRequirement } from '../../src/delivery/transport-requirement.js';

describe('tlsClientSettings', () => {
  it.each<[TransportRequirement, Partial<TlsClientSettings>]>([
    ['none', { ignoreTls: true, requireTls: false }],
    ['may', { ignoreTls: false, requireTls: false, opportunistic: true, verifyCertificate: false }],
    ['encrypt', { requireTls: true, opportunistic: false, verifyCertificate: false, minVersion: 'TLSv1.2' }],
    ['verify', { requireTls: true, verifyCertificate: true, minVersion: 'TLSv1.2' }],
    ['dane', { requireTls: true, verifyCertificate: true }],
  ])('%s', (requirement, expected) => {
    expect(tlsClientSettings(requirement)).toMatchObject(expected);
  });
});

describe('strongest', () => {
  it.each<[TransportRequirement[], TransportRequirement]>([
    [[], 'none'],
    [['may'], 'may'],
    [['may', 'verify', 'encrypt'], 'verify'],
    [['dane', 'none'], 'dane'],
  ])('%j → %s', (input, expected) => {
    expect(strongest(...input)).toBe(expected);
  });
});

describe('parseReply', () => {
  it.each<[string | undefined, RemoteReply]>([
    ['250 2.0.0 Ok: queued as 123', { code: 250, enhanced: '2.0.0', text: 'Ok: queued as 123' }],
    ['550 5.1.1 <x@y>: Recipient address rejected', { code: 550, enhanced: '5.1.1', text: '<x@y>: Recipient address rejected' }],
    ['451 Try later', { code: 451, enhanced: undefined, text: 'Try later' }],
    ['421-4.7.0 line one\r\n421 4.7.0 line two', { code: 421, enhanced: '4.7.0', text: 'line one 421 4.7.0 line two' }],
    ['garbage', { text: 'garbage' }],
    [undefined, { text: 'fallback' }],
  ])('%j', (input, expected) => {
    expect(parseReply(input, 'fallback')).toEqual(expected);
  });

  it('bounds the text and keeps it printable', () => {
    const r = parseReply(`550 5.7.1 ${'x'.repeat(1000)}\u0000\u00e9`, '');
    expect(r.text.length).toBe(300);
    expect(parseReply('550 5.7.1 caf\u00e9\u0007', '').text).toBe('caf??');
  });
});

describe('per-recipient DSN arguments', () => {
  it.each<[string, string]>([
    ['bob@example.net', 'bob@example.net'],
    ['a+b=c@example.net', 'a+2Bb+3Dc@example.net'],
    ['sp ace@example.net', 'sp+20ace@example.net'],
  ])('xtext(%s)', (input, expected) => {
    expect(xtext(input)).toBe(expected);
  });

  it.each<[{ address: string; notify?: string | null; orcpt?: string | null }, string]>([
    [{ address: 'a@b' }, ''],
    [{ address: 'a@b', notify: 'success,failure' }, ' NOTIFY=SUCCESS,FAILURE'],
    [{ address: 'a@b', notify: 'NEVER', orcpt: 'rfc822;a+x@b' }, ' NOTIFY=NEVER ORCPT=rfc822;a+2Bx@b'],
    [{ address: 'a@b', orcpt: 'rfc822;a@b' }, ' ORCPT=rfc822;a@b'],
  ])('%j', (recipient, expected) => {
    expect(dsnRcptArgs(recipient)).toBe(expected);
  });
});

describe('nodemailer internals used for per-recipient DSN parameters', () => {
  it('is the pinned version, and RCPT TO is still built by _getDsnRcptToArgs after queueing the recipient', async () => {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    const installed = JSON.parse(readFileSync('node_modules/nodemailer/package.json', 'utf8')) as { version: string };
    expect(pkg.dependencies.nodemailer).toBe(installed.version);
    const source = readFileSync('node_modules/nodemailer/dist/esm/smtp-connection/index.js', 'utf8');
    const push = source.indexOf('this._recipientQueue.push(recipient);');
    const rcpt = source.indexOf("this._sendCommand('RCPT TO:<' + recipient + '>' + this._getDsnRcptToArgs());");
    expect(push).toBeGreaterThan(0);
    expect(rcpt).toBeGreaterThan(push);
  });
});
