// 'eventual' never goes back: a process that wrote or read a path's newer bytes never reads older ones
// later, even when another process's older change reaches it over the invalidation channel after its
// own newer write resolved. Two caches over one backend, each with its own connections to a real
// redis-server; the writer's channel connection runs through a relay of the test's own, which holds or
// delays what Redis sends on it, while its commands go straight to Redis. Also: writers that race leave
// Redis with no bytes the backend did not keep, and a change Redis refused is published again promptly.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis, type RedisOptions } from 'ioredis';
import { CacheFS, memoryBackend, type Backend } from '../../src/index.js';
import { prng, until } from '../support.js';
import { startRelay, type Relay } from '../remote/relay.js';
import { CuttableRelay, RedisServer, redisUnavailable } from './redis-server.js';

const skip = redisUnavailable();

/**
 * A real ioredis client whose duplicates (the tier makes its channel connection with `duplicate`)
 * connect to `channelPort` instead: the commands go straight to Redis, the channel through a relay.
 */
class ChannelThrough extends Redis {
  constructor(url: string, private readonly channelPort: number) {
    super(url);
  }

  override duplicate(override?: Partial<RedisOptions>): Redis {
    return new Redis({ ...this.options, ...override, port: this.channelPort });
  }
}

describe("'eventual': no process goes back to older bytes", { skip }, () => {
  let redis: RedisServer;
  const open: CacheFS[] = [];
  const clients: Redis[] = [];
  const relays: { close(): Promise<void> }[] = [];
  let count = 0;

  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close().catch(() => undefined)));
    for (const c of clients) c.disconnect();
    await Promise.all(relays.map((r) => r.close()));
    await redis?.stop();
  });

  /** The writer `a` (its channel through `channelPort`) and `b`, over one backend, both up. */
  async function pair(channelPort: number, files: Record<string, string>): Promise<[CacheFS, CacheFS]> {
    const backend = memoryBackend(files);
    const namespace = `gb${process.pid}-${count++}`;
    const client = new ChannelThrough(redis.url, channelPort);
    clients.push(client);
    const a = new CacheFS(backend, { tier: { redis: client, namespace } });
    const b = new CacheFS(backend, { tier: { redis: redis.url, namespace } });
    open.push(a, b);
    await until(() => a.core.tierLink!.port.available() && b.core.tierLink!.port.available(), 'both tiers up');
    return [a, b];
  }

  const text = async (cache: CacheFS, path: string): Promise<string> => {
    try {
      return String(await cache.readFile(path));
    } catch (err) {
      return (err as { code: string }).code;
    }
  };

  it("the other process's older change arriving after this process's newer write resolved is not installed", async () => {
    const relay = await CuttableRelay.start(redis.port);
    relays.push(relay);
    // /f: a writes a path it does not hold (its change runs after b's, and b's is then ignored);
    // /g: a holds the path from before b's change (its write starts from that older version).
    const [a, b] = await pair(relay.port, { '/f': '0', '/g': '0', '/m': 'm' });
    assert.equal(await text(a, '/g'), '0');
    assert.equal(await text(a, '/m'), 'm');
    // From here on, what Redis sends on a's channel waits in the relay (Redis still publishes it).
    const held = relay.holdAnswers('subscribe', true);
    await held.reached;
    for (const path of ['/f', '/g']) {
      await b.writeFile(path, '1'); // b's change, with its bytes, is on its way to a
      await a.writeFile(path, '2'); // a's newer write resolves: Redis answered on the command connection
      assert.equal(await text(a, path), '2');
    }
    await b.writeFile('/m', 'mm'); // published after b's changes: once a has heard it, it heard them all
    held.release();
    await until(() => {
      const m = a.batchStats(['/m']).get('/m')!;
      return !m.cached || m.size === 2;
    }, "a heard b's changes");
    for (const path of ['/f', '/g']) assert.equal(await text(a, path), '2', `a went back to b's older bytes of ${path}`);
    // b's later changes still reach a.
    for (const path of ['/f', '/g']) {
      await b.writeFile(path, '3');
      await until(async () => (await text(a, path)) === '3', `b's newer write of ${path} reached a`);
    }
  });

  it('random writes by two processes with a slow channel to one of them: every read is at least as new as what that process saw', async () => {
    const seed = Number(process.env.CACHEFS_TIER_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const replay = `(seed ${seed}; replay with CACHEFS_TIER_SEED=${seed})`;
    const random = prng(seed);
    const relay: Relay = await startRelay(redis.port, 40);
    relays.push(relay);
    const paths = ['/p0', '/p1', '/d/p2'];
    const [a, b] = await pair(relay.port, Object.fromEntries(paths.map((p) => [p, '0'])));
    const caches = [a, b];
    // Writes are made one after another (each resolves before the next begins), so their generations
    // order them; reads of both processes run in between.
    let generation = 0;
    const latest = paths.map(() => 0);
    const seen = caches.map(() => paths.map(() => 0));
    const problems: string[] = [];
    for (let op = 0; op < 600; op++) {
      const c = Math.floor(random() * 2);
      const p = Math.floor(random() * paths.length);
      const cache = caches[c]!;
      if (random() < 0.4) {
        const g = ++generation;
        await cache.writeFile(paths[p]!, String(g));
        latest[p] = g;
        seen[c]![p] = g;
      } else {
        const got = Number(await text(cache, paths[p]!));
        if (!(got >= seen[c]![p]!)) problems.push(`op ${op}: ${c === 0 ? 'a' : 'b'} read ${got} from ${paths[p]} after ${seen[c]![p]}`);
        else seen[c]![p] = got;
      }
      // Now and then, time for the channel's messages to arrive in between.
      if (random() < 0.1) await new Promise((resolve) => setTimeout(resolve, random() * 40));
    }
    assert.deepEqual(problems.slice(0, 10), [], `${problems.length} reads went back ${replay}`);
    // And every write reached both: nothing newer was ignored.
    for (const cache of caches) {
      for (let p = 0; p < paths.length; p++) {
        await until(async () => (await text(cache, paths[p]!)) === String(latest[p]), `${paths[p]} reached ${latest[p]} ${replay}`);
      }
    }
    assert.ok(a.detailedStats().tierHits + b.detailedStats().tierHits > 0, 'the run went through the tier');
  });

  it("two writers racing: Redis never serves the bytes of the write the backend did not keep", async () => {
    const backend = memoryBackend({ '/f': '0' });
    // a's backend write lands first, but a's change reaches Redis only after b's whole write (a fault-
    // injecting wrapper holds a's call after the real write): the backend keeps b's bytes, while Redis
    // runs a's change last.
    let release!: () => void;
    const gate = new Promise<void>((open) => (release = open));
    let wrote!: () => void;
    const aWrote = new Promise<void>((resolve) => (wrote = resolve));
    const slowBackend: Backend = {
      ...backend,
      writeFile: async (path, data, options) => {
        await backend.writeFile(path, data, options);
        wrote();
        await gate;
      },
    };
    const namespace = `race${process.pid}-${count++}`;
    const make = (over: Backend) => new CacheFS(over, { tier: { redis: redis.url, namespace } });
    const a = make(slowBackend);
    const b = make(backend);
    const c = make(backend);
    open.push(a, b, c);
    await until(() => [a, b, c].every((x) => x.core.tierLink!.port.available()), 'tiers up');
    for (const x of [a, b]) assert.equal(await text(x, '/f'), '0');
    const aWriting = a.writeFile('/f', 'a');
    await aWrote;
    await b.writeFile('/f', 'b');
    release();
    await aWriting;
    assert.equal(String(await backend.readFile('/f')), 'b');
    // A process that never held the file reads what the backend kept, from Redis or not.
    assert.equal(await text(c, '/f'), 'b');
    assert.equal(await text(a, '/f'), 'b', 'the losing writer keeps no copy of its own bytes');
    await until(async () => (await text(b, '/f')) === 'b', "b hears a's change");
  });

  it('a change Redis refused while the tier stayed up is published again without waiting for an outage', async () => {
    const backend = memoryBackend({ '/r': 'r1' });
    const namespace = `refused${process.pid}-${count++}`;
    const a = new CacheFS(backend, { tier: { redis: redis.url, namespace } });
    const b = new CacheFS(backend, { tier: { redis: redis.url, namespace } });
    open.push(a, b);
    await until(() => a.core.tierLink!.port.available() && b.core.tierLink!.port.available(), 'both tiers up');
    assert.equal(await text(b, '/r'), 'r1');
    const admin = new Redis(redis.url);
    clients.push(admin);
    const errors = a.detailedStats().tierErrors;
    try {
      // Redis answers every write with OOM: a's change is refused, and the circuit stays closed.
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.config('SET', 'maxmemory', '1');
      await a.writeFile('/r', 'r2');
      assert.ok(a.detailedStats().tierErrors > errors, 'Redis refused the change');
      assert.equal(a.core.tierLink!.port.available(), true);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    await until(async () => (await text(b, '/r')) === 'r2', 'the refused change reached b once Redis took it');
    assert.equal(a.core.tierLink!.port.available(), true, 'no outage in between');
  });
});
