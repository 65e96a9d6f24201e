/**
 * The S/MIME enveloping transform: one original RFC 5322 message and one
 * recipient certificate in, one application/pkcs7-mime (enveloped-data)
 * message out. The outer message keeps the transport headers, carries the
 * neutral Subject when one is given, and holds base64 of the DER CMS whose
 * content is the original MIME entity (its Content-* fields, the real Subject
 * and the body, CRLF). One recipient per call: no other recipient's key
 * identifier is ever in the RecipientInfos, so BCC stays private.
 *
 * Not wired into delivery yet (issue 13, item 5).
 */
import { Readable } from 'node:stream';
import { SealgateError } from '../errors.js';
import { buildEnvelopedData, type KeyTransport } from './cms.js';
import { innerEntity, outerFields, splitMessage, subjectFields } from './entity.js';
import { readRecipientCert } from './recipient-cert.js';
import { signEntity, type SmimeSigner } from './sign.js';
import { prefixedBase64Lines } from './text.js';

/** Largest original message encrypted when the caller sets no limit: the whole message is held in memory several times over. */
export const DEFAULT_SMIME_MAX_BYTES = 50 * 1024 * 1024;

/** Refuses an original over the limit (SG_MESSAGE_TOO_BIG; size and limit only, never content). */
export function checkSize(original: Buffer, maxBytes: number | undefined): void {
  const max = maxBytes ?? DEFAULT_SMIME_MAX_BYTES;
  if (original.length > max) {
    throw new SealgateError('SG_MESSAGE_TOO_BIG', { message: 'message too large for S/MIME', detail: { size: original.length, limit: max } });
  }
}

export interface SmimeEnvelopeOptions {
  /** Replaces the Subject outside the envelope; the real one stays inside. Absent: the original Subject is kept outside too. */
  readonly outerSubject?: string;
  /** RSA recipients: RSAES-OAEP (SHA-256) instead of PKCS#1 v1.5 (later config `keys.smimeRsaOaep`); also used, whatever this says, when the certificate's SMIMECapabilities extension lists RSAES-OAEP. */
  readonly rsaOaep?: boolean;
  /** Refuse originals larger than this (bytes). */
  readonly maxBytes?: number;
  /** Sign with the organisation's certificate first (multipart/signed, SHA-256), then encrypt. */
  readonly sign?: SmimeSigner;
}

export interface SmimeEnvelope {
  /** The whole outgoing message, CRLF line ends. */
  readonly message: Buffer;
  readonly keyTransport: KeyTransport;
}

export async function envelopeSmime(original: Buffer, recipientCertPem: string, opts: SmimeEnvelopeOptions = {}): Promise<SmimeEnvelope> {
  checkSize(original, opts.maxBytes);
  const recipient = readRecipientCert(recipientCertPem);
  const split = splitMessage(original);
  const entity = innerEntity(split);
  const content = opts.sign ? await signEntity(entity, opts.sign, subjectFields(split)) : entity;
  const { der, keyTransport } = await buildEnvelopedData(recipient, content, { rsaOaep: opts.rsaOaep === true });

  const head = outerFields(split, opts.outerSubject);
  head.push(
    Buffer.from(
      'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n' +
        'Content-Disposition: attachment; filename=smime.p7m\r\n' +
        'Content-Transfer-Encoding: base64\r\n' +
        'Content-Description: S/MIME Encrypted Message\r\n' +
        '\r\n',
    ),
  );
  return { message: prefixedBase64Lines(Buffer.concat(head), der), keyTransport };
}

/** The enveloped message as a stream (for now built in memory first; see docs/smime.md on memory). */
export async function streamSmime(original: Buffer, recipientCertPem: string, opts: SmimeEnvelopeOptions = {}): Promise<{ stream: Readable; keyTransport: KeyTransport }> {
  const { message, keyTransport } = await envelopeSmime(original, recipientCertPem, opts);
  return { stream: Readable.from([message]), keyTransport };
}
