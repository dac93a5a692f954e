/**
 * The measurement harness shared by every suite.
 *
 * Each benchmark case is measured three ways, in this order:
 *
 * 1. **Time** (`nsPerOp`): by tinybench, with a fixed time budget per task. One tinybench iteration runs a
 *    batch of `K` operations (K chosen so that a batch takes about a quarter of a millisecond) and reports
 *    the batch mean through `overriddenDuration`, so the cost of reading the clock (tens of ns, as much as
 *    a cache hit) is spread over K operations instead of landing on each. Cases with an untimed
 *    per-operation preparation (Go's `b.StopTimer()` sections) time each operation alone and subtract
 *    the calibrated cost of one clock-reading pair.
 * 2. **GC runs per 100k operations** (`gcPer100k`): every `gc` PerformanceEntry whose start lies inside
 *    tinybench's timed phase, divided by the operations that phase ran. The heap is collected just before
 *    the phase starts, so every task starts from the same empty young generation.
 * 3. **Bytes allocated per operation** (`bytesPerOp`): `heapUsed + arrayBuffers` before and after a batch
 *    of N operations that runs between two forced collections with no collection inside it (checked with
 *    the same `gc` entries, and by the heap never shrinking); a batch that saw a GC is retried at half the
 *    size. The cost of the measurement itself (and of the preparation, where there is one) is measured by
 *    an identical batch without the operation and subtracted. See bench/README.md.
 *
 * Nothing here asserts on a timing: benchmarks report, tests check.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Bench } from 'tinybench';

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
  /** tinybench's time budget per task, in ms (operations, not wall time: preparation is excluded). */
  timeMs: number;
  /** tinybench's warm-up budget per task, in ms. */
  warmupMs: number;
  /** Where progress lines go (stderr by default, so that stdout holds only the tables). */
  log?: (line: string) => void;
}

/** The default budgets: 300 ms timed plus 100 ms of warm-up per task keeps the full run near two minutes. */
export const DEFAULT_HARNESS_OPTIONS: HarnessOptions = { timeMs: 300, warmupMs: 100 };

/** The key `--filter` is matched against. */
export function caseKey(c: { suite: string; name: string; variant: string }): string {
  return `${c.suite}/${c.name}/${c.variant}`;
}

// Results are stored here so that V8 cannot prove an operation's result unused and skip the work.
let sink: unknown;
/** The last operation result; exists only so that the stores into `sink` are observable. */
export function lastResult(): unknown {
  return sink;
}

// ---------------------------------------------------------------------------------------------------------
// Garbage collection: forcing it, and seeing when it happened.

type GcFunction = () => void;

/**
 * `global.gc` when node ran with `--expose-gc` (as `npm run bench` does); otherwise the flag is set at run
 * time and the function fetched from a fresh context, so that `node dist/bench/index.js` works as well.
 */
function resolveGc(): GcFunction {
  const exposed = (globalThis as { gc?: GcFunction }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as GcFunction;
}

const forceGc: GcFunction = resolveGc();

/** Start times (on `performance.now()`'s clock) of every collection seen since the harness was loaded. */
const gcStarts: number[] = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcStarts.push(entry.startTime);
});
gcObserver.observe({ entryTypes: ['gc'] });

/** Lets the event loop turn so that queued `gc` entries reach the observer (node delivers them late). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  for (const entry of gcObserver.takeRecords()) gcStarts.push(entry.startTime);
}

/** How many collections started in `[from, to]`; call after {@link settle}. */
function gcsBetween(from: number, to: number): number {
  let n = 0;
  for (let i = gcStarts.length - 1; i >= 0; i--) {
    const t = gcStarts[i]!;
    if (t < from) break;
    if (t <= to) n++;
  }
  return n;
}

/** Forces a full collection and waits until its `gc` entry has been delivered. */
async function collect(): Promise<void> {
  forceGc();
  await settle();
  // Old entries are only ever looked at for the current window; keep the list short.
  if (gcStarts.length > 10_000) gcStarts.splice(0, gcStarts.length - 1_000);
}

/** Disconnects the `gc` observer so that the process can exit; the harness is unusable afterwards. */
export function closeHarness(): void {
  gcObserver.disconnect();
}

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
  if (body.kind === 'async' && body.prepare) return Math.max(1, Math.min(64, Math.round(TARGET_BATCH_MS / perOp)));
  return Math.max(1, Math.min(MAX_BATCH, Math.round(TARGET_BATCH_MS / Math.max(perOp, 1e-6))));
}

