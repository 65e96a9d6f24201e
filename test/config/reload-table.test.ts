/**
 * The SIGHUP table: every config key is classified (applies on reload or
 * needs a restart), the plan reverts restart-only changes, and
 * docs/deployment.md shows exactly this table.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { embeddedDefaultConfig, parseConfigText, validateConfig } from '../../src/config/load.js';
import { RELOAD_TABLE, changedPaths, formatReloadPath, planReload, ruleFor } from '../../src/config/reload-table.js';
import type { Config } from '../../src/config/schema.js';

/** Every key path of a config value, list elements by position. */
function leafPaths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.length ? value.flatMap((v, i) => leafPaths(v, [...at, i])) : [at];
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length ? entries.flatMap(([k, v]) => leafPaths(v, [...at, k])) : [at];
  }
  return [at];
}

const base = validateConfig(embeddedDefaultConfig(), 'embedded');

function withChange(change: (c: Config) => void): Config {
  const c = structuredClone(base);
  change(c);
  return c;
}

describe('the reload table', () => {
  it('classifies every key of the schema (the example config spells out every key)', () => {
    const example = parseConfigText(readFileSync('config/sealgate.example.yaml', 'utf8'), 'example');
    const unclassified = leafPaths(example).filter((p) => ruleFor(p) === undefined).map(formatReloadPath);
    expect(unclassified).toEqual([]);
  });

  it('lists each path once', () => {
    const paths = RELOAD_TABLE.map((r) => r.path);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it('is the table docs/deployment.md shows', () => {
    const doc = readFileSync('docs/deployment.md', 'utf8');
    const rows = [...doc.matchAll(/^\| `([^`]+)` \| (applies|restart) \| (.+) \|$/gm)].map((m) => ({ path: m[1], applies: m[2] === 'applies' ? 'reload' : 'restart', how: m[3] }));
    expect(rows).toEqual(RELOAD_TABLE.map((r) => ({ ...r })));
  });
});

describe('planReload', () => {
  it.each<[string, (c: Config) => void, string[], string[]]>([
    ['nothing changed', () => undefined, [], []],
    ['delivery.enabled applies', (c) => void (c.delivery.enabled = false), ['delivery.enabled'], []],
    ['a delivery timeout applies', (c) => void (c.delivery.connectTimeout = 5_000), ['delivery.connectTimeout'], []],
    ['delivery.defaultRequirement needs a restart', (c) => void (c.delivery.defaultRequirement = 'verify'), [], ['delivery.defaultRequirement']],
    ['a listener port needs a restart', (c) => void (c.smtp.listeners[0]!.port = 25), [], ['smtp.listeners[0].port']],
    ['a listener certificate applies', (c) => void (c.smtp.listeners[0]!.certFile = '/etc/new.crt'), ['smtp.listeners[0].certFile'], []],
    ['a second listener needs a restart', (c) => void c.smtp.listeners.push({ ...c.smtp.listeners[0]!, name: 'second', port: 2526 }), [], ['smtp.listeners']],
    ['an smtp limit applies', (c) => void (c.smtp.maxRecipients = 10), ['smtp.maxRecipients'], []],
    ['connectors apply as a whole', (c) => void c.connectors[0]!.senderDomains.push('example.net'), ['connectors'], []],
    ['inspection threads need a restart', (c) => void (c.inspection.threads = 7), [], ['inspection.threads']],
    ['inspection e2eDomains apply', (c) => void c.inspection.e2eDomains.push('mail.example'), ['inspection.e2eDomains'], []],
    ['dns.servers needs a restart', (c) => void c.dns.servers.push('127.0.0.53:53'), [], ['dns.servers']],
    ['the master key file needs a restart; discovery applies', (c) => {
      c.keys.masterKeyFile = '/elsewhere.key';
      c.keys.discovery.wkd = false;
    }, ['keys.discovery'], ['keys.masterKeyFile']],
    ['portal certificate applies, its port needs a restart', (c) => {
      c.portal.certFile = '/p.crt';
      c.portal.listen.port = 9443;
    }, ['portal.certFile'], ['portal.listen']],
    ['a key only set in the new config (smarthost) applies', (c) => void (c.delivery.smarthost = { host: '127.0.0.1', port: 25, requirement: 'verify' }), ['delivery.smarthost'], []],
    ['log level applies, pretty needs a restart', (c) => {
      c.log.level = 'debug';
      c.log.pretty = true;
    }, ['log.level'], ['log.pretty']],
  ])('%s', (_name, change, applied, restartNeeded) => {
    const next = withChange(change);
    const plan = planReload(base, next);
    expect({ applied: plan.applied, restartNeeded: plan.restartNeeded }).toEqual({ applied, restartNeeded });
    // in force: every applied change, none of the restart-only ones
    expect(changedPaths(base, plan.effective).map(formatReloadPath)).toEqual(applied);
    expect(changedPaths(plan.effective, next).map(formatReloadPath)).toEqual(restartNeeded);
  });

  it('never changes its inputs', () => {
    const next = withChange((c) => void (c.smtp.listeners[0]!.port = 25));
    const [a, b] = [JSON.stringify(base), JSON.stringify(next)];
    planReload(base, next);
    expect([JSON.stringify(base), JSON.stringify(next)]).toEqual([a, b]);
  });
});
