/**
 * The target of `sealgate migrate --to-store URL --to-objects URL`: the
 * node's config with the shared store and objects the URLs name, or one
 * line naming the option and the fix. Pure, table-driven.
 */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { migrateTargetFromUrls } from '../../src/db/migrate-target.js';
import { MINIMAL_CONFIG } from '../helpers/config-problem.js';

const source = validateConfig({ ...MINIMAL_CONFIG, dataDir: '/var/lib/sealgate' }, 'test');
const DB = 'postgres://sealgate@db.example.org:5432/sealgate';
const S3 = 's3://mail-archive/node-1/?endpoint=https://minio.example.org:9000&region=eu-west-1&forcePathStyle=true';

describe('migrateTargetFromUrls', () => {
  it.each([
    {
      name: 'both URLs with every parameter',
      store: `${DB}?sslmode=require&sslrootcert=/etc/ssl/db-ca.pem`,
      objects: `${S3}&accessKeyId=AKIDEXAMPLE&secretAccessKeyFile=/etc/sealgate/s3-secret`,
      expect: {
        store: { kind: 'postgres', url: DB, tls: { mode: 'require', caFile: '/etc/ssl/db-ca.pem' } },
        s3: { bucket: 'mail-archive', prefix: 'node-1/', endpoint: 'https://minio.example.org:9000', region: 'eu-west-1', forcePathStyle: true, accessKeyId: 'AKIDEXAMPLE', secretAccessKeyFile: '/etc/sealgate/s3-secret' },
      },
    },
    {
      name: 'the fewest: verify-full TLS, AWS S3 in us-east-1, the whole bucket',
      store: DB,
      objects: 's3://mail-archive',
      expect: { store: { kind: 'postgres', url: DB, tls: { mode: 'verify-full' } }, s3: { bucket: 'mail-archive', prefix: '', region: 'us-east-1' } },
    },
  ])('$name', ({ store, objects, expect: want }) => {
    const target = migrateTargetFromUrls(source, store, objects);
    if (!target.ok) throw new Error(target.problem);
    expect(target.config.store).toMatchObject(want.store);
    expect(target.config.objects.kind).toBe('s3');
    expect(target.config.objects.s3).toMatchObject(want.s3);
    // everything else is the node's own config
    expect(target.config.dataDir).toBe(source.dataDir);
  });

  it.each([
    { name: 'a password in the database URL', store: 'postgres://sealgate:secret@db.example.org/sealgate', objects: S3, problem: /^--to-store: the URL carries a password.*SEALGATE_DB_PASSWORD$/ },
    { name: 'not a URL', store: 'db.example.org', objects: S3, problem: /^--to-store: not a URL/ },
    { name: 'another scheme for the database', store: 'mysql://db.example.org/sealgate', objects: S3, problem: /^--to-store: store\.url: / },
    { name: 'an unknown database parameter', store: `${DB}?application_name=x`, objects: S3, problem: /^--to-store: unknown parameter "application_name"/ },
    { name: 'an unknown sslmode', store: `${DB}?sslmode=prefer`, objects: S3, problem: /^--to-store: store\.tls\.mode: / },
    { name: 'not s3:', store: DB, objects: 'https://mail-archive.s3.amazonaws.com/', problem: /^--to-objects: scheme https: is not s3:/ },
    { name: 'credentials in the objects URL', store: DB, objects: 's3://AKID:secret@mail-archive/', problem: /^--to-objects: no credentials in the URL/ },
    { name: 'an unknown objects parameter', store: DB, objects: 's3://mail-archive/?secretAccessKey=abc', problem: /^--to-objects: unknown parameter "secretAccessKey"/ },
    { name: 'forcePathStyle not a boolean', store: DB, objects: 's3://mail-archive/?forcePathStyle=yes', problem: /^--to-objects: forcePathStyle must be true or false$/ },
    { name: 'a bucket name S3 refuses', store: DB, objects: 's3://Mail_Archive/', problem: /^--to-objects: objects\.s3\.bucket: / },
    { name: 'a prefix without its final slash', store: DB, objects: 's3://mail-archive/node-1', problem: /^--to-objects: objects\.s3\.prefix: / },
  ])('refuses $name in one line naming the option', ({ store, objects, problem }) => {
    const target = migrateTargetFromUrls(source, store, objects);
    expect(target.ok).toBe(false);
    if (!target.ok) {
      expect(target.problem).toMatch(problem);
      expect(target.problem).not.toMatch(/secret(?!AccessKey)|\n/);
    }
  });
});
