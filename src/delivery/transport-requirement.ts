/**
 * The transport requirement every recipient carries (issue: delivery
 * engine), enforced by the delivery attempt:
 *   none     cleartext; STARTTLS is not even tried
 *   may      opportunistic: STARTTLS when offered, any certificate; cleartext
 *            when not offered or when the handshake fails
 *   encrypt  STARTTLS with TLS 1.2+ required, certificate not checked
 *   verify   STARTTLS with TLS 1.2+ and a certificate that chains to a trusted
 *            CA and names the MX host
 *   dane     DANE-TLSA required (transport-security issue); until then no
 *            host satisfies it, so such mail waits rather than going weaker
 * Stronger requirements never fall back to weaker ones.
 */
export const TRANSPORT_REQUIREMENTS = ['none', 'may', 'encrypt', 'verify', 'dane'] as const;
export type TransportRequirement = (typeof TRANSPORT_REQUIREMENTS)[number];

export function isTransportRequirement(value: string): value is TransportRequirement {
  return (TRANSPORT_REQUIREMENTS as readonly string[]).includes(value);
}

export function strongest(...requirements: readonly TransportRequirement[]): TransportRequirement {
  let best: TransportRequirement = 'none';
  for (const r of requirements) if (TRANSPORT_REQUIREMENTS.indexOf(r) > TRANSPORT_REQUIREMENTS.indexOf(best)) best = r;
  return best;
}

export interface TlsClientSettings {
  /** Never send STARTTLS. */
  readonly ignoreTls: boolean;
  /** Fail the attempt unless STARTTLS succeeds. */
  readonly requireTls: boolean;
  /** Continue in cleartext when the server refuses STARTTLS. */
  readonly opportunistic: boolean;
  readonly verifyCertificate: boolean;
  readonly minVersion: 'TLSv1' | 'TLSv1.2';
}

/** Pure: requirement → how the SMTP client must behave. */
export function tlsClientSettings(requirement: TransportRequirement): TlsClientSettings {
  switch (requirement) {
    case 'none':
      return { ignoreTls: true, requireTls: false, opportunistic: false, verifyCertificate: false, minVersion: 'TLSv1' };
    case 'may':
      return { ignoreTls: false, requireTls: false, opportunistic: true, verifyCertificate: false, minVersion: 'TLSv1' };
    case 'encrypt':
      return { ignoreTls: false, requireTls: true, opportunistic: false, verifyCertificate: false, minVersion: 'TLSv1.2' };
    case 'verify':
    case 'dane':
      return { ignoreTls: false, requireTls: true, opportunistic: false, verifyCertificate: true, minVersion: 'TLSv1.2' };
  }
}
