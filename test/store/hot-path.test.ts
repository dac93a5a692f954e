// The structures of the hot paths: ChurnMap and SlotSet (keys and members that come and go), the metadata
// cache's LRU that moves an entry only once it aged, and misses served through an in-memory backend's
// sync face before the call returns (engine/immediate.ts) beside the asynchronous way they shortcut.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertProperty } from '../seeds.js';
import { CacheFS, memoryBackend, type Backend } from '../../src/index.js';
import { ChurnMap, SlotSet } from '../../src/util/churn-map.js';
import { MetadataCache } from '../../src/store/metadata-cache.js';
import type { BackendStats } from '../../src/backend/backend.js';
import { DEFAULT_SIZE_CLASSES, SizeClasses } from '../../src/store/size-classes.js';

describe('ChurnMap', () => {
  test('behaves as a Map of defined values under any sequence of set, delete and clear', async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 150 }), value: fc.integer() }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 150 }) }),
      fc.record({ kind: fc.constant('clear' as const) }),
    );
    await assertProperty(
      fc.property(fc.array(op, { maxLength: 600 }), (ops) => {
        const churn = new ChurnMap<number, number>();
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            churn.set(o.key, o.value);
            model.set(o.key, o.value);
          } else if (o.kind === 'delete') {
            assert.equal(churn.delete(o.key), model.delete(o.key));
          } else {
            churn.clear();
            model.clear();
          }
          assert.equal(churn.size, model.size);
        }
        for (let k = 0; k <= 150; k++) {
          assert.equal(churn.get(k), model.get(k));
          assert.equal(churn.has(k), model.has(k));
        }
        const sorted = <T>(it: Iterable<T>): T[] => [...it].sort((a, b) => String(a).localeCompare(String(b)));
        assert.deepEqual(sorted(churn.keys()), sorted(model.keys()));
        assert.deepEqual(sorted(churn.values()), sorted(model.values()));
        assert.deepEqual(sorted([...churn].map(([k, v]) => `${k}=${v}`)), sorted([...model].map(([k, v]) => `${k}=${v}`)));
      }),
      { numRuns: 100 },
    );
  });

  test('distinct keys passing through leave no more than a bounded number of tombstones behind', () => {
    const churn = new ChurnMap<string, number>();
    for (let i = 0; i < 10_000; i++) {
      churn.set(`/f${i}`, i);
      churn.delete(`/f${i}`);
    }
    const inner = (churn as unknown as { map: Map<string, unknown> }).map;
    assert.ok(inner.size <= 65, `${inner.size} keys kept for 0 live ones`);
    churn.set('/live', 1);
    assert.deepEqual([...churn.keys()], ['/live']);
  });
});

describe('SlotSet', () => {
  test('adds, removes by place, reuses places and lists what is left', () => {
    const set = new SlotSet<{ id: number }>();
    const a = { id: 1 };
    const b = { id: 2 };
    const c = { id: 3 };
    const pa = set.add(a);
    const pb = set.add(b);
    set.remove(pa, a);
    const pc = set.add(c);
    assert.equal(pc, pa, 'a freed place is taken again');
    set.remove(pa, a); // a is gone already: c keeps the place
    assert.deepEqual(set.values().map((m) => m.id).sort(), [2, 3]);
    set.remove(pb, b);
    set.remove(pc, c);
    assert.deepEqual(set.values(), []);
    set.add(a);
    set.clear();
    assert.deepEqual(set.values(), []);
  });
});

function statsOf(size: number): BackendStats {
  return { dev: 1, ino: size, mode: 0o100644, nlink: 1, uid: 0, gid: 0, rdev: 0, size, blksize: 4096, blocks: 0, atimeMs: 0, mtimeMs: 0, ctimeMs: 0, birthtimeMs: 0 };
}

describe('MetadataCache', () => {
  test('a hit keeps an entry from eviction once it left the youngest quarter; the bound always holds', () => {
    const meta = new MetadataCache(true, 8);
    for (let i = 0; i < 8; i++) meta.set(`/m${i}`, true, statsOf(i));
    // /m0 is the oldest: a hit moves it to the young end, so the next insertions evict /m1, /m2, … first.
    assert.equal(meta.get('/m0', true)?.size, 0);
    for (let i = 8; i < 14; i++) meta.set(`/m${i}`, true, statsOf(i));
    assert.equal(meta.entries, 8);
    assert.equal(meta.get('/m0', true)?.size, 0, 'the entry hit when it was old survived');
    for (let i = 1; i <= 6; i++) assert.equal(meta.get(`/m${i}`, true), undefined, `/m${i} was evicted before /m0`);
  });

  test('any sequence of sets and gets keeps at most maxEntries, the latest insertion always among them', async () => {
    await assertProperty(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 30 })), { maxLength: 300 }), (max, ops) => {
        const meta = new MetadataCache(true, max);
        const lastSets: number[] = [];
        for (const [isSet, n] of ops) {
          if (isSet) {
            meta.set(`/p${n}`, true, statsOf(n));
            lastSets.push(n);
          } else {
            const got = meta.get(`/p${n}`, true);
            if (got !== undefined) assert.equal(got.size, n);
          }
          assert.ok(meta.entries <= max);
        }
        // The last insertion is never the one evicted.
        const last = lastSets.at(-1);
        if (last !== undefined) assert.equal(meta.get(`/p${last}`, true)?.size, last);
      }),
      { numRuns: 100 },
    );
  });
});

