/**
 * Web Key Directory addressing (draft-koch-openpgp-webkey-service): the
 * z-base-32 encoded SHA-1 of the lower-cased local part, and the two URLs an
 * address's key may live at — the advanced method on openpgpkey.<domain>
 * first, then the direct method on <domain>. Pure.
 */
import { createHash } from 'node:crypto';

const ZBASE32 = 'ybndrfg8ejkmcpqxot1uwisza345h769';

/** z-base-32 of the bytes, most significant bit first (as GnuPG writes it). */
export function zbase32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ZBASE32[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ZBASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** The hu/ name of a local part: z-base-32(SHA-1(lower-cased local part)), 32 characters. */
export function wkdHash(localPart: string): string {
  return zbase32(createHash('sha1').update(localPart.toLowerCase(), 'utf8').digest());
}

const DNS_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** True when the address's domain is a DNS host name WKD can ask (no address literal, port or path). */
export function wkdDomainOk(address: string): boolean {
  return DNS_NAME.test(address.slice(address.lastIndexOf('@') + 1).toLowerCase());
}

export type WkdMethod = 'advanced' | 'direct';

export interface WkdLocation {
  readonly method: WkdMethod;
  readonly host: string;
  /** Path and query, e.g. /.well-known/openpgpkey/hu/<hash>?l=<local>. */
  readonly path: string;
}

/** Where to ask, in order: advanced, then direct. `address` is normalized (domain lower case). */
export function wkdLocations(address: string): readonly [WkdLocation, WkdLocation] {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  const tail = `hu/${wkdHash(local)}?l=${encodeURIComponent(local)}`;
  return [
    { method: 'advanced', host: `openpgpkey.${domain}`, path: `/.well-known/openpgpkey/${domain}/${tail}` },
    { method: 'direct', host: domain, path: `/.well-known/openpgpkey/${tail}` },
  ];
}
