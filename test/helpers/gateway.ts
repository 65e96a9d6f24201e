/**
 * Runs the real daemon (`node dist/cli/main.js start`, built by `pretest`) in a
 * child process against a config in a temporary directory, and gives tests
 * its ports, its log lines and ways to stop or kill it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { generateCa, issueCertificate, type Pem } from '../../src/tls/x509.js';

export const CLI = resolve('dist/cli/main.js');

export interface TestPki {
  readonly ca: Pem;
  readonly caFile: string;
  readonly server: Pem;
}

export async function makeTestPki(dir: string): Promise<TestPki> {
  await mkdir(join(dir, 'certs'), { recursive: true });
  const ca = await generateCa({ commonName: 'Sealgate Test CA' });
  const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost', 'gw.test'], ipAddresses: ['127.0.0.1'], usage: 'server' });
  await writeFile(join(dir, 'certs', 'ca.crt'), ca.certPem);
  await writeFile(join(dir, 'certs', 'server.crt'), server.certPem + ca.certPem);
  await writeFile(join(dir, 'certs', 'server.key'), server.keyPem, { mode: 0o600 });
  return { ca, caFile: join(dir, 'certs', 'ca.crt'), server };
}

export interface TestConfigOptions {
  /** Extra/overriding top-level keys merged into the generated config. */
  readonly connectors?: unknown[];
  readonly listeners?: Record<string, unknown>[];
  /** Keys merged into the default listener (ignored when `listeners` is given). */
  readonly listener?: Record<string, unknown>;
  readonly smtp?: Record<string, unknown>;
  readonly extra?: Record<string, unknown>;
}

export interface TestSetup {
  readonly dir: string;
  readonly configPath: string;
  readonly dataDir: string;
  readonly masterKeyFile: string;
  readonly pki: TestPki;
  /** Rewrites the config file (for reload tests). */
  writeConfig(options: TestConfigOptions): Promise<void>;
  cleanup(): Promise<void>;
}

export function buildConfig(dir: string, options: TestConfigOptions): Record<string, unknown> {
  return {
    dataDir: join(dir, 'data'),
    hostname: 'gw.test',
    log: { level: 'debug', pretty: false },
    tls: { trustedCaFiles: [join(dir, 'certs', 'ca.crt')] },
    smtp: {
      listeners: options.listeners ?? [
        { name: 'relay', host: '127.0.0.1', port: 0, tls: 'starttls', certFile: join(dir, 'certs', 'server.crt'), keyFile: join(dir, 'certs', 'server.key'), ...(options.listener ?? {}) },
      ],
      ...(options.smtp ?? {}),
    },
    connectors: options.connectors ?? [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'] }],
    // no key discovery unless a test serves WKD on loopback: with dns.servers unset it would ask the system resolver
    keys: { masterKeyFile: join(dir, 'keys', 'master.key'), discovery: { wkd: false } },
    // no delivery unless a test sets it up with a loopback DNS zone: tests never reach outside 127.0.0.0/8
    delivery: { enabled: false },
    ...(options.extra ?? {}),
  };
}

export async function setupGateway(options: TestConfigOptions = {}): Promise<TestSetup> {
  const dir = await mkdtemp(join(tmpdir(), 'sealgate-test-'));
  const pki = await makeTestPki(dir);
  const configPath = join(dir, 'sealgate.yaml');
  const writeConfig = async (o: TestConfigOptions): Promise<void> => {
    await writeFile(configPath, stringify(buildConfig(dir, o)));
  };
  await writeConfig(options);
  return {
    dir,
    configPath,
    dataDir: join(dir, 'data'),
    masterKeyFile: join(dir, 'keys', 'master.key'),
    pki,
    writeConfig,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface LogLine {
  readonly level: number;
  readonly event?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

export class RunningGateway {
  stdout = '';
  stderr = '';
  readonly ports = new Map<string, number>();
  private exitCode: number | null | undefined;
  private exited: Promise<number | null>;

  constructor(readonly proc: ChildProcess) {
    proc.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString('utf8');
    });
    proc.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString('utf8');
    });
    this.exited = new Promise((resolve) => {
      proc.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve(this.exitCode);
      });
    });
  }

  get port(): number {
    const first = [...this.ports.values()][0];
    if (first === undefined) throw new Error('gateway has no listener');
    return first;
  }

  logLines(): LogLine[] {
    return this.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);
  }

  /** Waits until a log line with this event code appears (after `from` lines). */
  async waitForEvent(event: string, timeoutMs = 30_000, from = 0): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.logLines().slice(from).find((l) => l.event === event);
      if (hit) return hit;
      if (this.exitCode !== undefined) throw new Error(`gateway exited (${this.exitCode}) before ${event}; stderr: ${this.stderr.slice(-2000)} stdout: ${this.stdout.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error(`no ${event} within ${timeoutMs} ms; stdout: ${this.stdout.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig);
  }

  wait(): Promise<number | null> {
    return this.exited;
  }

  async stop(): Promise<number | null> {
    if (this.exitCode !== undefined) return this.exitCode;
    this.proc.kill('SIGTERM');
    return this.exited;
  }

  async kill9(): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * GATEWAY_NODE_ARGS: extra Node.js options for the started daemon, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`
 * to profile it under a bench load (NODE_OPTIONS does not accept --cpu-prof).
 */
const gatewayNodeArgs = (): string[] => (process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');

export async function startGateway(configPath: string, cwd?: string): Promise<RunningGateway> {
  const proc = spawn(process.execPath, [...gatewayNodeArgs(), CLI, '-c', configPath, 'start'], { cwd: cwd ?? process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  const gw = new RunningGateway(proc);
  const ready = await gw.waitForEvent('DAEMON_READY');
  for (const l of (ready as unknown as { listeners: { name: string; port: number }[] }).listeners) gw.ports.set(l.name, l.port);
  return gw;
}

/** Runs the CLI to completion. */
export function runCli(args: string[], options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? process.cwd(), stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
    proc.stdin.end(options.input ?? '');
  });
}

/** The last `n` audit events, parsed (`sealgate audit tail --json`). */
export async function auditEvents(configPath: string, n = 200): Promise<{ type: string; data: Record<string, unknown> }[]> {
  const r = await runCli(['-c', configPath, 'audit', 'tail', '--json', '-n', String(n)]);
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> });
}

/** A queued message as `sealgate queue show ID --json` prints it. */
export async function queueShow(configPath: string, id: string): Promise<{ recipients: { address: string; lastError?: string; state?: string }[] }> {
  return JSON.parse((await runCli(['-c', configPath, 'queue', 'show', id, '--json'])).stdout) as { recipients: { address: string; lastError?: string; state?: string }[] };
}

