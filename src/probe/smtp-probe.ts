/**
 * What one MX can really do: connect, EHLO, STARTTLS if offered, and record
 * the TLS version, cipher and the certificate checks (chain to a trusted CA,
 * name match with the MX host, validity dates). No mail is sent: the probe
 * ends with QUIT. The certificate is checked here, not by the TLS layer, so a
 * bad certificate is a finding, not a failed connection.
 */
import { checkServerIdentity, rootCertificates, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection';

export interface CertificateFacts {
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly fingerprint256: string;
  /** Chains to a trusted CA (system CAs + tls.trustedCaFiles). */
  readonly chainValid: boolean;
  readonly chainError?: string | undefined;
  /** Names the MX host (subject alt names / CN, wildcards per RFC 6125). */
  readonly nameMatches: boolean;
  readonly expired: boolean;
}

export interface MxProbeResult {
  readonly mx: string;
  readonly ip: string;
  readonly port: number;
  /** false when the connection or greeting failed (see error). */
  readonly reachable: boolean;
  readonly starttls: boolean;
  readonly tlsVersion?: string | undefined;
  readonly cipher?: string | undefined;
  readonly certificate?: CertificateFacts | undefined;
  /** DER of the presented chain, leaf first, base64 (for DANE checks). */
  readonly chain?: readonly string[] | undefined;
  readonly error?: string | undefined;
}

export interface ProbeTarget {
  readonly mx: string;
  readonly ip: string;
  readonly port: number;
  readonly heloName: string;
  readonly trustedCas: readonly string[];
  readonly timeoutMs: number;
}

function chainOf(cert: DetailedPeerCertificate): Buffer[] {
  const out: Buffer[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = cert; c && c.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    out.push(c.raw);
  }
  return out;
}

/** Pure: the certificate findings from what the TLS layer reported. */
export function certificateFacts(mx: string, cert: DetailedPeerCertificate, authorized: boolean, authorizationError: string | undefined, now: number): CertificateFacts {
  const nameError = checkServerIdentity(mx, cert);
  const notAfter = Date.parse(cert.valid_to);
  const notBefore = Date.parse(cert.valid_from);
  return {
    subject: cert.subject?.CN ? `CN=${String(cert.subject.CN)}` : '',
    issuer: cert.issuer?.CN ? `CN=${String(cert.issuer.CN)}` : '',
    notBefore: new Date(notBefore).toISOString(),
    notAfter: new Date(notAfter).toISOString(),
    fingerprint256: cert.fingerprint256,
    chainValid: authorized,
    chainError: authorized ? undefined : authorizationError,
    nameMatches: nameError === undefined,
    expired: now > notAfter || now < notBefore,
  };
}

export function probeMx(target: ProbeTarget, now: () => number = Date.now): Promise<MxProbeResult> {
  const base = { mx: target.mx, ip: target.ip, port: target.port };
  const conn = new SMTPConnection({
    host: target.ip,
    port: target.port,
    name: target.heloName,
    opportunisticTLS: true,
    connectionTimeout: target.timeoutMs,
    greetingTimeout: target.timeoutMs,
    socketTimeout: target.timeoutMs,
    logger: false,
    // the name is checked by certificateFacts: here `authorized` must reflect the chain alone
    tls: { servername: target.mx, rejectUnauthorized: false, ca: [...rootCertificates, ...target.trustedCas], checkServerIdentity: () => undefined },
  });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: MxProbeResult): void => {
      if (settled) return;
      settled = true;
      try {
        conn.quit();
      } catch {
        conn.close();
      }
      setTimeout(() => conn.close(), 500).unref();
      resolve(result);
    };
    conn.once('error', (err: Error & { code?: string }) => {
      finish({ ...base, reachable: false, starttls: false, error: `${err.code ?? 'error'}: ${err.message}`.slice(0, 300) });
    });
    conn.connect(() => {
      const socket = (conn as unknown as { _socket: TLSSocket })._socket;
      if (!conn.secure || typeof socket.getPeerCertificate !== 'function') {
        finish({ ...base, reachable: true, starttls: false });
        return;
      }
      const cert = socket.getPeerCertificate(true);
      const authError = socket.authorizationError ? String(socket.authorizationError) : undefined;
      finish({
        ...base,
        reachable: true,
        starttls: true,
        tlsVersion: socket.getProtocol() ?? undefined,
        cipher: socket.getCipher().name,
        certificate: cert.raw ? certificateFacts(target.mx, cert, socket.authorized, authError, now()) : undefined,
        chain: cert.raw ? chainOf(cert).map((b) => b.toString('base64')) : undefined,
      });
    });
  });
}
