/**
 * Is a message already end-to-end encrypted? Such mail passes through the
 * transform untouched (issue 13, item 6). Only the top-level Content-Type is
 * read: S/MIME enveloped (or authEnveloped) data, or PGP/MIME (RFC 3156).
 * Signed-only S/MIME (multipart/signed, smime-type=signed-data) and inline
 * PGP in a text body are not "already encrypted" here.
 */
import { splitMessage } from './entity.js';

export type ArrivedEncrypted = 'smime' | 'pgp';

interface ContentType {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
}

/** `type/subtype; a=b; c="d"` → lower-case type and parameter names; values unquoted (comments not handled). */
export function parseContentType(value: string): ContentType {
  const unfolded = value.replace(/\r?\n[ \t]+/g, ' ');
  const semi = unfolded.indexOf(';');
  const type = (semi === -1 ? unfolded : unfolded.slice(0, semi)).trim().toLowerCase();
  const params = new Map<string, string>();
  const re = /;\s*([^=\s;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  for (const m of unfolded.slice(semi === -1 ? unfolded.length : semi).matchAll(re)) {
    const name = (m[1] ?? '').toLowerCase();
    if (!params.has(name)) params.set(name, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? ''));
  }
  return { type, params };
}

export function arrivedEncrypted(message: Buffer): ArrivedEncrypted | null {
  const field = splitMessage(message).headers.find((h) => h.name === 'content-type');
  if (!field) return null;
  const ct = parseContentType(field.raw.slice(field.raw.indexOf(':') + 1));
  if (ct.type === 'application/pkcs7-mime' || ct.type === 'application/x-pkcs7-mime') {
    const smimeType = ct.params.get('smime-type')?.toLowerCase();
    if (smimeType === 'enveloped-data' || smimeType === 'authenveloped-data') return 'smime';
    // older clients leave smime-type out; an encrypted .p7m is then the usual reading
    if (smimeType === undefined && /\.p7m$/i.test(ct.params.get('name') ?? '')) return 'smime';
    return null;
  }
  if (ct.type === 'multipart/encrypted' && ct.params.get('protocol')?.toLowerCase() === 'application/pgp-encrypted') return 'pgp';
  return null;
}
