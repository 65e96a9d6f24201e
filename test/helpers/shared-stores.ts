/**
 * The shared stores of a cluster test or bench: a private PostgreSQL
 * (test/helpers/postgres.ts) and an s3rver (test/helpers/s3-server.ts), the
 * database password and the S3 secret in files of mode 0600 (as production
 * keeps them), and the `store` and `objects` config sections a node on them
 * needs.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type TestPostgres } from './postgres.js';
import { startS3Server, type TestS3 } from './s3-server.js';

export interface SharedStores {
  readonly pg: TestPostgres;
  readonly s3: TestS3;
  /** `store` for a node: kind postgres, the password from its file, cleartext on loopback; `extra` merged in. */
  store(extra?: Record<string, unknown>): Record<string, unknown>;
  /** `objects` for a node: kind s3 under `prefix`, the secret from its file; `extra` merged into `s3`. */
  objects(prefix: string, extra?: Record<string, unknown>): Record<string, unknown>;
  stop(): Promise<void>;
}

export async function startSharedStores(): Promise<SharedStores> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-shared-'));
  const pg = await startPostgres();
  const s3 = await startS3Server();
  const passwordFile = join(dir, 'db-password');
  const secretAccessKeyFile = join(dir, 's3-secret');
  await writeFile(passwordFile, `${pg.password}\n`, { mode: 0o600 });
  await writeFile(secretAccessKeyFile, `${s3.secretAccessKey}\n`, { mode: 0o600 });
  return {
    pg,
    s3,
    store: (extra = {}) => ({ kind: 'postgres', url: pg.url, passwordFile, tls: { mode: 'disable' }, ...extra }),
    objects: (prefix, extra = {}) => ({ kind: 's3', s3: { endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region, prefix, forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKeyFile, ...extra } }),
    async stop() {
      await s3.stop();
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
