/**
 * The smtp-server internals src/smtp/command-timeout.ts relies on. If an
 * smtp-server upgrade renames or removes any of them, this file fails first
 * and names what changed. The behaviour itself is tested on the real daemon
 * in test/integration/session-limits.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { installCommandTimeout } from '../../src/smtp/command-timeout.js';

describe('smtp-server internals used by the command line time limit', () => {
  it('has the methods and fields the extension wraps or reads', () => {
    const conn = SMTPConnection.prototype as unknown as Record<string, unknown>;
    for (const m of ['_createParser', 'send', 'close']) expect(typeof conn[m], `SMTPConnection.${m}`).toBe('function');
    expect(typeof (SMTPStream.prototype as unknown as Record<string, unknown>)._write).toBe('function');
    const connSource = readFileSync('node_modules/smtp-server/dist/esm/smtp-connection.js', 'utf8');
    // every parser (the first one and the TLS session's) comes from _createParser, and dispatches lines through oncommand
    for (const f of ['this._parser = this._createParser()', 'parser.oncommand = (command, callback) =>', 'this._closing', 'this._closed', 'if (code === 421) {']) expect(connSource, f).toContain(f);
    const streamSource = readFileSync('node_modules/smtp-server/dist/esm/smtp-stream.js', 'utf8');
    // a partial command line waits in _remainder; complete lines go to oncommand
    for (const f of ["this._remainder = pos < data.length ? data.slice(pos) : ''", 'this.oncommand(Buffer.from(line, ', 'this._dataMode', 'this.isClosed']) expect(streamSource, f).toContain(f);
  });

  it('a parser keeps its partial line in _remainder until the line end arrives', async () => {
    const parser = new SMTPStream() as unknown as SMTPStream & { _remainder: string; oncommand: (c: Buffer, cb?: () => void) => void };
    const lines: string[] = [];
    parser.oncommand = (c, cb) => {
      lines.push(c.toString());
      cb?.();
    };
    const write = (s: string): Promise<void> => new Promise((resolve, reject) => parser.write(Buffer.from(s), (err) => (err ? reject(err) : resolve())));
    await write('NO');
    expect(parser._remainder).toBe('NO');
    await write('OP\r\nMA');
    expect(lines).toEqual(['NOOP']);
    expect(parser._remainder).toBe('MA');
  });

  it('installs once', () => {
    const before = (SMTPConnection.prototype as unknown as Record<string, unknown>)._createParser;
    installCommandTimeout();
    const once = (SMTPConnection.prototype as unknown as Record<string, unknown>)._createParser;
    installCommandTimeout();
    expect((SMTPConnection.prototype as unknown as Record<string, unknown>)._createParser).toBe(once);
    expect(typeof before).toBe('function');
  });
});
