// Seeds for randomized tests (not a test file itself). Every randomized test draws from a seed it prints
// when it fails, and replays from an environment variable:
//   FC_SEED=<n> [FC_PATH=<path>]  fast-check properties (FC_PATH replays the shrunk counterexample at once)
//   CRASH_SEED=<n>                the SIGKILL crash test
// Locally each run draws a fresh seed. Under CI=true a fixed set of seeds runs first (the same cases on
// every commit, so a regression shows as a change) and then one fresh seed (new cases each time).
import fc from 'fast-check';

/** The fixed seeds CI runs on every commit. */
export const FIXED_SEEDS: readonly number[] = [1, 20240611, 424242];

/** A seed nobody chose: different on each run. */
export function freshSeed(): number {
  // Below a million: short to type, and products of it (crash lanes) stay exact in a double.
  return ((Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0) % 1_000_000;
}

/** The seeds to run: `variable` if set, else the fixed set plus a fresh one under CI, else a fresh one. */
export function seedsFrom(variable: string, fixed: readonly number[] = FIXED_SEEDS): number[] {
  const pinned = process.env[variable];
  if (pinned !== undefined && pinned !== '') {
    const seed = Number(pinned);
    if (!Number.isInteger(seed)) throw new Error(`${variable}=${pinned} is not an integer`);
    return [seed];
  }
  return process.env.CI === 'true' || process.env.CI === '1' ? [...fixed, freshSeed()] : [freshSeed()];
}

/** Splits `runs` over the seeds (at least `min` each), so that CI's extra seeds cost little extra time. */
function runsPerSeed(runs: number, seeds: number, min: number): number {
  return Math.max(min, Math.ceil(runs / seeds));
}

type Params<Ts> = Omit<fc.Parameters<Ts>, 'seed' | 'path'>;

/**
 * fc.assert for each seed of {@link seedsFrom}('FC_SEED'), `numRuns` spread over them. On failure the
 * error names the seed and path and how to replay them.
 */
export async function assertProperty<Ts>(
  property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>,
  params: Params<Ts> & { numRuns: number; minRunsPerSeed?: number },
): Promise<void> {
  const seeds = seedsFrom('FC_SEED');
  const path = process.env.FC_PATH || undefined;
  const { minRunsPerSeed = 20, ...rest } = params;
  const numRuns = seeds.length === 1 ? params.numRuns : runsPerSeed(params.numRuns, seeds.length, minRunsPerSeed);
  for (const seed of seeds) {
    const details = await fc.check(property as fc.IAsyncProperty<Ts>, { ...rest, numRuns, seed, ...(path ? { path } : {}) } as fc.Parameters<Ts>);
    if (details.failed) {
      const replay = `replay: FC_SEED=${details.seed} FC_PATH=${details.counterexamplePath ?? ''}`;
      const report = fc.defaultReportMessage(details) ?? 'property failed';
      const cause = details.errorInstance;
      const why = cause instanceof Error ? `\n${cause.stack ?? cause.message}` : cause !== undefined ? `\n${String(cause)}` : '';
      throw new Error(`${replay}\n${report}${why}`, cause !== undefined ? { cause } : undefined);
    }
  }
}
