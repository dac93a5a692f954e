/**
 * Batch operations against the loop of single calls they replace, and the cost of metrics on a cache
 * hit. `node dist/bench/batch.js` prints the rows; `runBatchBench()` and `runMetricsOverheadBench()`
 * return them for the suite runner.
 *
 * Each case is timed per operation (an operation is one batch call, or the loop of 100 single calls
 * it replaces) with `performance.now()` around the operation only: repopulating the cache before an
 * invalidation is untimed. The variants of a benchmark take turns over several rounds, and the median
 * round is reported, so that noise from other processes on the machine hits them alike.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { CacheFS, memoryBackend } from '../src/index.js';

/** One measured row (the shape of the bench harness's `Row`). */
export interface Row {
  suite: string;
  name: string;
  variant: string;
  nsPerOp: number;
  bytesPerOp: number;
  gcPer100k: number;
}

interface Case {
  name: string;
  variant: string;
  /** Untimed work before each operation. */
  prepare?: () => Promise<void>;
  /** The timed operation. */
  op: () => Promise<unknown>;
  /** Operations per round. */
  opsPerRound: number;
}

const PATHS = Array.from({ length: 100 }, (_, i) => `/batch/file${i}`);

function backendFiles(): Record<string, string> {
  return Object.fromEntries(PATHS.map((p, i) => [p, `content of file ${i} `.repeat(20)]));
}

async function populate(fs: CacheFS): Promise<void> {
  for (const p of PATHS) await fs.readFile(p);
}

async function runRound(c: Case): Promise<number> {
  let timed = 0;
  for (let i = 0; i < c.opsPerRound; i++) {
    if (c.prepare) await c.prepare();
    const start = performance.now();
    await c.op();
    timed += performance.now() - start;
  }
  return (timed * 1e6) / c.opsPerRound;
}

/** Runs the cases of one benchmark in alternating rounds; the median round per case. */
async function measure(suite: string, cases: Case[], rounds: number): Promise<Row[]> {
  const results = cases.map(() => [] as number[]);
  for (const c of cases) await runRound({ ...c, opsPerRound: Math.max(1, Math.floor(c.opsPerRound / 4)) }); // warm-up
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? cases.map((_, i) => i) : cases.map((_, i) => cases.length - 1 - i);
    for (const i of order) results[i]!.push(await runRound(cases[i]!));
  }
  return cases.map((c, i) => {
    const sorted = [...results[i]!].sort((a, b) => a - b);
    return { suite, name: c.name, variant: c.variant, nsPerOp: Math.round(sorted[Math.floor(sorted.length / 2)]!), bytesPerOp: 0, gcPer100k: 0 };
  });
}

/** `BatchInvalidate_100` vs `Loop_Invalidate_100`, `BatchStats_100` vs `Loop_Stats_100`. */
export async function runBatchBench(rounds = 7): Promise<Row[]> {
  const fs = new CacheFS(memoryBackend(backendFiles()), { metadataCache: true });
  await populate(fs);
  const refill = () => populate(fs);
  const invalidate = await measure('batch', [
    { name: 'BatchInvalidate_100', variant: 'cachefs', prepare: refill, op: () => fs.batchInvalidate(PATHS), opsPerRound: 200 },
    {
      name: 'Loop_Invalidate_100', variant: 'cachefs', prepare: refill, opsPerRound: 200,
      op: async () => {
        for (const p of PATHS) await fs.invalidate(p);
      },
    },
  ], rounds);
  await populate(fs);
  const stats = await measure('batch', [
    { name: 'BatchStats_100', variant: 'cachefs', op: async () => fs.batchStats(PATHS), opsPerRound: 2000 },
    {
      name: 'Loop_Stats_100', variant: 'cachefs', opsPerRound: 2000,
      op: async () => {
        let cached = 0;
        for (const p of PATHS) if (fs.batchStats([p]).get(p)!.cached) cached++;
        return cached;
      },
    },
  ], rounds);
  await fs.close();
  return [...invalidate, ...stats];
}

/** `ReadHit` (4 KiB, the same file over and over) with cachefs metrics registered and without. */
export async function runMetricsOverheadBench(rounds = 9): Promise<Row[]> {
  const data = 'x'.repeat(4096);
  const plain = new CacheFS(memoryBackend({ '/hit': data }), { name: 'plain' });
  const metered = new CacheFS(memoryBackend({ '/hit': data }), { name: 'metered' });
  const registry = new Registry();
  metered.registerMetrics(registry);
  await metered.exportPrometheus(); // its private registry exists too
  await plain.readFile('/hit');
  await metered.readFile('/hit');
  const loop = (fs: CacheFS) => async () => {
    for (let i = 0; i < 1000; i++) await fs.readFile('/hit');
  };
  const rows = await measure('metrics', [
    { name: 'ReadHit', variant: 'metrics-off', op: loop(plain), opsPerRound: 50 },
    { name: 'ReadHit', variant: 'metrics-on', op: loop(metered), opsPerRound: 50 },
  ], rounds);
  // Scraping between rounds would be the realistic case; once here proves the metrics are live.
  await registry.metrics();
  await plain.close();
  await metered.close();
  return rows.map((r) => ({ ...r, nsPerOp: Math.round(r.nsPerOp / 1000) })); // one op = one read
}

function table(rows: Row[]): string {
  const lines = ['| suite | name | variant | ns/op |', '| --- | --- | --- | ---: |'];
  for (const r of rows) lines.push(`| ${r.suite} | ${r.name} | ${r.variant} | ${r.nsPerOp.toLocaleString('en-US')} |`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = [...(await runBatchBench()), ...(await runMetricsOverheadBench())];
  process.stdout.write(`${table(rows)}\n`);
}
