// The shared tier within one process: two caches over one backend, each with its own connections to a
// real redis-server (so each is, for Redis, another process). Options, publication of every kind of
// change, values Redis should not hold, and Redis out of reach.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { CacheFS, memoryBackend, type Backend } from '../../src/index.js';
import { nextEvent, until } from '../support.js';
import { RedisServer, redisUnavailable } from './redis-server.js';

const skip = redisUnavailable();

function construct(tier: unknown, extra: Record<string, unknown> = {}): unknown {
  try {
    const cache = new CacheFS(memoryBackend(), { tier, ...extra } as never);
    void cache.close();
    return undefined;
  } catch (err) {
    return err;
  }
}

function assertRefused(tier: unknown, option: string, extra: Record<string, unknown> = {}): void {
  const err = construct(tier, extra) as { code?: string; message?: string } | undefined;
  assert.equal(err?.code, 'ERR_INVALID_ARG_VALUE', `${JSON.stringify(tier)} was accepted`);
  assert.match(err!.message!, new RegExp(option.replace('.', '\\.')));
}

describe('tier options', () => {
  it('a bad URL or namespace throws ERR_INVALID_ARG_VALUE naming the option', () => {
    const url = 'redis://127.0.0.1:1';
    for (const bad of ['', 'http://localhost:6379', 'localhost:6379', 'redis://', 'redis://host/db']) {
      assertRefused({ redis: bad, namespace: 'n' }, 'tier.redis');
    }
    assertRefused({ redis: 42, namespace: 'n' }, 'tier.redis');
    for (const bad of ['', 'a'.repeat(65), 'has space', 'ünï', 'a/b', 'x*', 7, undefined]) {
      assertRefused({ redis: url, namespace: bad }, 'tier.namespace');
    }
    assertRefused({ redis: url, namespace: 'n', consistency: 'linear' }, 'tier.consistency');
    assertRefused({ redis: url, namespace: 'n', maxFileBytes: -1 }, 'tier.maxFileBytes');
    assertRefused({ redis: url, namespace: 'n', ttl: 'soon' }, 'tier.ttl');
    assertRefused({ redis: url, namespace: 'n', colour: 'red' }, 'tier.colour');
    assert.equal(construct({ redis: url, namespace: `A-z_0.9:${'x'.repeat(56)}` }), undefined);
  });

  it("'strict' with write-back throws naming tier.consistency; 'eventual' with write-back is accepted", () => {
    assertRefused({ redis: 'redis://127.0.0.1:1', namespace: 'n', consistency: 'strict' }, 'tier.consistency', { writeMode: 'write-back' });
    assert.equal(construct({ redis: 'redis://127.0.0.1:1', namespace: 'n' }, { writeMode: 'write-back', flushInterval: 0 }), undefined);
  });

  it('a password in a refused URL does not appear in the error', () => {
    const err = construct({ redis: 'redis://user:hunter2@localhost/notadb', namespace: 'n' }) as Error;
    assert.doesNotMatch(err.message, /hunter2/);
  });
});

