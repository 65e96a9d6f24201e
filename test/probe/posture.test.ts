import { describe, expect, it } from 'vitest';
import { bindingPosture, postureLevel, type ObservedTls, type RememberedPosture } from '../../src/probe/posture.js';
import type { TransportRequirement } from '../../src/delivery/transport-requirement.js';

const DAY = 86_400_000;

describe('postureLevel', () => {
  it.each<[ObservedTls | undefined, TransportRequirement]>([
    [undefined, 'none'],
    [{ version: 'TLSv1.3', authorized: true }, 'verify'],
    [{ version: 'TLSv1.2', authorized: true }, 'verify'],
    [{ version: 'TLSv1.2', authorized: false }, 'encrypt'],
    [{ version: 'TLSv1.1', authorized: true }, 'may'],
    [{ version: 'TLSv1', authorized: false }, 'may'],
  ])('%j → %s', (tls, expected) => {
    expect(postureLevel(tls)).toBe(expected);
  });
});

describe('bindingPosture', () => {
  const now = 100 * DAY;
  it.each<[string, RememberedPosture | undefined, number, TransportRequirement | undefined]>([
    ['nothing remembered', undefined, 30 * DAY, undefined],
    ['verify seen yesterday', { level: 'verify', lastSeen: now - DAY }, 30 * DAY, 'verify'],
    ['encrypt seen yesterday', { level: 'encrypt', lastSeen: now - DAY }, 30 * DAY, 'encrypt'],
    ['verify seen 31 days ago: outside the window', { level: 'verify', lastSeen: now - 31 * DAY }, 30 * DAY, undefined],
    ['memory off', { level: 'verify', lastSeen: now - DAY }, 0, undefined],
    ['cleartext seen: nothing to hold to', { level: 'none', lastSeen: now - DAY }, 30 * DAY, undefined],
    ['old TLS seen: not binding', { level: 'may', lastSeen: now - DAY }, 30 * DAY, undefined],
  ])('%s', (_name, remembered, memory, expected) => {
    expect(bindingPosture(remembered, now, memory)).toBe(expected);
  });
});
