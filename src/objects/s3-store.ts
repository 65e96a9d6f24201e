/**
 * The object store over an S3-compatible service (AWS S3, MinIO, Ceph RGW),
 * through the AWS SDK (see object-store.ts for the semantics every
 * implementation keeps; docs/scale-out.md "Object store").
 *
 * How each promise of the interface is kept:
 *   - put is atomic: an object up to `partBytes` is one PutObject, a larger one
 *     a multipart upload (@aws-sdk/lib-storage's Upload, parts sent while the
 *     source is still being read); S3 makes an object visible only when its
 *     PUT or CompleteMultipartUpload succeeds, whole. A failing source (or a
 *     failing part) aborts the multipart upload, so nothing becomes visible.
 *   - get/getRange stream the response body (a Range request for getRange);
 *     a missing key (NoSuchKey) errors the stream with SG_OBJECT_NOT_FOUND.
 *   - delete is DeleteObject, which S3 answers alike whether or not the key exists.
 *   - list/listInfo page through ListObjectsV2 under `prefix` (S3 lists in
 *     UTF-8 byte order, one page at a time); a server that lists out of order
 *     is refused (SG_STORAGE_FAILED) rather than trusted.
 *
 * Every key is stored as `prefix + key`; nothing outside the prefix is read,
 * listed or deleted, and objects under it whose names are not valid keys are
 * left out of listings (as the local store leaves out stray files).
 *
 * Errors: SG_OBJECT_NOT_FOUND, SG_STORAGE_FULL (a store reporting it is full
 * or over quota) or SG_STORAGE_FAILED, carrying the S3 error name and HTTP
 * status only: never the SDK's error object (its request and response), the
 * credentials or the bucket's contents.
 */
import { Readable, Transform, type TransformCallback, pipeline } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type ListObjectsV2CommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { SealgateError } from '../errors.js';
import { checkRange, type ObjectInfo, type ObjectStore, objectKeyProblem, validateObjectKey, validateObjectPrefix } from './object-store.js';

const READ_CHUNK = 64 * 1024;
const MiB = 1024 * 1024;

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

export interface S3ObjectStoreOptions {
  readonly bucket: string;
  /** '' or segments each followed by '/': stored keys are prefix + key. */
  readonly prefix: string;
  readonly region: string;
  /** Absent: AWS S3 in `region`. */
  readonly endpoint?: string | undefined;
  readonly forcePathStyle: boolean;
  /** Absent: the SDK's default sources (AWS_* environment first). */
  readonly credentials?: S3Credentials | undefined;
  /** Single PUT up to this size, multipart above it in parts of this size (>= 5 MiB). */
  readonly partBytes: number;
  /** Parts in flight per multipart put (memory: partBytes × this); default 2. */
  readonly partsInFlight?: number;
  /** Until the response headers, and the longest idle connection (ms). */
  readonly timeoutMs: number;
  /** Connecting gives up after this (ms); default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Attempts per request, retries with backoff included. */
  readonly maxAttempts: number;
  /** Keys per ListObjectsV2 page, 1–1000 (S3's maximum and default: 1000). */
  readonly listPageSize?: number;
}

/** What a bucket check's bare HTTP status means, and the fix. */
const BUCKET_CHECK: Readonly<Record<number, string>> = {
  301: 'is in another region: set objects.s3.region to the bucket\'s region',
  400: 'refused the request (HTTP 400): check objects.s3.region and objects.s3.endpoint',
  403: 'refused these credentials (HTTP 403): check objects.s3.accessKeyId and its secret (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), and that they may use the bucket',
  404: 'does not exist: create it, or fix objects.s3.bucket',
};

/** S3 error names that mean "the store is full or over quota" (MinIO, Ceph RGW). */
const FULL = new Set(['XMinioStorageFull', 'QuotaExceeded', 'InsufficientStorage']);

interface SdkErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

