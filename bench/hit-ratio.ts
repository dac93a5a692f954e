/**
 * The hit-ratio simulator: replays public traces (LIRS's, shipped with Caffeine's simulator) through the
 * public `CacheFS` API and synthetic traces through every eviction policy exactly as the store drives a
 * policy, beside SIEVE as its paper defines it and Belady's optimal policy, which bounds what any policy
 * could achieve.
 */
import { createPolicy } from '../src/policy/index.js';
import { POLICY_NAMES, hashKey, type EvictionPolicy, type PolicyName } from '../src/policy/policy.js';
import { replayThroughApi, tracePath } from './hit-ratio-api.js';
import { referenceSieveHits } from './sieve-reference.js';
import { CAFFEINE_GLIMPSE, PUBLIC_TRACES, loadLirsTrace } from './traces-public.js';
import { loopTrace, scanTrace, shiftingTrace, sizeMixTrace, zipfTrace, type Trace } from './traces.js';

/** A column of the results: a policy of cachefs, SIEVE straight from its paper, or the optimum. */
export type HitRatioVariant = PolicyName | 'sieve-paper' | 'optimal';

/** One simulated (trace, cache size, policy) result. */
export interface HitRatioRow {
  suite: 'hit-ratio';
  /** `${trace}@${sizeLabel}`, e.g. `zipf-0.99@1%` or `gli@250` (public traces: entries). */
  name: string;
  variant: HitRatioVariant;
  /** Hits / requests, in [0, 1]. */
  hitRatio: number;
  /** Bytes served from the cache / bytes requested, in [0, 1]; equals `hitRatio` on entry-count traces. */
  byteHitRatio: number;
  /**
   * How the policy was driven: `api` through `CacheFS#readFile` (public traces), `policy` by this
   * module's copy of the store's calls (synthetic traces, millions of requests), `model` for the
   * reference SIEVE and the optimum.
   */
  replay: 'api' | 'policy' | 'model';
}

/** The cache sizes, as shares of the key space (in entries; in bytes for the size-mix trace). */
export const CACHE_SIZES = [
  { label: '0.1%', share: 0.001 },
  { label: '1%', share: 0.01 },
  { label: '10%', share: 0.1 },
] as const;

/** A trace family: how to build it for a cache of a given capacity, and what the capacity counts. */
interface TraceSpec {
  name: string;
  /** `bytes` for the size-mix trace: the cache is limited by the sum of entry sizes. */
  unit: 'entries' | 'bytes';
  /**
   * Builds the trace for a cache holding `capacity` entries. Only the loop depends on it (its span is a
   * little larger than the cache); the others return the same trace for every size.
   */
  build(capacity: number): Trace;
}

/** The outcome of one replay. */
interface Outcome {
  hits: number;
  requests: number;
  hitBytes: number;
  bytes: number;
}

/**
 * The trace families. Lengths are chosen so that the full run stays well within 90 s on two cores while
 * the cache sees many times its size: Zipf traces run 10 requests per key of the key space, and the loop
 * at the largest size goes round about 90 times. `scale` (0.1 in quick mode) shrinks key space and
 * lengths together, so the shapes (and roughly the ratios) stay the same.
 */
function traceSpecs(scale: number): { keySpace: number; specs: TraceSpec[] } {
  const keys = Math.round(100_000 * scale);
  const length = Math.round(3_000_000 * scale);
  const once = <T>(make: () => T): (() => T) => {
    let value: T | undefined;
    return () => (value ??= make());
  };
  const zipf08 = once(() => zipfTrace(keys, 0.8, length, 0x08));
  const zipf099 = once(() => zipfTrace(keys, 0.99, length, 0x99));
  const scan = once(() => scanTrace(keys, length, Math.round(0.6 * keys), Math.round(0.2 * keys), 0x5ca2));
  const shifting = once(() => shiftingTrace(keys, Math.round(0.01 * keys), Math.round(length / 20), length, 0x5f7));
  const sizes = once(() => sizeMixTrace(keys, 0.9, length, 0x512e));
  return {
    keySpace: keys,
    specs: [
      { name: 'zipf-0.8', unit: 'entries', build: zipf08 },
      { name: 'zipf-0.99', unit: 'entries', build: zipf099 },
      { name: 'zipf+scan', unit: 'entries', build: scan },
      { name: 'loop', unit: 'entries', build: (capacity) => loopTrace(Math.ceil(capacity * 1.1), length) },
      { name: 'shifting', unit: 'entries', build: shifting },
      { name: 'size-mix', unit: 'bytes', build: sizes },
    ],
  };
}

