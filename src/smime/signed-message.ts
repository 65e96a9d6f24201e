/**
 * A signed-only S/MIME message (no encryption): the transport fields and the
 * Subject stay as they are outside, the original MIME entity becomes the
 * first part of a multipart/signed signed with the organisation's
 * certificate. For mail that goes out over TLS and should still carry the
 * organisation's signature.
 */
import { checkSize } from './envelope.js';
import { innerEntity, outerFields, splitMessage } from './entity.js';
import { signEntity, type SmimeSigner } from './sign.js';

export async function signSmimeMessage(original: Buffer, signer: SmimeSigner, opts: { maxBytes?: number } = {}): Promise<Buffer> {
  checkSize(original, opts.maxBytes);
  const split = splitMessage(original);
  const signed = await signEntity(innerEntity(split), signer);
  return Buffer.concat([...outerFields(split), signed]);
}
