/**
 * Which key(s) sign a message: a pure decision over the message's
 * RFC5322.From domain and the configured keys.
 *
 * DMARC aligns the DKIM d= domain with the From header's domain (not the
 * envelope sender, which DSNs leave empty), so the From domain picks the
 * keys:
 *   - the entries whose domain equals the From domain, else
 *   - the entries of the nearest configured parent domain (mail from
 *     billing.example.org signed d=example.org passes DMARC's default
 *     relaxed alignment, not adkim=s), else
 *   - none: the message leaves unsigned (e.g. a domain we relay for but do
 *     not hold keys for).
 * A From with no address, with mailboxes of more than one domain, or more
 * than one From field is not signed: there is no single domain to align.
 * Every entry of the chosen domain signs (an RSA and an Ed25519 key give two
 * signatures, RFC 8463 §4).
 */
import { domainToASCII } from 'node:url';
import addressparser, { type Address } from 'nodemailer/lib/addressparser';
import type { DkimKey } from './keys.js';

/** Pure: the unfolded values of every `name:` field in a header block. */
export function headerValues(headerBlock: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`^${name}[ \\t]*:((?:[^\\r\\n]*)(?:\\r?\\n[ \\t][^\\r\\n]*)*)`, 'gim');
  for (const m of headerBlock.matchAll(re)) out.push((m[1] ?? '').replace(/\r?\n(?=[ \t])/g, ''));
  return out;
}

function mailboxes(list: readonly Address[]): string[] {
  return list.flatMap((a) => (a.group ? mailboxes(a.group) : a.address ? [a.address] : []));
}

/** Pure: the one RFC5322.From domain (lower-case A-labels), or undefined when there is none or more than one. */
export function fromDomain(headerBlock: string): string | undefined {
  const fields = headerValues(headerBlock, 'From');
  if (fields.length !== 1) return undefined;
  // raw UTF-8 (SMTPUTF8 mail) arrives as latin1 characters: read it as UTF-8
  const value = Buffer.from(fields[0] ?? '', 'latin1').toString('utf8');
  const domains = new Set<string>();
  for (const address of mailboxes(addressparser(value))) {
    const at = address.lastIndexOf('@');
    if (at < 1) return undefined;
    const ascii = domainToASCII(address.slice(at + 1).replace(/\.$/, '').toLowerCase());
    if (!ascii) return undefined;
    domains.add(ascii);
  }
  return domains.size === 1 ? [...domains][0] : undefined;
}

/** Pure: the keys that sign mail from `domain` (exact entry, else the nearest parent's), in config order. */
export function keysFor(domain: string | undefined, keys: readonly DkimKey[]): DkimKey[] {
  if (!domain) return [];
  const labels = domain.split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const candidate = labels.slice(i).join('.');
    const found = keys.filter((k) => k.domain === candidate);
    if (found.length > 0) return found;
  }
  return [];
}
