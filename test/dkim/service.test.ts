/** The daemon's signer: counts each outcome, swaps keys on reload, and lets a failure through to the engine (which sends unsigned). */
import { generateKeyPairSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { DkimKey } from '../../src/dkim/keys.js';
import { DkimService } from '../../src/dkim/service.js';
import { Metrics } from '../../src/metrics/registry.js';

const pem = (type: 'rsa' | 'ed25519'): string =>
  (type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 1024 }) : generateKeyPairSync('ed25519')).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const message = (from: string) => (): Readable => Readable.from([Buffer.from(`From: ${from}\r\nSubject: s\r\n\r\nbody\r\n`)]);

describe('DkimService', () => {
  it('signs, counts by result, and uses the keys of a reload', async () => {
    const metrics = new Metrics();
    const rsa: DkimKey = { domain: 'example.org', selector: 'r', algorithm: 'rsa-sha256', privateKeyPem: pem('rsa') };
    const service = new DkimService([rsa], () => Date.UTC(2026, 11, 5), metrics);
    expect((await service.sign(message('a@example.org')))?.toString('latin1')).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.org;[^]* s=r; t=1796428800;/);
    expect(await service.sign(message('a@example.net'))).toBeUndefined();
    expect(await service.sign(message('nobody'))).toBeUndefined();
    service.setKeys([{ domain: 'example.net', selector: 'e', algorithm: 'ed25519-sha256', privateKeyPem: pem('ed25519') }]);
    expect((await service.sign(message('a@example.net')))?.toString('latin1')).toMatch(/^DKIM-Signature: v=1; a=ed25519-sha256; [^]*d=example\.net;/);
    expect(await service.sign(message('a@example.org'))).toBeUndefined();
    expect(['signed', 'no-key', 'no-from-domain'].map((result) => metrics.value('sealgate_dkim_messages_total', { result }))).toEqual([2, 2, 1]);
  });

  it('counts a failure and throws it (the engine logs DKIM_SIGN_FAILED and sends unsigned)', async () => {
    const metrics = new Metrics();
    // an RSA key labelled Ed25519: mailauth refuses to sign with it
    const service = new DkimService([{ domain: 'example.org', selector: 'x', algorithm: 'ed25519-sha256', privateKeyPem: pem('rsa') }], Date.now, metrics);
    await expect(service.sign(message('a@example.org'))).rejects.toThrow(/DKIM signing failed/);
    expect(metrics.value('sealgate_dkim_messages_total', { result: 'failed' })).toBe(1);
  });

  it('reads nothing when no key is configured', async () => {
    const service = new DkimService([], Date.now);
    let read = false;
    expect(await service.sign(() => ((read = true), Readable.from([])))).toBeUndefined();
    expect(read).toBe(false);
  });
});
