/**
 * The measurement harness shared by every suite.
 *
 * Each benchmark case is measured three ways, in this order:
 *
 * 1. **Time** (`nsPerOp`): by tinybench, with a fixed time budget per case. One tinybench iteration runs a
 *    batch of `K` operations (K chosen so that a batch takes about a quarter of a millisecond) and reports
 *    the batch mean through `overriddenDuration`, so the cost of reading the clock (~100 ns here, as much
 *    as a cache hit) is spread over K operations instead of landing on each. Cases with an untimed
 *    per-operation preparation (Go's `b.StopTimer()` sections) time each operation alone and subtract
 *    the calibrated cost of one clock-reading pair. The variants of one benchmark share the budget in
 *    alternating rounds, so that noise from outside the process hits them alike.
 * 2. **GC runs per 100k operations** (`gcPer100k`): every `gc` PerformanceEntry whose start lies inside
 *    tinybench's timed phases, divided by the operations those phases ran. The heap is collected just
 *    before each phase starts, so every round starts from the same empty young generation.
 * 3. **Bytes allocated per operation** (`bytesPerOp`): `heapUsed + arrayBuffers` before and after a batch
 *    of N operations that runs right after forced collections, with no collection inside it (checked with
 *    the same `gc` entries, and by the heap never shrinking); a batch that saw a GC is retried at half the
 *    size, one that V8's own bookkeeping inflated (a fresh old-space allocation area, JIT code) is retried
 *    as is. The cost of the measurement itself (and of the preparation, where there is one) is measured by
 *    an identical batch without the operation and subtracted. See bench/README.md.
 *
 * Nothing here asserts on a timing: benchmarks report, tests check.
 */
import { performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { Bench } from 'tinybench';
import { collect, forceGc, gcsBetween, settle } from './harness-gc.js';

export { closeHarness } from './harness-gc.js';

/** One measured row, as printed and as written by `--json`. */
export interface Row {
  /** The suite that produced it (`seed`, `peers`, …). */
  suite: string;
  /** The benchmark, as in the seed's table (`ReadHit`, `LRU_Eviction`, …). */
  name: string;
  /** What was measured under that name (`pooled`, `unpooled`, `cachefs`, `limit`, …). */
  variant: string;
  /** Mean wall time of one operation, in nanoseconds. */
  nsPerOp: number;
  /** Bytes allocated (JS heap plus ArrayBuffer memory) by one operation. */
  bytesPerOp: number;
  /** Garbage collections (of any kind) per 100,000 operations during the timed run. */
  gcPer100k: number;
}

/** An operation that completes synchronously (its result is kept so V8 cannot drop the work). */
export interface SyncBody {
  kind: 'sync';
  /** One operation; `i` counts operations from 0, for cases that cycle over several files. */
  op: (i: number) => unknown;
  /** Releases what `setup` built (a cache's timers, a handle). */
  teardown?: () => unknown;
}

/** An operation that returns a promise; each one is awaited before the next starts. */
export interface AsyncBody {
  kind: 'async';
  /** One operation; `i` counts operations from 0, for cases that cycle over several files. */
  op: (i: number) => Promise<unknown>;
  /**
   * Untimed work before each operation (what Go's benchmarks did between `b.StopTimer()` and
   * `b.StartTimer()`, such as re-populating the cache before an invalidation). Its time is excluded from
   * `nsPerOp` and its allocations from `bytesPerOp`; its collections do count in `gcPer100k`.
   */
  prepare?: (i: number) => Promise<void>;
  /** Releases what `setup` built (a cache's timers, a handle). */
  teardown?: () => unknown;
}

/** What a case's `setup` returns: the operation to measure, with its state already built. */
export type CaseBody = SyncBody | AsyncBody;

/** One row to measure: its identity, and how to build the operation. */
export interface BenchCase {
  suite: string;
  name: string;
  variant: string;
  /** Builds the state (a cache, a file, a warm entry) and returns the operation. Not measured. */
  setup: () => CaseBody | Promise<CaseBody>;
}

/** How long to measure. */
export interface HarnessOptions {
  /** tinybench's time budget per case, in ms, summed over the rounds. */
  timeMs: number;
  /** tinybench's warm-up budget per task, in ms (spent once, before the first round). */
  warmupMs: number;
  /**
   * Rounds the time budget is cut into, the variants of a benchmark taking turns in alternating order.
   * Default 4.
   */
  rounds?: number;
  /** Where progress lines go (stderr by default, so that stdout holds only the tables). */
  log?: (line: string) => void;
}

/** The default budgets: 600 ms timed (in 4 rounds of 150 ms) plus 100 ms of warm-up per case: about a minute in all. */
export const DEFAULT_HARNESS_OPTIONS: HarnessOptions = { timeMs: 600, warmupMs: 100, rounds: 4 };

/** The key `--filter` is matched against. */
export function caseKey(c: { suite: string; name: string; variant: string }): string {
  return `${c.suite}/${c.name}/${c.variant}`;
}

// Results are stored here so that V8 cannot prove an operation's result unused and skip the work.
let sink: unknown;

// ---------------------------------------------------------------------------------------------------------
// Time: tinybench, with batches.

/** Median cost of one `performance.now()` pair, subtracted from singly timed operations. */
const clockPairMs: number = (() => {
  const samples: number[] = [];
  for (let i = 0; i < 5_000; i++) {
    const t0 = performance.now();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1]!;
})();

/** A batch should take about this long: long next to a clock reading, short next to the budget. */
const TARGET_BATCH_MS = 0.25;
const MAX_BATCH = 10_000;

/** Runs one operation (and its preparation) `n` times, returning the wall time in ms. */
async function runPlain(body: CaseBody, first: number, n: number): Promise<number> {
  const t0 = performance.now();
  if (body.kind === 'sync') {
    for (let i = 0; i < n; i++) sink = body.op(first + i);
  } else {
    for (let i = 0; i < n; i++) {
      if (body.prepare) await body.prepare(first + i);
      sink = await body.op(first + i);
    }
  }
  return performance.now() - t0;
}

/**
 * Picks the batch size K from a short calibration run (which also warms the code up before tinybench's
 * own warm-up), aiming at {@link TARGET_BATCH_MS} per batch.
 */
async function calibrate(body: CaseBody, counter: { i: number }): Promise<number> {
  let n = 1;
  let elapsed = 0;
  let total = 0;
  while (elapsed < 20 && total < 100_000) {
    elapsed += await runPlain(body, counter.i, n);
    counter.i += n;
    total += n;
    n *= 2;
  }
  const perOp = elapsed / total;
  // With a preparation each operation is timed alone, so a batch only needs to be short next to the budget.
  if (body.kind === 'async' && body.prepare) return Math.max(1, Math.min(64, Math.round(TARGET_BATCH_MS / perOp)));
  return Math.max(1, Math.min(MAX_BATCH, Math.round(TARGET_BATCH_MS / Math.max(perOp, 1e-6))));
}

/** One timed round of one case. */
interface RoundResult {
  /** tinybench's mean over the round's batch means, in ms per operation. */
  meanMs: number;
  /** Batches (tinybench samples) in the round. */
  samples: number;
  /** Operations in the timed phase. */
  ops: number;
  /** Collections that started inside the timed phase. */
  gcs: number;
}

/** The tinybench task function for `body`: one call runs a batch of `k` operations. */
function batchTask(body: CaseBody, k: number, counter: { i: number }): () => unknown {
  const now = (): number => performance.now();
  if (body.kind === 'sync') {
    const op = body.op;
    return () => {
      let i = counter.i;
      const t0 = now();
      for (let j = 0; j < k; j++) sink = op(i++);
      const dt = now() - t0;
      counter.i = i;
      return { overriddenDuration: dt / k, overriddenIterationCost: dt };
    };
  }
  const { op, prepare } = body;
  if (!prepare) {
    return async () => {
      let i = counter.i;
      const t0 = now();
      for (let j = 0; j < k; j++) sink = await op(i++);
      const dt = now() - t0;
      counter.i = i;
      return { overriddenDuration: dt / k, overriddenIterationCost: dt };
    };
  }
  return async () => {
    let i = counter.i;
    let opTime = 0;
    const w0 = now();
    for (let j = 0; j < k; j++) {
      await prepare(i);
      const t0 = now();
      sink = await op(i++);
      opTime += now() - t0;
    }
    counter.i = i;
    // The budget is charged the wall time (preparation included) so that such tasks stay inside it.
    return { overriddenDuration: Math.max(0, opTime / k - clockPairMs), overriddenIterationCost: now() - w0 };
  };
}

/**
 * Times one round of `body` with tinybench: `timeMs` of batches of `k` operations, after `warmupMs` of
 * warm-up (0: none, the code is already warm from an earlier round).
 */
async function timeRound(name: string, body: CaseBody, k: number, timeMs: number, warmupMs: number, counter: { i: number }): Promise<RoundResult> {
  let runStart = 0;
  let runEnd = 0;
  const bench = new Bench({
    name,
    time: timeMs,
    warmup: warmupMs > 0,
    warmupTime: warmupMs,
    iterations: 8,
    warmupIterations: 4,
    throws: true,
    // Collect right before the timed phase so that every round starts with an empty young generation,
    // and mark the phase's bounds for counting the collections that happen inside it.
    setup: (_task, mode) => {
      if (mode === 'run') {
        forceGc();
        runStart = performance.now();
      }
    },
    teardown: (_task, mode) => {
      if (mode === 'run') runEnd = performance.now();
    },
  });
  bench.add(name, batchTask(body, k, counter), { async: body.kind === 'async' });
  await bench.run();
  const task = bench.getTask(name);
  const result = task?.result;
  if (!task || !result || !('latency' in result)) {
    const error = result && 'error' in result ? result.error : undefined;
    throw new Error(`${name}: tinybench produced no result`, { cause: error });
  }
  await settle();
  return { meanMs: result.latency.mean, samples: task.runs, ops: task.runs * k, gcs: gcsBetween(runStart, runEnd) };
}

// ---------------------------------------------------------------------------------------------------------
// Allocation: batches between forced collections.

/** A batch should allocate well under the young generation's size right after a full collection. */
const TARGET_BATCH_BYTES = 256 * 1024;
const MIN_ALLOC_BATCH = 16;
const MAX_ALLOC_BATCH = 20_000;
/** Clean (operation − baseline) estimates taken per case; the median is reported. */
const ALLOC_ESTIMATES = 3;
/** Batch attempts per case before giving up on clean ones. */
const MAX_ALLOC_ATTEMPTS = 16;
/**
 * An old-space growth at least this large inside one batch is V8 handing the main thread a fresh
 * linear allocation area (the whole area counts as used at once, typically 150–250 KiB), not
 * allocation by the operation: such a batch is measured again.
 */
const OLD_SPACE_JUMP = 64 * 1024;

interface MemorySnapshot {
  /** `heapUsed + arrayBuffers`: the figure B/op is computed from. */
  total: number;
  /** `old_space` used bytes, to recognize allocation-area jumps. */
  old: number;
  /** `code_space` used bytes: growth means the JIT installed code during the batch. */
  code: number;
}

function snapshot(): MemorySnapshot {
  let old = 0;
  let code = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (space.space_name === 'old_space') old = space.space_used_size;
    else if (space.space_name === 'code_space') code = space.space_used_size;
  }
  const m = process.memoryUsage();
  return { total: m.heapUsed + m.arrayBuffers, old, code };
}

