/**
 * `sealgate connectors refresh`: a real DNS server (dns2) on loopback serves
 * _spf.google.com and its _netblocks* includes; the CLI resolves them through
 * dns.servers and writes a dated Workspace ranges file that a kind: workspace
 * connector then loads. A failed lookup writes nothing.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRangesFile } from '../../src/config/presets.js';
import { connectorSchema } from '../../src/config/schema.js';
import { collectSpfRanges } from '../../src/config/spf-ranges.js';
import { compileConnector, connectorsForClient } from '../../src/smtp/connector-policy.js';
import { startDnsZone, type DnsZone, type ZoneRecord } from '../helpers/dns-zone.js';
import { runCli, setupGateway, type TestSetup } from '../helpers/gateway.js';

const records: ZoneRecord[] = [
  { name: '_spf.google.com', type: 'TXT', data: 'v=spf1 include:_netblocks.google.com include:_netblocks2.google.com include:_netblocks3.google.com ~all' },
  { name: '_spf.google.com', type: 'TXT', data: 'google-site-verification=not-an-spf-record' },
  // a long record split into character-strings, as zone files publish it
  { name: '_netblocks.google.com', type: 'TXT', data: ['v=spf1 ip4:35.190.247.0/24 ip4:127.0.0.0/8 ', 'ip4:64.233.160.0/19 ~all'] },
  { name: '_netblocks2.google.com', type: 'TXT', data: 'v=spf1 ip6:2001:4860:4000::/36 ip6:2a00:1450:4000::/36 ~all' },
  { name: '_netblocks3.google.com', type: 'TXT', data: 'v=spf1 ip4:172.217.0.0/19 ip4:35.190.247.0/24 ~all' },
];

let setup: TestSetup;
let zone: DnsZone;
let broken: DnsZone;

beforeAll(async () => {
  setup = await setupGateway();
  zone = await startDnsZone(records);
  broken = await startDnsZone(records, { servfail: ['_netblocks3.google.com'] });
});

afterAll(async () => {
  await zone?.close();
  await broken?.close();
  await setup?.cleanup();
});

async function configWith(server: string): Promise<void> {
  await setup.writeConfig({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'] }],
    extra: { dns: { servers: [server] } },
  });
}

describe('sealgate connectors refresh', () => {
  it('resolves _spf.google.com and its _netblocks includes through dns.servers and writes a dated ranges file', async () => {
    await configWith(zone.server);
    const out = join(setup.dir, 'workspace-ranges.yaml');
    const r = await runCli(['-c', setup.configPath, 'connectors', 'refresh', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`wrote ${out}: 6 ranges from _spf.google.com, _netblocks.google.com, _netblocks2.google.com, _netblocks3.google.com; point the workspace connector's rangesFile at it and reload (kill -HUP)\n`);
    for (const name of ['_spf.google.com', '_netblocks.google.com', '_netblocks2.google.com', '_netblocks3.google.com']) expect(zone.queries).toContain(`TXT ${name}`);

    const text = await readFile(out, 'utf8');
    expect(text).toMatch(/^# Google Workspace sending ranges/);
    const file = parseRangesFile(text, out);
    expect(file).toEqual({
      provider: 'workspace',
      source: 'dns:_spf.google.com, _netblocks.google.com, _netblocks2.google.com, _netblocks3.google.com; https://support.google.com/a/answer/60764',
      retrieved: new Date().toISOString().slice(0, 10),
      // sorted, IPv4 first, the duplicate 35.190.247.0/24 once
      ranges: ['35.190.247.0/24', '64.233.160.0/19', '127.0.0.0/8', '172.217.0.0/19', '2001:4860:4000::/36', '2a00:1450:4000::/36'],
    });

    // the file is what a kind: workspace connector loads
    const connector = compileConnector(connectorSchema.parse({ name: 'workspace', kind: 'workspace', rangesFile: out, senderDomains: ['example.com'] }));
    expect(connectorsForClient([connector], [], '127.0.0.9').map((c) => c.name)).toEqual(['workspace']);
    expect(connectorsForClient([connector], [], '192.0.2.1')).toEqual([]);
  });

  it('prints the file without --out', async () => {
    await configWith(zone.server);
    const r = await runCli(['-c', setup.configPath, 'connectors', 'refresh']);
    expect(r.code).toBe(0);
    expect(parseRangesFile(r.stdout, 'stdout').ranges).toContain('2001:4860:4000::/36');
  });

  it('writes nothing when a lookup fails: one line naming the cause, exit 1', async () => {
    await configWith(broken.server);
    const out = join(setup.dir, 'kept.yaml');
    await writeFile(out, 'previous contents\n');
    const r = await runCli(['-c', setup.configPath, 'connectors', 'refresh', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot read Google's ranges: DNS lookup failed temporarily \(\w+\) for TXT _netblocks3\.google\.com; check dns\.servers, nothing was written/);
    expect(await readFile(out, 'utf8')).toBe('previous contents\n');
  });
});

describe('sealgate config check with a preset', () => {
  it('names the connector, the unreadable ranges file and the fix (exit 2)', async () => {
    await setup.writeConfig({ connectors: [{ name: 'workspace', kind: 'workspace', rangesFile: join(setup.dir, 'missing.yaml'), senderDomains: ['example.com'] }] });
    const r = await runCli(['-c', setup.configPath, 'config', 'check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`connectors.workspace.rangesFile: cannot read ranges file ${join(setup.dir, 'missing.yaml')} (ENOENT); fix the path or set allowIps`);
  });

  it('names a ranges file of the other provider', async () => {
    await setup.writeConfig({ connectors: [{ name: 'tenant', kind: 'm365', rangesFile: join(process.cwd(), 'config/ranges/workspace.yaml'), senderDomains: ['example.com'] }] });
    const r = await runCli(['-c', setup.configPath, 'config', 'check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is for provider workspace, not m365; point rangesFile at a m365 file');
  });

  it('accepts a preset without allowIps using the packaged file', async () => {
    await setup.writeConfig({ connectors: [{ name: 'tenant', kind: 'm365', senderDomains: ['example.com'], clientCertNames: ['*.mail.protection.outlook.com'] }] });
    const r = await runCli(['-c', setup.configPath, 'config', 'check']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('collectSpfRanges bounds', () => {
  const lookup = (zoneText: Record<string, string[]>) => (name: string) => Promise.resolve((zoneText[name] ?? []).map((t) => [t]));
  it.each<[string, Record<string, string[]>, string]>([
    ['no SPF record', { 'root.test': ['hello'] }, 'root.test: expected one v=spf1 TXT record, found 0'],
    ['two SPF records', { 'root.test': ['v=spf1 ip4:192.0.2.0/24', 'v=spf1 -all'] }, 'root.test: expected one v=spf1 TXT record, found 2'],
    ['a bad range', { 'root.test': ['v=spf1 ip4:2001:db8::/32'] }, 'root.test: "ip4:2001:db8::/32" is not a valid ip4 range'],
    ['no range at all', { 'root.test': ['v=spf1 include:a.test -all'], 'a.test': ['v=spf1 -all'] }, 'no ip4:/ip6: ranges found under root.test'],
    ['an include chain longer than the SPF lookup limit', Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`n${i}.test`, [`v=spf1 include:n${i + 1}.test ip4:192.0.2.${i}`]])), 'more than 11 SPF lookups from n0.test; refusing to follow further'],
  ])('%s', async (_name, zoneText, message) => {
    const root = Object.keys(zoneText)[0] ?? '';
    await expect(collectSpfRanges(root, lookup(zoneText))).rejects.toThrow(message);
  });

  it('follows redirect= and stops at an include loop', async () => {
    const r = await collectSpfRanges('a.test', lookup({ 'a.test': ['v=spf1 include:b.test redirect=c.test'], 'b.test': ['v=spf1 include:a.test ip4:192.0.2.0/24'], 'c.test': ['v=spf1 ip6:2001:db8::/32'] }));
    expect(r).toEqual({ ranges: ['192.0.2.0/24', '2001:db8::/32'], names: ['a.test', 'b.test', 'c.test'] });
  });
});
