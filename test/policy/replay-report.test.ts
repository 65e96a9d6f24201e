/**
 * The pure parts of `sealgate policy replay`: comparing one entry then/now,
 * building the report (matrix, rule counts, rises/falls, the bounded list),
 * and reading the archived verdict. Table-driven. (Which config is which:
 * test/cli/policy-replay-config.test.ts, through the real command line.)
 */
import { describe, expect, it } from 'vitest';
import type { Protection } from '../../src/policy/protection.js';
import { buildReplayReport, compareEntry, formatReplayReport, methodLevel, type EntryChange, type ReplayedEntry } from '../../src/policy/replay-report.js';
import { thenVerdict } from '../../src/policy/replay.js';

const AT = Date.UTC(2026, 11, 5, 8, 0, 0);

function entry(id: string, o: { rulesThen?: string[]; rulesNow?: string[]; pThen?: string | null; pNow?: Protection; phiThen?: boolean; phiNow?: boolean; catThen?: string[]; catNow?: string[]; rcpts?: [string | null, string][] } = {}): ReplayedEntry {
  return {
    id,
    receivedAt: AT,
    then: { protection: o.pThen === undefined ? 'none' : o.pThen, rules: o.rulesThen ?? [], phi: o.phiThen ?? false, categories: o.catThen ?? [] },
    now: { protection: o.pNow ?? 'none', rules: o.rulesNow ?? [], phi: o.phiNow ?? false, categories: o.catNow ?? [] },
    recipients: (o.rcpts ?? [['tls-opportunistic', 'tls-opportunistic']]).map(([then, now], i) => ({ seq: i + 1, then, now })),
  };
}

describe('methodLevel', () => {
  it.each([
    ['tls-opportunistic', 0],
    ['tls-verified', 1],
    ['pgp', 2],
    ['smime', 2],
    ['portal', 2],
    ['quarantine', 3],
    ['block', 3],
    [null, undefined],
    ['something-else', undefined],
  ] as const)('%s → %s', (method, level) => {
    expect(methodLevel(method)).toBe(level);
  });
});

describe('compareEntry', () => {
  const cases: [string, ReplayedEntry, Partial<EntryChange> | undefined][] = [
    ['nothing differs', entry('A', { rulesThen: ['r1'], rulesNow: ['r1'], rcpts: [['tls-verified', 'tls-verified']] }), undefined],
    ['rule order alone is no change', entry('A', { rulesThen: ['r1', 'r2'], rulesNow: ['r2', 'r1'] }), undefined],
    ['a category found now alone is no change (no decision moved)', entry('A', { catNow: ['SSN'] }), undefined],
    ['a recipient moves up', entry('A', { rcpts: [['tls-verified', 'portal'], ['tls-verified', 'tls-verified']] }), { direction: 'rises', recipients: [{ seq: 1, then: 'tls-verified', now: 'portal' }] }],
    ['one up, one down: falls', entry('A', { rcpts: [['tls-verified', 'block'], ['tls-verified', 'tls-opportunistic']] }), { direction: 'falls' }],
    ['between methods of one level: same', entry('A', { rcpts: [['pgp', 'portal']] }), { direction: 'same', recipients: [{ seq: 1, then: 'pgp', now: 'portal' }] }],
    ['undecided then: not a rise or fall', entry('A', { rcpts: [[null, 'tls-verified']] }), { direction: 'same' }],
    ['rules added and removed', entry('A', { rulesThen: ['old', 'kept'], rulesNow: ['kept', 'new'] }), { rulesAdded: ['new'], rulesRemoved: ['old'], recipients: [] }],
    ['required protection changes', entry('A', { pThen: 'none', pNow: 'tls', catNow: ['ROUTING'] }), { protection: { then: 'none', now: 'tls' }, categoriesAdded: ['ROUTING'], direction: 'same' }],
    ['no protection stored then', entry('A', { pThen: null, pNow: 'none' }), { protection: { then: null, now: 'none' } }],
  ];
  it.each(cases)('%s', (_name, e, want) => {
    const got = compareEntry(e);
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toMatchObject({ id: 'A', receivedAt: '2026-12-05T08:00:00.000Z', ...want });
  });
});

