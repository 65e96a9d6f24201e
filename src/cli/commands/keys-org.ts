/**
 * `sealgate keys org init|import|show|export-public`: the organisation's own
 * OpenPGP key and S/MIME certificate. Private keys are sealed under the
 * master key (src/keys/org-store.ts) and never printed.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { gatewayHostname, openKeyring } from '../../runtime/stores.js';
import { openCommandStore } from '../command-store.js';
import type { Config } from '../../config/schema.js';
import { generateOrgPgpKey } from '../../keys/org-pgp.js';
import { orgSmimeKey, readPemPair, readPkcs12 } from '../../keys/org-smime.js';
import { orgKeyNotFound, SqlOrgKeyStore, type OrgKeyInfo, type OrgKeyKind } from '../../keys/org-store.js';
import { CliExit, EXIT_USAGE, loadForCommand, operatorName } from '../context.js';

function iso(ms: number | null): string {
  return ms === null ? 'never' : new Date(ms).toISOString();
}

async function readInput(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    // an input file named on the command line that cannot be read is a usage error (exit-codes.ts)
    throw new CliExit(EXIT_USAGE, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

async function withStore<T>(config: Config, work: (store: SqlOrgKeyStore) => Promise<T>): Promise<T> {
  // created when missing, as the daemon does on first start: `keys org init` may run before it
  const keyring = await openKeyring(config, true);
  const db = await openCommandStore(config);
  try {
    return await work(new SqlOrgKeyStore(db, keyring));
  } finally {
    await db.close();
  }
}

const KIND_TEXT: Record<OrgKeyKind, string> = { pgp: 'OpenPGP key', smime: 'S/MIME certificate' };

function refuseReplace(existing: OrgKeyInfo): CliExit {
  return new CliExit(EXIT_USAGE, `an organisation ${KIND_TEXT[existing.kind]} exists already (${existing.fingerprint}); give --force to replace it`);
}

function showText(k: OrgKeyInfo): string {
  const lines = [`kind: ${k.kind}`, `fingerprint: ${k.fingerprint}`, `algorithm: ${k.algorithm}`, `created: ${iso(k.createdAt)}`, `expires: ${iso(k.expiresAt)}`];
  const d = k.details;
  if (k.kind === 'pgp') for (const u of (d.userIds as string[] | undefined) ?? []) lines.push(`user ID: ${u}`);
  else {
    lines.push(`subject: ${String(d.subject ?? '')}`, `issuer: ${String(d.issuer ?? '')}`, `serial: ${String(d.serialNumber ?? '')}`);
    lines.push(`addresses: ${((d.emails as string[] | undefined) ?? []).join(', ') || 'none'}`, `chain certificates: ${String(d.chain ?? 0)}`);
  }
  lines.push(`sealed under master key: ${k.keyId}`, `stored: ${iso(k.storedAt)}`);
  return `${lines.join('\n')}\n`;
}

function showJson(k: OrgKeyInfo): Record<string, unknown> {
  return { kind: k.kind, fingerprint: k.fingerprint, algorithm: k.algorithm, createdAt: k.createdAt, expiresAt: k.expiresAt, details: k.details, keyId: k.keyId, storedAt: k.storedAt };
}

export function registerOrgKeys(keys: Command): void {
  const org = keys.command('org').description("the organisation's own OpenPGP key and S/MIME certificate (private keys sealed under the master key)");

  org
    .command('init')
    .description('generate the organisation OpenPGP key (v4, ed25519 + cv25519)')
    .option('--name <name>', 'the user ID name (default: "<hostname> secure mail gateway")')
    .option('--email <addr>', 'the user ID address (default: postmaster@<hostname>)')
    .option('--force', 'replace an existing organisation OpenPGP key')
    .action(async (opts: { name?: string; email?: string; force?: boolean }, cmd: Command) => {
      const { config } = loadForCommand(cmd);
      const host = gatewayHostname(config);
      await withStore(config, async (store) => {
        const existing = await store.get('pgp');
        if (existing && !opts.force) throw refuseReplace(existing);
        const now = Date.now();
        const key = await generateOrgPgpKey({ name: opts.name ?? `${host} secure mail gateway`, email: opts.email ?? `postmaster@${host}`, now });
        const { replaced } = await store.put(key, { operator: operatorName(), now, event: 'keys:org_created' });
        const lines = [`organisation OpenPGP key created: ${key.fingerprint}`, `algorithm: ${key.algorithm}`];
        for (const u of (key.details.userIds as string[] | undefined) ?? []) lines.push(`user ID: ${u}`);
        if (replaced) lines.push(`replaced: ${replaced}`);
        lines.push('public key: sealgate keys org export-public (armored, on stdout)');
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });

  org
    .command('import [file]')
    .description('import the organisation S/MIME certificate and key: a PKCS#12 file (AES, as OpenSSL 3 writes), or --cert and --key PEM files')
    .option('--password-file <file>', 'file whose first line is the PKCS#12 password (default: empty password)')
    .option('--cert <file>', 'PEM certificate, optionally followed by its chain (instead of a PKCS#12 file)')
    .option('--key <file>', 'PEM private key, unencrypted (with --cert)')
    .option('--chain <file>', 'PEM intermediate certificates (with --cert)')
    .option('--force', 'replace an existing organisation S/MIME certificate')
    .action(async (file: string | undefined, opts: { passwordFile?: string; cert?: string; key?: string; chain?: string; force?: boolean }, cmd: Command) => {
      const { config } = loadForCommand(cmd);
      const pem = opts.cert !== undefined || opts.key !== undefined;
      if (pem === (file !== undefined)) throw new CliExit(EXIT_USAGE, 'give either a PKCS#12 FILE or --cert and --key');
      if (pem && (opts.cert === undefined || opts.key === undefined)) throw new CliExit(EXIT_USAGE, '--cert and --key go together');
      let found;
      if (file !== undefined) {
        const password = opts.passwordFile === undefined ? '' : ((await readInput(opts.passwordFile)).toString('utf8').split(/\r?\n/)[0] ?? '');
        found = await readPkcs12(await readInput(file), password);
      } else {
        const certText = (await readInput(opts.cert ?? '')).toString('utf8') + (opts.chain === undefined ? '' : `\n${(await readInput(opts.chain)).toString('utf8')}`);
        const keyBytes = await readInput(opts.key ?? '');
        try {
          found = readPemPair(certText, keyBytes.toString('utf8'));
        } finally {
          keyBytes.fill(0);
        }
      }
      const key = orgSmimeKey(found);
      await withStore(config, async (store) => {
        const existing = await store.get('smime');
        if (existing && !opts.force) throw refuseReplace(existing);
        const { replaced } = await store.put(key, { operator: operatorName(), now: Date.now(), event: 'keys:org_imported' });
        const lines = [`organisation S/MIME certificate imported: ${key.fingerprint}`, `algorithm: ${key.algorithm}`, `subject: ${String(key.details.subject ?? '')}`, `expires: ${iso(key.expiresAt)}`, `chain certificates: ${String(key.details.chain ?? 0)}`];
        if (replaced) lines.push(`replaced: ${replaced}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });

  org
    .command('show')
    .description('the organisation keys: fingerprints, algorithms, expiry (never secrets)')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { config } = loadForCommand(cmd);
      const db = await openCommandStore(config);
      try {
        const rows = await new SqlOrgKeyStore(db).list();
        if (opts.json) process.stdout.write(`${JSON.stringify(rows.map(showJson))}\n`);
        else if (rows.length === 0) process.stdout.write('no organisation keys: `sealgate keys org init` (OpenPGP), `sealgate keys org import` (S/MIME)\n');
        else process.stdout.write(rows.map(showText).join('\n'));
      } finally {
        await db.close();
      }
    });

  org
    .command('export-public')
    .description('the armored OpenPGP public key (or, with --kind smime, the PEM certificate and chain) on stdout')
    .option('--kind <kind>', 'pgp or smime', 'pgp')
    .action(async (opts: { kind: string }, cmd: Command) => {
      const { config } = loadForCommand(cmd);
      if (opts.kind !== 'pgp' && opts.kind !== 'smime') throw new CliExit(EXIT_USAGE, '--kind is pgp or smime');
      const kind: OrgKeyKind = opts.kind;
      const db = await openCommandStore(config);
      try {
        const k = await new SqlOrgKeyStore(db).get(kind);
        if (!k) throw orgKeyNotFound(kind);
        process.stdout.write(k.publicMaterial.endsWith('\n') ? k.publicMaterial : `${k.publicMaterial}\n`);
      } finally {
        await db.close();
      }
    });
}