/**
 * Replays `trace` through `policy` the way the store drives it: a map from key to slot, a stack of free
 * slots (grown by doubling, with `grow` called first), `access` on a hit, and on a miss `recordMiss`,
 * then victims asked for and removed while the new entry would not fit (admission before insertion: a
 * victim is always an entry already resident), then `insert`. Time is the request index; nothing expires.
 * `test/policy/hit-ratio.test.ts` checks that this gives the same hits as a replay through `CacheFS`.
 */
function replay(policy: EvictionPolicy, trace: Trace, hashes: Uint32Array, limit: number): Outcome {
  const { keys, sizes } = trace;
  const slots = new Map<number, number>();
  let capacity = 64;
  policy.grow(capacity);
  let slotKey = new Int32Array(capacity);
  let slotSize = new Float64Array(capacity);
  let free = new Int32Array(capacity);
  let freeTop = 0;
  let nextFresh = 0;
  let used = 0;
  let hits = 0;
  let hitBytes = 0;
  let bytes = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const size = sizes === undefined ? 1 : sizes[key]!;
    bytes += size;
    const resident = slots.get(key);
    if (resident !== undefined) {
      hits++;
      hitBytes += size;
      policy.access(resident, i);
      continue;
    }
    const hash = hashes[key]!;
    policy.recordMiss(hash);
    while (used + size > limit) {
      const v = policy.victim(i);
      if (v < 0) break;
      if (slots.get(slotKey[v]!) !== v) throw new Error(`${policy.name}: bad victim ${v}`);
      policy.remove(v);
      slots.delete(slotKey[v]!);
      used -= slotSize[v]!;
      free[freeTop++] = v;
    }
    let slot: number;
    if (freeTop > 0) {
      slot = free[--freeTop]!;
    } else {
      if (nextFresh === capacity) {
        capacity *= 2;
        policy.grow(capacity);
        slotKey = widenInt(slotKey, capacity);
        free = widenInt(free, capacity);
        const s = new Float64Array(capacity);
        s.set(slotSize);
        slotSize = s;
      }
      slot = nextFresh++;
    }
    slots.set(key, slot);
    slotKey[slot] = key;
    slotSize[slot] = size;
    used += size;
    policy.insert(slot, hash, size, Infinity, i);
  }
  return { hits, requests: keys.length, hitBytes, bytes };
}

function widenInt(a: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(capacity);
  b.set(a);
  return b;
}

/** For each request, the index of the next request for the same key, or `keys.length` when none. */
function nextUses(trace: Trace): Int32Array {
  const { keys } = trace;
  const next = new Int32Array(keys.length);
  const last = new Int32Array(trace.keySpace).fill(keys.length);
  for (let i = keys.length - 1; i >= 0; i--) {
    const k = keys[i]!;
    next[i] = last[k]!;
    last[k] = i;
  }
  return next;
}

/**
 * Belady's MIN: on a miss the key is inserted, then while over the limit the resident key whose next
 * request is farthest away (possibly the new one, i.e. a bypass) is evicted, using a max-heap of
 * resident keys on next use with a position index (O(log n) per request).
 *
 * For entry-count traces this is the optimum: no policy, online or not, hits more. For the byte-limited
 * trace it is the common size-aware approximation (farthest next use first, regardless of size); the
 * true byte optimum is NP-hard, and this heuristic is neither a proven upper bound on the byte hit ratio
 * nor on the object hit ratio, only a strong reference.
 */
