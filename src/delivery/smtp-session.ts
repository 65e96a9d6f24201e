/**
 * One outbound SMTP session to one MX address, through nodemailer's
 * SMTPConnection: connect, EHLO, STARTTLS as the transport requirement says,
 * then one or more transactions (connection reuse, RSET in between).
 *
 * Per-recipient DSN parameters: nodemailer puts one NOTIFY/ORCPT on every
 * RCPT TO of a transaction. We keep each recipient's own (RFC 3461) by
 * overriding the one internal method that formats them (`_getDsnRcptToArgs`,
 * called right after the recipient is queued in `_recipientQueue`); the
 * nodemailer version is pinned and test/delivery/delivery.test.ts checks on
 * the receiving server that every recipient got its own parameters, so an
 * upgrade that changes this fails loudly.
 */
import { rootCertificates } from 'node:tls';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { Readable, Transform } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { tlsaLabel, verifyDane, type TlsaRecord } from '../probe/dane.js';
import { useFastDotStuffing, type DataStreamState } from './dot-stuffing.js';
import { tlsClientSettings, type TransportRequirement } from './transport-requirement.js';
import { literalAddress } from '../net/address-literal.js';

export interface RemoteReply {
  /** Reply code; undefined for network/TLS failures. */
  readonly code?: number | undefined;
  readonly enhanced?: string | undefined;
  /** Remote text or our description of the failure (one line, bounded). */
  readonly text: string;
}

export interface TlsFacts {
  readonly version: string;
  readonly cipher: string;
  readonly authorized: boolean;
  /** Why the certificate did not verify against the trusted CAs (OpenSSL's code), when it did not. */
  readonly authError?: string | undefined;
  /** SHA-256 fingerprint of the server certificate (evidence for the audit log). */
  readonly certSha256?: string | undefined;
  /** The TLSA record the server's chain matched, e.g. "3 1 1" (DANE-authenticated sessions). */
  readonly dane?: string | undefined;
}

export interface SessionTarget {
  readonly host: string;
  readonly ip: string;
  readonly port: number;
  readonly requirement: TransportRequirement;
  readonly heloName: string;
  /** Extra trusted CAs (PEM), added to Node's bundled roots. */
  readonly trustedCas: readonly string[];
  readonly connectTimeoutMs: number;
  readonly greetingTimeoutMs: number;
  readonly socketTimeoutMs: number;
  readonly auth?: { readonly user: string; readonly pass: string } | undefined;
  /** The gateway's TLS client certificate (delivery.clientCertificate), presented when the server asks. */
  readonly clientCert?: { readonly cert: string; readonly key: string } | undefined;
  /**
   * Usable DNSSEC-authenticated TLSA records of the MX (RFC 7672): the
   * server's chain must match one of them; PKIX validation is not required.
   */
  readonly dane?: readonly TlsaRecord[] | undefined;
}

export interface TransactionRecipient {
  readonly address: string;
  readonly notify?: string | null | undefined;
  readonly orcpt?: string | null | undefined;
}

export interface TransactionInput {
  readonly sender: string;
  readonly recipients: readonly TransactionRecipient[];
  readonly size: number;
  readonly eightBit: boolean;
  readonly requireTlsExtension: boolean;
  readonly dsnRet?: string | null | undefined;
  readonly dsnEnvid?: string | null | undefined;
  readonly body: () => Readable;
}

/** The outcome of one transaction: a reply per recipient address. */
export type TransactionResult = ReadonlyMap<string, RemoteReply>;

/** A failure of the session itself (connect, greeting, EHLO, STARTTLS, lost connection). */
export class SessionError extends Error {
  constructor(
    readonly reply: RemoteReply,
    readonly stage: string,
  ) {
    super(`${stage}: ${reply.code ?? ''} ${reply.text}`.trim());
  }
}

const REPLY = /^(\d{3})(?:[ -]((?:[245])\.\d{1,3}\.\d{1,3}))?\s*(.*)$/s;

/** Pure: remote response line(s) → reply, text bounded to one printable line. */
export function parseReply(response: string | undefined, fallback: string): RemoteReply {
  const flat = (response ?? '').replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim();
  const m = REPLY.exec(flat);
  if (!m) return { text: (flat || fallback).slice(0, 300) };
  return { code: Number(m[1]), enhanced: m[2], text: (m[3] ?? '').slice(0, 300) };
}

type SmtpError = Error & { code?: string; response?: string; responseCode?: number; command?: string; recipient?: string; rejectedErrors?: SmtpError[] };

function replyOf(err: SmtpError): RemoteReply {
  if (err.response) return parseReply(err.response, err.message);
  return { text: `${err.code ?? 'error'}: ${err.message}`.replace(/[\r\n]+/g, ' ').slice(0, 300) };
}