/** One batch's outcome: `gc` means the figure is void; `artefact` means V8 bookkeeping, not the op, moved it. */
interface BatchResult {
  bytes: number;
  gc: boolean;
  artefact: boolean;
}

/** Bytes allocated by `n` operations (with `withOp: false`, by the same loop without the operation). */
async function allocBatch(body: CaseBody, counter: { i: number }, n: number, withOp: boolean): Promise<BatchResult> {
  await collect();
  let i = counter.i;
  let before: MemorySnapshot;
  let after: MemorySnapshot;
  let t0: number;
  let t1: number;
  // The loops mirror runPlain's, so that the loop's own cost is the same with and without the operation.
  if (body.kind === 'sync') {
    const op = body.op;
    t0 = performance.now();
    before = snapshot();
    if (withOp) for (let j = 0; j < n; j++) sink = op(i++);
    else for (let j = 0; j < n; j++) sink = i++;
    after = snapshot();
    t1 = performance.now();
  } else {
    const { op, prepare } = body;
    t0 = performance.now();
    before = snapshot();
    for (let j = 0; j < n; j++) {
      if (prepare) await prepare(i);
      sink = withOp ? await op(i) : i;
      i++;
    }
    after = snapshot();
    t1 = performance.now();
  }
  counter.i = i;
  await settle();
  const bytes = after.total - before.total;
  const result: BatchResult = {
    bytes,
    gc: gcsBetween(t0, t1) > 0 || bytes < 0,
    artefact: after.old - before.old >= OLD_SPACE_JUMP || after.code > before.code,
  };
  if (debugAlloc) {
    process.stderr.write(`    alloc n=${n} ${withOp ? 'op  ' : 'base'} ${bytes} B old+${after.old - before.old} code+${after.code - before.code}${result.gc ? ' GC' : ''}${result.artefact ? ' artefact' : ''}\n`);
  }
  return result;
}

/** `BENCH_DEBUG=alloc` prints every allocation batch (to see why a figure moves). */
const debugAlloc = /\balloc\b/.test(process.env['BENCH_DEBUG'] ?? '');

/**
 * Median of {@link ALLOC_ESTIMATES} clean (operation − baseline) differences, per operation. A batch that
 * saw a collection is retried at half the size; one with an allocation-area jump or JIT activity is
 * retried as is, and only used when clean ones cannot be had.
 */
