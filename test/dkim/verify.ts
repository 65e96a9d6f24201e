/** Test helpers around mailauth's DKIM verifier. */

/** A verify result's algorithm: mailauth sets `algo` (its .d.ts calls it `algorithm`, which is never set). */
export function algo(result: object): string | undefined {
  return (result as { algo?: string }).algo;
}
