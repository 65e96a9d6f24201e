/**
 * MTA-STS (RFC 8461) pure parts: the `_mta-sts` TXT record, the policy file
 * (parsed by mailauth) and MX matching. mailauth's own matcher lets
 * "*.example.net" match any depth below example.net; RFC 8461 §4.1 allows the
 * wildcard to stand for exactly one label, so the matcher here is our own.
 */
import { parsePolicy } from 'mailauth/lib/mta-sts.js';

export const STS_MODES = ['enforce', 'testing', 'none'] as const;
export type StsMode = (typeof STS_MODES)[number];

export interface StsPolicy {
  readonly id: string;
  readonly mode: StsMode;
  /** MX patterns, lower case: "mx.example.net" or "*.example.net". */
  readonly mx: readonly string[];
  /** Seconds. */
  readonly maxAge: number;
}

export type StsTxt = { readonly kind: 'none' } | { readonly kind: 'id'; readonly id: string } | { readonly kind: 'invalid'; readonly reason: string };

/**
 * Pure: the `_mta-sts.<domain>` TXT records → the policy id. Records not
 * starting with v=STSv1 are ignored (RFC 8461 §3.1); more than one STSv1
 * record, or one without a valid id, is invalid.
 */
export function parseStsTxt(records: readonly (readonly string[])[]): StsTxt {
  const sts = records.map((chunks) => chunks.join('')).filter((t) => /^v=STSv1\s*(;|$)/.test(t));
  if (sts.length === 0) return { kind: 'none' };
  if (sts.length > 1) return { kind: 'invalid', reason: 'more than one v=STSv1 TXT record' };
  const fields = new Map<string, string>();
  for (const part of (sts[0] ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const id = fields.get('id');
  if (!id || !/^[A-Za-z0-9]{1,32}$/.test(id)) return { kind: 'invalid', reason: 'the v=STSv1 TXT record has no valid id (1-32 letters and digits)' };
  return { kind: 'id', id };
}

export class StsPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StsPolicyError';
  }
}

/** Pure: the body of https://mta-sts.<domain>/.well-known/mta-sts.txt → a policy; throws StsPolicyError. */
export function parseStsPolicy(id: string, body: string): StsPolicy {
  let parsed: { mode?: string; mx?: string[]; maxAge?: number };
  try {
    parsed = parsePolicy(body) as typeof parsed;
  } catch (err) {
    throw new StsPolicyError(`invalid MTA-STS policy: ${(err as Error).message}`);
  }
  const mode = STS_MODES.find((m) => m === parsed.mode);
  if (!mode) throw new StsPolicyError('invalid MTA-STS policy: unknown mode');
  const mx = (parsed.mx ?? []).map((p) => p.toLowerCase().replace(/\.$/, ''));
  for (const p of mx) {
    if (!/^(\*\.)?([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{1,63}$/.test(p)) throw new StsPolicyError(`invalid MTA-STS policy: bad mx pattern "${p.slice(0, 80)}"`);
  }
  return { id, mode, mx, maxAge: parsed.maxAge ?? 0 };
}

/** Pure: does an MX host name match one of the policy's patterns (RFC 8461 §4.1)? */
export function stsMxMatches(mxHost: string, patterns: readonly string[]): boolean {
  const host = mxHost.toLowerCase().replace(/\.$/, '');
  return patterns.some((p) => {
    if (!p.startsWith('*.')) return p === host;
    const dot = host.indexOf('.');
    return dot > 0 && host.slice(dot + 1) === p.slice(2);
  });
}