function replayOptimal(trace: Trace, next: Int32Array, limit: number): Outcome {
  const { keys, sizes } = trace;
  const heap = new Int32Array(trace.keySpace);
  const pos = new Int32Array(trace.keySpace).fill(-1);
  const due = new Int32Array(trace.keySpace);
  let count = 0;
  let used = 0;
  let hits = 0;
  let hitBytes = 0;
  let bytes = 0;

  const siftUp = (i: number): void => {
    const k = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (due[p]! >= due[k]!) break;
      heap[i] = p;
      pos[p] = i;
      i = parent;
    }
    heap[i] = k;
    pos[k] = i;
  };
  const siftDown = (i: number): void => {
    const k = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= count) break;
      if (child + 1 < count && due[heap[child + 1]!]! > due[heap[child]!]!) child++;
      const c = heap[child]!;
      if (due[c]! <= due[k]!) break;
      heap[i] = c;
      pos[c] = i;
      i = child;
    }
    heap[i] = k;
    pos[k] = i;
  };

  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const size = sizes === undefined ? 1 : sizes[key]!;
    bytes += size;
    due[key] = next[i]!;
    if (pos[key] !== -1) {
      hits++;
      hitBytes += size;
      // The next use only moves later, so the key can only rise in a max-heap.
      siftUp(pos[key]!);
      continue;
    }
    heap[count] = key;
    pos[key] = count;
    count++;
    siftUp(count - 1);
    used += size;
    while (used > limit) {
      const out = heap[0]!;
      pos[out] = -1;
      used -= sizes === undefined ? 1 : sizes[out]!;
      count--;
      if (count > 0) {
        heap[0] = heap[count]!;
        siftDown(0);
      }
    }
  }
  return { hits, requests: keys.length, hitBytes, bytes };
}

/** The key hashes the store computes for the files of {@link replayThroughApi}: FNV-1a of each path. */
function keyHashes(keySpace: number): Uint32Array {
  const hashes = new Uint32Array(keySpace);
  for (let k = 0; k < keySpace; k++) hashes[k] = hashKey(tracePath(k));
  return hashes;
}

/**
 * The hits of `policy` on an entry-count `trace` with a cache of `capacity` entries, driven as the store
 * drives it (see {@link replay}); for tests that compare it with a replay through `CacheFS`.
 */
export function replayPolicyHits(policy: PolicyName, trace: Trace, capacity: number): number {
  return replay(createPolicy(policy), trace, keyHashes(trace.keySpace), capacity).hits;
}

/** What {@link runHitRatio} replays. */
export interface HitRatioOptions {
  /** Tenfold smaller synthetic traces, and glimpse alone at two sizes of the public traces (for tests). */
  quick?: boolean;
  /** Replay the public traces (default true). */
  publicTraces?: boolean;
  /** Replay the synthetic traces (default true). */
  syntheticTraces?: boolean;
  /**
   * Only the `trace@size` rows this matches (default all): a fast loop on a few rows while tuning a
   * policy, since the full run takes minutes.
   */
  only?: RegExp;
  /** Only these policies (default {@link POLICY_NAMES}); the reference SIEVE and the optimum always run. */
  policies?: readonly PolicyName[];
}

/** Which rows and policies {@link runHitRatio} replays. */
interface Pick {
  only: RegExp;
  policies: readonly PolicyName[];
}

/** A row's ratios from hit counts. */
function row(name: string, variant: HitRatioVariant, replayed: HitRatioRow['replay'], o: Outcome): HitRatioRow {
  return {
    suite: 'hit-ratio',
    name,
    variant,
    hitRatio: o.requests === 0 ? 0 : o.hits / o.requests,
    byteHitRatio: o.bytes === 0 ? 0 : o.hitBytes / o.bytes,
    replay: replayed,
  };
}

/** An outcome of an entry-count trace, where every request weighs one byte. */
function countOutcome(hits: number, requests: number): Outcome {
  return { hits, requests, hitBytes: hits, bytes: requests };
}

/** Lets a caller's timers and I/O run between replays. */
function yieldTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Replays the public traces at their sizes through `CacheFS` (every policy of {@link POLICY_NAMES}), the
 * reference SIEVE and Belady's optimal.
 */
