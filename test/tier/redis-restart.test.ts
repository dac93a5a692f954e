// Redis killed and restarted empty while several processes keep using the shared tier.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CacheFS, memoryBackend } from '../../src/index.js';
import { BUMP_PATH } from '../../src/tier/scripts.js';
import { nextEvent, tempDirs, until } from '../support.js';
import { CuttableRelay, RedisServer, redisUnavailable, type AnswerHold } from './redis-server.js';
import { closeAll, staleReads, Worker, type RunResult } from './workers.js';

const skip = redisUnavailable();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Redis killed and restarted mid-run', { skip }, () => {
  let redis: RedisServer;
  const dirs = tempDirs();

  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await redis?.stop();
    await dirs.cleanup();
  });

  it("no call fails, 'strict' reads nothing stale, and invalidations flow again after", async (t) => {
    const seed = Number(process.env.CACHEFS_TIER_SEED ?? Math.floor(Math.random() * 2 ** 31));
    t.diagnostic(`seed ${seed} (replay with CACHEFS_TIER_SEED=${seed})`);
    const dir = await dirs.make('cachefs-tier-restart-');
    const paths = Array.from({ length: 6 }, (_, i) => `/f${i}`);
    const initial = paths.map((p) => `init${p}`);
    await Promise.all(paths.map((p, i) => writeFile(join(dir, p), initial[i]!)));
    await writeFile(join(dir, 'flow'), 'before');
    const ns = `restart${process.pid}`;
    const strict = await Promise.all(Array.from({ length: 3 }, () => Worker.start({ dir, url: redis.url, namespace: ns, consistency: 'strict' })));
    const eventual = await Worker.start({ dir, url: redis.url, namespace: ns, consistency: 'eventual' });
    const all = [...strict, eventual];
    try {
      const running = strict.map((w, i) => w.send<RunResult>({ type: 'random', seed: seed + i, ops: 0, lanes: 2, paths, tag: `p${i}` }));
      await pause(700);
      await redis.kill();
      await pause(700);
      await redis.restart();
      // Every process comes back (each had one tierUp at start).
      const deadline = Date.now() + 10_000;
      while (all.some((w) => w.count('tierUp') < 2)) {
        assert.ok(Date.now() < deadline, 'the tier did not come back within 10 s of Redis');
        await pause(20);
      }
      await pause(700);
      await Promise.all(strict.map((w) => w.send({ type: 'stop' })));
      const results = await Promise.all(running);
      const replay = `(seed ${seed}; replay with CACHEFS_TIER_SEED=${seed})`;
      assert.deepEqual(results.flatMap((r) => r.failures), [], `failed calls ${replay}`);
      const stale = staleReads(results, initial, paths.length);
      assert.deepEqual(stale.slice(0, 10), [], `${stale.length} stale reads ${replay}`);
      assert.ok(results.every((r) => r.log.length > 50), 'every process kept working through the restart');

      // Invalidations flow again: an 'eventual' process holding the old bytes sees the new ones.
      assert.equal((await eventual.send({ type: 'read', path: '/flow' })).value, 'before');
      assert.equal((await eventual.send({ type: 'read', path: '/flow' })).value, 'before');
      await strict[0]!.send({ type: 'write', path: '/flow', data: 'after' });
      const polled = await eventual.send({ type: 'poll', path: '/flow', expect: 'after', timeoutMs: 5000 });
      assert.equal(polled.ok, true, 'the invalidation did not arrive after the restart');
      for (const w of all) assert.equal(w.count('unhandledRejection'), 0);
    } finally {
      await closeAll(all);
    }
  });

  it('a write made while its process cannot reach Redis succeeds, and is published when Redis is back', async () => {
    const dir = await dirs.make('cachefs-tier-away-');
    await writeFile(join(dir, 'doc'), 'v1');
    const ns = `away${process.pid}`;
    const relay = await CuttableRelay.start(redis.port);
    // The writer reaches Redis through a relay the test cuts; the reader stays connected throughout.
    const writer = await Worker.start({ dir, url: relay.url, namespace: ns, consistency: 'eventual' });
    const reader = await Worker.start({ dir, url: redis.url, namespace: ns, consistency: 'eventual' });
    try {
      assert.equal((await reader.send({ type: 'read', path: '/doc' })).value, 'v1');
      const upsBefore = writer.count('tierUp');
      relay.cutOff();
      await writer.send({ type: 'write', path: '/doc', data: 'v2' });
      assert.equal((await writer.send({ type: 'read', path: '/doc' })).value, 'v2');
      // Nothing told the reader yet: 'eventual' trusts its copy until the invalidation arrives.
      assert.equal((await reader.send({ type: 'read', path: '/doc' })).value, 'v1');
      relay.heal();
      const polled = await reader.send({ type: 'poll', path: '/doc', expect: 'v2', timeoutMs: 8000 });
      assert.equal(polled.ok, true, 'the queued invalidation was not published when Redis came back');
      // The reader hears the change straight from Redis; the writer's tierUp, sent once Redis answered
      // it through the relay, may reach this process a moment later.
      await until(() => writer.count('tierUp') > upsBefore, "the writer's tierUp");
      const stats = await reader.send({ type: 'stats' });
      assert.equal(stats.tierErrors, 0, 'the reader never lost Redis');
    } finally {
      await closeAll([writer, reader]);
      await relay.close();
    }
  });

  it("'strict': changes made while the tier is coming back are published before tierUp", async () => {
    // The writer reaches Redis through a relay; the reader directly. The writer's recovery publishes its
    // queued change of /p, and the relay holds Redis's answer to it while the writer changes /p again
    // and /q: both later changes must reach Redis before the writer says it is up.
    const relay = await CuttableRelay.start(redis.port);
    const backend = memoryBackend({ '/p': 'p1', '/q': 'q1' });
    const namespace = `recovering${process.pid}`;
    // A long call timeout: the held answer must not turn into a failed call.
    const writer = new CacheFS(backend, { tier: { redis: relay.url, namespace, consistency: 'strict', timeout: 10_000 } });
    const reader = new CacheFS(backend, { tier: { redis: redis.url, namespace, consistency: 'strict' } });
    const text = async (path: string): Promise<string> => String(await reader.readFile(path));
    const bumpAnswer = { release: () => undefined } as AnswerHold;
    try {
      await until(() => writer.core.tierLink!.port.available() && reader.core.tierLink!.port.available(), 'both tiers up');
      assert.equal(await text('/p'), 'p1');
      assert.equal(await text('/q'), 'q1');
      const down = nextEvent(writer, 'tierDown');
      relay.cutOff();
      await down;
      await writer.writeFile('/p', 'p2');
      Object.assign(bumpAnswer, relay.holdAnswers(BUMP_PATH.sha));
      const up = nextEvent(writer, 'tierUp');
      relay.heal();
      await bumpAnswer.reached;
      // Redis ran the queued change of /p: the reader drops its copy and reads p2 under the new version.
      await until(() => !reader.batchStats(['/p']).get('/p')!.cached, 'the reader heard of p2');
      assert.equal(await text('/p'), 'p2');
      await writer.writeFile('/p', 'p3');
      await writer.writeFile('/q', 'q2');
      bumpAnswer.release();
      await up;
      assert.equal(await text('/p'), 'p3', 'a change queued again while its first one was being published was lost');
      assert.equal(await text('/q'), 'q2', 'a change queued while the queue was being published was left behind');
    } finally {
      bumpAnswer.release();
      await Promise.all([writer.close(), reader.close()]);
      await relay.close();
    }
  });

  it("'strict': a process's own change never names bytes another process's older change left in its cache", async () => {
    // The other process's change of /p runs in Redis first, but its message reaches this process only
    // after this process's own change installed its bytes and before Redis answered it: the pushed
    // (older) bytes replace this process's, and must not be tagged with the newer version.
    const relay = await CuttableRelay.start(redis.port);
    const backend = memoryBackend({ '/p': 'p0' });
    const namespace = `ownchange${process.pid}`;
    const self = new CacheFS(backend, { tier: { redis: relay.url, namespace, consistency: 'strict', timeout: 10_000 } });
    const other = new CacheFS(backend, { tier: { redis: redis.url, namespace, consistency: 'strict' } });
    const holds: AnswerHold[] = [];
    try {
      await until(() => self.core.tierLink!.port.available() && other.core.tierLink!.port.available(), 'both tiers up');
      assert.equal(String(await self.readFile('/p')), 'p0');
      const messages = relay.holdAnswers('subscribe', true);
      holds.push(messages);
      await messages.reached;
      await other.writeFile('/p', 'older, from the other process');
      const answer = relay.holdAnswers(BUMP_PATH.sha);
      holds.push(answer);
      const writing = self.writeFile('/p', 'newer');
      await answer.reached;
      messages.release();
      await until(() => self.batchStats(['/p']).get('/p')!.size !== 'newer'.length, "the other process's bytes were pushed here");
      answer.release();
      await writing;
      // Redis ran this process's change last, and the backend holds its bytes.
      assert.equal(String(await backend.readFile('/p')), 'newer');
      assert.equal(String(await self.readFile('/p')), 'newer');
      assert.equal(String(await other.readFile('/p')), 'newer');
    } finally {
      for (const hold of holds) hold.release();
      await Promise.all([self.close(), other.close()]);
      await relay.close();
    }
  });
});
