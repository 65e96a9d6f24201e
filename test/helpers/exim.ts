/**
 * Exim as a real BDAT-sending MTA (unpacked by test/peers/install-exim.sh),
 * run from its own config in a temporary directory: it relays everything it
 * is given to one next hop, over TLS, with CHUNKING when offered.
 */
import { execFile } from 'node:child_process';
import { chown, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { userInfo } from 'node:os';

const run = promisify(execFile);

export const EXIM_ROOT = process.env.SEALGATE_EXIM_ROOT ?? '/opt/sealgate-peers/exim';
export const EXIM_BIN = join(EXIM_ROOT, 'usr', 'sbin', 'exim4');

export function haveExim(): boolean {
  return existsSync(EXIM_BIN);
}

export interface EximInstance {
  readonly dir: string;
  /** Submits a message (raw bytes, as a local sender would) and delivers it at once (-odi). */
  send(from: string, to: string, message: Buffer): Promise<void>;
  mainlog(): Promise<string>;
}

export async function setupExim(dir: string, nextHop: { host: string; port: number; caFile: string }): Promise<EximInstance> {
  const spool = join(dir, 'spool');
  const log = join(dir, 'log');
  await mkdir(spool, { recursive: true });
  await mkdir(log, { recursive: true });
  const { stdout } = await run('id', ['-u', 'Debian-exim']);
  const uid = Number(stdout.trim());
  const gid = Number((await run('id', ['-g', 'Debian-exim'])).stdout.trim());
  for (const d of [dir, spool, log]) await chown(d, uid, gid);
  // Exim delivers as its own user: it needs a CA file it can read
  const caFile = join(dir, 'ca.pem');
  await copyFile(nextHop.caFile, caFile);
  await chown(caFile, uid, gid);
  const config = join(dir, 'exim.conf');
  await writeFile(
    config,
    [
      `exim_path = ${EXIM_BIN}`,
      'keep_environment =',
      `spool_directory = ${spool}`,
      `log_file_path = ${log}/%slog`,
      'primary_hostname = exim.test',
      'qualify_domain = example.com',
      'exim_user = Debian-exim',
      'exim_group = Debian-exim',
      'never_users =',
      `trusted_users = ${userInfo().username}`,
      'message_size_limit = 0',
      'begin routers',
      'to_gateway:',
      '  driver = manualroute',
      '  transport = remote_smtp',
      `  route_list = * ${nextHop.host}::${nextHop.port}`,
      '  self = send',
      'begin transports',
      'remote_smtp:',
      '  driver = smtp',
      '  hosts_try_chunking = *',
      '  hosts_require_tls = *',
      `  tls_verify_certificates = ${caFile}`,
      '  tls_verify_hosts = *',
      'begin retry',
      '* * F,1m,1m',
      '',
    ].join('\n'),
  );
  return {
    dir,
    send: async (from, to, message) => {
      await new Promise<void>((resolve, reject) => {
        const child = execFile(EXIM_BIN, ['-C', config, '-odi', '-oi', '-f', from, to], { timeout: 120_000 }, (err) => (err ? reject(err) : resolve()));
        child.stdin?.end(message);
      });
    },
    mainlog: async () => readFile(join(log, 'mainlog'), 'utf8').catch(() => ''),
  };
}
