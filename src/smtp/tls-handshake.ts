/**
 * Bounds on a TLS handshake that has begun but not finished, on both ways
 * smtp-server starts one: STARTTLS (SMTPConnection.upgrade) and an
 * implicit-TLS listener (SMTPServer._upgrade).
 *
 *   - A client that sends FIN during the handshake can never complete it.
 *     The listeners are half-open (`allowHalfOpen`, see half-close.ts) and no
 *     command parser is attached yet to notice the end of input, so the TLS
 *     socket is destroyed at its 'end'. Without this the session, its
 *     descriptor and its connection slot stayed until the idle timeout (the
 *     hostile-client run found it: STARTTLS, plaintext pipelined behind it,
 *     then FIN).
 *   - A handshake may take at most `smtp.tlsHandshakeTimeoutMs` (passed to
 *     smtp-server as the extra option `tlsHandshakeTimeout`); smtp-server
 *     itself would wait for the whole idle timeout (5 minutes).
 * After 'secure' neither applies: a FIN is then the half-close case that
 * half-close.ts answers.
 *
 * Where the handshaking socket is reachable (pinned smtp-server version,
 * checked by test/smtp/bdat.test.ts): STARTTLS arms its idle timer on it
 * with `_armTimeout(tlsSocket)`; the implicit-TLS path records it in
 * `_pendingSockets` under the raw socket before `_upgrade` returns.
 */
import type { Socket } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

interface Options {
  tlsHandshakeTimeout?: number;
}

interface ConnectionInternals {
  _socket: Socket;
  _server: { options: Options };
  _armTimeout(socket?: Socket): void;
}

interface ServerInternals {
  options: Options;
  _pendingSockets: Map<Socket, Socket>;
  _upgrade(socket: Socket, callback: (...args: unknown[]) => void): void;
}

/** Destroys `tls` if its client ends its input, or `limitMs` pass, before the handshake completes. */
export function boundHandshake(tls: Socket, limitMs: number | undefined): void {
  let timer: NodeJS.Timeout | undefined;
  const abandon = (): void => {
    if (!tls.destroyed) tls.destroy();
  };
  const settle = (): void => {
    clearTimeout(timer);
    tls.off('end', abandon);
  };
  tls.once('end', abandon);
  tls.once('secure', settle);
  tls.once('close', settle);
  if (limitMs) {
    timer = setTimeout(abandon, limitMs);
    timer.unref();
  }
}

let installed = false;

export function installTlsHandshakeBounds(): void {
  if (installed) return;
  installed = true;
  const conn = (SMTPConnection as unknown as { prototype: ConnectionInternals }).prototype;
  const arm = conn._armTimeout;
  conn._armTimeout = function (this: ConnectionInternals, socket?: Socket) {
    arm.call(this, socket);
    // called with the TLS socket of a STARTTLS handshake that has just begun
    if (socket && socket !== this._socket) boundHandshake(socket, this._server.options.tlsHandshakeTimeout);
  };
  const server = (SMTPServer as unknown as { prototype: ServerInternals }).prototype;
  const upgrade = server._upgrade;
  server._upgrade = function (this: ServerInternals, socket: Socket, callback: (...args: unknown[]) => void) {
    upgrade.call(this, socket, callback);
    const tls = this._pendingSockets.get(socket);
    if (tls && tls !== socket) boundHandshake(tls, this.options.tlsHandshakeTimeout);
  };
}
