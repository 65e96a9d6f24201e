/** The `store` config section: defaults, and the errors that name the path and the fix. */
import { describe, expect, it } from 'vitest';
import { redactConfig, validateConfig } from '../../src/config/load.js';
import { MINIMAL_CONFIG, problemFor } from '../helpers/config-problem.js';

// the smallest valid config (test/helpers/config-problem.ts)
const base = MINIMAL_CONFIG;

describe('store config', () => {
  it('defaults to SQLite, a heartbeat every 10 s, a pool of 10, statements bounded to 30 s and verified TLS', () => {
    expect(validateConfig(base, 't').store).toEqual({ kind: 'sqlite', heartbeat: 10_000, poolSize: 10, statementTimeout: 30_000, tls: { mode: 'verify-full' } });
  });

  it('takes a PostgreSQL URL, password file, pool size and TLS', () => {
    const store = { kind: 'postgres', url: 'postgres://sg@db.example:5432/sealgate', passwordFile: '/etc/sealgate/db-password', poolSize: 20, tls: { mode: 'verify-full', caFile: '/etc/ca.pem' } };
    expect(validateConfig({ ...base, store }, 't').store).toEqual({ ...store, heartbeat: 10_000, statementTimeout: 30_000 });
  });

  it.each<[string, unknown, RegExp]>([
    ['postgres without a URL', { kind: 'postgres' }, /store\.url: .*kind postgres needs store\.url/],
    ['a URL with kind sqlite', { url: 'postgres://sg@db/sealgate' }, /store\.url: .*set store\.kind: postgres or remove store\.url/],
    ['a URL that is not postgres://', { kind: 'postgres', url: 'mysql://sg@db/x' }, /store\.url: .*expected postgres:\/\/USER@HOST:PORT\/DATABASE/],
    ['an unknown kind', { kind: 'mysql' }, /store\.kind: got "mysql": expected one of "sqlite", "postgres"/],
    ['an unknown TLS mode', { kind: 'postgres', url: 'postgres://sg@db/x', tls: { mode: 'prefer' } }, /store\.tls\.mode: got "prefer"/],
    ['a pool of 0', { kind: 'postgres', url: 'postgres://sg@db/x', poolSize: 0 }, /store\.poolSize: got 0/],
    ['a heartbeat under a second', { heartbeat: '500ms' }, /store\.heartbeat: .*at least 1000 ms/],
    ['a heartbeat over ten minutes', { heartbeat: '11m' }, /store\.heartbeat: .*at most 10 minutes/],
  ])('refuses %s', (_name, store, pattern) => {
    expect(problemFor({ ...base, store })).toMatch(pattern);
  });

  it('shows store.url without its password in config check and the console (redactConfig)', () => {
    const cfg = validateConfig({ ...base, store: { kind: 'postgres', url: 'postgres://sg:s3cr%40t@db.example:5432/sealgate', passwordFile: '/etc/pw' } }, 't');
    const shown = redactConfig(cfg) as typeof cfg;
    expect(shown.store.url).toBe('postgres://sg:[redacted]@db.example:5432/sealgate');
    expect(shown.store.passwordFile).toBe('/etc/pw');
    expect(JSON.stringify(shown)).not.toContain('s3cr');
    expect((redactConfig({ url: 'postgres://sg@db/x' }) as { url: string }).url).toBe('postgres://sg@db/x');
  });
});
