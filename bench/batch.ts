/**
 * The batch suite: batch operations against the loop of single calls they replace, and the cost of
 * cachefs's Prometheus metrics on a cache hit. `npm run bench -- batch`.
 *
 * Benchmarks (one op is one batch call, or the loop of 100 single calls it replaces):
 * - `BatchInvalidate_100` / `Loop_Invalidate_100`: untimed, read 100 files (420 bytes each) into the
 *   cache (metadata cache on, so each also has a cached `stat`); timed, `batchInvalidate(paths)` /
 *   `for (p of paths) await invalidate(p)`.
 * - `BatchStats_100` / `Loop_Stats_100`: the 100 files cached; `batchStats(paths)` / for each path
 *   `batchStats([p])` (cachefs has no single-path form; this is what a caller without the batch form does).
 * - `ReadHit` `metrics-off` / `metrics-on`: `readFile` of a cached 1 KiB file, on a cache without
 *   metrics and on one registered on a prom-client registry (and exported once): the hot path must not
 *   notice.
 */
import { Registry } from 'prom-client';
import { CacheFS, memoryBackend } from '../src/index.js';
import { caseKey, DEFAULT_HARNESS_OPTIONS, measureAll, type BenchCase, type HarnessOptions, type Row } from './harness.js';
import type { Suite, SuiteOptions } from './suite.js';

const PATHS = Array.from({ length: 100 }, (_, i) => `/batch/file${i}`);

function batchFiles(): Record<string, string> {
  return Object.fromEntries(PATHS.map((p, i) => [p, `content of file ${String(i).padStart(3, '0')} `.repeat(20)]));
}

/** A cache over the 100 files, every one read (and stat'ed) once. */
async function populatedCache(): Promise<CacheFS> {
  const fs = new CacheFS(memoryBackend(batchFiles()), { metadataCache: true });
  await populate(fs);
  return fs;
}

async function populate(fs: CacheFS): Promise<void> {
  for (const p of PATHS) {
    await fs.readFile(p);
    await fs.stat(p);
  }
}

/** The suite's cases; the variants of one benchmark are adjacent, so the harness measures them together. */
export function batchCases(): BenchCase[] {
  const c = (name: string, variant: string, setup: BenchCase['setup']): BenchCase => ({ suite: 'batch', name, variant, setup });
  const invalidation = (loop: boolean): BenchCase['setup'] => async () => {
    const fs = await populatedCache();
    return {
      kind: 'async',
      prepare: () => populate(fs),
      op: loop
        ? async () => {
            for (const p of PATHS) await fs.invalidate(p);
          }
        : () => fs.batchInvalidate(PATHS),
      teardown: () => fs.close(),
    };
  };
  const stats = (loop: boolean): BenchCase['setup'] => async () => {
    const fs = await populatedCache();
    return {
      kind: 'sync',
      op: loop
        ? () => {
            let cached = 0;
            for (const p of PATHS) if (fs.batchStats([p]).get(p)!.cached) cached++;
            return cached;
          }
        : () => fs.batchStats(PATHS),
      teardown: () => fs.close(),
    };
  };
  const readHit = (metrics: boolean): BenchCase['setup'] => async () => {
    const fs = new CacheFS(memoryBackend({ '/hit.bin': 'x'.repeat(1024) }), { name: metrics ? 'metered' : 'plain' });
    if (metrics) {
      fs.registerMetrics(new Registry());
      await fs.exportPrometheus();
    }
    await fs.readFile('/hit.bin');
    return { kind: 'async', op: () => fs.readFile('/hit.bin'), teardown: () => fs.close() };
  };
  return [
    c('BatchInvalidate_100', 'cachefs', invalidation(false)),
    c('Loop_Invalidate_100', 'cachefs', invalidation(true)),
    c('BatchStats_100', 'cachefs', stats(false)),
    c('Loop_Stats_100', 'cachefs', stats(true)),
    c('ReadHit', 'metrics-off', readHit(false)),
    c('ReadHit', 'metrics-on', readHit(true)),
  ];
}

/**
 * Measures the batch suite. Note that the harness groups cases by name, so `BatchInvalidate_100` and
 * its loop take their rounds separately; compare them over several runs.
 */
export async function runBatchBench(opts: HarnessOptions & { filter?: RegExp } = DEFAULT_HARNESS_OPTIONS): Promise<Row[]> {
  const cases = batchCases().filter((bc) => !opts.filter || opts.filter.test(caseKey(bc)));
  return measureAll(cases, opts);
}

/** Registered in suites.ts. */
export const batchSuite: Suite = {
  name: 'batch',
  description: 'batch operations against loops of single calls; ReadHit with metrics on and off',
  inDefaultRun: true,
  run: (opts: SuiteOptions) => runBatchBench(opts),
};
