/**
 * The organisation's logo given as a file (`portal.branding.logo` that is
 * not an https URL): read once, bounded, its type told by its bytes. It is
 * sent inside notification mails as a `cid:` part (no remote fetch, so mail
 * clients show it without "load remote images").
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SealgateError } from '../errors.js';

/** Largest logo file accepted (bytes). */
export const LOGO_MAX_BYTES = 256 * 1024;
/** Content-ID of the logo part in notification mails. */
export const LOGO_CID = 'logo@sealgate.portal';

export interface LogoFile {
  readonly bytes: Buffer;
  readonly contentType: 'image/png' | 'image/jpeg' | 'image/gif' | 'image/svg+xml';
  readonly filename: string;
}

/** Pure: the image type of these bytes, or undefined when they are not a PNG, JPEG, GIF or SVG. */
export function logoType(bytes: Buffer): LogoFile['contentType'] | undefined {
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (/^GIF8[79]a/.test(bytes.subarray(0, 6).toString('latin1'))) return 'image/gif';
  const head = bytes.subarray(0, 1024).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(head)) return 'image/svg+xml';
  return undefined;
}

/** Pure: is this logo setting a file path (not an URL)? */
export function isLogoFile(logo: string | undefined): logo is string {
  return logo !== undefined && !/^[a-z][a-z0-9+.-]*:/i.test(logo);
}

/** Reads the logo file; SG_CONFIG_INVALID naming the key and the fix when it cannot be used. */
export async function loadLogoFile(path: string): Promise<LogoFile> {
  const bad = (why: string, cause?: unknown): SealgateError =>
    new SealgateError('SG_CONFIG_INVALID', { message: `portal.branding.logo: ${why}: give a PNG, JPEG, GIF or SVG file of at most ${LOGO_MAX_BYTES / 1024} KiB, or an https:// URL`, cause });
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(path));
  } catch (err) {
    throw bad(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, err);
  }
  if (bytes.length > LOGO_MAX_BYTES) throw bad(`${path} is ${bytes.length} bytes`);
  const contentType = logoType(bytes);
  if (!contentType) throw bad(`${path} is not an image`);
  const ext = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/gif': 'gif', 'image/svg+xml': 'svg' }[contentType];
  return { bytes, contentType, filename: `logo.${ext}` };
}
