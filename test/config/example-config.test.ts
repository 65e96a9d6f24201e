/**
 * config/sealgate.example.yaml is the embedded default written out: starting
 * with a copy of it is the same as starting without a config file (same
 * senders admitted, same listeners, development certificates, portal).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { embeddedDefaultConfig, validateConfig } from '../../src/config/load.js';

describe('the example config', () => {
  it('as written (not layered over anything) equals the embedded default', () => {
    const example = validateConfig(parseYaml(readFileSync('config/sealgate.example.yaml', 'utf8')), 'example');
    const embedded = validateConfig(embeddedDefaultConfig(), 'embedded');
    // two defaults follow the machine (CPUs, memory); the example writes one machine's values for them
    const machineFree = (c: typeof example): unknown => ({ ...c, inspection: { ...c.inspection, threads: 0, maxThreadMemory: 0 } });
    expect(machineFree(example)).toEqual(machineFree(embedded));
  });
});
