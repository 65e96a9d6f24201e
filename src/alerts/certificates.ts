/**
 * The certificates whose expiry is watched: every SMTP listener's, the
 * portal's and the console's (when configured). Read from their files at
 * each check, so a renewed file counts at once; an unreadable file is
 * skipped here (the listener itself reports it on reload).
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import type { CertificateFact } from './causes.js';

/** Pure: the configured certificate files and their labels. */
export function watchedCertificates(config: Pick<Config, 'smtp' | 'portal' | 'admin' | 'delivery'>): { label: string; file: string }[] {
  const out: { label: string; file: string }[] = [];
  for (const l of config.smtp.listeners) if (l.tls !== 'none' && l.certFile) out.push({ label: `smtp listener ${l.name}`, file: l.certFile });
  if (config.portal.enabled && config.portal.certFile) out.push({ label: 'portal', file: config.portal.certFile });
  if (config.admin.enabled && config.admin.certFile) out.push({ label: 'console', file: config.admin.certFile });
  if (config.delivery.clientCertificate) out.push({ label: 'delivery client', file: config.delivery.clientCertificate.certFile });
  return out;
}

/** The first certificate's notAfter of each readable file. */
export async function readCertificateFacts(files: readonly { label: string; file: string }[]): Promise<CertificateFact[]> {
  const out: CertificateFact[] = [];
  for (const f of files) {
    try {
      const cert = new X509Certificate(await readFile(f.file));
      out.push({ label: f.label, notAfter: Date.parse(cert.validTo) });
    } catch {
      // unreadable or not a certificate: the listener's own checks report it
    }
  }
  return out;
}
