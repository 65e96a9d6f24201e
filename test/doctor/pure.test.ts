import { describe, expect, it } from 'vitest';
import { doctorExitCode, fail, formatChecklist, ok, warn } from '../../src/doctor/check.js';
import { spfCoversIp } from '../../src/doctor/dns.js';
import { sendingDomains } from '../../src/doctor/doctor.js';
import { pemCertificateBlocks } from '../../src/crypto/pem.js';
import type { Config } from '../../src/config/schema.js';

describe('spfCoversIp', () => {
  it.each<[string, string, boolean]>([
    ['v=spf1 ip4:192.0.2.10 -all', '192.0.2.10', true],
    ['v=spf1 ip4:192.0.2.0/24 -all', '192.0.2.77', true],
    ['v=spf1 +ip4:192.0.2.0/24 -all', '192.0.2.77', true],
    ['v=spf1 ip4:192.0.2.0/24 -all', '192.0.3.1', false],
    ['v=spf1 ip4:0.0.0.0/0 -all', '203.0.113.9', true],
    ['v=spf1 include:_spf.example.net -all', '192.0.2.10', false],
    ['v=spf1 -ip4:192.0.2.10 -all', '192.0.2.10', false],
  ])('%s covers %s: %s', (record, ip, want) => {
    expect(spfCoversIp(record, ip)).toBe(want);
  });
});

describe('checklist', () => {
  it.each<[string, ReturnType<typeof ok>[], number]>([
    ['all ok', [ok('a', 'fine')], 0],
    ['a warning is advice', [ok('a', 'fine'), warn('b', 'hm', 'do x')], 0],
    ['a failure fails', [ok('a', 'fine'), fail('c', 'bad', 'do y')], 1],
  ])('%s → exit %i', (_name, checks, code) => {
    expect(doctorExitCode(checks)).toBe(code);
  });

  it('one line per check with the fix, then the counts', () => {
    expect(formatChecklist([ok('config', 'valid'), warn('MTA-STS a.test', 'none', 'publish it'), fail('permissions master key', 'mode 0644', 'chmod 600 k')])).toBe(
      '[ ok ] config: valid\n[warn] MTA-STS a.test: none — fix: publish it\n[FAIL] permissions master key: mode 0644 — fix: chmod 600 k\n3 checks: 1 ok, 1 warnings, 1 failed\n',
    );
  });
});

describe('helpers', () => {
  it('doctor reads certificate bundles with pemCertificateBlocks', () => {
    const one = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----';
    expect(pemCertificateBlocks(`${one}\n${one}\n-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n`)).toEqual([one, one]);
    expect(pemCertificateBlocks('nothing')).toEqual([]);
  });

  it('sendingDomains: the connectors\' domains, once, lower-cased, without wildcards', () => {
    const config = { connectors: [{ senderDomains: ['Example.com', '*.example.org'] }, { senderDomains: ['example.com', 'clinic.example'] }, {}] } as unknown as Config;
    expect(sendingDomains(config)).toEqual(['example.com', 'clinic.example']);
  });
});
