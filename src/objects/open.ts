/**
 * Opening the configured object store (`objects.kind`): the one place the
 * daemon and the CLI commands turn the config into a store. local: the
 * directory under dataDir (location.ts); s3: an S3-compatible store with its
 * credentials from objects.s3.secretAccessKeyFile or the SDK's usual sources
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY first). The store's users see
 * only the ObjectStore interface.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { SealgateError } from '../errors.js';
import { LocalObjectStore } from './local-store.js';
import { objectStoreRoot } from './location.js';
import type { ObjectStore } from './object-store.js';
import type { S3Credentials } from './s3-store.js';

/** An object store as the daemon and the commands hold it: the interface plus its start-up and shutdown steps. */
export interface OpenedObjectStore extends ObjectStore {
  /** Start-up: the local directories are made; the S3 bucket is checked (it exists, the credentials may use it). */
  init(): Promise<void>;
  /** Start-up cleanup of puts a crash left unfinished; the count removed. */
  removeTemp(now: number): Promise<number>;
  /** Releases connections (S3); nothing for the local store. */
  close(): void;
  /**
   * A cheap check that the store answers now (/readyz): the local directory
   * may be read and written; S3 lists at most one key under the prefix,
   * within `timeoutMs`. Rejects with a SealgateError otherwise.
   */
  probe(timeoutMs: number): Promise<void>;
}

/** Where the store is, for log lines and `config check`: a path, or s3://bucket/prefix at its endpoint (never a credential). */
export function describeObjectStore(config: Pick<Config, 'dataDir' | 'objects'>): string {
  const s3 = config.objects.s3;
  if (config.objects.kind === 'local' || s3 === undefined) return objectStoreRoot(config.dataDir);
  return `s3://${s3.bucket}/${s3.prefix}${s3.endpoint === undefined ? ` (AWS S3, ${s3.region})` : ` at ${new URL(s3.endpoint).origin}`}`;
}

/** Reads the secret access key: the first line of the file. Errors name the config key and the fix, never the content. */
export async function readSecretAccessKey(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new SealgateError('SG_CONFIG_INVALID', { message: `objects.s3.secretAccessKeyFile: cannot read ${file} (${code}); create it holding the secret access key on its first line` });
  }
  const first = text.split(/\r?\n/)[0]?.trim() ?? '';
  if (first === '') throw new SealgateError('SG_CONFIG_INVALID', { message: `objects.s3.secretAccessKeyFile: ${file} is empty; write the secret access key on its first line` });
  if (first.length > 256) throw new SealgateError('SG_CONFIG_INVALID', { message: `objects.s3.secretAccessKeyFile: the first line of ${file} is longer than a secret access key (256); write only the key on it` });
  return first;
}

export interface OpenObjectStoreOptions {
  /** Keys per listing page on S3 (tests: several pages with few objects); default 1000. */
  readonly listPageSize?: number;
}

/** The configured object store, not yet initialised (call init() before the first put). */
export async function openObjectStore(config: Pick<Config, 'dataDir' | 'objects'>, options: OpenObjectStoreOptions = {}): Promise<OpenedObjectStore> {
  const s3 = config.objects.s3;
  if (config.objects.kind === 'local') return new LocalObjectStore(objectStoreRoot(config.dataDir));
  if (s3 === undefined) throw new SealgateError('SG_CONFIG_INVALID', { message: 'objects.s3: kind s3 needs objects.s3 with at least bucket' });
  let credentials: S3Credentials | undefined;
  if (s3.accessKeyId !== undefined && s3.secretAccessKeyFile !== undefined) {
    credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: await readSecretAccessKey(resolve(s3.secretAccessKeyFile)) };
  }
  // the AWS SDK is loaded only where S3 is configured: a node on the local store never holds it in memory
  const { S3ObjectStore } = await import('./s3-store.js');
  return new S3ObjectStore({
    bucket: s3.bucket,
    prefix: s3.prefix,
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: s3.forcePathStyle,
    credentials,
    partBytes: s3.partSizeBytes,
    timeoutMs: s3.timeout,
    maxAttempts: s3.maxAttempts,
    ...(options.listPageSize === undefined ? {} : { listPageSize: options.listPageSize }),
  });
}
