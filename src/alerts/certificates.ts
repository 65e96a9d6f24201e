/**
 * The certificates whose expiry is watched (src/tls/configured-certificates.ts:
 * the same list doctor checks). Read from their files at
 * each check, so a renewed file counts at once; an unreadable file is
 * skipped here (the listener itself reports it on reload).
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CertificateFact } from './causes.js';

/** The first certificate's notAfter of each readable file. */
export async function readCertificateFacts(files: readonly { label: string; certFile: string }[]): Promise<CertificateFact[]> {
  const out: CertificateFact[] = [];
  for (const f of files) {
    try {
      const cert = new X509Certificate(await readFile(f.certFile));
      out.push({ label: f.label, notAfter: Date.parse(cert.validTo) });
    } catch {
      // unreadable or not a certificate: the listener's own checks report it
    }
  }
  return out;
}
