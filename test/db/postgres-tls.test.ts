/**
 * TLS to the database (store.tls) against a real PostgreSQL serving a
 * certificate made by OpenSSL for this file: verify-full checks the chain
 * and the host (an IP SAN here), require encrypts without checking, disable
 * stays cleartext; a server whose certificate does not chain to caFile is
 * refused.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase, type PostgresTls } from '../../src/db/postgres.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const run = promisify(execFile);

let server: TestPostgres;
let dir: string;

async function makeCa(name: string): Promise<{ crt: string; key: string }> {
  const crt = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', crt, '-subj', `/CN=${name}`, '-days', '2']);
  return { crt, key };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sealgate-pgtls-'));
  const ca = await makeCa('test-db-ca');
  await makeCa('other-ca');
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const crt = join(dir, 'server.crt');
  const ext = join(dir, 'san.ext');
  await writeFile(ext, 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n');
  await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=db.test']);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.crt, '-CAkey', ca.key, '-CAcreateserial', '-out', crt, '-days', '2', '-extfile', ext]);
  server = await startPostgres({ tls: { certFile: crt, keyFile: key } });
});

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function sslInUse(tls: PostgresTls): Promise<boolean> {
  const db = await PostgresDatabase.open({ url: server.url, password: server.password, tls });
  try {
    const row = await db.get<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return row?.ssl ?? false;
  } finally {
    await db.close();
  }
}

describe('store.tls', () => {
  it('verify-full: connects over TLS when the certificate chains to caFile and names the host', async () => {
    expect(await sslInUse({ mode: 'verify-full', caFile: join(dir, 'test-db-ca.crt') })).toBe(true);
  });

  it('require: connects over TLS without checking the certificate', async () => {
    expect(await sslInUse({ mode: 'require' })).toBe(true);
  });

  it('disable: cleartext', async () => {
    expect(await sslInUse({ mode: 'disable' })).toBe(false);
  });

  it.each<[string, string | undefined]>([
    ['a caFile of another CA', 'other-ca.crt'],
    ['no caFile (the system store does not know the test CA)', undefined],
  ])('verify-full refuses the server with %s, without the password in the error', async (_name, ca) => {
    const tls: PostgresTls = { mode: 'verify-full', caFile: ca === undefined ? undefined : join(dir, ca) };
    const err = await PostgresDatabase.open({ url: server.url, password: server.password, tls }).then(
      async (db) => {
        await db.close();
        return undefined;
      },
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(/certificate/i);
    expect(`${err?.message} ${err?.stack ?? ''}`).not.toContain(server.password);
  });

  it('names store.tls.caFile when it cannot be read', async () => {
    await expect(PostgresDatabase.open({ url: server.url, password: server.password, tls: { mode: 'verify-full', caFile: join(dir, 'missing.pem') } })).rejects.toThrow(
      /store\.tls\.caFile: cannot read .*missing\.pem \(ENOENT\)/,
    );
  });
});
