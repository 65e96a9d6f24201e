/**
 * `sealgate keys import|list|show|remove|lookup`: the recipient key
 * directory (OpenPGP public keys and S/MIME certificates, with their
 * verdicts) and discovery (WKD).
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { openCommandStore } from '../command-store.js';
import { SealgateError } from '../../errors.js';
import { currentVerdict, planImport, readKeyFile, recordFor, SKIP_TEXT } from '../../keys/import.js';
import { normalizeAddress } from '../../keys/address.js';
import { normalizeFingerprint } from '../../keys/fingerprint.js';
import { SqlKeyDirectory } from '../../keys/store.js';
import { lookupKeys } from '../../keys/lookup.js';
import { discoveryDeps } from '../../keys/discovery.js';
import { lookupJson, lookupText } from '../../keys/lookup-report.js';
import { loadTrustRoots } from '../../keys/trust-roots.js';
import { revocationDeps } from '../../keys/revocation-deps.js';
import { KEY_REASONS, type KeyRecord, type Verdict } from '../../keys/types.js';
import { CliExit, EXIT_FAILURE, EXIT_USAGE, loadForCommand, operatorName } from '../context.js';
import { registerOrgKeys } from './keys-org.js';

function verdictText(v: Verdict): string {
  return v.valid ? 'valid' : `invalid: ${v.reason} (${KEY_REASONS[v.reason] ?? 'unknown reason'})`;
}

function iso(ms: number | null): string {
  return ms === null ? 'never' : new Date(ms).toISOString();
}

const EKU_NAMES: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '2.5.29.37.0': 'anyExtendedKeyUsage',
};

function ekuText(oids: readonly string[] | null | undefined): string {
  if (oids === null || oids === undefined) return 'extension absent';
  return oids.map((o) => (EKU_NAMES[o] ? `${EKU_NAMES[o]} (${o})` : o)).join(', ');
}

function revocationText(r: KeyRecord): string {
  const d = r.details;
  if (r.kind === 'pgp') return r.revoked ? 'revoked' : 'not revoked';
  const how = d.revocationMethod ? ` (${d.revocationMethod.toUpperCase()}, ${iso(d.revocationCheckedAt ?? null)})` : '';
  const note = d.revocationNote ? `; last attempt: ${d.revocationNote}` : '';
  if (r.revoked === null) return `not checked (${d.revocationNote ?? 'no CRL or OCSP answer at hand'})`;
  return `${r.revoked ? 'revoked' : 'not revoked'}${how}${note}`;
}

/** The stable `--json` shape of one row (verdict as of now). */
function rowJson(r: KeyRecord, now: number): Record<string, unknown> {
  const v = currentVerdict(r, now);
  return {
    fingerprint: r.fingerprint,
    kind: r.kind,
    address: r.address,
    source: r.source,
    algorithm: r.algorithm,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    revoked: r.revoked,
    valid: v.valid,
    reason: v.reason,
    reasonText: KEY_REASONS[v.reason] ?? 'unknown reason',
    importedAt: r.importedAt,
    checkedAt: r.checkedAt,
  };
}

