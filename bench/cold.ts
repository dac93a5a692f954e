/**
 * The cold suite (`npm run bench -- cold`): what a cache costs when it has nothing yet, each row beside
 * Node's own call on the same files in the same run (issue 12). Rows:
 *
 * - `cold readFile`: 2 KiB files four directories deep (`/a/b/c/d/fN`), each read once by a fresh
 *   `CacheFS(nodeBackend(tmp))`, one after the other, against `fs.promises.readFile` of the same files.
 * - `first stat`: the same files, `stat` once each with `metadataCache: true`, against `fs.promises.stat`.
 * - `1,000 concurrent cold reads`: one `Promise.all` of 1,000 `readFile` of distinct files (ms per batch).
 * - `uncached 4 KiB pread`: 4 KiB `handle.read` at a fresh 1 MiB region each time (so every read
 *   misses whatever the block size), in a 300 MB sparse file, 64 MiB cache, against `FileHandle.read`.
 * - `hot-region pread`: 1 GiB sparse file, 256 MiB cache; 90% of 4 KiB reads in the first 64 MiB, 10%
 *   anywhere else; after a warm-up of the same pattern, the measured reads' hit ratio and time against
 *   `FileHandle.read` over the same offsets.
 * - `readFile 4x cache`: a 256 MiB file through a 64 MiB cache holding 64 hot 16 KiB files, against
 *   `fs.promises.readFile`; afterwards the hot files must still be cached (the note says so).
 *
 * Every row alternates the two sides over several rounds and reports the median round; page-cache
 * effects hit both sides alike (the files are written, so resident, before the first round).
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheFS, nodeBackend } from '../src/index.js';
import type { ReportRow, Suite, SuiteOptions } from './suite.js';

/** A row of the cold suite: cachefs and Node's call, in the row's unit, and their ratio. */
export interface ColdRow extends ReportRow {
  unit: 'us/op' | 'ms/batch' | 'ms/file';
  cachefs: number;
  node: number;
  /** cachefs / node (lower is better; the target says what holds). */
  ratio: number;
  target: string;
  holds: boolean;
  note: string;
}

/** Rounds per row; `COLD_ROUNDS=11 npm run bench -- cold` for steadier medians on a loaded machine. */
const ROUNDS = Math.max(1, Number(process.env.COLD_ROUNDS) || 5);
const KiB = 1024;
const MiB = 1024 * KiB;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** xorshift32: a reproducible offset stream. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * The ratios a/b of each round of the last {@link alternate}: the machine drifts between rounds, and a
 * round's two sides ran back to back, so these cancel the drift that the medians of each side keep.
 */
let lastRoundRatios: number[] = [];

/** Alternates `a` and `b` for {@link ROUNDS} rounds; the median of each, in ms. */
async function alternate(a: (round: number) => Promise<number>, b: (round: number) => Promise<number>): Promise<[number, number]> {
  const as: number[] = [];
  const bs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      as.push(await a(r));
      bs.push(await b(r));
    } else {
      bs.push(await b(r));
      as.push(await a(r));
    }
  }
  lastRoundRatios = as.map((x, i) => x / bs[i]!);
  return [median(as), median(bs)];
}

/** The per-round ratios of the last {@link alternate} and their median, for a row's note. */
function roundsNote(): string {
  return `rounds ${lastRoundRatios.map((r) => r.toFixed(2)).join(' ')} (median ${median(lastRoundRatios).toFixed(2)}x)`;
}

function row(name: string, unit: ColdRow['unit'], cachefs: number, node: number, target: string, holds: (ratio: number) => boolean, note = ''): ColdRow {
  const ratio = cachefs / node;
  note = note === '' ? roundsNote() : `${note}; ${roundsNote()}`;
  return { suite: 'cold', name, variant: 'cachefs/node', unit, cachefs, node, ratio, target, holds: holds(ratio), note };
}

const SMALL_FILES = 1000;
const DEEP = '/a/b/c/d';

function makeSmallFiles(root: string): string[] {
  fs.mkdirSync(join(root, DEEP), { recursive: true });
  const data = Buffer.alloc(2 * KiB, 0x61);
  const paths: string[] = [];
  for (let i = 0; i < SMALL_FILES; i++) {
    const p = `${DEEP}/f${i}.txt`;
    fs.writeFileSync(join(root, p), data);
    paths.push(p);
  }
  return paths;
}

