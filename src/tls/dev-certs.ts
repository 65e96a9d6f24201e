/**
 * Development TLS certificates: a local "Sealgate Development CA" and a
 * server certificate it issues, created on first start when the configured
 * certificate and key files are missing. Never for production use.
 *
 * Files are written atomically (temporary file in the same directory, fsync,
 * rename) with mode 0600, keys and certificates alike; directories that have
 * to be created get mode 0700.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { generateCa, issueCertificate, type Pem } from './x509.js';

export const DEV_CA_COMMON_NAME = 'Sealgate Development CA';
export const DEV_CA_CERT_NAME = 'dev-ca.crt';
export const DEV_CA_KEY_NAME = 'dev-ca.key';

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

export interface DevCertificateOptions {
  /** Server certificate file: the leaf followed by the CA (full chain PEM). */
  certFile: string;
  /** Server private key file (PKCS#8 PEM). */
  keyFile: string;
  /** Where dev-ca.crt / dev-ca.key live; default: the directory of certFile. */
  caDir?: string;
  /** subjectAltName DNS names; the first one is also the subject CN. */
  hostnames: string[];
  /** subjectAltName IP addresses (IPv4 or IPv6). */
  ipAddresses: string[];
}

export interface DevCertificateResult {
  /** False when certFile and keyFile both existed and nothing was written. */
  created: boolean;
  /** Path of the development CA certificate, for the caller to log. */
  caCertFile: string;
}

/**
 * Makes sure a development server certificate exists. When `certFile` and
 * `keyFile` both exist nothing is touched. Otherwise the development CA in
 * `caDir` is reused (or created when absent) and a new server certificate for
 * `hostnames` and `ipAddresses` is issued and written.
 */
export async function ensureDevCertificates(opts: DevCertificateOptions): Promise<DevCertificateResult> {
  const caDir = opts.caDir ?? dirname(opts.certFile);
  const caCertFile = join(caDir, DEV_CA_CERT_NAME);
  const caKeyFile = join(caDir, DEV_CA_KEY_NAME);

  if ((await fileExists(opts.certFile)) && (await fileExists(opts.keyFile))) {
    return { created: false, caCertFile };
  }

  const hostnames = [...opts.hostnames];
  const ipAddresses = [...opts.ipAddresses];
  const commonName = hostnames[0] ?? ipAddresses[0];
  if (commonName === undefined) {
    throw new TypeError('ensureDevCertificates needs at least one hostname or IP address');
  }

  for (const dir of new Set([caDir, dirname(opts.certFile), dirname(opts.keyFile)])) {
    await mkdir(dir, { recursive: true, mode: DIR_MODE });
  }

  const ca = await loadOrCreateCa(caCertFile, caKeyFile);
  const leaf = await issueCertificate(ca, {
    commonName,
    dnsNames: hostnames,
    ipAddresses,
    usage: 'server',
  });

  // Key first, certificate last: a crash in between leaves certFile missing,
  // so the next start issues a fresh pair instead of a mismatched one.
  await writeFileAtomic(opts.keyFile, leaf.keyPem);
  await writeFileAtomic(opts.certFile, ensureTrailingNewline(leaf.certPem) + ensureTrailingNewline(ca.certPem));
  return { created: true, caCertFile };
}

async function loadOrCreateCa(caCertFile: string, caKeyFile: string): Promise<Pem> {
  if ((await fileExists(caCertFile)) && (await fileExists(caKeyFile))) {
    return {
      certPem: await readFile(caCertFile, 'utf8'),
      keyPem: await readFile(caKeyFile, 'utf8'),
    };
  }
  // Either none or only half of the CA is present; half a CA is unusable.
  const ca = await generateCa({ commonName: DEV_CA_COMMON_NAME });
  await writeFileAtomic(caKeyFile, ca.keyPem);
  await writeFileAtomic(caCertFile, ca.certPem);
  return ca;
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function ensureTrailingNewline(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`;
}

/** Writes `data` to `path` via a 0600 temporary file in the same directory, fsync and rename. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(
    tmp,
    fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL,
    FILE_MODE,
  );
  let renamed = false;
  try {
    try {
      // The umask may only clear bits; make the mode exact regardless.
      await handle.chmod(FILE_MODE);
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    renamed = true;
    await syncDirectory(dirname(path));
  } finally {
    if (!renamed) await unlink(tmp).catch(() => undefined);
  }
}

async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, fsConstants.O_RDONLY);
    await handle.sync();
  } catch {
    // Directory fsync is best effort (not supported everywhere).
  } finally {
    await handle?.close();
  }
}