async function runPublic(quick: boolean, pick: Pick, rows: HitRatioRow[]): Promise<void> {
  for (const spec of PUBLIC_TRACES) {
    if (quick && spec.name !== 'gli') continue;
    const sizes = (quick ? [500, 1000] : spec.sizes).filter((size) => pick.only.test(`${spec.name}@${size}`));
    if (sizes.length === 0) continue;
    const trace = loadLirsTrace(spec.file);
    const next = nextUses(trace);
    for (const size of sizes) {
      const name = `${spec.name}@${size}`;
      for (const policyName of pick.policies) {
        const o = await replayThroughApi(policyName, trace, size);
        if (o.hits + o.misses !== trace.keys.length) throw new Error(`${name} ${policyName}: ${o.hits + o.misses} reads counted`);
        rows.push(row(name, policyName, 'api', countOutcome(o.hits, trace.keys.length)));
      }
      rows.push(row(name, 'sieve-paper', 'model', countOutcome(referenceSieveHits(trace, size), trace.keys.length)));
      rows.push(row(name, 'optimal', 'model', replayOptimal(trace, next, size)));
      await yieldTurn();
    }
  }
}

/** Replays the synthetic traces at {@link CACHE_SIZES} through every policy as the store drives it. */
async function runSynthetic(quick: boolean, pick: Pick, rows: HitRatioRow[]): Promise<void> {
  const { keySpace, specs } = traceSpecs(quick ? 0.1 : 1);
  for (const spec of specs) {
    let hashes: Uint32Array | undefined;
    let shared: { trace: Trace; next: Int32Array } | undefined;
    for (const size of CACHE_SIZES) {
      const name = `${spec.name}@${size.label}`;
      if (!pick.only.test(name)) continue;
      const entries = Math.max(1, Math.round(size.share * keySpace));
      const trace = spec.build(entries);
      // Traces that do not depend on the size are built once, and so are their next-use indices.
      const next = shared?.trace === trace ? shared.next : nextUses(trace);
      shared = { trace, next };
      if (hashes === undefined || hashes.length < trace.keySpace) hashes = keyHashes(trace.keySpace);
      let limit = entries;
      if (spec.unit === 'bytes') {
        let total = 0;
        for (let k = 0; k < trace.keySpace; k++) total += trace.sizes![k]!;
        limit = Math.round(size.share * total);
      }
      for (const policyName of pick.policies) {
        rows.push(row(name, policyName, 'policy', replay(createPolicy(policyName), trace, hashes, limit)));
        await yieldTurn();
      }
      // The paper's SIEVE counts objects; the byte-limited trace has no such reference.
      if (spec.unit === 'entries') {
        rows.push(row(name, 'sieve-paper', 'model', countOutcome(referenceSieveHits(trace, limit), trace.keys.length)));
      }
      rows.push(row(name, 'optimal', 'model', replayOptimal(trace, next, limit)));
    }
  }
}

/**
 * Runs every policy of {@link POLICY_NAMES}, the paper's SIEVE and Belady's optimal over every public
 * and synthetic trace and cache size. The traces are deterministic, so two runs give the same rows.
 */
export async function runHitRatio(opts: HitRatioOptions = {}): Promise<HitRatioRow[]> {
  const quick = opts.quick === true;
  const rows: HitRatioRow[] = [];
  const pick: Pick = { only: opts.only ?? /./, policies: opts.policies ?? POLICY_NAMES };
  if (opts.publicTraces !== false) await runPublic(quick, pick, rows);
  if (opts.syntheticTraces !== false) await runSynthetic(quick, pick, rows);
  return rows;
}

/** The variants in column order: every policy, the paper's SIEVE, then the optimal bound. */
export const VARIANTS: readonly HitRatioVariant[] = [...POLICY_NAMES, 'sieve-paper', 'optimal'];

/**
 * The checks of issue 16 over a run, as text: glimpse against Caffeine's published W-TinyLFU curve and
 * Belady's optimum; the worst `tinylfu − max(lru, sieve)` over every trace@size; the largest
 * |`sieve` − `sieve-paper`|; and any policy above the optimum (entry-count traces).
 */
