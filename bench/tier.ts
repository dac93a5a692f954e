/**
 * The tier suite: 4 worker processes (tier-child.ts) over one directory whose backend reads each take
 * 2 ms more (a remote store), on a Zipf 0.99 workload, with private caches and with the shared tier on
 * one Redis; then the invalidation delay, a stampede, and the two Redis channels the tier could use.
 *
 * - `zipf`: each worker reads `READS` files drawn by Zipf(0.99) over `FILES` files of 2 KiB, 16 reads in
 *   flight, with an in-process cache of a quarter of the files. Rows: backend reads (all workers), read
 *   latency p50/p99, reads per second (all workers). Variants `private` (the baseline), `shared-eventual`,
 *   `shared-strict`.
 * - `invalidation`: one worker rewrites a file 200 times, 5 ms apart; three others read it in a loop.
 *   The delay is from the writer's `writeFile` resolving to each reader first serving the new bytes
 *   (on the monotonic clock every process of the machine shares; a reader that served them before
 *   the writer's call returned counts 0).
 * - `stampede`: 4 workers x 50 concurrent reads of each of 20 cold files: backend reads per file, the
 *   latency of those reads, and the mean wait on the cross-process lock.
 * - `channel`: what carries invalidations, measured alone from one process: pub/sub (PUBLISH to a
 *   subscribed connection) against a stream (XADD to a connection blocked in XREAD), 500 messages each.
 *
 * Redis: a redis-server of the suite's own on a free port when the binary is there, else
 * `CACHEFS_BENCH_REDIS` or redis://127.0.0.1:6379.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { Suite } from './suite.js';
import { fileName, type TierChildInit } from './tier-child.js';
import { prng, ZipfSampler } from './traces.js';

export interface TierRow {
  suite: 'tier';
  name: string;
  variant: string;
  backendReads?: number;
  p50Ms: number;
  p99Ms: number;
  readsPerSec?: number;
  note?: string;
}

const WORKERS = 4;
const FILES = 5000;
const FILE_BYTES = 2048;
const READS = 20_000;
const LATENCY_MS = 2;

const childPath = join(dirname(fileURLToPath(import.meta.url)), 'tier-child.js');

class Child {
  private next = 0;
  private readonly waiting = new Map<number, { resolve(v: any): void; reject(e: Error): void }>();
  readonly process: ChildProcess;
  onEvent: ((m: any) => void) | undefined;

  constructor() {
    this.process = fork(childPath, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.process.on('message', (m: any) => {
      if (m.type) return this.onEvent?.(m);
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.ok) w?.resolve(m.result);
      else w?.reject(new Error(m.error));
    });
  }

  send<T = any>(cmd: Record<string, unknown>): Promise<T> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.process.send({ id, cmd });
    });
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    await this.send({ type: 'close' }).catch(() => undefined);
    await exited;
  }
}

async function startWorkers(init: TierChildInit): Promise<Child[]> {
  const children = Array.from({ length: WORKERS }, () => new Child());
  await Promise.all(children.map((c) => c.send({ type: 'init', ...init })));
  return children;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

function summary(samplesUs: number[]): { p50Ms: number; p99Ms: number } {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  return { p50Ms: percentile(sorted, 50) / 1000, p99Ms: percentile(sorted, 99) / 1000 };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A redis-server of our own (killed at the end), or the one the environment names. */
async function redisForBench(): Promise<{ url: string; stop(): void }> {
  if (spawnSync('redis-server', ['--version']).status === 0) {
    const port = await freePort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const url = `redis://127.0.0.1:${port}`;
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => 20, maxRetriesPerRequest: null });
    probe.on('error', () => undefined); // refused until the server listens; the retries handle it
    await probe.connect().catch(() => undefined);
    await probe.ping();
    probe.disconnect();
    return { url, stop: () => void child.kill('SIGKILL') };
  }
  return { url: process.env.CACHEFS_BENCH_REDIS ?? 'redis://127.0.0.1:6379', stop: () => undefined };
}

/** How many distinct files the four workers' draws touch: no cache can read the backend fewer times. */
function distinctFiles(): number {
  const zipf = new ZipfSampler(FILES, 0.99);
  const files = new Set<number>();
  for (let w = 0; w < WORKERS; w++) {
    const random = prng(1000 + w);
    for (let i = 0; i < READS; i++) files.add(zipf.rank(random()));
  }
  return files.size;
}

