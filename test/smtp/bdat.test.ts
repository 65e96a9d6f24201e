/**
 * BDAT: the command syntax (pure), and the smtp-server internals the
 * extension relies on. If an smtp-server upgrade renames or removes any of
 * them, this file fails first and names what changed (see src/smtp/bdat.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { installBdat, parseBdat } from '../../src/smtp/bdat.js';

describe('parseBdat', () => {
  it.each<[string, { size: number; last: boolean } | undefined]>([
    ['BDAT 0 LAST', { size: 0, last: true }],
    ['BDAT 1024', { size: 1024, last: false }],
    ['bdat 12 last', { size: 12, last: true }],
    ['BDAT  7   LAST ', { size: 7, last: true }],
    ['BDAT', undefined],
    ['BDAT -1', undefined],
    ['BDAT 1.5', undefined],
    ['BDAT abc LAST', undefined],
    ['BDAT 10 LAST extra', undefined],
    ['BDAT 10 FIRST', undefined],
    ['BDAT 9999999999999999', undefined],
    // separators other than SP (found by fuzzing): a peer could split the line differently
    ['BDAT 5\rLAST', undefined],
    ['BDAT 5\tLAST', undefined],
    ['BDAT 5\xa0LAST', undefined],
    ['BDAT 5 LAST\v', undefined],
    ['\tBDAT 5', undefined],
  ])('%j', (line, expected) => {
    expect(parseBdat(line)).toEqual(expected);
  });
});

describe('smtp-server internals used by BDAT', () => {
  it('the installed smtp-server is the pinned version', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    const installed = JSON.parse(readFileSync('node_modules/smtp-server/package.json', 'utf8')) as { version: string };
    expect(pkg.dependencies['smtp-server']).toBe(installed.version);
  });

  it('has the methods and fields the extension wraps or sets', () => {
    const conn = SMTPConnection.prototype as unknown as Record<string, unknown>;
    for (const m of ['handler_EHLO', 'handler_DATA', 'handler_RCPT', 'handler_RSET', '_resetSession', '_isSupported', 'send', '_onClose', '_createParser', '_armTimeout', 'close']) expect(typeof conn[m], `SMTPConnection.${m}`).toBe('function');
    const stream = SMTPStream.prototype as unknown as Record<string, unknown>;
    for (const m of ['_write', '_feedDataStream', 'startDataMode']) expect(typeof stream[m], `SMTPStream.${m}`).toBe('function');
    // the fields are plain properties set in the constructors: check the source still uses them
    const connSource = readFileSync('node_modules/smtp-server/dist/esm/smtp-connection.js', 'utf8');
    for (const f of ['this._dataStream', 'this._transactionCounter', 'this._unrecognizedCommands', 'this._parser', "this['handler_' + command]"]) expect(connSource, f).toContain(f);
    // src/smtp/half-close.ts: replies are written only while readyState is 'open'
    expect(connSource).toContain("this._socket.readyState === 'open'");
    // src/smtp/tls-handshake.ts: the handshaking TLS socket is reached through _armTimeout (STARTTLS) and _pendingSockets (implicit TLS)
    expect(connSource).toContain('this._armTimeout(tlsSocket)');
    expect(readFileSync('node_modules/smtp-server/dist/esm/smtp-server.js', 'utf8')).toContain('this._pendingSockets.set(socket, secureSocket)');
    expect(typeof (SMTPServer.prototype as unknown as Record<string, unknown>)._upgrade).toBe('function');
    const serverSource = readFileSync('node_modules/smtp-server/dist/esm/smtp-server.js', 'utf8');
    expect(serverSource, 'listener options reach net.createServer (allowHalfOpen)').toContain('net.createServer(this.options');
    const streamSource = readFileSync('node_modules/smtp-server/dist/esm/smtp-stream.js', 'utf8');
    for (const f of ['this._dataMode', 'this._feedDataStream(chunk, done)', "return this._write(buf, 'buffer', done)"]) expect(streamSource, f).toContain(f);
  });

  it('installs handler_BDAT once', () => {
    installBdat();
    installBdat();
    expect(typeof (SMTPConnection.prototype as unknown as Record<string, unknown>).handler_BDAT).toBe('function');
  });
});