export function summarizeHitRatio(rows: readonly HitRatioRow[]): string {
  const at = (name: string, variant: HitRatioVariant): number | undefined => rows.find((r) => r.name === name && r.variant === variant)?.hitRatio;
  const pct = (x: number | undefined): string => (x === undefined ? '-' : (100 * x).toFixed(1));
  const out: string[] = [];
  const gli = PUBLIC_TRACES.find((t) => t.name === 'gli')!;
  const sizes = gli.sizes.filter((size) => at(`gli@${size}`, 'tinylfu') !== undefined);
  if (sizes.length > 0) {
    out.push('glimpse (gli), hit ratio (%): cachefs tinylfu through CacheFS, Caffeine\'s published W-TinyLFU, Belady', '');
    out.push(`| | ${sizes.join(' | ')} |`, `|---|${sizes.map(() => '---:').join('|')}|`);
    out.push(`| cachefs \`tinylfu\` | ${sizes.map((n) => pct(at(`gli@${n}`, 'tinylfu'))).join(' | ')} |`);
    out.push(`| Caffeine W-TinyLFU (published) | ${sizes.map((n) => (CAFFEINE_GLIMPSE[n] === undefined ? 'n/a' : CAFFEINE_GLIMPSE[n]!.toFixed(1))).join(' | ')} |`);
    out.push(`| Belady's optimum | ${sizes.map((n) => pct(at(`gli@${n}`, 'optimal'))).join(' | ')} |`, '');
  }
  let worst = { name: '', gap: Infinity };
  let sieveGap = { name: '', gap: 0 };
  const overOptimal: string[] = [];
  for (const name of new Set(rows.map((r) => r.name))) {
    const tiny = at(name, 'tinylfu');
    const lru = at(name, 'lru');
    const sieve = at(name, 'sieve');
    if (tiny !== undefined && lru !== undefined && sieve !== undefined && tiny - Math.max(lru, sieve) < worst.gap) {
      worst = { name, gap: tiny - Math.max(lru, sieve) };
    }
    const paper = at(name, 'sieve-paper');
    if (sieve !== undefined && paper !== undefined && Math.abs(sieve - paper) >= sieveGap.gap) sieveGap = { name, gap: Math.abs(sieve - paper) };
    const optimal = at(name, 'optimal');
    if (optimal === undefined || name.startsWith('size-mix@')) continue;
    for (const r of rows) if (r.name === name && r.hitRatio > optimal) overOptimal.push(`${r.variant}@${name}`);
  }
  out.push(`worst tinylfu - max(lru, sieve): ${(100 * worst.gap).toFixed(2)} points (${worst.name})`);
  out.push(`largest |sieve - sieve-paper|: ${(100 * sieveGap.gap).toFixed(2)} points (${sieveGap.name})`);
  out.push(`policies above the optimum: ${overOptimal.length === 0 ? 'none' : overOptimal.join(', ')}`);
  return out.join('\n');
}

/** A fixed-width text table: one row per `trace@size`, one column per variant, `field` in percent. */
export function formatHitRatioTable(rows: readonly HitRatioRow[], field: 'hitRatio' | 'byteHitRatio' = 'hitRatio'): string {
  const names = [...new Set(rows.map((r) => r.name))];
  const width = Math.max(14, ...names.map((n) => n.length));
  const cols = VARIANTS.map((v) => Math.max(8, v.length));
  const header = ['trace@size'.padEnd(width), ...VARIANTS.map((v, i) => v.padStart(cols[i]!))].join(' ');
  const lines = [header, '-'.repeat(header.length)];
  for (const name of names) {
    const cells = VARIANTS.map((v, i) => {
      const row = rows.find((r) => r.name === name && r.variant === v);
      return (row === undefined ? '-' : (100 * row[field]).toFixed(2)).padStart(cols[i]!);
    });
    lines.push([name.padEnd(width), ...cells].join(' '));
  }
  return lines.join('\n');
}
