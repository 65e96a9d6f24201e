/**
 * The target of `sealgate migrate --to-store URL --to-objects URL` (the
 * issue's form, beside `--to-config FILE`): the node's own config with its
 * store and objects replaced by the shared ones the two URLs name. Pure.
 *
 *   --to-store   postgres://USER@HOST:PORT/DATABASE?sslmode=MODE&sslrootcert=PATH
 *                — no password in it (a command line is visible to every
 *                user of the machine): the password comes from
 *                SEALGATE_DB_PASSWORD, as for the nodes. sslmode is
 *                store.tls.mode (verify-full unless given: disable, require,
 *                verify-full), sslrootcert store.tls.caFile.
 *   --to-objects s3://BUCKET/PREFIX/?endpoint=URL&region=R&forcePathStyle=true&accessKeyId=ID&secretAccessKeyFile=PATH
 *                every parameter optional (absent: AWS S3 in us-east-1, the
 *                SDK's usual credentials, AWS_ACCESS_KEY_ID /
 *                AWS_SECRET_ACCESS_KEY first); never a secret itself.
 *
 * Anything else — TLS to the database, the pool, part sizes — takes the
 * defaults; a target that needs more is written as a config file
 * (`--to-config`).
 */
import type { Config } from '../config/schema.js';
import { objectsSchema } from '../objects/config-schema.js';
import { storeSchema } from './config-schema.js';

/** Why the URLs cannot name a target (one line naming the option and the fix), or the target config. */
export type MigrateTarget = { readonly ok: true; readonly config: Config } | { readonly ok: false; readonly problem: string };

const S3_PARAMETERS = new Set(['endpoint', 'region', 'forcePathStyle', 'accessKeyId', 'secretAccessKeyFile']);

function firstIssue(result: { success: boolean; error?: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } }, option: string, root: string): string | undefined {
  if (result.success) return undefined;
  const issue = result.error?.issues[0];
  const path = issue?.path.length ? `${root}.${issue.path.map(String).join('.')}` : root;
  return `${option}: ${path}: ${issue?.message ?? 'invalid'}`;
}

export function migrateTargetFromUrls(source: Config, storeUrl: string, objectsUrl: string): MigrateTarget {
  let db: URL;
  try {
    db = new URL(storeUrl);
  } catch {
    return { ok: false, problem: '--to-store: not a URL; write postgres://USER@HOST:PORT/DATABASE' };
  }
  if (db.password !== '') return { ok: false, problem: '--to-store: the URL carries a password, which every user of this machine can see on the command line; remove it and set SEALGATE_DB_PASSWORD' };
  const unknownDb = [...db.searchParams.keys()].find((k) => k !== 'sslmode' && k !== 'sslrootcert');
  if (unknownDb !== undefined) return { ok: false, problem: `--to-store: unknown parameter "${unknownDb}"; the parameters are sslmode and sslrootcert` };
  const sslmode = db.searchParams.get('sslmode') ?? undefined;
  const sslrootcert = db.searchParams.get('sslrootcert') ?? undefined;
  db.search = '';
  const store = storeSchema.safeParse({
    kind: 'postgres',
    url: db.toString(),
    ...(sslmode !== undefined || sslrootcert !== undefined ? { tls: { ...(sslmode !== undefined ? { mode: sslmode } : {}), ...(sslrootcert !== undefined ? { caFile: sslrootcert } : {}) } } : {}),
  });
  const storeProblem = firstIssue(store, '--to-store', 'store');
  if (storeProblem) return { ok: false, problem: storeProblem };

  let o: URL;
  try {
    o = new URL(objectsUrl);
  } catch {
    return { ok: false, problem: '--to-objects: not a URL; write s3://BUCKET/PREFIX/?endpoint=URL&region=REGION' };
  }
  if (o.protocol !== 's3:') return { ok: false, problem: `--to-objects: scheme ${o.protocol} is not s3:; write s3://BUCKET/PREFIX/?endpoint=URL&region=REGION` };
  if (o.username !== '' || o.password !== '') return { ok: false, problem: '--to-objects: no credentials in the URL; set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or give accessKeyId=…&secretAccessKeyFile=…' };
  const unknown = [...o.searchParams.keys()].find((k) => !S3_PARAMETERS.has(k));
  if (unknown !== undefined) return { ok: false, problem: `--to-objects: unknown parameter "${unknown}"; the parameters are ${[...S3_PARAMETERS].join(', ')}` };
  const param = (k: string): string | undefined => o.searchParams.get(k) ?? undefined;
  const forcePathStyle = param('forcePathStyle');
  if (forcePathStyle !== undefined && forcePathStyle !== 'true' && forcePathStyle !== 'false') return { ok: false, problem: '--to-objects: forcePathStyle must be true or false' };
  const s3 = {
    bucket: o.hostname,
    prefix: decodeURIComponent(o.pathname.replace(/^\//, '')),
    ...(param('endpoint') !== undefined ? { endpoint: param('endpoint') } : {}),
    ...(param('region') !== undefined ? { region: param('region') } : {}),
    ...(forcePathStyle !== undefined ? { forcePathStyle: forcePathStyle === 'true' } : {}),
    ...(param('accessKeyId') !== undefined ? { accessKeyId: param('accessKeyId') } : {}),
    ...(param('secretAccessKeyFile') !== undefined ? { secretAccessKeyFile: param('secretAccessKeyFile') } : {}),
  };
  const objects = objectsSchema.safeParse({ kind: 's3', s3 });
  const objectsProblem = firstIssue(objects, '--to-objects', 'objects');
  if (objectsProblem) return { ok: false, problem: objectsProblem };
  return { ok: true, config: { ...source, store: store.data as Config['store'], objects: objects.data as Config['objects'] } };
}