async function coldReadFile(root: string, paths: string[]): Promise<ColdRow> {
  const [c, n] = await alternate(
    async () => {
      const cfs = new CacheFS(nodeBackend(root));
      const ms = await timed(async () => {
        for (const p of paths) await cfs.readFile(p);
      });
      await cfs.close();
      return ms;
    },
    () => timed(async () => {
      for (const p of paths) await fsp.readFile(root + p);
    }),
  );
  return row('cold readFile 2 KiB, 4 dirs deep', 'us/op', (c * 1000) / paths.length, (n * 1000) / paths.length, '<= 1.3x', (r) => r <= 1.3);
}

async function firstStat(root: string, paths: string[]): Promise<ColdRow> {
  const [c, n] = await alternate(
    async () => {
      const cfs = new CacheFS(nodeBackend(root), { metadataCache: true });
      const ms = await timed(async () => {
        for (const p of paths) await cfs.stat(p);
      });
      await cfs.close();
      return ms;
    },
    () => timed(async () => {
      for (const p of paths) await fsp.stat(root + p);
    }),
  );
  return row('first stat (metadataCache)', 'us/op', (c * 1000) / paths.length, (n * 1000) / paths.length, '<= 1.3x', (r) => r <= 1.3);
}

async function concurrentCold(root: string, paths: string[]): Promise<ColdRow> {
  const [c, n] = await alternate(
    async () => {
      const cfs = new CacheFS(nodeBackend(root));
      const ms = await timed(() => Promise.all(paths.map((p) => cfs.readFile(p))));
      await cfs.close();
      return ms;
    },
    () => timed(() => Promise.all(paths.map((p) => fsp.readFile(root + p)))),
  );
  return row(`${paths.length} concurrent cold reads`, 'ms/batch', c, n, '<= 1.3x', (r) => r <= 1.3);
}

/** A sparse file of `size` bytes (holes read as zeros, from memory, on both sides). */
function sparse(path: string, size: number): void {
  const fd = fs.openSync(path, 'w');
  fs.ftruncateSync(fd, size);
  fs.closeSync(fd);
}

async function uncachedPread(root: string): Promise<ColdRow> {
  const size = 300_000_000;
  sparse(join(root, 'big300'), size);
  const regions = Math.floor(size / MiB) - 1;
  const offsetsFor = (round: number): number[] => {
    const rnd = prng(round + 17);
    const order = Array.from({ length: regions }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order.map((r) => r * MiB + Math.floor(rnd() * 255) * 4 * KiB);
  };
  const buf = Buffer.alloc(4 * KiB);
  const [c, n] = await alternate(
    async (round) => {
      const cfs = new CacheFS(nodeBackend(root), { maxBytes: 64 * MiB });
      const h = await cfs.open('/big300', 'r');
      const offsets = offsetsFor(round);
      const ms = await timed(async () => {
        for (const o of offsets) await h.read(buf, 0, buf.length, o);
      });
      await h.close();
      const misses = cfs.stats().misses;
      await cfs.close();
      if (misses !== offsets.length) throw new Error(`cold: uncached pread counted ${misses} misses for ${offsets.length} reads`);
      return ms;
    },
    async (round) => {
      const h = await fsp.open(join(root, 'big300'), 'r');
      const offsets = offsetsFor(round);
      const ms = await timed(async () => {
        for (const o of offsets) await h.read(buf, 0, buf.length, o);
      });
      await h.close();
      return ms;
    },
  );
  return row('uncached 4 KiB pread, 300 MB file, 64 MiB cache', 'us/op', (c * 1000) / regions, (n * 1000) / regions, '<= 1.3x', (r) => r <= 1.3);
}

async function hotRegion(root: string): Promise<ColdRow> {
  sparse(join(root, 'big1g'), 1024 * MiB);
  const READS = 20_000;
  const pattern = (seed: number): number[] => {
    const rnd = prng(seed);
    const hotSlots = (64 * MiB) / (4 * KiB);
    const coldSlots = (960 * MiB) / (4 * KiB);
    return Array.from({ length: READS }, () =>
      rnd() < 0.9 ? Math.floor(rnd() * hotSlots) * 4 * KiB : 64 * MiB + Math.floor(rnd() * coldSlots) * 4 * KiB,
    );
  };
  const warmup = pattern(1);
  // Each round measures a fresh draw of the same pattern (both sides the same offsets), so no round
  // replays the reads of another.
  const draws = Array.from({ length: ROUNDS }, (_, r) => pattern(2 + r));
  const buf = Buffer.alloc(4 * KiB);
  const cfs = new CacheFS(nodeBackend(root), { maxBytes: 256 * MiB });
  const h = await cfs.open('/big1g', 'r');
  for (const o of warmup) await h.read(buf, 0, buf.length, o);
  const ratios: number[] = [];
  const nh = await fsp.open(join(root, 'big1g'), 'r');
  const [c, n] = await alternate(
    async (round) => {
      const before = cfs.stats();
      const ms = await timed(async () => {
        for (const o of draws[round]!) await h.read(buf, 0, buf.length, o);
      });
      const after = cfs.stats();
      ratios.push((after.hits - before.hits) / (after.hits - before.hits + after.misses - before.misses));
      return ms;
    },
    (round) => timed(async () => {
      for (const o of draws[round]!) await nh.read(buf, 0, buf.length, o);
    }),
  );
  await nh.close();
  await h.close();
  const used = cfs.stats().bytesUsed;
  await cfs.close();
  const hitRatio = median(ratios);
  const speedup = n / c;
  const r = row('hot-region 4 KiB pread, 1 GiB file, 256 MiB cache', 'us/op', (c * 1000) / READS, (n * 1000) / READS,
    'hit ratio >= 85% and >= 3x faster (ratio <= 0.33)', (x) => x <= 1 / 3 && hitRatio >= 0.85,
    `hit ratio ${(hitRatio * 100).toFixed(1)}% (measured rounds, after ${READS} warm-up reads), ${speedup.toFixed(1)}x faster, ${(used / MiB).toFixed(0)} MiB cached`);
  return r;
}

async function readFileLarge(root: string): Promise<ColdRow> {
  const big = join(root, 'huge256');
  const chunk = Buffer.alloc(MiB);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 131 + 7) & 0xff;
  const fd = fs.openSync(big, 'w');
  for (let i = 0; i < 256; i++) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
  fs.mkdirSync(join(root, 'hot'), { recursive: true });
  const hot: string[] = [];
  for (let i = 0; i < 64; i++) {
    fs.writeFileSync(join(root, 'hot', `h${i}`), Buffer.alloc(16 * KiB, i));
    hot.push(`/hot/h${i}`);
  }
  const cfs = new CacheFS(nodeBackend(root), { maxBytes: 64 * MiB });
  for (const p of hot) await cfs.readFile(p);
  let stillCached = true;
  const [c, n] = await alternate(
    async () => {
      const ms = await timed(() => cfs.readFile('/huge256'));
      for (const p of hot) await cfs.readFile(p); // the hot set is in use between scans
      const s = cfs.batchStats(hot);
      for (const p of hot) if (!s.get(p)!.cached) stillCached = false;
      return ms;
    },
    () => timed(() => fsp.readFile(big)),
  );
  const misses = cfs.stats().misses;
  await cfs.close();
  const expectedMisses = hot.length + ROUNDS; // the first reads of the hot files, then one per scan
  return row('readFile 256 MiB file, 64 MiB cache', 'ms/file', c, n, '<= 1.2x, hot set stays', (r) => r <= 1.2 && stillCached && misses === expectedMisses,
    `${hot.length} hot files ${stillCached ? 'all still cached' : 'NOT all cached'} after each scan; misses ${misses} (expected ${expectedMisses})`);
}

