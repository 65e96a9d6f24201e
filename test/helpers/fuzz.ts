/**
 * Shared fast-check settings for the *.fuzz.test.ts files: a fixed number of
 * runs (bounded for CI), and reproduction of a failure from the environment.
 * fast-check prints `{ seed: …, path: "…" }` when a property fails; run the
 * same file again with FUZZ_SEED=<seed> FUZZ_PATH=<path> to replay exactly
 * that counterexample (with `-t "<test name>"` so only that property runs),
 * or FUZZ_RUNS=<n> for a longer local run.
 */
import type { Parameters } from 'fast-check';

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
