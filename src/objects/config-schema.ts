/**
 * The `objects` section of the config (issue 19's contract names
 * `objects.kind`, `objects.s3.endpoint`, `bucket`, `region`, `prefix`,
 * `forcePathStyle`): where message-sized blobs (portal copies, archive
 * entries) are stored. A directory under dataDir is the embedded default; an
 * S3-compatible store (AWS S3, MinIO, Ceph RGW) is for several nodes sharing
 * one store (docs/scale-out.md "Object store"). Either way the store only
 * ever receives ciphertext: callers encrypt before they put.
 */
import { z } from 'zod';
import { duration } from '../config/duration.js';
import { objectKeyProblem } from './object-store.js';

const MiB = 1024 * 1024;

/** S3's bucket naming rules (3–63 lower-case letters, digits, '.', '-'; starts and ends with a letter or digit). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Pure: why `prefix` is not a valid objects.s3.prefix, or undefined. '' or segments each followed by '/'. */
export function s3PrefixProblem(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  if (!prefix.endsWith('/')) return 'must end with "/" (e.g. "sealgate/"), or be "" for the whole bucket';
  if (prefix.length > 200) return 'longer than 200 characters';
  // "a/b/" is valid exactly when "a/b/x" is a valid object key
  if (objectKeyProblem(`${prefix}x`) !== undefined) return 'path segments must start with a letter or digit and hold only letters, digits, ".", "_" and "-"';
  return undefined;
}

export const s3Schema = z
  .strictObject({
    endpoint: z
      .url({ protocol: /^https?$/, message: 'expected an http:// or https:// URL, e.g. https://minio.example-hospital.org:9000' })
      .optional()
      .describe('The S3 API endpoint, e.g. https://minio.example-hospital.org:9000 (MinIO, Ceph RGW); absent: AWS S3 in objects.s3.region. http:// is for a store on loopback or a private network only: the objects are ciphertext, the credentials are signed, but the requests are not otherwise protected.'),
    bucket: z
      .string()
      .regex(BUCKET, { message: 'expected an S3 bucket name: 3–63 lower-case letters, digits, "." and "-", starting and ending with a letter or digit' })
      .describe('The bucket (it must exist; sealgate does not create it).'),
    region: z.string().min(1).max(64).default('us-east-1').describe('The bucket\'s region (MinIO and Ceph RGW accept any; us-east-1 is their usual default).'),
    prefix: z
      .string()
      .default('')
      .superRefine((p, ctx) => {
        const problem = s3PrefixProblem(p);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe('Stored keys start with this ("sealgate/", "" for the whole bucket), so one bucket can hold several gateways or other data; the gateway lists and deletes only under it.'),
    forcePathStyle: z
      .boolean()
      .default(false)
      .describe('true: https://ENDPOINT/BUCKET/KEY (MinIO, Ceph RGW without wildcard DNS); false: https://BUCKET.ENDPOINT/KEY (AWS S3).'),
    accessKeyId: z
      .string()
      .regex(/^[A-Za-z0-9+/=_.-]{1,128}$/, { message: 'expected an access key id (letters, digits, "+/=_.-", at most 128)' })
      .optional()
      .describe('The access key id; its secret is in objects.s3.secretAccessKeyFile. Without both, the AWS SDK\'s usual sources apply: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) in the environment first, then ~/.aws files and instance or container roles.'),
    secretAccessKeyFile: z
      .string()
      .min(1)
      .optional()
      .describe('A file (mode 0600) whose first line is the secret access key of objects.s3.accessKeyId. The secret is never put in the config, logged or printed.'),
    partSizeBytes: z
      .number()
      .int()
      .min(5 * MiB)
      .max(512 * MiB)
      .default(8 * MiB)
      .describe('An object up to this size is stored with one PUT; a larger one as a multipart upload in parts of this size (S3\'s minimum part is 5 MiB). Memory: a put in flight holds about seven parts\' worth of buffers at most (the part being filled, two being sent, the SDK\'s copies: 55 MiB measured with 8 MiB parts).'),
    timeout: duration(1000)
      .default(60_000)
      .describe('A request gives up when the store has not answered within this time, or its connection stayed idle this long (then it is retried, see maxAttempts); connecting gives up after 10 s.'),
    maxAttempts: z.number().int().min(1).max(10).default(3).describe('Attempts per request (the first and its retries, with backoff) on a timeout, a dropped connection, a 5xx or throttling; a stream already being read is not retried.'),
  })
  .describe('The S3-compatible store (kind s3).');

export const objectsSchema = z
  .strictObject({
    kind: z
      .enum(['local', 's3'])
      .default('local')
      .describe('local: a directory in dataDir (dataDir/store), nothing else to run; the spool stays in dataDir/spool. s3: an S3-compatible object store (objects.s3) that several nodes can share; it also holds the spool\'s messages larger than queue.inlineMaxBytes and their end-to-end copies (spool/<queue id>/…).'),
    s3: s3Schema.optional(),
  })
  .prefault({})
  .superRefine((objects, ctx) => {
    if (objects.kind === 's3' && objects.s3 === undefined) {
      ctx.addIssue({ code: 'custom', path: ['s3'], message: 'kind s3 needs objects.s3 with at least bucket (and endpoint for a store other than AWS S3)' });
    }
    if (objects.kind === 'local' && objects.s3 !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['s3'], message: 'objects.s3 is read only with kind s3; set objects.kind: s3 or remove objects.s3' });
    }
    const s3 = objects.s3;
    if (s3 && (s3.accessKeyId === undefined) !== (s3.secretAccessKeyFile === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['s3', s3.accessKeyId === undefined ? 'accessKeyId' : 'secretAccessKeyFile'],
        message: 'set objects.s3.accessKeyId and objects.s3.secretAccessKeyFile together, or neither (then AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment apply)',
      });
    }
  })
  .describe('The object store (docs/scale-out.md "Object store"): where portal copies and archive entries are kept, always encrypted before they leave the node.');

export type ObjectsConfig = z.output<typeof objectsSchema>;
export type S3Config = z.output<typeof s3Schema>;
