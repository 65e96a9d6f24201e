/**
 * Known sample values (123-45-6789, the format example our docs use too) are
 * skipped by the SSN detector, and `policy test` says so per finding class
 * without printing the value.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_VALUES, isSampleValue, skippedSampleValues } from '../../src/inspect/detect/sample-values.js';
import { ssnValid } from '../../src/inspect/detect/identifiers.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { runCli, setupGateway, type TestSetup } from '../helpers/gateway.js';

describe('skippedSampleValues', () => {
  it.each<[string, string[], { category: string; count: number }[]]>([
    ['the docs\' format example', ['SSN format: 123-45-6789'], [{ category: 'SSN', count: 1 }]],
    ['with spaces and without separators', ['123 45 6789 and 123456789'], [{ category: 'SSN', count: 2 }]],
    ['the SSA\'s published samples, over several texts', ['078-05-1120', 'x 219-09-9999 y'], [{ category: 'SSN', count: 2 }]],
    ['a real-looking SSN is not a sample', ['SSN 536-22-1234'], []],
    ['mixed separators are no SSN', ['123-45 6789'], []],
    ['inside a longer number', ['9123-45-67890', '0123456789'], []],
    ['nothing', [''], []],
  ])('%s', (_name, texts, expected) => {
    expect(skippedSampleValues(texts).map((s) => ({ category: s.category, count: s.count }))).toEqual(expected);
  });

  it('the SSN detector refuses every listed sample value, and only those among valid-looking ones', () => {
    const ssn = SAMPLE_VALUES.find((c) => c.detector === 'us-ssn');
    for (const d of ssn?.digits ?? []) {
      expect(isSampleValue('us-ssn', d)).toBe(true);
      expect(ssnValid(d)).toBe(false);
    }
    expect(ssnValid('536221234')).toBe(true);
  });
});

describe('sealgate policy test with a sample value', () => {
  let setup: TestSetup;
  let zone: DnsZone;
  let eml: string;
  beforeAll(async () => {
    setup = await setupGateway();
    // an empty zone: the recipient domain has no MX, nothing is asked outside loopback
    zone = await startDnsZone([]);
    await setup.writeConfig({ extra: { dns: { servers: [zone.server] }, delivery: { enabled: false } } });
    eml = join(setup.dir, 'sample.eml');
    await writeFile(eml, 'From: alice@example.com\r\nSubject: form\r\n\r\nWrite the SSN as 123-45-6789. Patient SSN 536-22-1234 was diagnosed with asthma.\r\n');
  });
  afterAll(async () => {
    await zone?.close();
    await setup?.cleanup();
  });

  it('says "skipped: known sample value" for the class, never the value (text and JSON)', async () => {
    const args = ['-c', setup.configPath, 'policy', 'test', eml, '--from', 'alice@example.com', '--to', 'bob@nowhere.test'];
    const text = await runCli(args);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('  SSN: skipped: known sample value (1, not counted)');
    expect(text.stdout).toMatch(/^ {2}SSN: 1 \(/m);
    const json = await runCli([...args, '--json']);
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout) as { verdict: { findings: { category: string; count: number }[]; skipped: unknown[] } };
    expect(out.verdict.skipped).toEqual([{ category: 'SSN', reason: 'known sample value', count: 1 }]);
    expect(out.verdict.findings.find((f) => f.category === 'SSN')?.count).toBe(1);
    for (const o of [text.stdout, json.stdout]) {
      expect(o).not.toContain('123-45-6789');
      expect(o).not.toContain('536-22-1234');
    }
  });
});
