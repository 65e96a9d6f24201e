/**
 * The S/MIME trust roots: the PEM files in keys.smimeTrustRoots, or, when
 * that list is empty, the system store (the first bundle that exists).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type * as pkijs from 'pkijs';
import { pemCertificateBlocks } from '../crypto/pem.js';
import { SealgateError } from '../errors.js';
import { readCertificates } from './smime.js';

/** Debian/Ubuntu, RHEL/Fedora, Alpine/macOS-style bundles. */
export const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'] as const;

export interface TrustRoots {
  readonly certs: readonly pkijs.Certificate[];
  /** The files they were read from (for messages). */
  readonly source: string;
}

/** The system store's certificates one by one: one that does not parse is left out, not fatal. */
function readEachCertificate(text: string): pkijs.Certificate[] {
  const out: pkijs.Certificate[] = [];
  for (const block of pemCertificateBlocks(text)) {
    try {
      out.push(...readCertificates({ text: block }).map((c) => c.cert));
    } catch {
      // an unusual root the parser does not read cannot be one our recipients chain to
    }
  }
  return out;
}

export async function loadTrustRoots(files: readonly string[], systemBundles: readonly string[] = SYSTEM_BUNDLES): Promise<TrustRoots> {
  if (files.length === 0) {
    const bundle = systemBundles.find((f) => existsSync(f));
    if (!bundle) return { certs: [], source: 'no system store found' };
    return { certs: readEachCertificate(await readFile(bundle, 'utf8')), source: bundle };
  }
  const certs: pkijs.Certificate[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(resolve(f), 'utf8');
    } catch (err) {
      throw new SealgateError('SG_CONFIG_INVALID', { message: `keys.smimeTrustRoots: cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, cause: err });
    }
    const found = readCertificates({ text });
    if (found.length === 0) throw new SealgateError('SG_CONFIG_INVALID', { message: `keys.smimeTrustRoots: ${f} holds no PEM certificate` });
    certs.push(...found.map((c) => c.cert));
  }
  return { certs, source: files.join(', ') };
}
