/**
 * DANE for SMTP (RFC 7672, on RFC 6698 / RFC 7671), pure: which TLSA records
 * an SMTP client may use, whether DANE applies to an MX, and whether the
 * certificate chain an MX presented matches its TLSA records.
 *
 * - Only DANE-TA(2) and DANE-EE(3) are usable for SMTP; PKIX-TA(0) and
 *   PKIX-EE(1), unknown usages, selectors other than Cert(0)/SPKI(1) and
 *   matching types other than Full(0)/SHA2-256(1)/SHA2-512(2), and records
 *   whose association data has the wrong length are unusable (RFC 7672 §3.1).
 * - DANE-EE(3): the leaf certificate (or its SubjectPublicKeyInfo) matches;
 *   no name check, no validity dates, no chain (RFC 7672 §3.1.1).
 * - DANE-TA(2): a certificate the server presented (above the leaf) matches,
 *   or for "2 1 0" the published key itself is the trust anchor; the leaf
 *   must chain to it by signature, every issuer on the way must be a CA, the
 *   leaf and the certificates below the anchor must be within their validity
 *   dates, and the leaf must name the MX host (RFC 7672 §3.1.2, §3.2).
 * - DANE applies only to an authenticated answer (AD bit) from a resolver
 *   the operator declared validating (`dns.dnssecValidating`).
 *
 * No I/O here: the DNS side is src/probe/tlsa-dns.ts.
 */
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';

/** One TLSA record (RFC 6698 §2.1). */
export interface TlsaRecord {
  readonly usage: number;
  readonly selector: number;
  readonly matchingType: number;
  /** Certificate association data. */
  readonly data: Buffer;
}

export const TLSA_USAGE = { PKIX_TA: 0, PKIX_EE: 1, DANE_TA: 2, DANE_EE: 3 } as const;
export const TLSA_SELECTOR = { CERT: 0, SPKI: 1 } as const;
export const TLSA_MATCHING = { FULL: 0, SHA256: 1, SHA512: 2 } as const;

const DIGEST_LENGTH: Record<number, number> = { [TLSA_MATCHING.SHA256]: 32, [TLSA_MATCHING.SHA512]: 64 };

/** "3 1 1", the presentation form of a record's parameters. */
export function tlsaLabel(r: Pick<TlsaRecord, 'usage' | 'selector' | 'matchingType'>): string {
  return `${r.usage} ${r.selector} ${r.matchingType}`;
}

export interface RejectedTlsa {
  readonly record: TlsaRecord;
  readonly reason: string;
}

export interface TlsaUsability {
  /** none: no records; usable: at least one usable; unusable: records, none usable (DANE does not apply, but say so). */
  readonly status: 'none' | 'usable' | 'unusable';
  readonly usable: readonly TlsaRecord[];
  readonly unusable: readonly RejectedTlsa[];
  /** Usable, but set aside for a stronger digest of the same usage and selector (RFC 7671 §9). */
  readonly ignored: readonly RejectedTlsa[];
}

function unusableReason(r: TlsaRecord): string | undefined {
  if (r.usage === TLSA_USAGE.PKIX_TA || r.usage === TLSA_USAGE.PKIX_EE) return `usage ${r.usage} (PKIX-${r.usage === 0 ? 'TA' : 'EE'}) is not usable for SMTP (RFC 7672 §3.1.3)`;
  if (r.usage !== TLSA_USAGE.DANE_TA && r.usage !== TLSA_USAGE.DANE_EE) return `unknown usage ${r.usage}`;
  if (r.selector !== TLSA_SELECTOR.CERT && r.selector !== TLSA_SELECTOR.SPKI) return `unknown selector ${r.selector}`;
  if (r.matchingType !== TLSA_MATCHING.FULL && r.matchingType !== TLSA_MATCHING.SHA256 && r.matchingType !== TLSA_MATCHING.SHA512) return `unknown matching type ${r.matchingType}`;
  if (!Buffer.isBuffer(r.data) || r.data.length === 0) return 'empty certificate association data';
  const want = DIGEST_LENGTH[r.matchingType];
  if (want !== undefined && r.data.length !== want) return `association data is ${r.data.length} bytes, matching type ${r.matchingType} needs ${want}`;
  return undefined;
}

