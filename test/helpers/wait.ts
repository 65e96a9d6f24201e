/**
 * Polling for a condition in integration tests (no timing assertions: a
 * deadline only turns a hang into a readable failure).
 */

/** Polls `probe` every 100 ms until it gives a value other than undefined/false; on timeout throws with `context()`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, options: { timeoutMs?: number; context?: () => string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${options.context ? `: ${options.context()}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
