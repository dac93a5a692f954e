/**
 * What one backend call costs next to the call it stands for, for the backends' own author (not a suite:
 * `npm run bench -- cold` holds the engine's rows). Run after a build:
 *
 *   node --expose-gc dist/bench/backend-cost.js [node|memory|all] [--files N] [--rounds R]
 *
 * node: a tree of N 2 KiB files four directories deep (root/a/bK/c/d/fI); each round makes a fresh
 * `nodeBackend` (nothing remembered) and calls `stat` / `readFile` once per file, one call at a time,
 * beside `fs.promises` on the same paths in the same round; then the same with every call of the round
 * in flight at once. Figures: the median and minimum over rounds of the mean µs per call, and the
 * median over rounds of the ratio of the two sides (each round runs both back to back).
 *
 * memory: `readFile` / `stat` of a seeded file through `memoryBackend` (async and sync faces), beside
 * memfs's own promises and sync calls and the limit (a Map lookup + a fresh copy of the bytes).
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { memfs } from 'memfs';
import { nodeBackend } from '../src/backend/node.js';
import { memoryBackend } from '../src/backend/memory.js';

const args = process.argv.slice(2);
const which = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) ?? 'all';
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const FILES = option('files', 400);
const ROUNDS = option('rounds', 9);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const min = (xs: number[]): number => Math.min(...xs);
const fmt = (x: number): string => (x < 10 ? x.toFixed(2) : x.toFixed(1));

async function timeEach(paths: string[], call: (p: string) => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  for (const p of paths) await call(p);
  return Number(process.hrtime.bigint() - start) / 1000 / paths.length;
}

async function timeAll(paths: string[], call: (p: string) => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await Promise.all(paths.map(call));
  return Number(process.hrtime.bigint() - start) / 1000 / paths.length;
}

async function benchNode(): Promise<void> {
  const root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'cachefs-cost-')));
  try {
    const data = Buffer.alloc(2048, 0x61);
    const virtual: string[] = [];
    for (let i = 0; i < FILES; i++) {
      const dir = `/a/b${i % 20}/c/d`;
      if (i < 20) await fsp.mkdir(root + dir, { recursive: true });
      const p = `${dir}/f${i}`;
      await fsp.writeFile(root + p, data);
      virtual.push(p);
    }
    const disk = virtual.map((p) => root + p);
    const rows: [string, (b: ReturnType<typeof nodeBackend>) => (p: string) => Promise<unknown>, (p: string) => Promise<unknown>][] = [
      ['stat', (b) => (p) => b.stat(p), (p) => fsp.stat(p)],
      ['readFile', (b) => (p) => b.readFile(p), (p) => fsp.readFile(p)],
    ];
    console.log(`nodeBackend, ${FILES} files of 2 KiB four directories deep, ${ROUNDS} rounds (median of per-call means)`);
    console.log('| call | mode | nodeBackend µs (median / min) | fs.promises µs (median / min) | median of per-round ratios | ratio of minima |');
    console.log('|---|---|---:|---:|---:|---:|');
    for (const [name, viaBackend, direct] of rows) {
      for (const [mode, timer] of [['one at a time', timeEach], [`${FILES} in flight`, timeAll]] as const) {
        const ours: number[] = [];
        const theirs: number[] = [];
        for (let r = 0; r < ROUNDS + 1; r++) {
          const b = nodeBackend(root);
          // Who goes first alternates, so that neither side always inherits the other's garbage.
          const t0 = r % 2 === 1 ? await timer(disk, direct) : 0;
          const o = await timer(virtual, viaBackend(b));
          const t = r % 2 === 1 ? t0 : await timer(disk, direct);
          if (r > 0) { ours.push(o); theirs.push(t); } // the first round warms the JIT and the page cache
        }
        const [o, t] = [median(ours), median(theirs)];
        const [oMin, tMin] = [min(ours), min(theirs)];
        // Each round's two sides ran back to back: their ratio cancels the machine's drift between rounds.
        const paired = median(ours.map((x, i) => x / theirs[i]!));
        console.log(
          `| ${name} | ${mode} | ${fmt(o)} / ${fmt(oMin)} | ${fmt(t)} / ${fmt(tMin)} | ${paired.toFixed(2)}x | ${(oMin / tMin).toFixed(2)}x |`,
        );
      }
    }
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
}

function loop(ops: number, fn: () => unknown): number {
  for (let i = 0; i < ops / 10; i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) fn();
  return Number(process.hrtime.bigint() - start) / ops;
}

async function loopAsync(ops: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < ops / 10; i++) await fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await fn();
  return Number(process.hrtime.bigint() - start) / ops;
}

async function benchMemory(): Promise<void> {
  const data = new Uint8Array(1024).fill(7);
  const file = '/data/dir/sub/file.bin';
  const ours = memoryBackend({ [file]: data });
  const { fs: theirs } = memfs({ [file]: Buffer.from(data) });
  const map = new Map<string, Buffer>([[file, Buffer.from(data)]]);
  const OPS = 200_000;
  const rows: [string, string, () => unknown][] = [
    ['readFile', 'limit: Map.get + Buffer copy', () => Buffer.from(map.get(file)!)],
    ['readFile', 'memoryBackend.sync', () => ours.sync!.readFile(file)],
    ['readFile', 'memfs readFileSync', () => theirs.readFileSync(file)],
    ['stat', 'memoryBackend.sync', () => ours.sync!.stat(file)],
    ['stat', 'memfs statSync', () => theirs.statSync(file)],
  ];
  const asyncRows: [string, string, () => Promise<unknown>][] = [
    ['readFile', 'memoryBackend', () => ours.readFile(file)],
    ['readFile', 'memfs promises', () => theirs.promises.readFile(file)],
    ['stat', 'memoryBackend', () => ours.stat(file)],
    ['stat', 'memfs promises', () => theirs.promises.stat(file)],
  ];
  console.log(`\nmemory backends, 1 KiB file three directories deep, ${OPS} calls, median of ${ROUNDS} rounds`);
  console.log('| call | what | ns/call (median) | ns/call (min) |');
  console.log('|---|---|---:|---:|');
  for (const [name, what, fn] of rows) {
    if (what.startsWith('memoryBackend') && !ours.sync) continue;
    const xs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) xs.push(loop(OPS, fn));
    console.log(`| ${name} | ${what} | ${median(xs).toFixed(0)} | ${min(xs).toFixed(0)} |`);
  }
  for (const [name, what, fn] of asyncRows) {
    const xs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) xs.push(await loopAsync(OPS / 4, fn));
    console.log(`| ${name} | ${what} | ${median(xs).toFixed(0)} | ${min(xs).toFixed(0)} |`);
  }
  void fs;
}

if (which === 'node' || which === 'all') await benchNode();
if (which === 'memory' || which === 'all') await benchMemory();
