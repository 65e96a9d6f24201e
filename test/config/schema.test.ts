import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { embeddedDefaultConfig, parseConfigText, redactConfig, validateConfig } from '../../src/config/load.js';
import { MINIMAL_CONFIG, problemFor } from '../helpers/config-problem.js';
import { parse as parseYaml } from 'yaml';

/** Every key path in a config value; array elements share their array's path. */
function keyPaths(value: unknown, prefix = ''): Set<string> {
  const out = new Set<string>();
  if (Array.isArray(value)) {
    for (const v of value) for (const p of keyPaths(v, `${prefix}[]`)) out.add(p);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const path = prefix ? `${prefix}.${k}` : k;
      out.add(path);
      for (const p of keyPaths(v, path)) out.add(p);
    }
  }
  return out;
}

// the smallest valid config (test/helpers/config-problem.ts)
const base = MINIMAL_CONFIG;

describe('config validation', () => {
  it('the embedded default is valid and listens on 127.0.0.1:2525 with STARTTLS', () => {
    const cfg = validateConfig(embeddedDefaultConfig(), 'embedded');
    expect(cfg.smtp.listeners[0]).toMatchObject({ host: '127.0.0.1', port: 2525, tls: 'starttls' });
    expect(cfg.connectors[0]?.allowIps).toContain('127.0.0.0/8');
    expect(cfg.connectors[0]?.senderDomains).toEqual(['localhost', 'example.com', 'example.org']);
    expect(cfg.tls.generateDevCerts).toBe(true);
    expect(cfg.dataDir).toBe('./data');
  });

  it('the example config documents a valid config', () => {
    const cfg = parseConfigText(readFileSync('config/sealgate.example.yaml', 'utf8'), 'example');
    expect(cfg.delivery.port).toBe(25);
    expect(cfg.dns.servers).toEqual([]);
  });

  it('the example config spells out every key the schema fills in', () => {
    const text = readFileSync('config/sealgate.example.yaml', 'utf8');
    const written = keyPaths(parseYaml(text));
    const effective = keyPaths(parseConfigText(text, 'example'));
    expect([...effective].filter((p) => !written.has(p))).toEqual([]);
  });

  it('fills defaults for the public contract keys', () => {
    const cfg = validateConfig(base, 't');
    expect(cfg.delivery.port).toBe(25);
    expect(cfg.keys.masterKeyFile).toBe('./data/keys/master.key');
    expect(cfg.log.level).toBe('info');
    expect(cfg.tls.trustedCaFiles).toEqual([]);
    expect(cfg.portal).toMatchObject({ enabled: false, listen: { host: '127.0.0.1', port: 8443 }, expiry: 30 * 86_400_000, linkKey: false, replyMaxBytes: 25 * 1024 * 1024, trustedProxies: [], branding: { organisationName: 'Sealgate', colour: '#1f4e79' } });
    expect(validateConfig({ ...base, portal: { publicUrl: 'https://secure.example.org/portal/' } }, 't').portal.publicUrl).toBe('https://secure.example.org/portal');
    expect(validateConfig({ ...base, portal: { publicUrl: 'http://127.0.0.1:8443' } }, 't').portal.publicUrl).toBe('http://127.0.0.1:8443');
  });

  it.each<[string, unknown, RegExp]>([
    ['bad port type', { ...base, smtp: { listeners: [{ name: 'relay', tls: 'none', port: 'abc' }] } }, /smtp\.listeners\[0\]\.port: got "abc": expected number/],
    ['port out of range', { ...base, smtp: { listeners: [{ name: 'relay', tls: 'none', port: 70000 }] } }, /smtp\.listeners\[0\]\.port: got 70000/],
    ['bad tls mode', { ...base, smtp: { listeners: [{ name: 'relay', tls: 'yes' }] } }, /smtp\.listeners\[0\]\.tls: got "yes": expected one of "starttls", "implicit", "none"/],
    ['TLS listener without cert', { ...base, smtp: { listeners: [{ name: 'relay' }] } }, /smtp\.listeners\[0\]\.certFile: got nothing: a TLS listener needs certFile and keyFile/],
    ['bad CIDR', { ...base, connectors: [{ name: 'c', allowIps: ['10.0.0.0/33'], senderDomains: ['a.b'] }] }, /connectors\[0\]\.allowIps\[0\]: got "10\.0\.0\.0\/33": expected an IPv4 or IPv6 address or CIDR range/],
    ['unknown key', { ...base, smtpp: {} }, /\(top level\): unknown key "smtpp": remove it or check the spelling/],
    ['unknown nested key', { ...base, delivery: { prot: 25 } }, /delivery: unknown key "prot"/],
    ['bad dns server', { ...base, dns: { servers: ['127.0.0.1'] } }, /dns\.servers\[0\]: got "127\.0\.0\.1": expected "host:port"/],
    ['bad log level', { ...base, log: { level: 'loud' } }, /log\.level: got "loud": expected one of/],
    ['custom detector regex that does not compile', { ...base, inspection: { customDetectors: [{ id: 'x', category: 'MEMBER_NO', pattern: '(ACM' }] } }, /inspection\.customDetectors\[0\]\.pattern: .*not a valid regular expression/],
    ['custom detector with nested quantifiers', { ...base, inspection: { customDetectors: [{ id: 'x', category: 'MEMBER_NO', pattern: '(\\d+)+X' }] } }, /inspection\.customDetectors\[0\]\.pattern: .*nested quantifiers/],
    ['portal publicUrl over plain http to a public host', { ...base, portal: { publicUrl: 'http://secure.example.org' } }, /portal\.publicUrl: .*use https:\/\//],
    ['portal publicUrl with a fragment', { ...base, portal: { publicUrl: 'https://secure.example.org/#x' } }, /portal\.publicUrl: .*fragments/],
    ['portal certFile without keyFile', { ...base, portal: { certFile: '/x.crt' } }, /portal\.keyFile: .*give both certFile and keyFile/],
    ['portal expiry under an hour', { ...base, portal: { expiry: '5m' } }, /portal\.expiry: .*at least 3600000 ms/],
    ['portal branding colour', { ...base, portal: { branding: { colour: 'blue' } } }, /portal\.branding\.colour: .*#1f4e79/],
    ['portal trusted proxy that is not an address', { ...base, portal: { trustedProxies: ['proxy'] } }, /portal\.trustedProxies\[0\]: .*CIDR/],
    ['policy profile for an unknown connector', { ...base, policy: { profiles: { connectors: { nope: { minimumProtection: 'tls' } } } } }, /policy\.profiles\.connectors\.nope: .*unknown connector "nope"/],
    ['no connectors', { ...base, connectors: [] }, /connectors: got \[\]: configure at least one connector/],
    ['unknown connector on listener', { ...base, smtp: { listeners: [{ name: 'relay', tls: 'none', connectors: ['nope'] }] } }, /smtp\.listeners\[0\]\.connectors\[0\]: got "nope": unknown connector "nope"; name one of: c/],
    ['users without an auth listener', { ...base, connectors: [{ name: 'c', allowIps: ['127.0.0.1'], senderDomains: ['a.b'], users: ['alice'] }] }, /connectors\[0\]\.users: .*add auth: true to a listener/],
    ['bad sender domain', { ...base, connectors: [{ name: 'c', allowIps: ['127.0.0.1'], senderDomains: ['a b'] }] }, /connectors\[0\]\.senderDomains\[0\]: got "a b": expected a domain/],
    ['generic connector without allowIps', { ...base, connectors: [{ name: 'c', senderDomains: ['a.b'] }] }, /connectors\[0\]\.allowIps: got nothing: list at least one client address or range \(only kind m365 or workspace may omit allowIps/],
    ['rangesFile on a generic connector', { ...base, connectors: [{ name: 'c', allowIps: ['127.0.0.1'], rangesFile: '/r.yaml', senderDomains: ['a.b'] }] }, /connectors\[0\]\.rangesFile: .*rangesFile is for kind m365 or workspace/],
    ['empty allowIps on a preset', { ...base, connectors: [{ name: 'c', kind: 'm365', allowIps: [], senderDomains: ['a.b'] }] }, /connectors\[0\]\.allowIps: .*list at least one client address or range/],
  ])('%s', (_name, raw, pattern) => {
    expect(problemFor(raw)).toMatch(pattern);
  });

  it('reports YAML syntax errors with a position', () => {
    expect(() => parseConfigText('smtp: [\n', 'bad.yaml')).toThrow(/bad\.yaml: line \d+, column \d+: YAML syntax error/);
  });

  it('redacts secret-looking keys', () => {
    expect(redactConfig({ a: { password: 'x', token: 'y', keyFile: '/k' } })).toEqual({ a: { password: '[redacted]', token: '[redacted]', keyFile: '/k' } });
  });
});