describe('buildReplayReport', () => {
  it('counts methods, rules, protection, PHI and skips; lists changes newest first up to the bound', () => {
    const r = buildReplayReport(
      [
        entry('C', { rulesNow: ['block-bob'], rcpts: [['tls-opportunistic', 'block'], ['quarantine', 'block']], rulesThen: [] }),
        { skipped: 'purged' },
        entry('B', { pThen: 'verified-tls', pNow: 'verified-tls', phiThen: true, phiNow: true, rcpts: [['tls-verified', 'tls-opportunistic']] }),
        { skipped: 'not-inspected' },
        entry('A', { rulesThen: ['hold'], rulesNow: ['hold'] }),
        entry('Z', { rcpts: [['tls-verified', 'portal']] }),
      ],
      2,
    );
    expect(r.replayed).toBe(4);
    expect(r.skipped).toEqual({ purged: 1, 'not-inspected': 1, 'key-not-loaded': 0, unreadable: 0 });
    expect(r.changed).toBe(3);
    expect(r.methods).toEqual({
      'tls-opportunistic': { block: 1, 'tls-opportunistic': 1 },
      quarantine: { block: 1 },
      'tls-verified': { 'tls-opportunistic': 1, portal: 1 },
    });
    expect(r.rules).toEqual({ 'block-bob': { then: 0, now: 1 }, hold: { then: 1, now: 1 } });
    expect(r.protection).toEqual({ none: { none: 3 }, 'verified-tls': { 'verified-tls': 1 } });
    expect(r.phi).toEqual({ then: 1, now: 1 });
    expect([r.protectionRises, r.protectionFalls]).toEqual([2, 1]);
    expect(r.changes.map((c) => c.id)).toEqual(['C', 'B']);
    expect(r.changesCut).toBe(true);
  });

  it('an empty window is an empty report', () => {
    const r = buildReplayReport([], 10);
    expect([r.replayed, r.changed, r.changes.length, r.changesCut]).toEqual([0, 0, 0, false]);
    expect(r.methods).toEqual({});
  });

  it('counts a rule once per message however often it is named', () => {
    expect(buildReplayReport([entry('A', { rulesThen: ['r', 'r'], rulesNow: ['r'] })], 10).rules).toEqual({ r: { then: 1, now: 1 } });
  });
});

describe('formatReplayReport', () => {
  const report = buildReplayReport([entry('01ABC', { rulesNow: ['block-bob'], rcpts: [['tls-verified', 'block']] }), entry('01ABD'), entry('01ABE', { rcpts: [['tls-verified', 'portal']] })], 1);
  const text = formatReplayReport(report, { since: AT - 86_400_000, until: undefined, policySource: 'proposed config new.yaml', limit: 3, cut: true });
  it.each([
    'policy replay (proposed config new.yaml) over entries received 2026-12-04T08:00:00.000Z to now, newest first',
    'entries: 3 re-decided; cut at --limit 3: older entries of the window were not replayed',
    'changed: 2 entries; protection rises for 2, falls for 0',
    '  tls-opportunistic -> tls-opportunistic: 1\n',
    '  tls-verified -> portal: 1   CHANGED',
    '  block-bob: 0 -> 1   CHANGED',
    '  01ABC  2026-12-05T08:00:00.000Z  RISES  #1 tls-verified -> block; +rules block-bob',
    '  … 1 more changed entries not listed',
  ])('has %j', (line) => {
    expect(text).toContain(line);
  });
  it('lists methods weakest first and a changed-only entry no more than the bound', () => {
    expect(text.indexOf('tls-opportunistic ->')).toBeLessThan(text.indexOf('tls-verified ->'));
    expect(text).not.toContain('01ABE  ');
  });
});

describe('thenVerdict', () => {
  it.each([
    ['an inspected verdict', '{"findings":[{"category":"MRN","count":1},{"category":"DOB","count":2},{"category":"MRN","count":1}],"inspected":true,"methods":["tls-verified"],"phi":true,"protection":"verified-tls","rules":["r1"]}', { inspected: true, phi: true, protection: 'verified-tls', rules: ['r1'], categories: ['MRN', 'DOB'] }],
    ['not inspected', '{"inspected":false}', { inspected: false, phi: false, protection: null, rules: [], categories: [] }],
    ['unreadable', 'not json', { inspected: false, phi: false, protection: null, rules: [], categories: [] }],
    ['odd shapes are ignored', '{"inspected":true,"rules":[1,"ok"],"findings":[null,{"count":1},{"category":"SSN"}]}', { inspected: true, phi: false, protection: null, rules: ['ok'], categories: ['SSN'] }],
  ])('%s', (_name, json, want) => {
    expect(thenVerdict(json)).toEqual(want);
  });
});
