/**
 * The original message split the way the OpenPGP transform splits it, so
 * both E2E methods put the same fields in the same places: the helpers of
 * src/e2e (entity.ts, pgp-mime.ts) are used read-only.
 *
 * Inside the envelope: the original MIME entity — its Content-* fields with
 * `protected-headers="v1"` on the Content-Type, the protected header fields
 * (Subject, From, To, Cc, Date, Message-ID; never Bcc), a blank line, the
 * body — all with CRLF. Outside: the transport fields, MIME-Version, and the
 * neutral or original Subject.
 */
import { splitMessage as splitCrlf, toCrlf, isNamed, type HeaderField } from '../e2e/entity.js';
import { innerHeader, OUTER_HEADERS } from '../e2e/pgp-mime.js';
import { subjectField } from '../mime/subject-field.js';

export interface SplitMessage {
  readonly fields: readonly HeaderField[];
  /** The body, CRLF line ends. */
  readonly body: Buffer;
}

export function splitMessage(original: Buffer): SplitMessage {
  return splitCrlf(toCrlf(original));
}

/** The MIME entity that goes inside the envelope (or under the signature) as its two parts, header block and body: the body stays a view of the original. */
export function innerEntityParts(split: SplitMessage): Buffer[] {
  return [Buffer.from(`${innerHeader(split.fields)}\r\n`, 'latin1'), split.body];
}

/** The same entity in one buffer (a copy of the body). */
export function innerEntity(split: SplitMessage): Buffer {
  return Buffer.concat(innerEntityParts(split));
}

/** The original Subject field(s) as written. */
export function subjectFields(split: SplitMessage): Buffer[] {
  return split.fields.filter((f) => isNamed(f, 'Subject')).map((f) => Buffer.from(f.raw, 'latin1'));
}

/**
 * The header fields that stay outside, CRLF-ended: the transport fields as
 * written, the Subject — `outerSubject` (encoded here) when given, else the
 * original one(s) — and MIME-Version.
 */
export function outerFields(split: SplitMessage, outerSubject?: string): Buffer[] {
  const out: Buffer[] = [];
  for (const f of split.fields) if (OUTER_HEADERS.some((n) => isNamed(f, n))) out.push(Buffer.from(f.raw, 'latin1'));
  if (outerSubject !== undefined) out.push(Buffer.from(subjectField(outerSubject), 'latin1'));
  else out.push(...subjectFields(split));
  out.push(Buffer.from('MIME-Version: 1.0\r\n'));
  return out;
}
