import { describe, expect, it } from 'vitest';
import { auditChainCause, causesFromAudit, certificateCauses, dedupe, lowDiskCause, queueCauses, tlsFailureCause, windowSum, type AuditSignal } from '../../src/alerts/causes.js';
import { alertJson, alertText } from '../../src/alerts/message.js';
import { nextWebhookAttempt } from '../../src/alerts/webhook.js';

const down = (domain: string): AuditSignal => ({ type: 'delivery:posture_downgrade', data: { queueId: 'q', domain, remembered: 'verify', mx: `mx.${domain}` } });
const limited = (limit: string, senderHash: string): AuditSignal => ({ type: 'ingress:rate_limited', data: { connector: 'm365', action: 'hold', limit, senderDomain: 'x.org', senderHash } });
const verdict = (methods: string[]): AuditSignal => ({ type: 'inspect:verdict', data: { queueId: 'q', methods } });

describe('causesFromAudit', () => {
  it.each<[string, AuditSignal[], [string, string | number][]]>([
    ['nothing', [], []],
    ['one downgrade', [down('a.test')], [['posture-downgrade:a.test', 1]]],
    ['two for one domain, one for another', [down('a.test'), down('b.test'), down('a.test')], [['posture-downgrade:a.test', 2], ['posture-downgrade:b.test', 1]]],
    ['blocks counted, other verdicts not', [verdict(['block']), verdict(['tls-verified']), verdict(['portal', 'block'])], [['dlp-blocks', 2]]],
    ['a burst hold per sender, rate-limit holds not', [limited('burst.newRecipients', 'h1'), limited('burst.newRecipients', 'h1'), limited('burst.newRecipients', 'h2'), limited('perSender.messagesPerMinute', 'h3')], [['sender-burst:h1', 2], ['sender-burst:h2', 1]]],
    ['other events ignored', [{ type: 'daemon:started', data: {} }, { type: 'inspect:verdict', data: null }], []],
  ])('%s', (_name, rows, want) => {
    expect(causesFromAudit(rows).map((c) => [c.key, c.facts.messages ?? 0])).toEqual(want);
  });

  it('at most 20 domains per pass', () => {
    expect(causesFromAudit(Array.from({ length: 30 }, (_, i) => down(`d${i}.test`)))).toHaveLength(20);
  });
});

describe('thresholds', () => {
  it.each<[string, ReturnType<typeof queueCauses>['length'], Parameters<typeof queueCauses>]>([
    ['below both', 0, [{ backlog: 10, oldestAgeMs: 1000 }, { queueBacklog: 10, oldestMessage: 2000 }]],
    ['backlog over', 1, [{ backlog: 11, oldestAgeMs: 1000 }, { queueBacklog: 10, oldestMessage: 2000 }]],
    ['age over', 1, [{ backlog: 0, oldestAgeMs: 2001 }, { queueBacklog: 10, oldestMessage: 2000 }]],
    ['both over', 2, [{ backlog: 11, oldestAgeMs: 2001 }, { queueBacklog: 10, oldestMessage: 2000 }]],
    ['both off (0)', 0, [{ backlog: 1e9, oldestAgeMs: 1e12 }, { queueBacklog: 0, oldestMessage: 0 }]],
    ['empty queue', 0, [{ backlog: 0, oldestAgeMs: undefined }, { queueBacklog: 10, oldestMessage: 2000 }]],
  ])('queue: %s', (_name, n, args) => {
    expect(queueCauses(...args)).toHaveLength(n);
  });

  it.each<[number, number, boolean]>([
    [9, 10, false],
    [10, 10, true],
    [100, 0, false],
  ])('tls failures %i against %i → %s', (failures, threshold, raised) => {
    expect(tlsFailureCause(failures, threshold, 3_600_000) !== undefined).toBe(raised);
  });

  it('windowSum counts only the samples inside the window', () => {
    expect(windowSum([{ at: 0, n: 5 }, { at: 50, n: 2 }, { at: 99, n: 1 }], 100, 60)).toBe(3);
  });

  it('low disk and chain breaks are critical; a whole chain is no cause', () => {
    expect(lowDiskCause({ ok: true, availableBytes: 1, minFreeBytes: 1 })).toBeUndefined();
    expect(lowDiskCause({ ok: false, availableBytes: 10 * 1_048_576, minFreeBytes: 64 * 1_048_576 })).toMatchObject({ severity: 'critical', facts: { freeMiB: 10, minFreeMiB: 64 } });
    expect(auditChainCause({ ok: true })).toBeUndefined();
    expect(auditChainCause({ ok: false, brokenAt: 7, reason: 'hash_mismatch' })).toMatchObject({ key: 'audit-chain', severity: 'critical', facts: { brokenAt: 7 } });
  });
});

describe('certificateCauses', () => {
  const now = Date.parse('2026-12-05T00:00:00Z');
  it.each<[string, number, string | undefined]>([
    ['60 days left', 60, undefined],
    ['20 days left', 20, 'warning'],
    ['3 days left', 3, 'critical'],
    ['expired yesterday', -1, 'critical'],
  ])('%s', (_name, days, severity) => {
    const causes = certificateCauses([{ label: 'portal', notAfter: now + days * 86_400_000 }], now, 21 * 86_400_000);
    expect(causes[0]?.severity).toBe(severity);
  });
  it('0 turns it off', () => {
    expect(certificateCauses([{ label: 'portal', notAfter: now - 1 }], now, 0)).toEqual([]);
  });
});

describe('dedupe', () => {
  it.each<[string, { sentAt: number } | undefined, number, 'send' | 'suppress']>([
    ['never sent', undefined, 0, 'send'],
    ['within the period', { sentAt: 1000 }, 1000 + 3_599_999, 'suppress'],
    ['at the end of the period', { sentAt: 1000 }, 1000 + 3_600_000, 'send'],
  ])('%s', (_name, last, now, want) => {
    expect(dedupe(last, now, 3_600_000)).toBe(want);
  });
});

describe('webhook retries', () => {
  it.each<[number, number | undefined]>([
    [1, 30_000],
    [2, 120_000],
    [3, undefined],
  ])('after attempt %i → next at +%s', (attempt, delay) => {
    expect(nextWebhookAttempt(attempt, 0)).toBe(delay);
  });
});

describe('alert text and JSON', () => {
  it('carry the summary, facts, repeats and the next step', () => {
    const cause = causesFromAudit([down('a.test')])[0];
    if (!cause) throw new Error('no cause');
    const envelope = { cause, hostname: 'gw.test', now: Date.parse('2026-12-05T12:00:00Z'), suppressed: 3 };
    const text = alertText(envelope);
    expect(text).toContain('transport security of a.test fell below what it showed before (verify)');
    expect(text).toContain('  mx: mx.a.test\r\n');
    expect(text).toContain('repeats since the last alert: 3');
    expect(text).toContain('sealgate probe accept DOMAIN');
    expect(alertJson(envelope)).toEqual({
      gateway: 'gw.test',
      kind: 'posture-downgrade',
      key: 'posture-downgrade:a.test',
      severity: 'critical',
      summary: cause.summary,
      facts: { domain: 'a.test', remembered: 'verify', mx: 'mx.a.test', messages: 1 },
      suppressed: 3,
      raisedAt: '2026-12-05T12:00:00.000Z',
      nextStep: expect.stringContaining('sealgate probe') as string,
    });
  });
});
