// The shared tier across real processes (child_process.fork) over one real directory and a real
// redis-server of this file's own.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDirs } from '../support.js';
import { RedisServer, redisUnavailable } from './redis-server.js';
import { closeAll, staleReads, Worker, type RunResult } from './workers.js';

const skip = redisUnavailable();

describe('the shared tier across processes', { skip }, () => {
  let redis: RedisServer;
  const dirs = tempDirs();
  let namespaceCount = 0;
  const namespace = (): string => `xp${process.pid}-${namespaceCount++}`;

  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await redis?.stop();
    await dirs.cleanup();
  });

  it("'strict': 10,000 random operations by 4 processes, and no read returns stale bytes", async () => {
    const seed = Number(process.env.CACHEFS_TIER_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const dir = await dirs.make('cachefs-tier-strict-');
    const paths = Array.from({ length: 8 }, (_, i) => `/f${i}`);
    const initial = paths.map((p) => `init${p}`);
    await Promise.all(paths.map((p, i) => writeFile(join(dir, p), initial[i]!)));
    const ns = namespace();
    const workers = await Promise.all(Array.from({ length: 4 }, () => Worker.start({ dir, url: redis.url, namespace: ns, consistency: 'strict' })));
    try {
      const results = await Promise.all(
        workers.map((w, i) => w.send<RunResult>({ type: 'random', seed: seed + i, ops: 1250, lanes: 2, paths, tag: `p${i}` })),
      );
      const replay = `(seed ${seed}; replay with CACHEFS_TIER_SEED=${seed})`;
      assert.ok(results.reduce((n, r) => n + r.log.length, 0) > 8000, 'most operations were reads, writes or removals');
      assert.deepEqual(results.flatMap((r) => r.failures), [], `failed calls ${replay}`);
      const stale = staleReads(results, initial, paths.length);
      assert.deepEqual(stale.slice(0, 10), [], `${stale.length} stale reads ${replay}`);
      const stats = await Promise.all(workers.map((w) => w.send({ type: 'stats' })));
      // The run exercised the tier: hits confirmed by Redis, bytes shared between processes.
      assert.ok(stats.some((s) => s.tierHits > 0), `no read was served from Redis ${replay}`);
      assert.ok(stats.every((s) => s.hits > 0), `some process never had a confirmed hit ${replay}`);
      for (const w of workers) assert.equal(w.count('unhandledRejection'), 0);
    } finally {
      await closeAll(workers);
    }
  });

  it("'eventual': readers never go back to older bytes, and every write reaches them", async () => {
    const dir = await dirs.make('cachefs-tier-eventual-');
    const paths = ['/c0', '/c1', '/d/c2'];
    await mkdir(join(dir, 'd'));
    await Promise.all(paths.map((p) => writeFile(join(dir, p), '0')));
    const ns = namespace();
    const start = () => Worker.start({ dir, url: redis.url, namespace: ns, consistency: 'eventual' });
    const writer = await start();
    const readers = await Promise.all([start(), start(), start()]);
    try {
      const observing = readers.map((r) => r.send<{ seen: string[][]; failures: string[] }>({ type: 'observe', paths }));
      const n = 300;
      await writer.send({ type: 'countUp', paths, n });
      // Every reader comes to see the last write: the invalidations arrived.
      for (const r of readers) {
        for (const path of paths) {
          const polled = await r.send({ type: 'poll', path, expect: String(n), timeoutMs: 5000 });
          assert.equal(polled.ok, true, `a reader still reads '${polled.value}' from ${path}`);
        }
      }
      await Promise.all(readers.map((r) => r.send({ type: 'stop' })));
      const observed = await Promise.all(observing);
      for (const { seen, failures } of observed) {
        assert.deepEqual(failures, []);
        seen.forEach((values, p) => {
          // '' is a torn read of the backend while the writer truncates and rewrites (Node's writeFile does the same).
          const numbers = values.filter((v) => v !== '').map(Number);
          for (let i = 1; i < numbers.length; i++) {
            assert.ok(numbers[i]! > numbers[i - 1]!, `${paths[p]}: read ${numbers[i]} after ${numbers[i - 1]}`);
          }
        });
      }
      assert.ok(observed.some((o) => o.seen.some((values) => values.length > 2)), 'the readers saw the writes as they happened');
    } finally {
      await closeAll([writer, ...readers]);
    }
  });

  it('a stampede of 4 processes x 50 concurrent reads of one file is one backend read', async () => {
    const dir = await dirs.make('cachefs-tier-stampede-');
    const content = 'x'.repeat(50_000);
    await writeFile(join(dir, 'hot'), content);
    const ns = namespace();
    // The injected latency makes the four bursts overlap, so that they really race for the load.
    const workers = await Promise.all(
      Array.from({ length: 4 }, () => Worker.start({ dir, url: redis.url, namespace: ns, consistency: 'eventual', readLatency: 100, timeout: 2000 })),
    );
    try {
      const bursts = await Promise.all(workers.map((w) => w.send<{ values: string[]; backendReads: number }>({ type: 'stampede', path: '/hot', n: 50 })));
      for (const b of bursts) assert.deepEqual(b.values, [content]);
      const stats = await Promise.all(workers.map((w) => w.send({ type: 'stats' })));
      // Which process read the backend, and what its tier calls and lock waits were, say why when it fails.
      const why = JSON.stringify(stats.map((s, i) => ({ backendReads: bursts[i]!.backendReads, tierErrors: s.tierErrors, lockWaits: s.lockWaits, tierState: s.tierState })));
      assert.equal(bursts.reduce((n, b) => n + b.backendReads, 0), 1, why);
      assert.equal(stats.reduce((n, s) => n + s.hits + s.misses, 0), 200);
      assert.equal(stats.reduce((n, s) => n + s.misses, 0), 50, 'only the loading process counts misses');
    } finally {
      await closeAll(workers);
    }
  });
});
