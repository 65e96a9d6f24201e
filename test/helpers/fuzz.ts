/**
 * Shared fast-check settings for the *.fuzz.test.ts files: a fixed number of
 * runs (bounded for CI), and reproduction of a failure from the environment.
 * fast-check prints `{ seed: …, path: "…" }` when a property fails; run the
 * same file again with FUZZ_SEED=<seed> FUZZ_PATH=<path> to replay exactly
 * that counterexample (with `-t "<test name>"` so only that property runs),
 * or FUZZ_RUNS=<n> for a longer local run.
 */
import fc, { type Parameters } from 'fast-check';

export function fuzzParams<T>(numRuns: number, extra: Parameters<T> = {}): Parameters<T> {
  const seed = process.env.FUZZ_SEED;
  const path = process.env.FUZZ_PATH;
  const runs = process.env.FUZZ_RUNS;
  return {
    numRuns: runs ? Number(runs) : numRuns,
    ...(seed ? { seed: Number(seed) } : {}),
    ...(path ? { path } : {}),
    // the shrunk counterexample and the seed/path to replay it
    verbose: 1,
    ...extra,
  };
}

/** Bytes rich in CR, LF and dots (the SMTP smuggling alphabet), with any other byte mixed in. */
export function smugglingBytes(maxLength: number): fc.Arbitrary<Buffer> {
  return fc
    .array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0x0d, 0x0a, 0x2e) }, { weight: 1, arbitrary: fc.constantFrom(0x41, 0x20, 0x00, 0xff) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }), { maxLength })
    .map((a) => Buffer.from(a));
}

/** `bytes` cut at up to `maxCuts` arbitrary points (repeated points give empty chunks), with the input itself. */
export function cutAnywhere(bytes: fc.Arbitrary<Buffer>, maxCuts: number): fc.Arbitrary<{ input: Buffer; chunks: Buffer[] }> {
  return bytes.chain((input) =>
    fc.array(fc.integer({ min: 0, max: input.length }), { maxLength: maxCuts }).map((cuts) => {
      const points = [0, ...cuts.sort((a, b) => a - b), input.length];
      const chunks: Buffer[] = [];
      for (let i = 1; i < points.length; i++) chunks.push(input.subarray(points[i - 1], points[i]));
      return { input, chunks };
    }),
  );
}