async function measureAlloc(name: string, body: CaseBody, counter: { i: number }, log: (line: string) => void): Promise<number> {
  // Size the batch from a small probe.
  const probe = await allocBatch(body, counter, MIN_ALLOC_BATCH, true);
  const probePerOp = probe.gc ? TARGET_BATCH_BYTES : Math.max(1, probe.bytes / MIN_ALLOC_BATCH);
  let n = Math.max(MIN_ALLOC_BATCH, Math.min(MAX_ALLOC_BATCH, Math.floor(TARGET_BATCH_BYTES / probePerOp)));
  const clean: number[] = [];
  const tainted: number[] = [];
  for (let attempt = 0; attempt < MAX_ALLOC_ATTEMPTS && clean.length < ALLOC_ESTIMATES; attempt++) {
    const withOp = await allocBatch(body, counter, n, true);
    if (withOp.gc) {
      n = Math.max(1, n >> 1);
      continue;
    }
    const base = await allocBatch(body, counter, n, false);
    if (base.gc) continue;
    const perOp = Math.max(0, (withOp.bytes - base.bytes) / n);
    (withOp.artefact || base.artefact ? tainted : clean).push(perOp);
  }
  let estimates = clean;
  if (clean.length < ALLOC_ESTIMATES) {
    if (clean.length + tainted.length === 0) {
      log(`  ${name}: every allocation batch saw a GC; B/op left empty`);
      return Number.NaN;
    }
    log(`  ${name}: only ${clean.length} clean allocation batches; B/op may be high`);
    estimates = [...clean, ...tainted.sort((a, b) => a - b)].slice(0, ALLOC_ESTIMATES);
  }
  estimates.sort((a, b) => a - b);
  return estimates[(estimates.length - 1) >> 1]!;
}

// ---------------------------------------------------------------------------------------------------------

/** A case whose operation has been built, with its batch size and running totals. */
interface Prepared {
  c: BenchCase;
  key: string;
  body: CaseBody;
  counter: { i: number };
  k: number;
  weightedMs: number;
  samples: number;
  ops: number;
  gcs: number;
}

/**
 * Measures a group of cases that are compared with each other (the variants of one benchmark). Their
 * time budgets are cut into `rounds` rounds run in alternating order (A B, B A, A B, …), so that a
 * disturbance from outside (another process on the machine) lands on every variant alike instead of on
 * whichever ran at that moment. Allocation is measured afterwards, case by case.
 */
export async function measureGroup(cases: readonly BenchCase[], opts: HarnessOptions): Promise<Row[]> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const rounds = Math.max(1, Math.floor(opts.rounds ?? DEFAULT_HARNESS_OPTIONS.rounds ?? 1));
  const prepared: Prepared[] = [];
  try {
    for (const c of cases) {
      const body = await c.setup();
      const p: Prepared = { c, key: caseKey(c), body, counter: { i: 0 }, k: 1, weightedMs: 0, samples: 0, ops: 0, gcs: 0 };
      prepared.push(p);
      p.k = await calibrate(body, p.counter);
    }
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? prepared : [...prepared].reverse();
      for (const p of order) {
        const round = await timeRound(p.key, p.body, p.k, opts.timeMs / rounds, r === 0 ? opts.warmupMs : 0, p.counter);
        p.weightedMs += round.meanMs * round.samples;
        p.samples += round.samples;
        p.ops += round.ops;
        p.gcs += round.gcs;
      }
    }
    const rows: Row[] = [];
    for (const p of prepared) {
      const bytesPerOp = await measureAlloc(p.key, p.body, p.counter, log);
      const row: Row = {
        suite: p.c.suite,
        name: p.c.name,
        variant: p.c.variant,
        nsPerOp: p.samples > 0 ? (p.weightedMs / p.samples) * 1e6 : Number.NaN,
        bytesPerOp,
        gcPer100k: p.ops > 0 ? (p.gcs / p.ops) * 100_000 : 0,
      };
      log(`  ${p.key.padEnd(44)} ${fmt(row.nsPerOp).padStart(10)} ns/op ${fmt(row.bytesPerOp).padStart(10)} B/op ${row.gcPer100k.toFixed(1).padStart(8)} GC/100k`);
      rows.push(row);
    }
    return rows;
  } finally {
    for (const p of prepared) await p.body.teardown?.();
  }
}

/** Measures one case on its own. */
export async function measure(c: BenchCase, opts: HarnessOptions): Promise<Row> {
  const [row] = await measureGroup([c], opts);
  return row!;
}

function fmt(n: number): string {
  return Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '—';
}

/**
 * Measures every case, one at a time (never concurrently: they would disturb each other's figures).
 * Consecutive cases with the same suite and name form a group measured by {@link measureGroup}.
 */
export async function measureAll(cases: readonly BenchCase[], opts: HarnessOptions): Promise<Row[]> {
  const rows: Row[] = [];
  for (let i = 0; i < cases.length; ) {
    let j = i + 1;
    while (j < cases.length && cases[j]!.suite === cases[i]!.suite && cases[j]!.name === cases[i]!.name) j++;
    rows.push(...(await measureGroup(cases.slice(i, j), opts)));
    i = j;
  }
  return rows;
}
