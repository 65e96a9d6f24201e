/**
 * Pure formatting for the portal pages: masked addresses, sizes, dates, and
 * attachment file names safe to show and to put in a Content-Disposition
 * header. No I/O.
 */
import { formatExpiry, sanitizeLine } from '../notification.js';

const MASK = '\u2022\u2022\u2022';

/**
 * An address with its local part hidden but for the first character:
 * `patient@gmail.com` → `p•••@gmail.com`. Always three dots, so the length
 * of the local part is not revealed. The domain stays (people recognise
 * their mailbox by it).
 */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) return MASK;
  const first = Array.from(address.slice(0, at))[0] ?? '';
  return `${sanitizeLine(first, 1)}${MASK}@${sanitizeLine(address.slice(at + 1), 253)}`;
}

/** A date in UTC in words, e.g. "Sunday, 3 January 2027, 09:30 UTC". */
export function formatDate(ms: number): string {
  return formatExpiry(ms).human;
}

/** Just the time of day in UTC ("09:30 UTC") when `ms` is within a day of `now`, else the full date. */
export function formatSoon(ms: number, now: number): string {
  const d = new Date(ms);
  if (Math.abs(ms - now) < 20 * 3600_000) {
    return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;
  }
  return formatDate(ms);
}

/** Whole minutes from `now` until `ms`, at least 1. */
export function minutesUntil(ms: number, now: number): number {
  return Math.max(1, Math.ceil((ms - now) / 60_000));
}

/** "532 bytes", "12 KB", "3.4 MB" (1 KB = 1024 bytes). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return bytes === 1 ? '1 byte' : `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1).replace(/\.0$/, '') : Math.round(v)} ${units[u]}`;
}

/** Longest attachment file name kept (code points). */
const FILENAME_LIMIT = 150;

/**
 * The file name shown and offered for download: no directory parts, no
 * control, format (bidi override) or reserved characters, no leading dots,
 * bounded; `attachment-<n>` when nothing usable is left.
 */
export function safeFilename(name: string | undefined, index: number): string {
  const base = (name ?? '').slice(0, 4096).split(/[/\\]/).pop() ?? '';
  const cleaned = sanitizeLine(base.replace(/[<>:"|?*]/g, '_'), 4096)
    .replace(/^[.\s]+/, '')
    .trim();
  const chars = Array.from(cleaned);
  if (chars.length === 0) return `attachment-${index + 1}`;
  if (chars.length <= FILENAME_LIMIT) return cleaned;
  // keep the extension when cutting
  const dot = cleaned.lastIndexOf('.');
  const ext = dot > 0 && cleaned.length - dot <= 10 ? cleaned.slice(dot) : '';
  return `${Array.from(cleaned.slice(0, cleaned.length - ext.length)).slice(0, FILENAME_LIMIT - ext.length).join('')}${ext}`;
}

/**
 * `Content-Disposition: attachment` with an ASCII fallback `filename` and the
 * exact name as RFC 8187 `filename*=UTF-8''…`. `name` must come from
 * safeFilename (no quotes or control characters).
 */
export function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%;]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,127}$/;

/** The attachment's declared type if it is a plain `type/subtype`, else application/octet-stream. */
export function safeContentType(type: string | undefined): string {
  const t = (type ?? '').trim().toLowerCase();
  return MIME_TYPE.test(t) ? t : 'application/octet-stream';
}
