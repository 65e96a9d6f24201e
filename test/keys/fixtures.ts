/**
 * Key fixtures made by the real tools: OpenPGP keys by GnuPG (in a temporary
 * GNUPGHOME, its agent stopped on cleanup) and S/MIME certificates by
 * OpenSSL (a test CA, a second CA nobody trusts, leaf certificates).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type PgpFixtureName = 'good' | 'rsa' | 'expired' | 'revoked' | 'signOnly' | 'twoUids' | 'expiredSubkey';

export interface PgpFixtures {
  readonly home: string;
  /** Fingerprints (lower-case hex) by name. */
  readonly fpr: Record<PgpFixtureName, string>;
  /** Armored public key of one fixture. */
  armored(name: PgpFixtureName): string;
  /** Binary public keys of several. */
  binary(names: readonly PgpFixtureName[]): Buffer;
  /** Armored secret key (no passphrase). */
  armoredSecret(name: PgpFixtureName): string;
  cleanup(): void;
}

export const PGP_UIDS: Record<PgpFixtureName, string> = {
  good: 'Alice Example <alice@example.org>',
  rsa: 'Rsa User <rsa@example.org>',
  expired: 'Old Key <expired@example.org>',
  revoked: 'Revoked Key <revoked@example.org>',
  signOnly: 'Sign Only <signonly@example.org>',
  twoUids: 'Two Uids <first@example.org>',
  expiredSubkey: 'Old Subkey <oldsub@example.org>',
};

