/**
 * A private Postfix instance for tests and the benchmark: its own main.cf and
 * master.cf in a temporary directory, its own queue, data directory and
 * maillog file, chroot off, smtpd bound to one loopback address. It never
 * reads or touches /etc/postfix or the system instance (every command gets
 * `-c DIR`).
 *
 * Postfix prints its errors only when stderr is a terminal; in a script it
 * exits 1 silently. Errors thrown here therefore carry the maillog, and for a
 * failed start the diagnostic of `postfix check` run under a pseudo-terminal.
 *
 * Only plain Node modules are imported, so the benchmark can compile this
 * file as it is (tsconfig.bench.json).
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PostfixTlsClient {
  /** smtp_tls_security_level: encrypt (no certificate check) or verify (chain and name). */
  readonly level: 'may' | 'encrypt' | 'verify';
  /** smtp_tls_CAfile: the CA(s) the next hop's certificate must chain to. */
  readonly caFile?: string;
  /**
   * The name the next hop's certificate must carry (a DNS SAN or the CN), for
   * verify. Postfix matches DNS names only, never IP addresses, so with an IP
   * relayhost this sets a policy-table entry `[ip]:port verify match=NAME`.
   */
  readonly match?: string;
  /** Client certificate chain (PEM, leaf first) and its key, presented when the server asks. */
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface PostfixOptions {
  /** Where smtpd listens (loopback only), e.g. { host: '127.0.0.20', port: await freePort('127.0.0.20') }. */
  readonly smtpd: { readonly host: string; readonly port: number };
  /** myhostname, also the EHLO name of its SMTP client. */
  readonly hostname?: string;
  /** Source address of its SMTP client (smtp_bind_address); default 127.0.0.1. */
  readonly bindAddress?: string;
  /** Relay mode: all mail goes to [host]:port; clients in 127.0.0.0/8 may relay. */
  readonly relayhost?: { readonly host: string; readonly port: number };
  /** TLS of its SMTP client towards the relayhost. */
  readonly tls?: PostfixTlsClient;
  /**
   * Keep accepted mail queued: delivery of the smtp transport is deferred
   * until flush() (defer_transports = smtp).
   */
  readonly pauseDelivery?: boolean;
  /** Keep mail refused with 5xx deferred instead of bouncing it (soft_bounce = yes). */
  readonly softBounce?: boolean;
  /** Further main.cf settings, written last. */
  readonly mainCf?: Readonly<Record<string, string>>;
}

export interface PostfixQueueEntry {
  readonly queue_name: string;
  readonly queue_id: string;
  readonly sender: string;
  readonly message_size: number;
  readonly recipients: readonly { readonly address: string; readonly delay_reason?: string }[];
}