/** nodemailer's own `_createSendStream` (an internal of the pinned version; test/delivery/dot-stuffing.test.ts checks it is there). */
const createSendStream = (SMTPConnection.prototype as unknown as { _createSendStream: (this: SMTPConnection, callback: unknown) => Transform & DataStreamState })._createSendStream;

/**
 * SMTPConnection with per-recipient NOTIFY/ORCPT (see the file comment), whose
 * DATA encoding runs on native searches instead of a loop over every byte
 * (src/delivery/dot-stuffing.ts).
 */
class PerRecipientDsnConnection extends SMTPConnection {
  dsnArgs = new Map<string, string>();
  declare _recipientQueue: string[];
  declare _supportedExtensions: string[];

  _getDsnRcptToArgs(): string {
    const current = this._recipientQueue[this._recipientQueue.length - 1];
    if (!current || !this._supportedExtensions.includes('DSN')) return '';
    return this.dsnArgs.get(current) ?? '';
  }

  _createSendStream(callback: unknown): Transform & DataStreamState {
    return useFastDotStuffing(createSendStream.call(this, callback));
  }
}

/** RFC 3461 xtext: '+', '=' and anything outside 33..126 become +XX. */
export function xtext(value: string): string {
  return value.replace(/[^\x21-\x2a\x2c-\x3c\x3e-\x7e]/g, (c) => `+${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

export function dsnRcptArgs(r: TransactionRecipient): string {
  const args: string[] = [];
  if (r.notify) args.push(`NOTIFY=${r.notify.toUpperCase()}`);
  if (r.orcpt) {
    const [type, ...rest] = r.orcpt.split(';');
    args.push(`ORCPT=${type ?? 'rfc822'};${xtext(rest.join(';'))}`);
  }
  return args.length ? ` ${args.join(' ')}` : '';
}

/** The certificates the server sent (DER, leaf first), bounded. */
function peerChain(socket: TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  const seen = new Set<string>();
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert?.raw && chain.length < 10) {
    const fp = cert.fingerprint256;
    if (seen.has(fp)) break;
    seen.add(fp);
    chain.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  return chain;
}

export class SmtpSession {
  messages = 0;
  private closed = false;

  private constructor(
    private readonly conn: PerRecipientDsnConnection,
    readonly target: SessionTarget,
    readonly tls: TlsFacts | undefined,
  ) {
    conn.on('error', () => {
      this.closed = true;
    });
    conn.on('end', () => {
      this.closed = true;
    });
  }

  get usable(): boolean {
    return !this.closed && !this.conn.destroyed;
  }

  /** Connects and negotiates; throws SessionError. */
  static async open(target: SessionTarget): Promise<SmtpSession> {
    try {
      return await SmtpSession.connect(target, false);
    } catch (err) {
      // 'may': a failed handshake is retried in cleartext, as opportunistic TLS allows (RFC 7435)
      if (target.requirement === 'may' && err instanceof SessionError && err.stage === 'starttls') return SmtpSession.connect(target, true);
      throw err;
    }
  }

  private static connect(target: SessionTarget, cleartext: boolean): Promise<SmtpSession> {
    const settings = tlsClientSettings(target.requirement);
    const conn = new PerRecipientDsnConnection({
      host: target.ip,
      port: target.port,
      name: target.heloName,
      secure: false,
      ignoreTLS: cleartext || settings.ignoreTls,
      requireTLS: settings.requireTls,
      opportunisticTLS: settings.opportunistic,
      connectionTimeout: target.connectTimeoutMs,
      greetingTimeout: target.greetingTimeoutMs,
      socketTimeout: target.socketTimeoutMs,
      logger: false,
      tls: {
        // an address literal ([192.0.2.1]) is no name: no SNI
        servername: literalAddress(target.host) === undefined ? target.host : undefined,
        // DANE authenticates with the TLSA records instead of the CA system (checked after the handshake)
        rejectUnauthorized: target.dane ? false : settings.verifyCertificate,
        minVersion: settings.minVersion,
        ca: [...rootCertificates, ...target.trustedCas],
        ...(target.clientCert ? { cert: target.clientCert.cert, key: target.clientCert.key } : {}),
      },
    });
    return new Promise((resolve, reject) => {
      let settled = false;
      conn.once('error', (err: SmtpError) => {
        if (settled) return;
        settled = true;
        conn.close();
        const stage = err.code === 'ETLS' || err.command === 'STARTTLS' || /certificate|TLS|SSL/i.test(err.message) ? 'starttls' : err.code === 'EGREETING' || err.command === 'CONN' ? 'greeting' : 'connect';
        // a TLS requirement that cannot be met is never a permanent verdict on the recipient
        // (the server may fix its certificate, the path may stop stripping STARTTLS): no
        // reply code, so the recipient is deferred, never bounced on a 5xx to STARTTLS
        const refused = err.command === 'STARTTLS' && err.responseCode !== undefined ? 'the server refused STARTTLS: ' : '';
        const reply = stage === 'starttls' ? { enhanced: '4.7.5', text: `TLS required but not established: ${refused}${replyOf(err).text}`.slice(0, 300) } : replyOf(err);
        reject(new SessionError(reply, stage));
      });
      conn.connect(() => {
        const socket = (conn as unknown as { _socket: TLSSocket })._socket;
        const encrypted = conn.secure && typeof socket.getProtocol === 'function';
        const dane = encrypted && target.dane ? verifyDane(target.dane, peerChain(socket), { mxHost: target.host }) : undefined;
        const tls = encrypted
          ? {
              version: socket.getProtocol() ?? 'TLS',
              cipher: socket.getCipher().name,
              authorized: socket.authorized,
              authError: socket.authorized ? undefined : String(socket.authorizationError ?? '').slice(0, 100) || undefined,
              certSha256: socket.getPeerCertificate().fingerprint256 || undefined,
              dane: dane?.ok ? tlsaLabel(dane.matched) : undefined,
            }
          : undefined;
        const refuse = (text: string): void => {
          settled = true;
          conn.close();
          reject(new SessionError({ enhanced: '4.7.5', text: text.slice(0, 300) }, 'starttls'));
        };
        if (target.requirement !== 'none' && target.requirement !== 'may' && !tls) return refuse('STARTTLS required but the session is not encrypted');
        if (dane && !dane.ok) return refuse(`TLS required but not established: DANE verification failed: ${dane.reason}`);
        const ready = (): void => {
          settled = true;
          resolve(new SmtpSession(conn, target, tls));
        };
        if (!target.auth) return ready();
        conn.login({ user: target.auth.user, pass: target.auth.pass }, (err) => {
          if (err) {
            settled = true;
            conn.close();
            reject(new SessionError(replyOf(err as SmtpError), 'auth'));
            return;
          }
          ready();
        });
      });
    });
  }

  /**
   * One transaction. Resolves with a reply per recipient (accepted ones get
   * the final reply to DATA); rejects with SessionError when the session
   * itself failed (the caller treats every recipient as not delivered).
   */
  send(input: TransactionInput): Promise<TransactionResult> {
    const addresses = [...new Set(input.recipients.map((r) => r.address))];
    this.conn.dsnArgs = new Map(input.recipients.map((r) => [r.address, dsnRcptArgs(r)]));
    const dsn: { ret?: 'HDRS' | 'Full'; envid?: string } = {};
    if (input.dsnRet) dsn.ret = input.dsnRet.toUpperCase() === 'FULL' ? 'Full' : 'HDRS';
    if (input.dsnEnvid) dsn.envid = input.dsnEnvid;
    const envelope = {
      from: input.sender,
      to: addresses,
      size: input.size,
      use8BitMime: input.eightBit,
      dsn,
      requireTLSExtensionEnabled: input.requireTlsExtension,
    } as SMTPConnection.Envelope;
    this.messages++;
    return new Promise((resolve, reject) => {
      const body = input.body();
      this.conn.send(envelope, body, (err, info) => {
        const out = new Map<string, RemoteReply>();
        if (err) {
          const e = err as SmtpError;
          body.destroy();
          if (e.rejectedErrors?.length && e.code === 'EENVELOPE' && e.command === 'RCPT TO') {
            // every recipient was refused: each has its own reply
            for (const r of e.rejectedErrors) if (r.recipient) out.set(r.recipient, replyOf(r));
            for (const a of addresses) if (!out.has(a)) out.set(a, replyOf(e));
            return resolve(out);
          }
          if (e.responseCode !== undefined && (e.command === 'MAIL FROM' || e.command === 'DATA' || e.command === 'API')) {
            // the transaction failed as a whole, with a reply that applies to every recipient
            const reply = replyOf(e);
            for (const a of addresses) out.set(a, reply);
            for (const r of e.rejectedErrors ?? []) if (r.recipient) out.set(r.recipient, replyOf(r));
            return resolve(out);
          }
          this.closed = true;
          return reject(new SessionError(replyOf(e), e.command ? e.command.toLowerCase() : 'transaction'));
        }
        const final = parseReply(info.response, 'accepted');
        for (const a of info.accepted) out.set(a, final);
        for (const r of (info.rejectedErrors ?? []) as SmtpError[]) if (r.recipient) out.set(r.recipient, replyOf(r));
        resolve(out);
      });
    });
  }

  /** RSET, so the session can carry another message. */
  reset(): Promise<boolean> {
    if (!this.usable) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.conn.reset((err) => {
        if (err) {
          this.closed = true;
          resolve(false);
        } else resolve(true);
      });
    });
  }

  close(): void {
    if (this.closed && this.conn.destroyed) return;
    this.closed = true;
    try {
      this.conn.quit();
    } catch {
      this.conn.close();
    }
    setTimeout(() => this.conn.close(), 1000).unref();
  }
}