/**
 * Sorts TLSA records into usable and unusable ones (RFC 7672 §3.1). Of the
 * usable records, SHA2-256 ones are set aside when the same usage and
 * selector also has SHA2-512 records (digest algorithm agility, RFC 7671 §9),
 * so a weaker digest cannot stand in for a stronger one.
 */
export function usableTlsa(records: readonly TlsaRecord[]): TlsaUsability {
  const candidates: TlsaRecord[] = [];
  const unusable: RejectedTlsa[] = [];
  for (const record of records) {
    const reason = unusableReason(record);
    if (reason === undefined) candidates.push(record);
    else unusable.push({ record, reason });
  }
  const strongest = new Map<string, number>();
  for (const r of candidates) {
    if (r.matchingType === TLSA_MATCHING.FULL) continue;
    const key = `${r.usage}/${r.selector}`;
    strongest.set(key, Math.max(strongest.get(key) ?? 0, r.matchingType));
  }
  const usable: TlsaRecord[] = [];
  const ignored: RejectedTlsa[] = [];
  for (const r of candidates) {
    const best = strongest.get(`${r.usage}/${r.selector}`);
    if (r.matchingType !== TLSA_MATCHING.FULL && best !== undefined && r.matchingType < best) {
      ignored.push({ record: r, reason: `${tlsaLabel(r)} set aside: the RRset has a stronger digest for usage ${r.usage} selector ${r.selector} (RFC 7671 §9)` });
    } else {
      usable.push(r);
    }
  }
  const status = records.length === 0 ? 'none' : usable.length > 0 ? 'usable' : 'unusable';
  return { status, usable, unusable, ignored };
}

// ---------------------------------------------------------------------------
// Does DANE apply?

export interface DaneRequirementInput {
  /** The TLSA answer carried the AD bit. */
  readonly authenticated: boolean;
  readonly records: readonly TlsaRecord[];
  /** `dns.dnssecValidating`: the operator says the configured resolver validates DNSSEC. */
  readonly dnssecValidating: boolean;
  /** TLSA records in the answer whose rdata could not be decoded (they count as unusable). */
  readonly malformed?: number;
}

export interface DaneRequirement {
  /** DANE governs this MX: TLS is mandatory and verifyDane() must pass; PKIX is not required. */
  readonly applies: boolean;
  readonly status: 'not-validating' | 'insecure' | 'none' | 'unusable' | 'usable';
  readonly reason: string;
  readonly usable: readonly TlsaRecord[];
  /**
   * TLS must be used. True when DANE applies, and also for an authenticated
   * RRset whose records are all unusable: RFC 7672 §2.2 then asks for TLS
   * without authentication (Postfix's behaviour) — DANE itself does not apply.
   */
  readonly requireTls: boolean;
}

/** Pure: whether DANE applies to an MX, from its TLSA answer. */
export function daneRequirement(input: DaneRequirementInput): DaneRequirement {
  const malformed = input.malformed ?? 0;
  if (!input.dnssecValidating) {
    return { applies: false, status: 'not-validating', reason: 'the DNS resolver is not marked dnssecValidating: TLSA answers cannot be trusted, DANE not used', usable: [], requireTls: false };
  }
  if (!input.authenticated) {
    return { applies: false, status: 'insecure', reason: 'the TLSA answer is not DNSSEC-authenticated (AD bit clear): DANE not used', usable: [], requireTls: false };
  }
  if (input.records.length === 0 && malformed === 0) {
    return { applies: false, status: 'none', reason: 'no TLSA records (authenticated denial)', usable: [], requireTls: false };
  }
  const u = usableTlsa(input.records);
  if (u.usable.length === 0) {
    const why = [...u.unusable.map((x) => `${tlsaLabel(x.record)}: ${x.reason}`), ...(malformed > 0 ? [`${malformed} malformed record(s)`] : [])];
    return { applies: false, status: 'unusable', reason: `TLSA records present but none usable (${why.join('; ')}): DANE does not apply, TLS still required`, usable: [], requireTls: true };
  }
  return { applies: true, status: 'usable', reason: `usable TLSA records: ${u.usable.map(tlsaLabel).join(', ')}`, usable: u.usable, requireTls: true };
}

