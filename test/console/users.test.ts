/**
 * Console users through the real CLI (argon2id, a real SQLite database, the
 * master key) and sign-in with real RFC 6238 codes computed from the
 * otpauth:// URI the CLI printed, as an authenticator app would: password
 * and code both needed, each code once, lockout with backoff, reset-mfa and
 * disable, and every step in the audit log without a password, secret or code.
 */
import { Secret, URI, type TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FREE_FAILURES, lockFor } from '../../src/console/lockout.js';
import { signIn, type ConsoleUsersDeps } from '../../src/console/users.js';
import { acceptTotp, totpCode, totpStep } from '../../src/console/totp.js';
import { loadKeyring } from '../../src/crypto/keyring.js';
import { Database } from '../../src/db/database.js';
import { auditEvents, runCli, setupGateway, type TestSetup } from '../helpers/gateway.js';

const PASSWORD = 'correct horse battery staple';
let setup: TestSetup;

beforeAll(async () => {
  setup = await setupGateway();
  // the master key the daemon creates at its first start (console-users never creates one)
  await loadKeyring({ masterKeyFile: setup.masterKeyFile, create: true });
}, 60_000);

afterAll(async () => {
  await setup?.cleanup();
});

function secretOf(uri: string): Buffer {
  const otp = URI.parse(uri) as TOTP;
  expect(otp.algorithm).toBe('SHA1');
  expect(otp.digits).toBe(6);
  expect(otp.period).toBe(30);
  return Buffer.from((otp.secret as Secret).bytes);
}

async function add(name: string, role: string): Promise<Buffer> {
  const r = await runCli(['-c', setup.configPath, 'console-users', 'add', name, '--role', role, '--password-stdin'], { input: `${PASSWORD}\n` });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const uri = /^otpauth:\/\/totp\/\S+$/m.exec(r.stdout)?.[0] ?? '';
  expect(uri).toContain(encodeURIComponent(name));
  return secretOf(uri);
}

async function withDeps<T>(work: (deps: ConsoleUsersDeps) => Promise<T>): Promise<T> {
  const db = await Database.open(`${setup.dataDir}/sealgate.db`);
  try {
    return await work({ db, keyring: await loadKeyring({ masterKeyFile: setup.masterKeyFile, create: false }), issuer: 'Sealgate test' });
  } finally {
    await db.close();
  }
}

describe('lockFor (backoff)', () => {
  it.each<[number, number]>([
    [0, 0],
    [FREE_FAILURES - 1, 0],
    [FREE_FAILURES, 60_000],
    [FREE_FAILURES + 1, 120_000],
    [FREE_FAILURES + 5, 1_920_000],
    [FREE_FAILURES + 6, 3_600_000],
    [FREE_FAILURES + 100, 3_600_000],
  ])('%i failures in a row lock for %i ms', (failures, ms) => {
    expect(lockFor(failures)).toBe(ms);
  });
});

describe('TOTP', () => {
  const secret = Buffer.from('12345678901234567890');
  // RFC 6238 appendix B (SHA-1), last 6 digits
  it.each<[number, string]>([
    [59_000, '287082'],
    [1_111_111_109_000, '081804'],
    [1_234_567_890_000, '005924'],
    [2_000_000_000_000, '279037'],
  ])('at %i the code is %s', (at, code) => {
    expect(totpCode(secret, at)).toBe(code);
    expect(acceptTotp(secret, code, at, 0)).toBe(totpStep(at));
  });

  it('accepts one step of drift either side, never an older or the same step again, only six digits', () => {
    const at = 1_700_000_000_000;
    expect(acceptTotp(secret, totpCode(secret, at - 30_000), at, 0)).toBe(totpStep(at) - 1);
    expect(acceptTotp(secret, totpCode(secret, at + 30_000), at, 0)).toBe(totpStep(at) + 1);
    expect(acceptTotp(secret, totpCode(secret, at - 90_000), at, 0)).toBeUndefined();
    expect(acceptTotp(secret, totpCode(secret, at), at, totpStep(at))).toBeUndefined();
    expect(acceptTotp(secret, ` ${totpCode(secret, at)}`, at, 0)).toBeUndefined();
    expect(acceptTotp(secret, '１２３４５６', at, 0)).toBeUndefined();
  });
});

