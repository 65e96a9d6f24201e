/**
 * Certificates, keys and file permissions: readable, the key fits its
 * certificate, the chain verifies, not expired or expiring, and secrets not
 * readable by group or others.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { pemCertificateBlocks } from '../crypto/pem.js';
import { fail, ok, warn, type DoctorCheck } from './check.js';

const DAY = 86_400_000;

export interface CertificatePair {
  readonly label: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** One line per pair: the first problem found, or what the certificate is. */
export async function checkCertificatePair(pair: CertificatePair, trustedCas: readonly string[], now: number, warnWithinMs = 21 * DAY): Promise<DoctorCheck> {
  const name = `certificate ${pair.label}`;
  let certs: X509Certificate[];
  try {
    certs = pemCertificateBlocks(await readFile(pair.certFile, 'utf8')).map((p) => new X509Certificate(p));
    if (certs.length === 0) throw new Error('no certificate');
  } catch {
    return fail(name, `${pair.certFile} is missing, unreadable or holds no PEM certificate`, `put the certificate chain (PEM, server certificate first) at ${pair.certFile}`);
  }
  const [leaf] = certs as [X509Certificate, ...X509Certificate[]];
  try {
    const key = createPrivateKey(await readFile(pair.keyFile));
    if (!leaf.checkPrivateKey(key)) return fail(name, `the key in ${pair.keyFile} does not belong to the certificate in ${pair.certFile}`, 'install the private key the certificate was issued for (or re-issue the certificate for this key)');
  } catch {
    return fail(name, `${pair.keyFile} is missing, unreadable or not a PEM private key`, `put the certificate's private key (PEM) at ${pair.keyFile}, mode 0600`);
  }
  const notAfter = Date.parse(leaf.validTo);
  const subject = leaf.subjectAltName ?? leaf.subject.replace(/\n/g, ', ');
  if (notAfter <= now) return fail(name, `expired on ${new Date(notAfter).toISOString().slice(0, 10)} (${subject})`, 'renew the certificate, then send SIGHUP to the daemon');
  if (Date.parse(leaf.validFrom) > now) return fail(name, `not valid before ${new Date(Date.parse(leaf.validFrom)).toISOString()}`, 'check the clock of this machine, or issue a certificate valid now');
  const chained = chainVerifies(certs, trustedCas);
  const days = Math.floor((notAfter - now) / DAY);
  if (!chained) return warn(name, `valid for ${days} more days but does not chain to a trusted CA (self-signed or intermediates missing) (${subject})`, `add the intermediate certificates to ${pair.certFile}; a self-signed certificate only suits development`);
  if (notAfter - now < warnWithinMs) return warn(name, `expires in ${days} days, on ${new Date(notAfter).toISOString().slice(0, 10)}`, 'renew it now, then send SIGHUP to the daemon');
  return ok(name, `valid for ${days} more days, chains to a trusted CA, key matches (${subject})`);
}

/** The leaf chains, through the bundle's intermediates, to one of the trusted CAs (PEM) or is issued by one. */
function chainVerifies(certs: readonly X509Certificate[], trustedCas: readonly string[]): boolean {
  const roots = trustedCas.flatMap((p) => pemCertificateBlocks(p)).map((p) => new X509Certificate(p));
  let current = certs[0];
  for (let depth = 0; current && depth < 8; depth++) {
    const issuedByRoot = roots.some((r) => current?.checkIssued(r) && current.verify(r.publicKey));
    if (issuedByRoot) return true;
    const next = certs.find((c) => c !== current && current?.checkIssued(c) && current.verify(c.publicKey));
    if (!next) return false;
    current = next;
  }
  return false;
}

/** Secrets and the data directory must not be readable by group or others. */
export async function checkPrivate(label: string, path: string, kind: 'file' | 'directory'): Promise<DoctorCheck> {
  const name = `permissions ${label}`;
  let mode: number;
  try {
    mode = (await stat(path)).mode & 0o777;
  } catch {
    return kind === 'file' ? fail(name, `${path} does not exist or cannot be read`, `check the path in the config (it is created on the first start when missing)`) : warn(name, `${path} does not exist yet`, 'it is created on the first start');
  }
  const want = kind === 'file' ? 0o600 : 0o700;
  if ((mode & 0o077) !== 0) return fail(name, `${path} is mode ${mode.toString(8).padStart(4, '0')}: readable or writable by group or others`, `chmod ${want.toString(8)} ${path}`);
  return ok(name, `${path} is mode ${mode.toString(8).padStart(4, '0')}`);
}