/** A port that was free on this loopback address a moment ago. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function postfixVersion(): Promise<string> {
  const { stdout } = await run('postconf', ['-d', '-h', 'mail_version']);
  return stdout.trim();
}

function assertLoopback(host: string, what: string): void {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) throw new Error(`${what} ${host} is not a loopback IPv4 address (127.0.0.0/8)`);
}

async function idOf(flag: '-u' | '-g', name: string): Promise<number> {
  return Number((await run('id', [flag, name])).stdout.trim());
}

export class PostfixInstance {
  readonly configDir: string;
  readonly queueDir: string;
  readonly maillogFile: string;
  private running = false;

  constructor(
    /** Temporary directory holding everything of this instance. */
    readonly dir: string,
    readonly options: PostfixOptions,
  ) {
    this.configDir = join(dir, 'conf');
    this.queueDir = join(dir, 'queue');
    this.maillogFile = join(dir, 'maillog');
  }

  get smtpd(): { readonly host: string; readonly port: number } {
    return this.options.smtpd;
  }

  async maillog(): Promise<string> {
    return readFile(this.maillogFile, 'utf8').catch(() => '');
  }

  /** Runs a Postfix command against this instance; a failure throws with the end of the maillog. */
  async command(file: string, args: readonly string[], input?: Buffer): Promise<string> {
    try {
      if (input === undefined) return (await run(file, [...args], { maxBuffer: 64 << 20 })).stdout;
      return await new Promise<string>((resolve, reject) => {
        const child = execFile(file, [...args], { maxBuffer: 64 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
        child.stdin?.end(input);
      });
    } catch (err) {
      throw await this.failure(`${file} ${args.join(' ')}`, err);
    }
  }

  private async failure(what: string, err: unknown): Promise<Error> {
    const e = err as { message?: string; stderr?: string };
    const log = (await this.maillog()).split('\n').slice(-40).join('\n');
    return new Error(`postfix (${this.dir}): ${what} failed: ${e.message ?? String(err)}${e.stderr ? `\nstderr: ${e.stderr}` : ''}\nmaillog (end):\n${log || '(empty)'}`);
  }

  async start(): Promise<void> {
    try {
      await run('postfix', ['-c', this.configDir, 'start']);
    } catch (err) {
      // Postfix explains itself only to a terminal: ask `postfix check` again under one
      const diagnostic = await run('script', ['-qec', `postfix -c '${this.configDir}' check`, '/dev/null']).then(
        (r) => r.stdout,
        (e: { stdout?: string }) => e.stdout ?? '',
      );
      throw await this.failure('start', new Error(`${(err as Error).message}\npostfix check says: ${diagnostic.trim() || '(nothing)'}`));
    }
    this.running = true;
    // the listener is bound by the master before `postfix start` returns; wait for it to answer
    await this.waitFor(async () => (await this.greets()) || undefined, 30_000, `smtpd on ${this.smtpd.host}:${this.smtpd.port}`);
  }

  private greets(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect({ host: this.smtpd.host, port: this.smtpd.port });
      s.setTimeout(5000);
      s.once('data', (d: Buffer) => {
        s.end('QUIT\r\n');
        resolve(d.toString('latin1').startsWith('220'));
      });
      s.once('error', () => resolve(false));
      s.once('timeout', () => {
        s.destroy();
        resolve(false);
      });
    });
  }

  private async masterPid(): Promise<number | undefined> {
    const text = await readFile(join(this.queueDir, 'pid', 'master.pid'), 'utf8').catch(() => '');
    const pid = Number(text.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }

  /** `postfix stop`, then waits until its master process is gone (stop returns before that). */
  async stop(): Promise<void> {
    if (!this.running) return;
    const pid = await this.masterPid();
    await run('postfix', ['-c', this.configDir, 'stop']).catch(() => undefined);
    const alive = (): boolean => {
      if (pid === undefined) return false;
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 30_000;
    while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive() && pid !== undefined) {
      await run('postfix', ['-c', this.configDir, 'abort']).catch(() => undefined);
      while (alive() && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 100));
    }
    this.running = false;
  }

  /** Attempts delivery of everything queued now (postqueue -f), deferred transports included. */
  async flush(): Promise<void> {
    await this.command('postqueue', ['-c', this.configDir, '-f']);
  }

  /** What is in its queue (postqueue -j): maildrop, incoming, active, deferred and hold. */
  async queue(): Promise<PostfixQueueEntry[]> {
    const out = await this.command('postqueue', ['-c', this.configDir, '-j']);
    return out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as PostfixQueueEntry);
  }

  /** Submits a message as a local sender (sendmail -oi: a line holding a single dot is data). */
  async sendmail(from: string, to: readonly string[], message: Buffer): Promise<void> {
    await this.command('sendmail', ['-C', this.configDir, '-oi', '-f', from, '--', ...to], message);
  }

  /** Polls `check` until it returns a value; on timeout throws with the maillog. */
  async waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw await this.failure(`waiting for ${what}`, new Error(`not within ${timeoutMs} ms`));
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Waits until the queue is empty (everything delivered, bounced or expired). */
  async waitForEmptyQueue(timeoutMs = 120_000): Promise<void> {
    let last: PostfixQueueEntry[] = [];
    await this.waitFor(
      async () => {
        last = await this.queue();
        return last.length === 0 ? true : undefined;
      },
      timeoutMs,
      'an empty queue',
    ).catch((err: Error) => {
      const reasons = [...new Set(last.flatMap((e) => e.recipients.map((r) => r.delay_reason ?? e.queue_name)))].slice(0, 5);
      throw new Error(`${err.message}\n${last.length} still queued; reasons: ${reasons.join(' | ')}`);
    });
  }

  /** Waits until the maillog matches. */
  async waitForLog(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return this.waitFor(async () => (await this.maillog()).match(pattern) ?? undefined, timeoutMs, `maillog to match ${pattern}`);
  }

  /** Stops it and removes its directory. */
  async cleanup(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function mainCf(dir: string, o: PostfixOptions): string {
  const settings: Record<string, string> = {
    compatibility_level: '3.6',
    queue_directory: join(dir, 'queue'),
    data_directory: join(dir, 'data'),
    maillog_file: join(dir, 'maillog'),
    maillog_file_prefixes: dir,
    // Postfix accepts only addresses of an interface here (127.0.0.1 on lo, not the rest
    // of 127.0.0.0/8): smtpd's address is set in master.cf, the client's by smtp_bind_address
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    smtp_bind_address: o.bindAddress ?? '127.0.0.1',
    myhostname: o.hostname ?? 'postfix.test',
    mydestination: '',
    mynetworks: '127.0.0.0/8',
    smtpd_relay_restrictions: 'permit_mynetworks, reject',
    alias_maps: '',
    alias_database: '',
    local_recipient_maps: '',
    biff: 'no',
    // no DNS anywhere: the next hop is an address literal
    smtp_dns_support_level: 'disabled',
    smtpd_peername_lookup: 'no',
    in_flow_delay: '0',
    // retry deferred mail soon, so a test sees repeated attempts without waiting minutes
    queue_run_delay: '10s',
    minimal_backoff_time: '10s',
    maximal_backoff_time: '30s',
    smtp_tls_loglevel: '1',
  };
  if (o.relayhost) {
    assertLoopback(o.relayhost.host, 'relayhost');
    settings.relayhost = `[${o.relayhost.host}]:${o.relayhost.port}`;
  }
  if (o.tls) {
    settings.smtp_tls_security_level = o.tls.level;
    settings.smtp_tls_mandatory_protocols = '>=TLSv1.2';
    settings.smtp_tls_protocols = '>=TLSv1.2';
    if (o.tls.caFile) settings.smtp_tls_CAfile = o.tls.caFile;
    if (o.tls.certFile) settings.smtp_tls_cert_file = o.tls.certFile;
    if (o.tls.keyFile) settings.smtp_tls_key_file = o.tls.keyFile;
    if (o.tls.match) {
      if (!o.relayhost) throw new Error('tls.match needs a relayhost');
      settings.smtp_tls_policy_maps = `texthash:${join(dir, 'conf', 'tls_policy')}`;
    }
  }
  if (o.pauseDelivery) settings.defer_transports = 'smtp';
  if (o.softBounce) settings.soft_bounce = 'yes';
  Object.assign(settings, o.mainCf ?? {});
  return Object.entries(settings)
    .map(([k, v]) => `${k} = ${v}`.trimEnd())
    .join('\n')
    .concat('\n');
}

function masterCf(o: PostfixOptions): string {
  // service type private unpriv chroot wakeup maxproc command: chroot is off everywhere
  return [
    `${o.smtpd.host}:${o.smtpd.port} inet n - n - - smtpd`,
    'pickup    unix  n - n 60 1 pickup',
    'cleanup   unix  n - n -  0 cleanup',
    'qmgr      unix  n - n 300 1 qmgr',
    'tlsmgr    unix  - - n 1000? 1 tlsmgr',
    'rewrite   unix  - - n - - trivial-rewrite',
    'bounce    unix  - - n - 0 bounce',
    'defer     unix  - - n - 0 bounce',
    'trace     unix  - - n - 0 bounce',
    'verify    unix  - - n - 1 verify',
    'flush     unix  n - n 1000? 0 flush',
    'proxymap  unix  - - n - - proxymap',
    'smtp      unix  - - n - - smtp',
    'relay     unix  - - n - - smtp',
    'showq     unix  n - n - - showq',
    'error     unix  - - n - - error',
    'retry     unix  - - n - - error',
    'discard   unix  - - n - - discard',
    'anvil     unix  - - n - 1 anvil',
    'scache    unix  - - n - 1 scache',
    'tlsproxy  unix  - - n - 0 tlsproxy',
    'postlog   unix-dgram n - n - 1 postlogd',
    '',
  ].join('\n');
}

/** Writes a new instance's directory (not started). */
export async function createPostfix(options: PostfixOptions): Promise<PostfixInstance> {
  assertLoopback(options.smtpd.host, 'smtpd address');
  if (options.bindAddress) assertLoopback(options.bindAddress, 'bind address');
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-postfix-'));
  // Postfix's processes run as user postfix and must reach their data directory
  await chmod(dir, 0o755);
  const instance = new PostfixInstance(dir, options);
  await mkdir(instance.configDir);
  await mkdir(instance.queueDir);
  const data = join(dir, 'data');
  await mkdir(data, { mode: 0o700 });
  await chown(data, await idOf('-u', 'postfix'), await idOf('-g', 'postfix'));
  await writeFile(join(instance.configDir, 'main.cf'), mainCf(dir, options));
  await writeFile(join(instance.configDir, 'master.cf'), masterCf(options));
  if (options.tls?.match && options.relayhost) {
    await writeFile(join(instance.configDir, 'tls_policy'), `[${options.relayhost.host}]:${options.relayhost.port} ${options.tls.level} match=${options.tls.match}\n`);
  }
  return instance;
}

/** Creates and starts an instance; removes it again when it does not start. */
export async function startPostfix(options: PostfixOptions): Promise<PostfixInstance> {
  const instance = await createPostfix(options);
  try {
    await instance.start();
  } catch (err) {
    await instance.cleanup().catch(() => undefined);
    throw err;
  }
  return instance;
}