// ---------------------------------------------------------------------------
// Does the presented chain match?

export type DaneFailureCode = 'no-usable-records' | 'no-certificate' | 'bad-certificate' | 'no-match' | 'chain-broken' | 'expired' | 'name-mismatch';

export type DaneVerification =
  | {
      readonly ok: true;
      readonly matched: { readonly usage: number; readonly selector: number; readonly matchingType: number };
      /** Index in the presented chain of the certificate that matched (0 = leaf); -1 for a "2 1 0" bare-key anchor not in the chain. */
      readonly depth: number;
    }
  | { readonly ok: false; readonly code: DaneFailureCode; readonly reason: string };

export interface VerifyDaneOptions {
  /** The MX host name (the reference identifier for DANE-TA, RFC 7672 §3.2.2). */
  readonly mxHost: string;
  /** Further accepted names, e.g. the CNAME-expanded TLSA base domain. */
  readonly extraNames?: readonly string[];
  /** Validity dates of the leaf and of the certificates below a DANE-TA anchor are checked against this; default now. */
  readonly now?: Date;
}

/** Highest first: when no record matches, the most telling failure is reported. */
const FAILURE_RANK: readonly DaneFailureCode[] = ['name-mismatch', 'expired', 'chain-broken', 'no-match'];

/**
 * Checks the chain a server presented (DER, leaf first, as sent) against the
 * TLSA records. Unusable records are ignored; DANE-EE is tried before
 * DANE-TA. Pure apart from hashing and signature checks.
 */
export function verifyDane(records: readonly TlsaRecord[], chain: readonly Uint8Array[], options: VerifyDaneOptions): DaneVerification {
  const { usable } = usableTlsa(records);
  if (usable.length === 0) return { ok: false, code: 'no-usable-records', reason: 'no usable TLSA records' };
  if (chain.length === 0) return { ok: false, code: 'no-certificate', reason: 'the server presented no certificate' };

  const certs: ParsedCert[] = [];
  for (const [i, der] of chain.entries()) {
    const parsed = parseCert(der);
    if (!parsed) {
      if (i === 0) return { ok: false, code: 'bad-certificate', reason: 'the server certificate cannot be parsed' };
      continue; // a broken extra certificate only removes itself from consideration
    }
    certs.push({ ...parsed, index: i });
  }
  const leaf = certs[0];
  if (!leaf || leaf.index !== 0) return { ok: false, code: 'bad-certificate', reason: 'the server certificate cannot be parsed' };

  const failures: { code: DaneFailureCode; reason: string }[] = [];
  const ordered = [...usable.filter((r) => r.usage === TLSA_USAGE.DANE_EE), ...usable.filter((r) => r.usage === TLSA_USAGE.DANE_TA)];
  for (const record of ordered) {
    const matched = { usage: record.usage, selector: record.selector, matchingType: record.matchingType };
    if (record.usage === TLSA_USAGE.DANE_EE) {
      if (matches(record, leaf)) return { ok: true, matched, depth: 0 };
      failures.push({ code: 'no-match', reason: `${tlsaLabel(record)}: the server certificate does not match` });
      continue;
    }
    const outcome = verifyTrustAnchor(record, certs, options);
    if (outcome.ok) return { ok: true, matched, depth: outcome.depth };
    failures.push({ code: outcome.code, reason: `${tlsaLabel(record)}: ${outcome.reason}` });
  }
  failures.sort((a, b) => rank(a.code) - rank(b.code));
  const first = failures[0];
  return { ok: false, code: first?.code ?? 'no-match', reason: failures.map((f) => f.reason).join('; ') };
}

