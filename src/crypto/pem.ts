/** PEM certificate blocks in a text (a certificate file, a chain, a CA bundle). */

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Each `-----BEGIN CERTIFICATE-----` … `-----END CERTIFICATE-----` block, in order. */
export function pemCertificateBlocks(text: string): string[] {
  return text.match(PEM_CERTIFICATE) ?? [];
}

/** The DER bytes of each certificate block, in order. */
export function pemCertificatesDer(text: string): Buffer[] {
  return pemCertificateBlocks(text).map((b) => Buffer.from(b.replace(/-----[A-Z ]+-----|\s+/g, ''), 'base64'));
}