async function zipfRun(dir: string, variant: string, tier: TierChildInit['tier']): Promise<TierRow> {
  const workers = await startWorkers({ dir, latencyMs: LATENCY_MS, maxBytes: (FILES * FILE_BYTES) / 4, ...(tier ? { tier } : {}) });
  try {
    const started = performance.now();
    const results = await Promise.all(
      workers.map((w, i) => w.send<{ latencies: number[]; backendReads: number }>({ type: 'zipf', seed: 1000 + i, reads: READS, concurrency: 16, files: FILES, s: 0.99 })),
    );
    const wallMs = performance.now() - started;
    const stats = await Promise.all(workers.map((w) => w.send<{ tierErrors: number }>({ type: 'stats' })));
    const tierErrors = stats.reduce((n, s) => n + s.tierErrors, 0);
    return {
      suite: 'tier',
      name: 'zipf',
      variant,
      backendReads: results.reduce((n, r) => n + r.backendReads, 0),
      ...summary(results.flatMap((r) => r.latencies)),
      readsPerSec: (WORKERS * READS) / (wallMs / 1000),
      note: `${distinctFiles()} distinct files read (the floor)` + (tier ? `; ${tierErrors} tier errors` : ''),
    };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}

async function invalidationRun(dir: string, url: string): Promise<TierRow> {
  const workers = await startWorkers({ dir, latencyMs: LATENCY_MS, maxBytes: 64 * 1024 * 1024, tier: { url, namespace: 'bench-inv', consistency: 'eventual' } });
  const writes = 200;
  try {
    const [writer, ...readers] = workers as [Child, ...Child[]];
    await writer.send({ type: 'write', path: '/inv', data: 'v0' });
    const following = readers.map((r) => {
      const ready = new Promise<void>((resolve) => (r.onEvent = () => resolve()));
      return { ready, done: r.send<{ seen: [string, number][] }>({ type: 'follow', path: '/inv', count: writes }) };
    });
    await Promise.all(following.map((f) => f.ready));
    const resolvedAt = new Map<string, number>();
    for (let k = 1; k <= writes; k++) {
      const value = `v${k}`;
      resolvedAt.set(value, (await writer.send<{ at: number }>({ type: 'write', path: '/inv', data: value })).at);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const delays: number[] = [];
    for (const f of following) for (const [value, at] of (await f.done).seen) delays.push(Math.max(0, at - resolvedAt.get(value)!));
    return { suite: 'tier', name: 'invalidation', variant: 'shared-eventual', ...summary(delays), note: `${delays.length} (write, reader) pairs` };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}

async function stampedeRun(dir: string, url: string): Promise<TierRow> {
  const workers = await startWorkers({ dir, latencyMs: LATENCY_MS, maxBytes: 64 * 1024 * 1024, tier: { url, namespace: 'bench-stampede', consistency: 'eventual' } });
  try {
    const paths = Array.from({ length: 20 }, (_, i) => fileName(i));
    const results = await Promise.all(workers.map((w) => w.send<{ latencies: number[]; backendReads: number; lockWaits: { count: number; totalMs: number } }>({ type: 'stampede', paths, n: 50 })));
    const reads = results.reduce((n, r) => n + r.backendReads, 0);
    const waits = results.reduce((a, r) => ({ count: a.count + r.lockWaits.count, totalMs: a.totalMs + r.lockWaits.totalMs }), { count: 0, totalMs: 0 });
    const stats = await Promise.all(workers.map((w) => w.send<{ tierErrors: number }>({ type: 'stats' })));
    const tierErrors = stats.reduce((n, s) => n + s.tierErrors, 0);
    return {
      suite: 'tier',
      name: 'stampede',
      variant: 'shared-eventual',
      backendReads: reads,
      ...summary(results.flatMap((r) => r.latencies)),
      note: `${reads / paths.length} backend reads per file; ${waits.count} lock waits, mean ${(waits.totalMs / Math.max(1, waits.count)).toFixed(2)} ms; ${tierErrors} tier errors`,
    };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}

async function channelRun(url: string, kind: 'pubsub' | 'stream'): Promise<TierRow> {
  const sender = new Redis(url);
  const receiver = new Redis(url);
  const delays: number[] = [];
  const count = 500;
  const now = (): number => Number(process.hrtime.bigint() / 1000n);
  try {
    let got: () => void = () => undefined;
    if (kind === 'pubsub') {
      await receiver.subscribe('bench-channel');
      receiver.on('message', (_c: string, text: string) => {
        delays.push(now() - Number(text));
        got();
      });
      for (let i = 0; i < count; i++) {
        const arrived = new Promise<void>((resolve) => (got = resolve));
        await sender.publish('bench-channel', String(now()));
        await arrived;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    } else {
      await sender.del('bench-stream');
      let last = '$';
      let stopped = false;
      const reading = (async () => {
        while (!stopped) {
          const reply = (await receiver.xread('BLOCK', 1000, 'STREAMS', 'bench-stream', last)) as [string, [string, string[]][]][] | null;
          if (!reply) continue;
          for (const [id, fields] of reply[0]![1]) {
            last = id;
            delays.push(now() - Number(fields[1]));
            got();
          }
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 50)); // the reader is blocked in XREAD
      for (let i = 0; i < count; i++) {
        const arrived = new Promise<void>((resolve) => (got = resolve));
        await sender.xadd('bench-stream', 'MAXLEN', '~', '1000', '*', 't', String(now()));
        await arrived;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      stopped = true;
      await reading;
    }
  } finally {
    sender.disconnect();
    receiver.disconnect();
  }
  return { suite: 'tier', name: 'channel', variant: kind, ...summary(delays), note: `${count} messages` };
}

function formatTierRows(rows: readonly TierRow[]): string {
  const base = rows.find((r) => r.name === 'zipf' && r.variant === 'private');
  const fmt = (n: number | undefined, digits = 2): string => (n === undefined ? '' : n.toFixed(digits));
  const lines = [
    '| case | variant | backend reads | vs private | p50 ms | p99 ms | reads/s | note |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of rows) {
    const ratio = r.name === 'zipf' && base?.backendReads && r.backendReads !== undefined ? `${(r.backendReads / base.backendReads).toFixed(3)}` : '';
    lines.push(`| ${r.name} | ${r.variant} | ${r.backendReads ?? ''} | ${ratio} | ${fmt(r.p50Ms, 3)} | ${fmt(r.p99Ms, 3)} | ${r.readsPerSec === undefined ? '' : Math.round(r.readsPerSec)} | ${r.note ?? ''} |`);
  }
  const shared = rows.find((r) => r.name === 'zipf' && r.variant === 'shared-eventual');
  const inval = rows.find((r) => r.name === 'invalidation');
  if (base?.backendReads && shared?.backendReads !== undefined) {
    lines.push('', `Done when: shared/private backend reads = ${(shared.backendReads / base.backendReads).toFixed(3)} (need <= 0.333)` + (inval ? `; invalidation delay p99 = ${inval.p99Ms.toFixed(3)} ms (need < 10)` : ''));
  }
  return lines.join('\n');
}

export const tierSuite: Suite<TierRow> = {
  name: 'tier',
  description: 'shared Redis tier: 4 processes on Zipf 0.99 over a 2 ms backend, shared vs private; invalidation delay; stampede; pub/sub vs streams',
  inDefaultRun: false,
  async run(opts) {
    const want = (name: string, variant: string): boolean => !opts.filter || opts.filter.test(`tier/${name}/${variant}`);
    const dir = mkdtempSync(join(tmpdir(), 'cachefs-bench-tier-'));
    const redis = await redisForBench();
    const rows: TierRow[] = [];
    try {
      const body = Buffer.alloc(FILE_BYTES, 'abcdefghijklmnopqrstuvwxyz0123456789\n');
      for (let i = 0; i < FILES; i++) writeFileSync(join(dir, fileName(i)), body);
      const log = (line: string): void => void process.stderr.write(`bench: tier ${line}\n`);
      if (want('zipf', 'private')) {
        log('zipf private');
        rows.push(await zipfRun(dir, 'private', undefined));
      }
      for (const consistency of ['eventual', 'strict'] as const) {
        if (!want('zipf', `shared-${consistency}`)) continue;
        log(`zipf shared-${consistency}`);
        rows.push(await zipfRun(dir, `shared-${consistency}`, { url: redis.url, namespace: `bench-zipf-${consistency}`, consistency }));
      }
      if (want('invalidation', 'shared-eventual')) {
        log('invalidation');
        rows.push(await invalidationRun(dir, redis.url));
      }
      if (want('stampede', 'shared-eventual')) {
        log('stampede');
        rows.push(await stampedeRun(dir, redis.url));
      }
      for (const kind of ['pubsub', 'stream'] as const) {
        if (!want('channel', kind)) continue;
        log(`channel ${kind}`);
        rows.push(await channelRun(redis.url, kind));
      }
    } finally {
      redis.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
  format: formatTierRows,
};
