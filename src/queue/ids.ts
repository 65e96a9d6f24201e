/**
 * Queue ids: 10 Crockford base32 characters of milliseconds since the epoch
 * followed by 10 of randomness (50 bits). Sortable by arrival, safe in file
 * names and SMTP replies, and unguessable enough that one id reveals nothing
 * about another.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type RandomBytes = (n: number) => Buffer;

export function generateQueueId(nowMs: number, randomBytes: RandomBytes): string {
  let time = '';
  let t = Math.floor(nowMs);
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(10);
  let rand = '';
  for (let i = 0; i < 10; i++) rand += ALPHABET[(bytes[i] ?? 0) % 32];
  return time + rand;
}

export function isQueueId(text: string): boolean {
  return /^[0-9A-HJKMNP-TV-Z]{20}$/.test(text);
}

/** Pure: the milliseconds since the epoch a queue id was made at (its first 10 characters), or undefined for text that is not a queue id. */
export function queueIdTime(id: string): number | undefined {
  if (!isQueueId(id)) return undefined;
  let t = 0;
  for (let i = 0; i < 10; i++) t = t * 32 + ALPHABET.indexOf(id[i] ?? '0');
  return t;
}