describe('console users', () => {
  it('add prints the otpauth URI once; password and a fresh code sign in; the same code does not work twice', async () => {
    const secret = await add('ann', 'auditor');
    const now = Date.now();
    const code = totpCode(secret, now);
    const ok = await withDeps((d) => signIn(d, { name: 'ann', password: PASSWORD, code, remoteIp: '127.0.0.1' }, now));
    expect(ok).toEqual({ ok: true, name: 'ann', role: 'auditor' });
    const again = await withDeps((d) => signIn(d, { name: 'ann', password: PASSWORD, code, remoteIp: '127.0.0.1' }, now + 1000));
    expect(again).toEqual({ ok: false, reason: 'credentials' });
    const wrongPassword = await withDeps((d) => signIn(d, { name: 'ann', password: 'not the password at all', code: totpCode(secret, now + 30_000), remoteIp: '127.0.0.1' }, now + 30_000));
    expect(wrongPassword).toEqual({ ok: false, reason: 'credentials' });
    const unknown = await withDeps((d) => signIn(d, { name: 'my secret password', password: PASSWORD, code: '123456', remoteIp: '127.0.0.2' }, now));
    expect(unknown).toEqual({ ok: false, reason: 'credentials' });

    const events = await auditEvents(setup.configPath);
    expect(events.filter((e) => e.type.startsWith('console:')).map((e) => [e.type, e.data.user, e.data.reason ?? e.data.role])).toEqual([
      ['console:user_added', 'ann', 'auditor'],
      ['console:signed_in', 'ann', 'auditor'],
      ['console:sign_in_failed', 'ann', 'code'],
      ['console:sign_in_failed', 'ann', 'password'],
      ['console:sign_in_failed', '(unknown)', 'unknown-user'],
    ]);
    const text = JSON.stringify(events);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('my secret password');
    expect(text).not.toContain(code);
  });

  it('locks a name after repeated failures, answers locked with its time, and reset-mfa clears it and replaces the secret', async () => {
    const secret = await add('bob', 'auditor-content');
    const start = Date.now();
    let last: Awaited<ReturnType<typeof signIn>> | undefined;
    for (let i = 0; i < FREE_FAILURES; i++) last = await withDeps((d) => signIn(d, { name: 'bob', password: PASSWORD, code: '000000', remoteIp: '127.0.0.3' }, start + i));
    expect(last).toEqual({ ok: false, reason: 'locked', retryAfter: start + FREE_FAILURES - 1 + 60_000 });
    // even the right password and code are refused while locked
    const locked = await withDeps((d) => signIn(d, { name: 'bob', password: PASSWORD, code: totpCode(secret, start + 10), remoteIp: '127.0.0.3' }, start + 10));
    expect(locked).toMatchObject({ ok: false, reason: 'locked' });
    const list = JSON.parse((await runCli(['-c', setup.configPath, 'console-users', 'list', '--json'])).stdout) as { name: string; role: string; locked: boolean; disabled: boolean }[];
    expect(list.find((u) => u.name === 'bob')).toMatchObject({ role: 'auditor-content', locked: true, disabled: false });

    const reset = await runCli(['-c', setup.configPath, 'console-users', 'reset-mfa', 'bob']);
    expect(reset.code).toBe(0);
    const fresh = secretOf(/^otpauth:\/\/totp\/\S+$/m.exec(reset.stdout)?.[0] ?? '');
    expect(fresh.equals(secret)).toBe(false);
    const now = Date.now();
    const old = await withDeps((d) => signIn(d, { name: 'bob', password: PASSWORD, code: totpCode(secret, now), remoteIp: '127.0.0.3' }, now));
    expect(old).toEqual({ ok: false, reason: 'credentials' });
    const ok = await withDeps((d) => signIn(d, { name: 'bob', password: PASSWORD, code: totpCode(fresh, now), remoteIp: '127.0.0.3' }, now));
    expect(ok).toEqual({ ok: true, name: 'bob', role: 'auditor-content' });
    expect((await auditEvents(setup.configPath)).some((e) => e.type === 'console:locked' && e.data.user === 'bob')).toBe(true);
  });

  it('a disabled user cannot sign in; CLI errors are one line with a non-zero exit', async () => {
    const secret = await add('cy', 'admin');
    expect((await runCli(['-c', setup.configPath, 'console-users', 'disable', 'cy'])).code).toBe(0);
    const now = Date.now();
    expect(await withDeps((d) => signIn(d, { name: 'cy', password: PASSWORD, code: totpCode(secret, now), remoteIp: '127.0.0.4' }, now))).toEqual({ ok: false, reason: 'credentials' });

    const cases: [string[], string | undefined, RegExp][] = [
      [['console-users', 'add', 'dee', '--role', 'root', '--password-stdin'], `${PASSWORD}\n`, /^sealgate: --role must be one of admin, auditor, auditor-content\n$/],
      [['console-users', 'add', 'dee', '--role', 'auditor', '--password-stdin'], 'short\n', /^sealgate: password must be 12 to 1024 characters long\n$/],
      [['console-users', 'add', 'ann', '--role', 'auditor', '--password-stdin'], `${PASSWORD}\n`, /^sealgate: console user ann already exists; .*reset-mfa ann.*\n$/],
      [['console-users', 'disable', 'nobody'], undefined, /^sealgate: console user nobody not found .*\n$/],
      [['console-users', 'add', 'bad name!', '--role', 'auditor', '--password-stdin'], `${PASSWORD}\n`, /^sealgate: console user name must be 1-64 characters/],
    ];
    for (const [args, input, stderr] of cases) {
      const r = await runCli(['-c', setup.configPath, ...args], input !== undefined ? { input } : {});
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(stderr);
      expect(r.stdout).not.toContain('otpauth://');
    }
  });
});