function rank(code: DaneFailureCode): number {
  const i = FAILURE_RANK.indexOf(code);
  return i === -1 ? FAILURE_RANK.length : i;
}

interface ParsedCert {
  readonly x509: X509Certificate;
  readonly der: Buffer;
  readonly spki: Buffer;
  readonly index: number;
}

function parseCert(der: Uint8Array): Omit<ParsedCert, 'index'> | undefined {
  try {
    const buf = Buffer.from(der);
    const x509 = new X509Certificate(buf);
    return { x509, der: Buffer.from(x509.raw), spki: subjectPublicKeyInfo(x509.raw) };
  } catch {
    return undefined;
  }
}

function digest(matchingType: number, bytes: Buffer): Buffer {
  if (matchingType === TLSA_MATCHING.SHA256) return createHash('sha256').update(bytes).digest();
  if (matchingType === TLSA_MATCHING.SHA512) return createHash('sha512').update(bytes).digest();
  return bytes;
}

function matches(record: TlsaRecord, cert: Pick<ParsedCert, 'der' | 'spki'>): boolean {
  const selected = record.selector === TLSA_SELECTOR.SPKI ? cert.spki : cert.der;
  return digest(record.matchingType, selected).equals(record.data);
}

/** The TLSA association data for a certificate (for tests, tools and docs). */
export function tlsaAssociationData(certDer: Uint8Array, selector: number, matchingType: number): Buffer {
  const x509 = new X509Certificate(Buffer.from(certDer));
  const selected = selector === TLSA_SELECTOR.SPKI ? subjectPublicKeyInfo(x509.raw) : Buffer.from(x509.raw);
  return digest(matchingType, selected);
}

type TaOutcome = { ok: true; depth: number } | { ok: false; code: DaneFailureCode; reason: string };

function verifyTrustAnchor(record: TlsaRecord, certs: readonly ParsedCert[], options: VerifyDaneOptions): TaOutcome {
  const leaf = certs[0] as ParsedCert;
  // The anchor is a certificate the server sent above the leaf...
  const anchors = new Set(certs.filter((c) => c.index > 0 && matches(record, c)).map((c) => c.index));
  // ...or, for "2 1 0", the published key itself (servers may then omit the TA certificate).
  let bareKey: KeyObject | undefined;
  if (anchors.size === 0 && record.selector === TLSA_SELECTOR.SPKI && record.matchingType === TLSA_MATCHING.FULL) {
    try {
      bareKey = createPublicKey({ key: record.data, format: 'der', type: 'spki' });
    } catch {
      bareKey = undefined;
    }
  }
  if (anchors.size === 0 && !bareKey) return { ok: false, code: 'no-match', reason: 'no certificate above the leaf matches' };

  const path = findPath(leaf, certs, anchors, bareKey);
  if (!path) return { ok: false, code: 'chain-broken', reason: 'the server certificate does not chain to the trust anchor' };

  const now = options.now ?? new Date();
  for (const c of path.below) {
    const window = validity(c.x509);
    if (!window || now.getTime() < window.from || now.getTime() > window.to) {
      return { ok: false, code: 'expired', reason: c.index === 0 ? 'the server certificate is outside its validity dates' : 'a certificate below the trust anchor is outside its validity dates' };
    }
  }
  const names = [options.mxHost, ...(options.extraNames ?? [])].map((n) => n.toLowerCase().replace(/\.$/, '')).filter((n) => n.length > 0);
  const hostOk = names.some((n) => leaf.x509.checkHost(n, { subject: 'default', wildcards: true, partialWildcards: false, multiLabelWildcards: false, singleLabelSubdomains: false }) !== undefined);
  if (!hostOk) return { ok: false, code: 'name-mismatch', reason: `the server certificate does not name ${names.join(' or ')}` };
  return { ok: true, depth: path.depth };
}