function showText(rows: readonly KeyRecord[], now: number): string {
  const first = rows[0];
  if (!first) return '';
  const d = first.details;
  const lines = [`fingerprint: ${first.fingerprint}`, `kind: ${first.kind}`, `algorithm: ${first.algorithm}`];
  if (first.kind === 'pgp') {
    lines.push(`created: ${iso(first.createdAt)}`, `expires: ${iso(first.expiresAt)}`);
    for (const u of d.userIds ?? []) lines.push(`user ID: ${u}`);
    lines.push(`encryption key: ${d.encryptionKey ?? 'none usable'}`);
  } else {
    lines.push(`subject: ${d.subject ?? ''}`, `issuer: ${d.issuer ?? ''}`, `serial: ${d.serialNumber ?? ''}`, `not before: ${iso(first.createdAt)}`, `not after: ${iso(first.expiresAt)}`);
    lines.push(`addresses: ${d.emails.join(', ') || 'none'}`);
    lines.push(`key usage: ${d.keyUsage === null || d.keyUsage === undefined ? 'extension absent' : d.keyUsage.join(', ')}`);
    lines.push(`extended key usage: ${ekuText(d.extendedKeyUsage)}`);
    if (d.smimea === 'dane-ee') lines.push('trust: DNS SMIMEA record, usage 3 (DANE-EE): DNSSEC-authenticated, no CA chain needed');
    if (d.smimea === 'pkix-ee') lines.push('trust: DNS SMIMEA record, usage 1 (PKIX-EE): DNSSEC-authenticated and chained to keys.smimeTrustRoots');
  }
  lines.push(`revocation: ${revocationText(first)}`);
  for (const r of rows) {
    lines.push(`address ${r.address}: ${verdictText(currentVerdict(r, now))}; source ${r.source}, imported ${iso(r.importedAt)}, checked ${iso(r.checkedAt)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('recipient key directory: OpenPGP keys and S/MIME certificates for end-to-end encryption');

  keys
    .command('import <file>')
    .description('import every OpenPGP key (armored or binary) and S/MIME certificate (PEM, DER, PKCS#7 bundle) in FILE')
    .option('--email <addr>', 'import only the keys that name this address, and record them for it')
    .action(async (file: string, opts: { email?: string }, cmd: Command) => {
      const { config } = loadForCommand(cmd);
      const email = opts.email === undefined ? undefined : normalizeAddress(opts.email);
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (err) {
        // an input file named on the command line that cannot be read is a usage error (exit-codes.ts)
        throw new CliExit(EXIT_USAGE, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      const now = Date.now();
      // trust roots are read only when the file holds certificates
      const candidates = await readKeyFile(bytes, async () => (await loadTrustRoots(config.keys.smimeTrustRoots)).certs, now, await revocationDeps(config, Date.now));
      const plan = planImport(candidates, email);
      const db = await openCommandStore(config);
      let stored = 0;
      try {
        const dir = new SqlKeyDirectory(db);
        const operator = operatorName();
        for (const item of plan) {
          const c = item.candidate;
          if ('skipped' in item) {
            process.stdout.write(`${c.info.fingerprint}\t${c.kind}\t-\tskipped: ${SKIP_TEXT[item.skipped]}\n`);
            continue;
          }
          for (const address of item.addresses) {
            const record = recordFor(c, address, 'admin', now);
            const decision = await dir.put(record, { operator });
            if (decision.action === 'keep') {
              process.stdout.write(`${record.fingerprint}\t${record.kind}\t${address}\tnot stored: ${decision.why}\n`);
              continue;
            }
            stored++;
            process.stdout.write(`${record.fingerprint}\t${record.kind}\t${address}\t${verdictText(record)}\n`);
          }
        }
      } finally {
        await db.close();
      }
      if (candidates.some((c) => c.kind === 'pgp' && c.info.hadSecret)) process.stderr.write('sealgate: the file held secret key material: only the public keys were stored\n');
      if (stored === 0) throw new CliExit(EXIT_FAILURE, email === undefined ? 'no key was imported' : `no key in the file names ${email}`);
    });

  keys
    .command('list')
    .description('list the directory (verdicts as of now)')
    .option('--email <addr>', 'only the keys recorded for this address')
    .option('--json', 'JSON output')
    .action(async (opts: { email?: string; json?: boolean }, cmd: Command) => {
      const { config } = loadForCommand(cmd);
      const address = opts.email === undefined ? undefined : normalizeAddress(opts.email);
      const db = await openCommandStore(config);
      try {
        const rows = await new SqlKeyDirectory(db).list(address === undefined ? {} : { address });
        const now = Date.now();
        if (opts.json) process.stdout.write(`${JSON.stringify(rows.map((r) => rowJson(r, now)))}\n`);
        else for (const r of rows) process.stdout.write(`${r.fingerprint}\t${r.kind}\t${r.address}\t${r.source}\t${verdictText(currentVerdict(r, now))}\texpires ${iso(r.expiresAt)}\n`);
      } finally {
        await db.close();
      }
    });

  keys
    .command('show <fingerprint>')
    .description('every field of a key and its verdict for each address it is recorded under')
    .option('--json', 'JSON output')
    .action(async (fingerprint: string, opts: { json?: boolean }, cmd: Command) => {
      const { config } = loadForCommand(cmd);
      const fp = normalizeFingerprint(fingerprint);
      const db = await openCommandStore(config);
      try {
        const rows = await new SqlKeyDirectory(db).get(fp);
        const first = rows[0];
        if (!first) throw new SealgateError('SG_RECIPIENT_KEY_NOT_FOUND', { message: `no key ${fp} in the key directory` });
        const now = Date.now();
        if (!opts.json) {
          process.stdout.write(showText(rows, now));
          return;
        }
        const out = {
          fingerprint: first.fingerprint,
          kind: first.kind,
          algorithm: first.algorithm,
          createdAt: first.createdAt,
          expiresAt: first.expiresAt,
          revoked: first.revoked,
          details: first.details,
          addresses: rows.map((r) => {
            const { fingerprint: _f, kind: _k, algorithm: _a, createdAt: _c, expiresAt: _e, revoked: _r, ...rest } = rowJson(r, now);
            return rest;
          }),
          material: first.material,
        };
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } finally {
        await db.close();
      }
    });

  keys
    .command('lookup <email>')
    .description('run key discovery (WKD) for an address: what was found, which key would be used and why each other one is not')
    .option('--fresh', 'ignore the cached result of the last lookup')
    .option('--json', 'JSON output')
    .action(async (email: string, opts: { fresh?: boolean; json?: boolean }, cmd: Command) => {
      const { config } = loadForCommand(cmd);
      const address = normalizeAddress(email);
      const db = await openCommandStore(config);
      try {
        const result = await lookupKeys(address, await discoveryDeps(config, db, { now: Date.now, fresh: opts.fresh === true, operator: operatorName() }));
        const json = lookupJson(result, Date.now());
        process.stdout.write(opts.json ? `${JSON.stringify(json)}\n` : lookupText(json));
      } finally {
        await db.close();
      }
    });

  keys
    .command('remove <fingerprint>')
    .description('delete a key from the directory (for every address it is recorded under)')
    .action(async (fingerprint: string, _opts: unknown, cmd: Command) => {
      const { config } = loadForCommand(cmd);
      const fp = normalizeFingerprint(fingerprint);
      const db = await openCommandStore(config);
      try {
        const n = await new SqlKeyDirectory(db).remove(fp, { operator: operatorName(), now: Date.now() });
        if (n === 0) throw new SealgateError('SG_RECIPIENT_KEY_NOT_FOUND', { message: `no key ${fp} in the key directory` });
        process.stdout.write(`key ${fp} removed (${n} ${n === 1 ? 'address' : 'addresses'})\n`);
      } finally {
        await db.close();
      }
    });

  registerOrgKeys(keys);
}
