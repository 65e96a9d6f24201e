/** Running real GnuPG on a fixture home: decrypt, list packets, import; status lines read from --status-fd. */
import { spawnSync } from 'node:child_process';

export interface GpgRun {
  readonly code: number | null;
  readonly stdout: Buffer;
  /** The [GNUPG:] status lines, without the prefix. */
  readonly status: string[];
  readonly stderr: string;
}

export function gpgRun(home: string, args: string[], input?: Buffer | string): GpgRun {
  const r = spawnSync('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', '--status-fd', '2', ...args], {
    env: { ...process.env, GNUPGHOME: home },
    input,
    maxBuffer: 256 * 1024 * 1024,
  });
  const stderr = r.stderr.toString('utf8');
  const status = stderr
    .split('\n')
    .filter((l) => l.startsWith('[GNUPG:] '))
    .map((l) => l.slice(9));
  return { code: r.status, stdout: r.stdout, status, stderr };
}

export const gpgDecrypt = (home: string, data: Buffer | string): GpgRun => gpgRun(home, ['--decrypt'], data);
/** Packets without decrypting (no secret key needed). */
export const gpgListPackets = (home: string, data: Buffer | string): string => gpgRun(home, ['--list-only', '--list-packets'], data).stdout.toString('utf8');
export const gpgImport = (home: string, armored: string): GpgRun => gpgRun(home, ['--import'], armored);