/**
 * Depth-first search from the leaf through certificates the server sent
 * (any order) to an anchor: each step needs issuer/subject agreement
 * (checkIssued), a valid signature and a CA issuer.
 */
function findPath(leaf: ParsedCert, certs: readonly ParsedCert[], anchors: ReadonlySet<number>, bareKey: KeyObject | undefined): { below: ParsedCert[]; depth: number } | undefined {
  const walk = (current: ParsedCert, below: ParsedCert[], seen: Set<number>): { below: ParsedCert[]; depth: number } | undefined => {
    if (current.index !== 0 && anchors.has(current.index)) return { below, depth: current.index };
    const withCurrent = [...below, current];
    if (bareKey && safeVerify(current.x509, bareKey)) return { below: withCurrent, depth: -1 };
    if (seen.size >= 16) return undefined;
    for (const issuer of certs) {
      if (seen.has(issuer.index) || issuer.index === current.index) continue;
      if (!issuer.x509.ca || !current.x509.checkIssued(issuer.x509) || !safeVerify(current.x509, issuer.x509.publicKey)) continue;
      const found = walk(issuer, withCurrent, new Set([...seen, issuer.index]));
      if (found) return found;
    }
    return undefined;
  };
  return walk(leaf, [], new Set([leaf.index]));
}

function safeVerify(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.verify(key);
  } catch {
    return false;
  }
}

function validity(cert: X509Certificate): { from: number; to: number } | undefined {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  return Number.isNaN(from) || Number.isNaN(to) ? undefined : { from, to };
}

// ---------------------------------------------------------------------------
// SubjectPublicKeyInfo, byte for byte as it appears in the certificate

interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly contentStart: number;
  /** Offset just past the content. */
  readonly end: number;
}

function readTlv(buf: Buffer, offset: number, limit: number): Tlv {
  if (offset + 2 > limit) throw new Error('DER: truncated');
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new Error('DER: high tag numbers are not used in certificates');
  let length = buf[offset + 1] as number;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4) throw new Error('DER: unsupported length form');
    if (contentStart + n > limit) throw new Error('DER: truncated length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (buf[contentStart + i] as number);
    contentStart += n;
  }
  const end = contentStart + length;
  if (end > limit) throw new Error('DER: content overruns its container');
  return { tag, start: offset, contentStart, end };
}

/**
 * The DER SubjectPublicKeyInfo of a certificate, copied from the
 * certificate's own bytes (not re-encoded from the parsed key), as the TLSA
 * SPKI(1) selector requires.
 */
export function subjectPublicKeyInfo(certDer: Uint8Array): Buffer {
  const buf = Buffer.from(certDer);
  const cert = readTlv(buf, 0, buf.length);
  if (cert.tag !== 0x30) throw new Error('DER: certificate is not a SEQUENCE');
  const tbs = readTlv(buf, cert.contentStart, cert.end);
  if (tbs.tag !== 0x30) throw new Error('DER: tbsCertificate is not a SEQUENCE');
  let at = tbs.contentStart;
  let field = readTlv(buf, at, tbs.end);
  if (field.tag === 0xa0) {
    at = field.end; // [0] EXPLICIT version
    field = readTlv(buf, at, tbs.end);
  }
  // serialNumber, signature, issuer, validity, subject
  for (let i = 0; i < 5; i++) {
    at = field.end;
    field = readTlv(buf, at, tbs.end);
  }
  if (field.tag !== 0x30) throw new Error('DER: subjectPublicKeyInfo is not a SEQUENCE');
  return Buffer.from(buf.subarray(field.start, field.end));
}
