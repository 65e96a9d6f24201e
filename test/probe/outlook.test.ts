/**
 * deliveryOutlook (what delivery to a probed domain comes to for each
 * transport requirement) and recipientOutlook (per decided method): the
 * single answer `sealgate probe` and `sealgate policy test` both print.
 */
import { describe, expect, it } from 'vitest';
import { deliveryOutlook, type DomainProbe, type ProbedMx } from '../../src/probe/domain-probe.js';
import { recipientOutlook } from '../../src/policy/outlook.js';
import type { TransportRequirement } from '../../src/delivery/transport-requirement.js';
import type { Method } from '../../src/policy/decide.js';

const cert = { subject: 'mx.d.test', issuer: 'Test CA', chainValid: true, nameMatches: true, expired: false, notAfter: '2030-01-01T00:00:00.000Z', notBefore: '2025-01-01T00:00:00.000Z', fingerprint256: 'AA:BB' };
const host = (over: Partial<ProbedMx>): ProbedMx => ({ mx: 'mx.d.test', ip: '127.0.0.9', port: 25, reachable: true, starttls: true, tlsVersion: 'TLSv1.3', certificate: cert, ...over }) as ProbedMx;
const domain = (route: DomainProbe['route'], mx: ProbedMx[] = []): DomainProbe => ({ domain: 'd.test', probedAt: 0, route, mx });

const verified = host({});
const selfSigned = host({ certificate: { ...cert, chainValid: false, chainError: 'DEPTH_ZERO_SELF_SIGNED_CERT' } });
const cleartext = host({ starttls: false, tlsVersion: undefined, certificate: undefined });
const down = host({ reachable: false, starttls: false, error: 'ECONNREFUSED' });
const daneMatch = host({ certificate: { ...cert, chainValid: false }, dane: { status: 'usable', verified: true, matched: '3 1 1', reason: '' } as ProbedMx['dane'] });

describe('deliveryOutlook', () => {
  it.each<[string, DomainProbe, TransportRequirement, string]>([
    ['null MX bounces whatever the requirement', domain('null-mx'), 'may', 'bounces'],
    ['null MX bounces under verify', domain('null-mx'), 'verify', 'bounces'],
    ['no MX and no address bounces', domain('no-route'), 'none', 'bounces'],
    ['a DNS failure waits (retried)', domain('dns-error'), 'may', 'waits'],
    ['cleartext MX takes may', domain('mx', [cleartext]), 'may', 'delivers'],
    ['cleartext MX takes none', domain('mx', [cleartext]), 'none', 'delivers'],
    ['cleartext MX: encrypt waits', domain('mx', [cleartext]), 'encrypt', 'waits'],
    ['self-signed MX takes encrypt', domain('mx', [selfSigned]), 'encrypt', 'delivers'],
    ['self-signed MX: verify waits', domain('mx', [selfSigned]), 'verify', 'waits'],
    ['verified MX takes verify', domain('mx', [verified]), 'verify', 'delivers'],
    ['verified MX without DANE: dane waits', domain('mx', [verified]), 'dane', 'waits'],
    ['DANE match takes verify (no CA needed)', domain('mx', [daneMatch]), 'verify', 'delivers'],
    ['DANE match takes dane', domain('mx', [daneMatch]), 'dane', 'delivers'],
    ['unreachable MX waits even for may', domain('mx', [down]), 'may', 'waits'],
    ['second MX used when the first is down', domain('implicit-mx', [down, verified]), 'verify', 'delivers'],
  ])('%s', (_name, probe, requirement, outcome) => {
    const o = deliveryOutlook(probe, requirement);
    expect(o.outcome).toBe(outcome);
    expect(o.reasons.length).toBeGreaterThan(0);
  });
});

describe('recipientOutlook', () => {
  it.each<[Method, DomainProbe | undefined, string]>([
    ['block', domain('mx', [verified]), 'blocked'],
    ['quarantine', domain('null-mx'), 'held'],
    ['portal', domain('null-mx'), 'portal'],
    ['tls-verified', domain('null-mx'), 'bounces'],
    ['tls-verified', domain('mx', [cleartext]), 'waits'],
    ['pgp', domain('mx', [cleartext]), 'delivers'],
    ['tls-verified', undefined, 'unknown'],
  ])('%s to %o: %s', (method, probe, outcome) => {
    const requirement: TransportRequirement = method === 'pgp' ? 'may' : 'verify';
    expect(recipientOutlook({ method, requirement }, probe).outcome).toBe(outcome);
  });
});
