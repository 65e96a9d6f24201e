/**
 * What one discovery source (WKD, OPENPGPKEY, SMIMEA, key server) answers
 * for an address, before the keys are read, and the deadline every source
 * shares: past it the source's answer is `timeout` (no key), whatever is
 * still in flight.
 */

/** `insecure`: DNS answered without DNSSEC authentication, so the answer is not used. */
export type SourceOutcome = 'found' | 'not-found' | 'failed' | 'timeout' | 'insecure';

/** A certificate from an SMIMEA record and how it is trusted (dns-keys.ts). */
export interface SmimeaCertificate {
  readonly use: 'pkix-ee' | 'dane-ee';
  readonly der: Buffer;
}

export type SourceFetch =
  | { readonly outcome: 'found'; readonly method: string; readonly pgp: readonly Buffer[]; readonly smime: readonly SmimeaCertificate[] }
  | { readonly outcome: Exclude<SourceOutcome, 'found'>; readonly detail: string };

/** `work`, or `timeout` at `deadline` (ms since epoch by `now`), whichever comes first. */
export async function beforeDeadline<T>(work: Promise<T>, deadline: number, now: () => number, late: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(late), Math.max(0, deadline - now()));
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