/** `uids` replaces a fixture's (first) user ID, e.g. to give two keys the same address. */
export function makePgpFixtures(names: readonly PgpFixtureName[], uids: Partial<Record<PgpFixtureName, string>> = {}): PgpFixtures {
  const home = mkdtempSync(join(tmpdir(), 'sealgate-gpg-'));
  const env = { ...process.env, GNUPGHOME: home };
  const gpg = (args: string[], input?: string): Buffer => execFileSync('gpg', ['--batch', '--quiet', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { env, input, stdio: ['pipe', 'pipe', 'pipe'] });
  const fprOf = (uid: string): string => {
    const out = gpg(['--with-colons', '--fingerprint', uid]).toString('utf8');
    const line = out.split('\n').find((l) => l.startsWith('fpr:'));
    if (!line) throw new Error(`no fingerprint for ${uid}`);
    return (line.split(':')[9] ?? '').toLowerCase();
  };
  const fpr = {} as Record<PgpFixtureName, string>;
  for (const name of names) {
    const uid = uids[name] ?? PGP_UIDS[name];
    switch (name) {
      case 'good':
        gpg(['--quick-gen-key', uid, 'future-default', 'default', 'never']);
        break;
      case 'rsa':
        gpg(['--quick-gen-key', uid, 'rsa2048', 'sign', 'never']);
        gpg(['--quick-add-key', fprOf(uid).toUpperCase(), 'rsa2048', 'encr', 'never']);
        break;
      case 'expired':
        // made in 2020 with a one-day expiry (the faked clock frozen with "!": a running one can stamp 00:00:01 when generation crosses a second)
        gpg(['--faked-system-time', '20200101T000000!', '--quick-gen-key', uid, 'future-default', 'default', '1d']);
        break;
      case 'revoked': {
        gpg(['--quick-gen-key', uid, 'future-default', 'default', 'never']);
        const f = fprOf(uid).toUpperCase();
        // GnuPG writes a revocation certificate at generation time, its armor line escaped with ':'
        const rev = readFileSync(join(home, 'openpgp-revocs.d', `${f}.rev`), 'utf8').replace(/^:-----BEGIN/m, '-----BEGIN');
        gpg(['--import'], rev);
        break;
      }
      case 'signOnly':
        gpg(['--quick-gen-key', uid, 'ed25519', 'sign', 'never']);
        break;
      case 'expiredSubkey':
        // made in 2020: the primary never expires, its only encryption subkey after one day
        gpg(['--faked-system-time', '20200101T000000!', '--quick-gen-key', uid, 'ed25519', 'sign', 'never']);
        gpg(['--faked-system-time', '20200101T000000!', '--quick-add-key', fprOf(uid).toUpperCase(), 'cv25519', 'encr', '1d']);
        break;
      case 'twoUids':
        gpg(['--quick-gen-key', uid, 'future-default', 'default', 'never']);
        gpg(['--quick-add-uid', fprOf(uid).toUpperCase(), 'Two Uids <Second@Example.ORG>']);
        break;
    }
    fpr[name] = fprOf(uid);
  }
  return {
    home,
    fpr,
    armored: (name) => gpg(['--armor', '--export', fpr[name].toUpperCase()]).toString('utf8'),
    binary: (list) => gpg(['--export', ...list.map((n) => fpr[n].toUpperCase())]),
    armoredSecret: (name) => gpg(['--armor', '--export-secret-keys', fpr[name].toUpperCase()]).toString('utf8'),
    cleanup: () => {
      try {
        execFileSync('gpgconf', ['--kill', 'all'], { env, stdio: 'ignore' });
      } catch {
        // no agent running
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export type CertFixtureName = 'rsa' | 'ec' | 'expired' | 'otherCa' | 'wrongAddress' | 'serverAuth' | 'ecKeyEncipherment' | 'subjectEmailOnly' | 'noExtensions' | 'viaIntermediate';

export interface CertFixtures {
  readonly dir: string;
  /** PEM of the trusted test CA. */
  readonly caFile: string;
  /** PEM file of each leaf certificate. */
  readonly file: Record<CertFixtureName, string>;
  /** DER file of the RSA leaf. */
  readonly rsaDer: string;
  /** PKCS#7 bundles of the RSA and EC leaves and the CA: PEM and DER. */
  readonly bundlePem: string;
  readonly bundleDer: string;
  /** The leaf issued by the intermediate CA, with the intermediate, as PEM. */
  readonly withIntermediate: string;
  pem(name: CertFixtureName): string;
  cleanup(): void;
}

const OPENSSL_CONFIG = `
[ca]
default_ca = testca
[testca]
database = ./index.txt
new_certs_dir = .
serial = ./serial
default_md = sha256
policy = anything
unique_subject = no
[anything]
commonName = optional
emailAddress = optional
[rsa]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:alice@example.org
[ec]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyAgreement
extendedKeyUsage = emailProtection
subjectAltName = email:ec@example.org
[wrongAddress]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:mallory@example.net
[serverAuth]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = email:server@example.org
[ecKeyEncipherment]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = emailProtection
subjectAltName = email:ecsign@example.org
[intermediate]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
[viaIntermediate]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:dave@example.org
[subjectEmailOnly]
basicConstraints = CA:FALSE
[noExtensions]
basicConstraints = CA:FALSE
`;

export function makeCertFixtures(): CertFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'sealgate-smime-'));
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  };
  writeFileSync(join(dir, 'openssl.cnf'), OPENSSL_CONFIG);
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '01\n');
  const makeCa = (name: string, cn: string): void =>
    run(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/CN=${cn}`, '-days', '3650', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  makeCa('ca', 'Sealgate Test CA');
  makeCa('other', 'Untrusted Test CA');
  const issue = (name: CertFixtureName | 'inter', opts: { ec?: boolean; subject: string; ext: string; ca?: string; dates?: [string, string] }): void => {
    run(['req', '-newkey', opts.ec ? 'ec' : 'rsa:2048', ...(opts.ec ? ['-pkeyopt', 'ec_paramgen_curve:P-256'] : []), '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', opts.subject]);
    const ca = opts.ca ?? 'ca';
    const validity = opts.dates ? ['-startdate', opts.dates[0], '-enddate', opts.dates[1]] : ['-days', '365'];
    run(['ca', '-batch', '-config', 'openssl.cnf', '-cert', `${ca}.pem`, '-keyfile', `${ca}.key`, '-in', `${name}.csr`, '-out', `${name}.pem`, ...validity, '-extfile', 'openssl.cnf', '-extensions', opts.ext, '-notext']);
  };
  issue('rsa', { subject: '/CN=Alice Example', ext: 'rsa' });
  issue('ec', { ec: true, subject: '/CN=Ec Example', ext: 'ec' });
  issue('expired', { subject: '/CN=Alice Example', ext: 'rsa', dates: ['20200101000000Z', '20200201000000Z'] });
  issue('otherCa', { subject: '/CN=Alice Example', ext: 'rsa', ca: 'other' });
  issue('wrongAddress', { subject: '/CN=Mallory', ext: 'wrongAddress' });
  issue('serverAuth', { subject: '/CN=Server', ext: 'serverAuth' });
  issue('ecKeyEncipherment', { ec: true, subject: '/CN=Ec Sign', ext: 'ecKeyEncipherment' });
  issue('subjectEmailOnly', { subject: '/CN=Bob/emailAddress=bob@example.org', ext: 'subjectEmailOnly' });
  issue('noExtensions', { subject: '/CN=Carol/emailAddress=carol@example.org', ext: 'noExtensions' });
  issue('inter', { subject: '/CN=Sealgate Test Intermediate', ext: 'intermediate' });
  issue('viaIntermediate', { subject: '/CN=Dave', ext: 'viaIntermediate', ca: 'inter' });
  writeFileSync(join(dir, 'with-intermediate.pem'), readFileSync(join(dir, 'viaIntermediate.pem'), 'utf8') + readFileSync(join(dir, 'inter.pem'), 'utf8'));
  run(['x509', '-in', 'rsa.pem', '-outform', 'DER', '-out', 'rsa.der']);
  run(['crl2pkcs7', '-nocrl', '-certfile', 'rsa.pem', '-certfile', 'ec.pem', '-certfile', 'ca.pem', '-out', 'bundle.p7b']);
  run(['crl2pkcs7', '-nocrl', '-certfile', 'rsa.pem', '-certfile', 'ec.pem', '-certfile', 'ca.pem', '-outform', 'DER', '-out', 'bundle.p7c']);
  const names: CertFixtureName[] = ['rsa', 'ec', 'expired', 'otherCa', 'wrongAddress', 'serverAuth', 'ecKeyEncipherment', 'subjectEmailOnly', 'noExtensions', 'viaIntermediate'];
  const file = Object.fromEntries(names.map((n) => [n, join(dir, `${n}.pem`)])) as Record<CertFixtureName, string>;
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    file,
    rsaDer: join(dir, 'rsa.der'),
    bundlePem: join(dir, 'bundle.p7b'),
    bundleDer: join(dir, 'bundle.p7c'),
    withIntermediate: join(dir, 'with-intermediate.pem'),
    pem: (n) => readFileSync(file[n], 'utf8'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
