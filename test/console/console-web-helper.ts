/**
 * The console web server on loopback over real stores (SQLite, a local
 * object store, a real keyring, real argon2 users made by users.ts, real
 * HTTPS with a test CA), with an injected clock, and a small HTTPS client
 * that keeps cookies like a browser — for the focused HTTP tests.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret, URI, type TOTP } from 'otpauth';
import { adminSchema } from '../../src/console/config-schema.js';
import { createConsoleServer, type ConsoleServer } from '../../src/console/http/server.js';
import type { ConsoleLimits } from '../../src/console/http/context.js';
import { totpCode } from '../../src/console/totp.js';
import { addConsoleUser } from '../../src/console/users.js';
import { Keyring, masterKeyFromBytes } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/schema.js';
import { createLogger } from '../../src/log/logger.js';
import { LocalObjectStore } from '../../src/objects/local-store.js';
import { generateCa, issueCertificate } from '../../src/tls/x509.js';

export const PASSWORD = 'correct horse battery staple';
export const NOW = Date.UTC(2026, 11, 5, 9, 0, 0);

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The body as bytes (a download). */
  bytes: Buffer;
}

export interface ConsoleWebTest {
  readonly db: Database;
  /** The temporary directory: the database, the object store, exports/. */
  readonly dir: string;
  readonly server: ConsoleServer;
  readonly port: number;
  clock: number;
  /** A user added with users.ts; returns their TOTP secret (from the otpauth URI, as an app would). */
  addUser(name: string, role: string): Promise<Buffer>;
  code(secret: Buffer): string;
  client(): Client;
  stop(): Promise<void>;
}

/** An HTTPS client with a cookie jar (name → value), trusting the test CA only. */
export class Client {
  readonly jar = new Map<string, string>();
  constructor(
    private readonly port: number,
    private readonly ca: string,
  ) {}

  async send(method: string, path: string, form?: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          ca: this.ca,
          servername: 'localhost',
          headers: { ...(cookie ? { cookie } : {}), ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            for (const c of res.headers['set-cookie'] ?? []) {
              const [pair] = c.split(';');
              const eq = (pair ?? '').indexOf('=');
              const name = (pair ?? '').slice(0, eq);
              const value = (pair ?? '').slice(eq + 1);
              if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.jar.delete(name);
              else this.jar.set(name, value);
            }
            const bytes = Buffer.concat(chunks);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes.toString('utf8'), bytes });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  get(path: string): Promise<Response> {
    return this.send('GET', path);
  }

  post(path: string, form: Record<string, string>): Promise<Response> {
    return this.send('POST', path, form);
  }

  /** Loads the sign-in form and posts it. */
  async signIn(username: string, password: string, code: string): Promise<Response> {
    const page = await this.get('/sign-in');
    return this.post('/sign-in', { csrf: csrfOf(page.body), username, password, code });
  }
}

/** The hidden csrf field of the first form in a page. */
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no csrf field in the page');
  return m[1];
}

export function secretOfUri(uri: string): Buffer {
  return Buffer.from(((URI.parse(uri) as TOTP).secret as Secret).bytes);
}

export async function startConsoleWebTest(limits: Partial<ConsoleLimits> = {}): Promise<ConsoleWebTest> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-console-web-'));
  const db = await Database.open(join(dir, 'sealgate.db'));
  await migrate(db);
  const objects = new LocalObjectStore(join(dir, 'objects'));
  await objects.init();
  const keyring = new Keyring(masterKeyFromBytes(randomBytes(32)));
  const ca = await generateCa({ commonName: 'Console Test CA' });
  const leaf = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server' });
  const log = createLogger({ level: 'error', pretty: false, destination: { write: () => true } as unknown as NodeJS.WritableStream });
  const t = { clock: NOW } as { clock: number };
  const server = await createConsoleServer({
    config: adminSchema().parse({ listen: { port: 0 } }),
    db,
    keyring,
    objects,
    issuer: 'Sealgate test',
    log,
    now: () => t.clock,
    limits,
    // console exports as the daemon sets them up: each reads one snapshot of the database (readSnapshot)
    exports: { dir: join(dir, 'exports') },
    tls: { cert: leaf.certPem + ca.certPem, key: leaf.keyPem },
  });
  const { port } = await server.listen();
  return Object.assign(t, {
    db,
    dir,
    server,
    port,
    async addUser(name: string, role: string) {
      const { uri } = await addConsoleUser({ db, keyring, issuer: 'Sealgate test' }, name, role, PASSWORD, 'test', t.clock);
      return secretOfUri(uri);
    },
    code: (secret: Buffer) => totpCode(secret, t.clock),
    client: () => new Client(port, ca.certPem),
    async stop() {
      await server.close();
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  });
}
