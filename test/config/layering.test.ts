/**
 * Layering: built-in defaults < config file. A file holds only the keys it
 * changes; objects merge key by key, arrays and scalars replace.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { embeddedDefaultConfig, parseConfigText, validateConfig } from '../../src/config/load.js';
import { layerConfig } from '../../src/config/layer.js';
import { runCli } from '../helpers/gateway.js';

describe('layerConfig', () => {
  it.each<[string, unknown, unknown, unknown]>([
    ['nothing over a value keeps it', { a: 1 }, undefined, { a: 1 }],
    ['a scalar replaces', { a: 1, b: 2 }, { a: 3 }, { a: 3, b: 2 }],
    ['objects merge key by key, deeply', { a: { x: 1, y: { p: 1, q: 2 } } }, { a: { y: { q: 3 } } }, { a: { x: 1, y: { p: 1, q: 3 } } }],
    ['an array replaces the whole array', { l: [{ n: 1 }, { n: 2 }] }, { l: [{ m: 3 }] }, { l: [{ m: 3 }] }],
    ['an empty array replaces too', { l: [1, 2] }, { l: [] }, { l: [] }],
    ['null is a value, not absence', { k: 'x' }, { k: null }, { k: null }],
    ['an object replaces a scalar', { a: 1 }, { a: { b: 1 } }, { a: { b: 1 } }],
    ['a scalar replaces an object', { a: { b: 1 } }, { a: 2 }, { a: 2 }],
    ['new keys are added (and later refused by the schema if unknown)', { a: 1 }, { z: 2 }, { a: 1, z: 2 }],
  ])('%s', (_name, base, over, expected) => {
    const before = JSON.stringify(base);
    expect(layerConfig(base, over)).toEqual(expected);
    expect(JSON.stringify(base)).toBe(before); // the base is never changed
  });
});

describe('a config file over the built-in defaults', () => {
  const embedded = validateConfig(embeddedDefaultConfig(), 'embedded');

  it('an empty file is the embedded default', () => {
    expect(parseConfigText('', 'empty.yaml')).toEqual(embedded);
    expect(parseConfigText('# only a comment\n', 'c.yaml')).toEqual(embedded);
  });

  it('a file that changes one key gets the embedded default for every other key', () => {
    const cfg = parseConfigText('delivery:\n  enabled: false\n', 'partial.yaml');
    expect(cfg.delivery.enabled).toBe(false);
    expect({ ...cfg, delivery: embedded.delivery }).toEqual(embedded);
  });

  it('a nested key merges into its section; the rest of the section keeps its defaults', () => {
    const cfg = parseConfigText('smtp:\n  maxRecipients: 50\ntls:\n  minVersion: TLSv1.3\n', 'partial.yaml');
    expect(cfg.smtp.maxRecipients).toBe(50);
    expect(cfg.smtp.listeners).toEqual(embedded.smtp.listeners);
    expect(cfg.smtp.maxMessageBytes).toBe(embedded.smtp.maxMessageBytes);
    expect(cfg.tls).toEqual({ ...embedded.tls, minVersion: 'TLSv1.3' });
  });

  it('a file listing connectors gets exactly those (arrays replace)', () => {
    const cfg = parseConfigText('connectors:\n  - { name: m365, allowIps: ["40.92.0.0/15"], senderDomains: [hospital.example] }\n', 'c.yaml');
    expect(cfg.connectors.map((c) => c.name)).toEqual(['m365']);
    expect(cfg.smtp.listeners).toEqual(embedded.smtp.listeners);
  });

  it('a file with its own listeners is a deployment: no development certificates, no loopback portal unless it says so', () => {
    const cfg = parseConfigText('smtp:\n  listeners:\n    - { name: relay, host: "::", port: 25, certFile: /etc/gw.crt, keyFile: /etc/gw.key }\n', 'deploy.yaml');
    expect(cfg.tls.generateDevCerts).toBe(false);
    expect(cfg.portal.enabled).toBe(false);
    expect(cfg.connectors).toEqual(embedded.connectors);
    const opted = parseConfigText('smtp:\n  listeners:\n    - { name: relay, port: 25, certFile: /etc/gw.crt, keyFile: /etc/gw.key }\ntls:\n  generateDevCerts: true\n', 'deploy.yaml');
    expect(opted.tls.generateDevCerts).toBe(true);
  });

  it('a value the schema refuses is still named by its path', () => {
    expect(() => parseConfigText('delivery:\n  enabled: "no"\n', 'p.yaml')).toThrow(/p\.yaml: delivery\.enabled: got "no": expected boolean/);
    expect(() => parseConfigText('- a\n- b\n', 'list.yaml')).toThrow(/list\.yaml: \(top level\)/);
  });
});

describe('sealgate config check with a 3-line config', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sealgate-layer-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the embedded default with the three changes', async () => {
    const file = join(dir, 'sealgate.yaml');
    await writeFile(file, 'delivery:\n  enabled: false\nlog: { level: warn }\n');
    const r = await runCli(['-c', file, 'config', 'check']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const printed = parseYaml(r.stdout.split('\n').filter((l) => !l.startsWith('#')).join('\n')) as Record<string, Record<string, unknown>>;
    expect(printed.delivery?.enabled).toBe(false);
    expect(printed.log?.level).toBe('warn');
    expect(printed.smtp?.listeners).toEqual([expect.objectContaining({ name: 'relay', host: '127.0.0.1', port: 2525, tls: 'starttls' })]);
    expect(printed.connectors).toEqual([expect.objectContaining({ name: 'loopback', senderDomains: ['localhost', 'example.com', 'example.org'] })]);
    expect(printed.portal?.enabled).toBe(true);
  });
});