/** Pure: what an AWS SDK (or socket) error means to an object store caller. */
export function classifyS3Error(err: unknown): { code: 'SG_OBJECT_NOT_FOUND' | 'SG_STORAGE_FULL' | 'SG_STORAGE_FAILED'; name: string; status: number | undefined } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorShape;
  // a socket error is a plain Error with a code (ECONNREFUSED, ETIMEDOUT): the code says more
  const rawName = typeof e.code === 'string' && (e.name === 'Error' || typeof e.name !== 'string') ? e.code : typeof e.name === 'string' ? e.name : 'Error';
  // a name is only ever an identifier; anything else is not passed on
  const name = /^[A-Za-z0-9_.-]{1,64}$/.test(rawName) ? rawName : 'Error';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  // NoSuchKey: GET of a missing key. A HEAD has no body, so its 404 is named NotFound.
  // NoSuchBucket is a 404 too, and is a failure, not an absent object.
  if (name === 'NoSuchKey' || (name === 'NotFound' && status === 404)) return { code: 'SG_OBJECT_NOT_FOUND', name, status };
  if (FULL.has(name) || status === 507) return { code: 'SG_STORAGE_FULL', name, status };
  return { code: 'SG_STORAGE_FAILED', name, status };
}

function storageError(err: unknown, what: string): SealgateError {
  if (err instanceof SealgateError) return err;
  const { code, name, status } = classifyS3Error(err);
  if (code === 'SG_OBJECT_NOT_FOUND') return new SealgateError(code);
  return new SealgateError(code, {
    message: `object store ${what} failed: ${name}${status === undefined ? '' : ` (HTTP ${status})`}`,
    detail: { s3: name, ...(status === undefined ? {} : { status }) },
  });
}

/** Counts the bytes passing through. */
class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}

/**
 * A read stream over one GetObject: the request is sent in _construct, the
 * body read as the consumer asks; destroying it aborts the request and the
 * body. With `expected`, a body of any other length is an error.
 */
class S3ObjectReader extends Readable {
  private body: Readable | undefined;
  private readonly abort = new AbortController();
  private got = 0;

  constructor(
    private readonly request: (signal: AbortSignal) => Promise<Readable>,
    private readonly expected?: number,
  ) {
    super({ highWaterMark: READ_CHUNK });
  }

  override _construct(callback: (err?: Error | null) => void): void {
    this.request(this.abort.signal).then(
      (body) => {
        if (this.destroyed) {
          body.destroy();
          callback();
          return;
        }
        this.body = body;
        body.on('data', (chunk: Buffer) => {
          this.got += chunk.length;
          if (!this.push(chunk)) body.pause();
        });
        body.on('end', () => {
          if (this.expected !== undefined && this.got !== this.expected) {
            this.destroy(new SealgateError('SG_STORAGE_FAILED', { message: 'object is shorter than the range read from it', detail: { missing: this.expected - this.got } }));
          } else this.push(null);
        });
        body.on('error', (err: unknown) => this.destroy(storageError(err, 'read')));
        body.pause();
        callback();
      },
      (err: unknown) => callback(storageError(err, 'read')),
    );
  }

  override _read(): void {
    this.body?.resume();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.abort.abort();
    this.body?.destroy();
    this.body = undefined;
    callback(err);
  }
}