/** The rows of the cold suite (each skipped unless `filter` matches `cold/<name>`). */
async function runCold(opts: SuiteOptions): Promise<ColdRow[]> {
  const root = fs.mkdtempSync(join(tmpdir(), 'cachefs-cold-'));
  const rows: ColdRow[] = [];
  const want = (name: string): boolean => !opts.filter || opts.filter.test(`cold/${name}`);
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  try {
    const paths = makeSmallFiles(root);
    const steps: [string, () => Promise<ColdRow>][] = [
      ['readFile', () => coldReadFile(root, paths)],
      ['stat', () => firstStat(root, paths)],
      ['concurrent', () => concurrentCold(root, paths)],
      ['pread', () => uncachedPread(root)],
      ['hot-region', () => hotRegion(root)],
      ['scan', () => readFileLarge(root)],
    ];
    for (const [name, step] of steps) {
      if (!want(name)) continue;
      log(`cold: ${name}`);
      rows.push(await step());
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return rows;
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function formatCold(rows: readonly ColdRow[]): string {
  const lines = ['| row | unit | cachefs | node | cachefs/node | target | holds | note |', '|---|---|---:|---:|---:|---|---|---|'];
  for (const r of rows) {
    lines.push(`| ${r.name} | ${r.unit} | ${fmt(r.cachefs)} | ${fmt(r.node)} | ${r.ratio.toFixed(2)}x | ${r.target} | ${r.holds ? 'yes' : 'no'} | ${r.note} |`);
  }
  return lines.join('\n');
}

/** The cold suite (not in the default run: it writes ~600 MB of temporary files). */
export const coldSuite: Suite<ColdRow> = {
  name: 'cold',
  description: 'cold reads, first stats, uncached and hot-region preads, a readFile 4x the cache: each against Node\'s own call',
  inDefaultRun: false,
  run: runCold,
  format: formatCold,
};