describe('the shared tier in one process', { skip }, () => {
  let redis: RedisServer;
  let raw: Redis;
  const open: CacheFS[] = [];
  let count = 0;

  before(async () => {
    redis = await RedisServer.start();
    raw = new Redis(redis.url);
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close().catch(() => undefined)));
    raw?.disconnect();
    await redis?.stop();
  });

  /** Two caches over one backend sharing a fresh namespace, both connected. */
  async function pair(options: Record<string, unknown> = {}, tier: Record<string, unknown> = {}, files: Record<string, string> = {}): Promise<[CacheFS, CacheFS, Backend, string]> {
    const backend = memoryBackend(files);
    const namespace = `t${process.pid}-${count++}`;
    const make = () => new CacheFS(backend, { ...options, tier: { redis: redis.url, namespace, ...tier } } as never);
    const a = make();
    const b = make();
    open.push(a, b);
    await until(() => a.core.tierLink!.port.available() && b.core.tierLink!.port.available(), 'both tiers up');
    return [a, b, backend, namespace];
  }

  const text = async (cache: CacheFS, path: string): Promise<string> => {
    try {
      return String(await cache.readFile(path));
    } catch (err) {
      return (err as { code: string }).code;
    }
  };

  it('a read served from Redis counts a hit and a tier hit, and no backend read', async () => {
    const [a, b] = await pair({}, {}, { '/f': 'shared' });
    let backendReads = 0;
    b.on('backendRead', () => backendReads++);
    assert.equal(await text(a, '/f'), 'shared');
    assert.equal(await text(b, '/f'), 'shared');
    assert.equal(backendReads, 0);
    const s = b.detailedStats();
    assert.deepEqual([s.hits, s.misses, s.tierHits, s.tierMisses], [1, 0, 1, 0]);
    assert.deepEqual([a.detailedStats().misses, a.detailedStats().tierMisses], [1, 1]);
    // A write-through writeFile of a small file carries its bytes in the change's message: b, which
    // held the file, has the new bytes in its own cache without asking Redis or the backend.
    const before = b.detailedStats();
    await a.writeFile('/f', 'rewritten');
    await until(() => b.batchStats(['/f']).get('/f')!.size === 'rewritten'.length, 'the pushed bytes reached b');
    assert.equal(await text(b, '/f'), 'rewritten');
    assert.equal(backendReads, 0);
    const after = b.detailedStats();
    assert.deepEqual([after.hits - before.hits, after.tierHits - before.tierHits, after.misses - before.misses], [1, 0, 0]);
    const prom = await b.exportPrometheus();
    assert.match(prom, /cachefs_tier_hits_total(\{[^}]*\})? 1/);
    assert.match(prom, /cachefs_tier_up(\{[^}]*\})? 1/);
  });

  it('every kind of change reaches the other cache (eventual)', async () => {
    const [a, b] = await pair({}, {}, { '/d/x': 'x1', '/d/y': 'y1', '/e': 'e1', '/g': 'g1', '/h': 'h1' });
    for (const p of ['/d/x', '/d/y', '/e', '/g', '/h']) await text(b, p);
    const cached = (p: string) => b.batchStats([p]).get(p)!.cached;
    await a.writeFile('/e', 'e2');
    await until(async () => (await text(b, '/e')) === 'e2', 'writeFile reached b');
    await a.appendFile('/e', '+');
    await until(async () => (await text(b, '/e')) === 'e2+', 'appendFile reached b');
    await a.truncate('/e', 1);
    await until(async () => (await text(b, '/e')) === 'e', 'truncate reached b');
    const handle = await a.open('/e', 'r+');
    await handle.write('E', 0);
    await handle.close();
    await until(async () => (await text(b, '/e')) === 'E', 'a handle write reached b');
    await a.rename('/d', '/moved');
    await until(async () => (await text(b, '/d/x')) === 'ENOENT', 'rename reached b');
    assert.equal(await text(b, '/moved/y'), 'y1');
    await a.rm('/moved', { recursive: true });
    await until(async () => (await text(b, '/moved/y')) === 'ENOENT', 'rm -r reached b');
    await a.unlink('/g');
    await until(async () => (await text(b, '/g')) === 'ENOENT', 'unlink reached b');
    await text(b, '/h');
    assert.ok(cached('/h'));
    await a.invalidate('/h');
    await until(() => !cached('/h'), 'invalidate reached b');
    await text(b, '/h');
    await a.invalidatePattern('/*');
    await until(() => !cached('/h'), 'invalidatePattern reached b');
    await text(b, '/h');
    await a.invalidatePrefix('/h');
    await until(() => !cached('/h'), 'invalidatePrefix reached b');
    await text(b, '/h');
    await a.batchInvalidate(['/h']);
    await until(() => !cached('/h'), 'batchInvalidate reached b');
    await text(b, '/h');
    await a.clear();
    await until(() => b.stats().entries === 0, 'clear reached b');
  });

  it("'strict': a read that starts after the other cache's write resolved returns the written bytes", async () => {
    const [a, b] = await pair({}, { consistency: 'strict' }, { '/s': 'old' });
    for (let i = 0; i < 50; i++) {
      assert.equal(await text(b, '/s'), i === 0 ? 'old' : `v${i - 1}`);
      await a.writeFile('/s', `v${i}`);
      assert.equal(await text(b, '/s'), `v${i}`);
    }
    assert.ok(b.stats().hits > 0 || b.detailedStats().tierHits > 0);
  });

  it('write-back with eventual publishes at flush', async () => {
    const [a, b] = await pair({ writeMode: 'write-back', flushInterval: 0 }, {}, { '/w': 'w1' });
    assert.equal(await text(b, '/w'), 'w1');
    await a.writeFile('/w', 'w2');
    assert.equal(await text(a, '/w'), 'w2');
    await a.flush();
    await until(async () => (await text(b, '/w')) === 'w2', 'the flush reached b');
  });

  it('corrupt, stale or foreign values under our keys are misses, never wrong bytes', async () => {
    const [a, b, , ns] = await pair({}, { consistency: 'strict' }, { '/dir/v': 'real bytes' });
    assert.equal(await text(a, '/dir/v'), 'real bytes');
    const dataKey = `cfs:${ns}:d:/dir/v`;
    const stored = await raw.getBuffer(dataKey);
    assert.ok(stored, 'a read shares its bytes');
    const forged: Buffer[] = [
      Buffer.from('garbage'),
      Buffer.concat([stored!, Buffer.from('extra')]), // length disagrees
      stored!.subarray(0, stored!.length - 3), // truncated
      Buffer.from(stored!.toString('latin1').replace('real bytes', 'evil bytes'), 'latin1').fill(0x41, 8, 12), // another version
    ];
    for (const value of forged) {
      await raw.set(dataKey, value);
      await b.invalidate('/dir/v'); // drops b's own copy (and publishes: a drops too)
      assert.equal(await text(b, '/dir/v'), 'real bytes');
    }
    // A value of another type under our data key and our version keys.
    await raw.del(dataKey);
    await raw.rpush(dataKey, 'x');
    await raw.del(`cfs:${ns}:v:/dir/v`);
    await raw.rpush(`cfs:${ns}:v:/dir/v`, 'y');
    await raw.del(`cfs:${ns}:p:/dir`);
    await raw.sadd(`cfs:${ns}:p:/dir`, 'z');
    for (const cache of [a, b]) assert.equal(await text(cache, '/dir/v'), 'real bytes');
    await a.writeFile('/dir/v', 'new bytes');
    for (const cache of [a, b]) assert.equal(await text(cache, '/dir/v'), 'new bytes');
  });

  it('files above maxFileBytes stay in this process: the other cache reads the backend', async () => {
    const [a, b] = await pair({}, { maxFileBytes: 10 }, { '/small': 'tiny', '/large': 'x'.repeat(11) });
    let backendReads = 0;
    b.on('backendRead', () => backendReads++);
    await text(a, '/small');
    await text(a, '/large');
    assert.equal(await text(b, '/small'), 'tiny');
    assert.equal(backendReads, 0);
    assert.equal(await text(b, '/large'), 'x'.repeat(11));
    assert.equal(backendReads, 1);
  });

  it('the L2 ttl is applied to shared values', async () => {
    const [a, , , ns] = await pair({}, { ttl: 60_000 }, { '/t': 'ttl' });
    await text(a, '/t');
    const pttl = await raw.pttl(`cfs:${ns}:d:/t`);
    assert.ok(pttl > 0 && pttl <= 60_000, `pttl ${pttl}`);
  });

  it('caches in other namespaces share nothing', async () => {
    const backend = memoryBackend({ '/n': 'one' });
    const a = new CacheFS(backend, { tier: { redis: redis.url, namespace: `iso-a${process.pid}` } });
    const b = new CacheFS(backend, { tier: { redis: redis.url, namespace: `iso-b${process.pid}` } });
    open.push(a, b);
    await until(() => a.core.tierLink!.port.available() && b.core.tierLink!.port.available(), 'tiers up');
    await text(a, '/n');
    await text(b, '/n');
    assert.equal(b.detailedStats().tierHits, 0);
  });

  it('Redis out of reach: calls work from the backend, tierDown is emitted, strict reads the backend each time', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const backend = memoryBackend({ '/f': 'data' });
      const cache = new CacheFS(backend, { tier: { redis: 'redis://127.0.0.1:1', namespace: 'gone', consistency: 'strict' } });
      open.push(cache);
      const down = nextEvent(cache, 'tierDown');
      let backendReads = 0;
      cache.on('backendRead', () => backendReads++);
      assert.ok((await down).error instanceof Error);
      for (let i = 0; i < 3; i++) assert.equal(await text(cache, '/f'), 'data');
      assert.equal(backendReads, 3, 'a copy that cannot be checked is not served');
      await cache.writeFile('/f', 'more');
      assert.equal(await text(cache, '/f'), 'more');
      await cache.rename('/f', '/g');
      await cache.clear();
      assert.equal(await text(cache, '/g'), 'more');
      await cache.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it("a load that gets the lock after another cache's load ended takes that load's bytes, not the backend's", async () => {
    // A process slowed between its look in Redis and its lock attempt (a loaded machine) found the lock
    // free because the other process had loaded, stored and released it meanwhile, and read the backend
    // a second time. Its SET NX is held here, on a real client, until the other cache's load is over.
    const backend = memoryBackend({ '/f': 'loaded once' });
    const namespace = `relock${process.pid}-${count++}`;
    const client = new Redis(redis.url);
    let atLock!: () => void;
    const reachedLock = new Promise<void>((resolve) => (atLock = resolve));
    let releaseLock!: () => void;
    const lockHeld = new Promise<void>((resolve) => (releaseLock = resolve));
    const set = client.set.bind(client) as (...args: unknown[]) => Promise<unknown>;
    let held = false;
    (client as unknown as { set: (...args: unknown[]) => Promise<unknown> }).set = async (...args) => {
      if (!held && args.includes('NX')) {
        held = true;
        atLock();
        await lockHeld;
      }
      return set(...args);
    };
    try {
      const a = new CacheFS(backend, { tier: { redis: redis.url, namespace } });
      const b = new CacheFS(backend, { tier: { redis: client, namespace } });
      open.push(a, b);
      await until(() => a.core.tierLink!.port.available() && b.core.tierLink!.port.available(), 'both tiers up');
      let backendReads = 0;
      a.on('backendRead', () => backendReads++);
      b.on('backendRead', () => backendReads++);
      const bReads = text(b, '/f');
      await reachedLock; // b looked in Redis (nothing there) and is about to take the lock
      assert.equal(await text(a, '/f'), 'loaded once');
      await until(async () => (await raw.exists(`cfs:${namespace}:l:/f`)) === 0, "a's lock released");
      releaseLock();
      assert.equal(await bReads, 'loaded once');
      assert.equal(backendReads, 1, 'b found the bytes a stored before releasing the lock');
      assert.equal(b.detailedStats().tierHits, 1);
    } finally {
      releaseLock();
      client.disconnect();
    }
  });

  it('a Redis client passed in is used and left open at close', async () => {
    const client = new Redis(redis.url);
    try {
      const cache = new CacheFS(memoryBackend({ '/c': 'client' }), { tier: { redis: client, namespace: `client${process.pid}` } });
      await until(() => cache.core.tierLink!.port.available(), 'tier up');
      assert.equal(await text(cache, '/c'), 'client');
      await cache.close();
      assert.equal(await client.ping(), 'PONG');
    } finally {
      client.disconnect();
    }
  });
});