export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly partBytes: number;
  private readonly partsInFlight: number;
  private readonly listPageSize: number;

  constructor(options: S3ObjectStoreOptions) {
    if (options.prefix !== '') validateObjectKey(`${options.prefix}x`);
    if (options.partBytes < 5 * MiB) throw new RangeError('S3 multipart parts are at least 5 MiB');
    const pageSize = options.listPageSize ?? 1000;
    if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new RangeError('listPageSize must be 1–1000');
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    this.partBytes = options.partBytes;
    this.partsInFlight = options.partsInFlight ?? 2;
    this.listPageSize = pageSize;
    // The SDK prints a multi-line notice on stderr, once per process, that its releases after January
    // 2027 need Node 22 (README, "Dependencies"): every CLI command on kind s3 would show it. Not
    // printed unless the operator sets the SDK's own variable to something other than "true".
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      forcePathStyle: options.forcePathStyle,
      ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
      maxAttempts: options.maxAttempts,
      requestHandler: {
        connectionTimeout: options.connectTimeoutMs ?? 10_000,
        // until the response headers: an error (not only a warning) when exceeded
        requestTimeout: options.timeoutMs,
        throwOnRequestTimeout: true,
        // an idle connection, also while a body is streamed
        socketTimeout: options.timeoutMs,
      },
    });
  }

  private full(key: string): string {
    return this.prefix + validateObjectKey(key);
  }

  /** Start-up check: the bucket exists and these credentials may use it. */
  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      // a HEAD answer has no body, so the status is all there is to go on
      const status = classifyS3Error(err).status;
      const fix = status === undefined ? undefined : BUCKET_CHECK[status];
      if (fix) throw new SealgateError('SG_STORAGE_FAILED', { message: `object store bucket ${this.bucket} ${fix}`, detail: { status } });
      throw storageError(err, `bucket check (${this.bucket})`);
    }
  }

  /** Readiness: one listing of at most one key under the prefix (the store answers, the credentials may list), aborted after `timeoutMs`. */
  async probe(timeoutMs: number): Promise<void> {
    try {
      await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, MaxKeys: 1 }), { abortSignal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw storageError(err, 'check');
    }
  }

  async put(key: string, source: Readable): Promise<{ bytes: number }> {
    const Key = this.full(key);
    const counter = new ByteCounter();
    // a failing source destroys the counter with its error, which fails the upload
    pipeline(source, counter, () => undefined);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: counter },
      partSize: this.partBytes,
      queueSize: this.partsInFlight,
      // a failed multipart upload is aborted: its parts are removed, nothing becomes visible
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      source.destroy();
      counter.destroy();
      throw storageError(err, 'write');
    }
    return { bytes: counter.bytes };
  }

  get(key: string): Readable {
    const Key = this.full(key);
    return new S3ObjectReader((signal) => this.body(new GetObjectCommand({ Bucket: this.bucket, Key }), signal));
  }

  getRange(key: string, start: number, length: number): Readable {
    checkRange(start, length);
    const Key = this.full(key);
    const Range = `bytes=${start}-${start + length - 1}`;
    return new S3ObjectReader((signal) => this.body(new GetObjectCommand({ Bucket: this.bucket, Key, Range }), signal), length);
  }

  private async body(command: GetObjectCommand, abortSignal: AbortSignal): Promise<Readable> {
    try {
      const res = await this.client.send(command, { abortSignal });
      if (!(res.Body instanceof Readable)) throw new SealgateError('SG_STORAGE_FAILED', { message: 'object store read failed: no body' });
      return res.Body;
    } catch (err) {
      // a range starting past the end (416): the object is shorter than the range
      if (classifyS3Error(err).status === 416) {
        throw new SealgateError('SG_STORAGE_FAILED', { message: 'object is shorter than the range read from it', detail: { status: 416 } });
      }
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    const Key = this.full(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return true;
    } catch (err) {
      const e = storageError(err, 'check');
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.full(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (err) {
      const e = storageError(err, 'delete');
      if (!isNotFound(e)) throw e;
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    for await (const { key } of this.listInfo(prefix)) yield key;
  }

  async *listInfo(prefix: string): AsyncIterable<ObjectInfo> {
    validateObjectPrefix(prefix);
    let token: string | undefined;
    let previous: Buffer | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, MaxKeys: this.listPageSize, ContinuationToken: token }),
        );
      } catch (err) {
        throw storageError(err, 'list');
      }
      for (const item of page.Contents ?? []) {
        const full = item.Key;
        if (full === undefined || !full.startsWith(this.prefix + prefix)) continue;
        const name = Buffer.from(full, 'utf8');
        if (previous !== undefined && Buffer.compare(previous, name) >= 0) {
          throw new SealgateError('SG_STORAGE_FAILED', { message: 'object store listed keys out of byte order (S3 lists in UTF-8 byte order; this server does not)' });
        }
        previous = name;
        const key = full.slice(this.prefix.length);
        // anything no valid key maps to (other software's objects under the prefix) is not an object of ours
        if (objectKeyProblem(key) !== undefined) continue;
        yield { key, bytes: item.Size ?? 0, modifiedAt: item.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /**
   * Start-up cleanup, as the local store removes its temp files: nothing to do
   * here. A put that fails aborts its own multipart upload; one a crash
   * interrupted leaves parts that never become an object, which a bucket
   * lifecycle rule (AbortIncompleteMultipartUpload) removes (docs/scale-out.md).
   */
  removeTemp(_now: number): Promise<number> {
    return Promise.resolve(0);
  }

  /** Closes the client's connections (at shutdown, or when a command is done). */
  close(): void {
    this.client.destroy();
  }
}

function isNotFound(err: SealgateError): boolean {
  return err.code === 'SG_OBJECT_NOT_FOUND';
}