describe('misses served through an in-memory sync face (engine/immediate.ts)', () => {
  test('a handle read of an uncached file counts one miss and one backend read, emits backendRead, and then hits', async () => {
    const cfs = new CacheFS(memoryBackend({ '/d/a.txt': 'hello world' }));
    await cfs.readFile('/d/a.txt'); // resolves the path
    await cfs.invalidate('/d/a.txt');
    const events: { path: string; bytes: number }[] = [];
    cfs.on('backendRead', (e: { path: string; bytes: number }) => events.push(e));
    const before = { ...cfs.detailedStats(), backendReads: cfs.core.counters.backendReads };
    const handle = await cfs.open('/d/a.txt');
    const buf = Buffer.alloc(5);
    assert.deepEqual(await handle.read(buf, 0, 5, 6), { bytesRead: 5, buffer: buf });
    assert.equal(buf.toString(), 'world');
    assert.equal((await handle.read(Buffer.alloc(20), 0, 20, 0)).bytesRead, 11);
    await handle.close();
    const after = { ...cfs.detailedStats(), backendReads: cfs.core.counters.backendReads };
    assert.equal(after.misses - before.misses, 1);
    assert.equal(after.hits - before.hits, 1);
    assert.equal(after.backendReads - before.backendReads, 1);
    assert.deepEqual(events.map((e) => [e.path, e.bytes]), [['/d/a.txt', 11]]);
    await cfs.close();
  });

  test('errors are the asynchronous way\'s: ENOENT from open, EISDIR from reading a directory', async () => {
    const cfs = new CacheFS(memoryBackend({ '/d/a': 'x' }));
    await cfs.readFile('/d/a');
    await assert.rejects(cfs.open('/d/missing'), { code: 'ENOENT', syscall: 'open', path: '/d/missing' });
    await assert.rejects(cfs.open('/d', 'r+'), { code: 'EISDIR', syscall: 'open' });
    const dir = await cfs.open('/d');
    await assert.rejects(dir.read(Buffer.alloc(4), 0, 4, 0), { code: 'EISDIR', syscall: 'read' });
    await dir.close();
    await cfs.close();
  });

  test('a spread copy of memoryBackend with its own readFile is not bypassed through the sync face', async () => {
    const inner = memoryBackend({ '/a': 'inner' });
    let reads = 0;
    const wrapped: Backend = {
      ...inner,
      async readFile(path) {
        reads++;
        return inner.readFile(path);
      },
    };
    assert.equal(wrapped.syncInMemory, undefined, 'the claim is not copied');
    const cfs = new CacheFS(wrapped);
    const handle = await cfs.open('/a');
    assert.equal((await handle.read(Buffer.alloc(8), 0, 8, 0)).bytesRead, 5);
    await handle.close();
    assert.equal(reads, 1, 'the wrapper\'s readFile loaded the file');
    await cfs.close();
  });

  test('a file that grew or shrank behind the cache after open is read and cached whole as it is now, at chunk-sized lengths too', async () => {
    // The miss reads straight into a pool chunk sized by open's stat; a chunk of exactly that size has no
    // room to notice growth by reading one byte more, so the load must find out another way.
    const chunk = new SizeClasses(DEFAULT_SIZE_CLASSES).chunkSizes[12]!;
    for (const [before, now] of [[chunk, chunk + 1], [chunk, chunk + 40], [chunk - 3, chunk + 5], [chunk, chunk - 1], [chunk + 1, 3]] as const) {
      const backend = memoryBackend({ '/f': Buffer.alloc(before, 'a') });
      const cfs = new CacheFS(backend);
      const handle = await cfs.open('/f');
      backend.sync!.writeFile('/f', Buffer.alloc(now, 'b'));
      const buf = Buffer.alloc(now + 10);
      const label = `${before} -> ${now} bytes (chunk ${chunk})`;
      assert.equal((await handle.read(buf, 0, buf.length, 0)).bytesRead, now, label);
      assert.ok(buf.subarray(0, now).every((b) => b === 0x62), label);
      await handle.close();
      assert.deepEqual(await cfs.readFile('/f'), Buffer.alloc(now, 'b'), `${label}: what the cache keeps`);
      assert.equal(cfs.detailedStats().hits, 1, `${label}: served from the cache`);
      await cfs.close();
    }
  });

  test('with dirty data (write-back) a miss takes the asynchronous way and reads what the program wrote', async () => {
    const cfs = new CacheFS(memoryBackend({ '/a': 'old', '/b': 'bee' }), { writeMode: 'write-back', flushInterval: 60_000 });
    await cfs.writeFile('/a', 'new!');
    const handle = await cfs.open('/b');
    assert.equal((await handle.read(Buffer.alloc(8), 0, 8, 0)).bytesRead, 3);
    await handle.close();
    assert.equal((await cfs.stat('/a')).size, 4, 'dirty data still overrides the backend size');
    assert.equal(await cfs.readFile('/a', 'utf8'), 'new!');
    await cfs.close();
  });
});