interface TimeResult {
  nsPerOp: number;
  gcPer100k: number;
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

async function measureTime(name: string, body: CaseBody, opts: HarnessOptions, counter: { i: number }): Promise<TimeResult> {
  const k = await calibrate(body, counter);
  let runStart = 0;
  let runEnd = 0;
  const bench = new Bench({
    name,
    time: opts.timeMs,
    warmupTime: opts.warmupMs,
    iterations: 16,
    warmupIterations: 4,
    throws: true,
    // Collect right before the timed phase so that every task starts with an empty young generation,
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
  const ops = task.runs * k;
  return {
    nsPerOp: result.latency.mean * 1e6,
    gcPer100k: ops > 0 ? (gcsBetween(runStart, runEnd) / ops) * 100_000 : 0,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Allocation: batches between forced collections.

/** A batch should allocate well under the young generation's size right after a full collection. */
const TARGET_BATCH_BYTES = 256 * 1024;
const MIN_ALLOC_BATCH = 16;
const MAX_ALLOC_BATCH = 20_000;

function memoryNow(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * Bytes allocated by `n` operations (with `withOp: false`, by the same loop without the operation), or
 * `undefined` when a collection ran inside the batch and the figure cannot be trusted.
 */
async function allocBatch(body: CaseBody, counter: { i: number }, n: number, withOp: boolean): Promise<number | undefined> {
  await collect();
  let i = counter.i;
  let before: number;
  let after: number;
  let t0: number;
  let t1: number;
  // The loops mirror runPlain's, so that the loop's own cost is the same with and without the operation.
  if (body.kind === 'sync') {
    const op = body.op;
    t0 = performance.now();
    before = memoryNow();
    if (withOp) for (let j = 0; j < n; j++) sink = op(i++);
    else for (let j = 0; j < n; j++) sink = i++;
    after = memoryNow();
    t1 = performance.now();
  } else {
    const { op, prepare } = body;
    t0 = performance.now();
    before = memoryNow();
    for (let j = 0; j < n; j++) {
      if (prepare) await prepare(i);
      sink = withOp ? await op(i) : i;
      i++;
    }
    after = memoryNow();
    t1 = performance.now();
  }
  counter.i = i;
  await settle();
  if (gcsBetween(t0, t1) > 0 || after < before) return undefined;
  return after - before;
}

/** Median of three clean batches of (operation) minus (no operation), per operation. */
async function measureAlloc(name: string, body: CaseBody, counter: { i: number }, log: (line: string) => void): Promise<number> {
  // Size the batch from a small probe; shrink it whenever a collection spoils a batch.
  const probe = (await allocBatch(body, counter, MIN_ALLOC_BATCH, true)) ?? TARGET_BATCH_BYTES;
  let n = Math.max(MIN_ALLOC_BATCH, Math.min(MAX_ALLOC_BATCH, Math.floor(TARGET_BATCH_BYTES / Math.max(1, probe / MIN_ALLOC_BATCH))));
  const estimates: number[] = [];
  let spoiled = 0;
  while (estimates.length < 3) {
    const withOp = await allocBatch(body, counter, n, true);
    const without = withOp === undefined ? undefined : await allocBatch(body, counter, n, false);
    if (withOp === undefined || without === undefined) {
      spoiled++;
      if (spoiled > 12) {
        log(`  ${name}: every allocation batch saw a GC; B/op left empty`);
        return Number.NaN;
      }
      n = Math.max(1, n >> 1);
      continue;
    }
    estimates.push(Math.max(0, (withOp - without) / n));
  }
  estimates.sort((a, b) => a - b);
  return estimates[1]!;
}

// ---------------------------------------------------------------------------------------------------------

/** Measures one case: time and GC count with tinybench, then allocation. */
export async function measure(c: BenchCase, opts: HarnessOptions): Promise<Row> {
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const key = caseKey(c);
  const body = await c.setup();
  const counter = { i: 0 };
  try {
    const time = await measureTime(key, body, opts, counter);
    const bytesPerOp = await measureAlloc(key, body, counter, log);
    const row: Row = { suite: c.suite, name: c.name, variant: c.variant, nsPerOp: time.nsPerOp, bytesPerOp, gcPer100k: time.gcPer100k };
    log(`  ${key.padEnd(44)} ${fmt(row.nsPerOp).padStart(10)} ns/op ${fmt(row.bytesPerOp).padStart(10)} B/op ${row.gcPer100k.toFixed(1).padStart(8)} GC/100k`);
    return row;
  } finally {
    await body.teardown?.();
  }
}

function fmt(n: number): string {
  return Number.isFinite(n) ? (n >= 100 ? n.toFixed(0) : n.toFixed(1)) : '—';
}

/** Measures every case in order (never concurrently: they would disturb each other's figures). */
export async function measureAll(cases: readonly BenchCase[], opts: HarnessOptions): Promise<Row[]> {
  const rows: Row[] = [];
  for (const c of cases) rows.push(await measure(c, opts));
  return rows;
}
