// Pooled storage: size classes, the slab pool's page accounting, returned buffers, and the pooled cache
// end to end (no chunk leaked, bytesUsed equal to what the pool holds, no bytes leaking between entries).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertProperty } from '../seeds.js';
import { mkdtemp, rm, writeFile as diskWriteFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheFS, memoryBackend, nodeBackend, type Backend } from '../../src/index.js';
import { faultyBackend } from '../fault-backend.js';
import { PooledByteStore } from '../../src/store/pooled-byte-store.js';
import { DEFAULT_SIZE_CLASSES, SizeClasses, sizeClassOptionsFor } from '../../src/store/size-classes.js';
import { ReturnBufferPool } from '../../src/store/return-buffers.js';
import type { CacheFSOptions } from '../../src/options.js';

/** `POOL_RUNS` raises the number of fast-check runs. */
const RUNS = Number(process.env.POOL_RUNS ?? 60);

/** One turn of the event loop: loaders end their holds on pool memory with `setImmediate`. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const tempRoots: string[] = [];
after(async () => {
  for (const dir of tempRoots) await rm(dir, { recursive: true, force: true });
});

function poolOf(cfs: CacheFS): PooledByteStore {
  const bytes = cfs.core.store.bytes;
  assert.ok(bytes instanceof PooledByteStore, 'pool: true selects the pooled byte store');
  return bytes;
}

/** `n` bytes of a pattern that differs per `seed`, so that one file's bytes cannot pass for another's. */
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (seed * 31 + i * 7) & 0xff;
  return b;
}

describe('size classes', () => {
  const classes = new SizeClasses(DEFAULT_SIZE_CLASSES);

  test('every size maps to the smallest class that holds it, and sizes above the largest to -1', () => {
    const sizes = classes.chunkSizes;
    for (let size = 1; size <= classes.maxChunk + 1; size++) {
      const cls = classes.classOf(size);
      if (size > classes.maxChunk) {
        assert.equal(cls, -1);
        continue;
      }
      assert.ok(sizes[cls]! >= size, `class of ${size} holds it`);
      assert.ok(cls === 0 || sizes[cls - 1]! < size, `class of ${size} is the smallest that holds it`);
    }
  });

  test('classes ascend in aligned steps; powers of two fit exactly; no file above 32 B wastes a fifth', () => {
    const sizes = classes.chunkSizes;
    for (let i = 0; i < sizes.length; i++) {
      assert.equal(sizes[i]! % DEFAULT_SIZE_CLASSES.alignment, 0);
      if (i > 0) assert.ok(sizes[i]! > sizes[i - 1]!);
    }
    for (let p = DEFAULT_SIZE_CLASSES.minChunk; p <= classes.maxChunk; p *= 2) {
      assert.equal(sizes[classes.classOf(p)], p, `${p} B fits a class exactly`);
    }
    for (let size = 33; size <= classes.maxChunk; size++) {
      const chunk = sizes[classes.classOf(size)]!;
      assert.ok(chunk < size * 1.25, `${size} B in a ${chunk} B chunk`);
    }
  });

  test('slabs hold whole chunks and shrink with the cache size', () => {
    assert.equal(sizeClassOptionsFor(0).maxSlab, 1024 * 1024);
    assert.equal(sizeClassOptionsFor(100 * 1024 * 1024).maxSlab, 256 * 1024);
    assert.equal(sizeClassOptionsFor(32 * 1024 * 1024).maxSlab, 128 * 1024);
    assert.equal(sizeClassOptionsFor(1000).maxSlab, 4096);
    for (const maxBytes of [0, 1000, 64 * 1024, 100 * 1024 * 1024]) {
      const options = sizeClassOptionsFor(maxBytes);
      const c = new SizeClasses(options);
      for (let cls = 0; cls < c.count; cls++) {
        const slab = c.slabBytes(cls);
        assert.equal(slab % c.chunkSizes[cls]!, 0);
        assert.ok(slab <= Math.max(options.maxSlab, c.chunkSizes[cls]!), `class ${c.chunkSizes[cls]} slab ${slab} within ${options.maxSlab}`);
      }
    }
  });
});

describe('PooledByteStore', () => {
  type Command =
    | { kind: 'allocate'; size: number }
    | { kind: 'release'; pick: number }
    | { kind: 'hold'; pick: number }
    | { kind: 'unhold'; pick: number }
    | { kind: 'trim' };
  const size = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 600 }) },
    { weight: 3, arbitrary: fc.integer({ min: 600, max: 70_000 }) },
    { weight: 1, arbitrary: fc.constantFrom(16, 64, 4096, 65_536, 65_537) },
  );
  const command: fc.Arbitrary<Command> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('allocate' as const), size }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('hold' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('unhold' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('trim' as const) }) },
  );

  test('random allocate/release/hold sequences: consistent books, live bytes intact, nothing leaked', async () => {
    await assertProperty(
      fc.property(fc.array(command, { maxLength: 120 }), fc.constantFrom(0, 1000, 64 * 1024), (commands, maxBytes) => {
        const pool = new PooledByteStore(sizeClassOptionsFor(maxBytes));
        const live: { buf: Buffer; seed: number }[] = [];
        const held = new Set<Buffer>();
        const releasedWhileHeld = new Set<Buffer>();
        let seed = 0;
        const verify = () => {
          pool.checkConsistency();
          for (const { buf, seed: s } of live) assert.ok(buf.equals(pattern(buf.length, s)), 'a live buffer kept its bytes');
          const st = pool.stats();
          let dedicated = 0;
          let chunkBytes = 0;
          for (const { buf } of [...live, ...[...releasedWhileHeld].map((buf) => ({ buf }))]) {
            if (buf.length === 0) continue;
            if (pool.owns(buf)) chunkBytes += buf.length;
            else dedicated += buf.length;
          }
          assert.equal(st.liveChunkBytes, chunkBytes, 'live chunk bytes are those handed out');
          assert.equal(st.dedicatedBytes, dedicated, 'dedicated bytes are those handed out');
        };
        for (const c of commands) {
          if (c.kind === 'allocate') {
            const buf = pool.allocate(c.size);
            assert.ok(buf.length >= c.size);
            assert.equal(pool.footprint(c.size), buf.length, 'footprint is what the buffer occupies');
            seed++;
            buf.set(pattern(buf.length, seed));
            live.push({ buf, seed });
          } else if (c.kind === 'release' && live.length > 0) {
            const [{ buf }] = live.splice(c.pick % live.length, 1);
            pool.release(buf!);
            if (held.has(buf!) && buf!.length > 0 && pool.owns(buf!)) releasedWhileHeld.add(buf!);
          } else if (c.kind === 'hold' && live.length > 0) {
            const { buf } = live[c.pick % live.length]!;
            pool.hold(buf);
            held.add(buf);
          } else if (c.kind === 'unhold' && held.size > 0) {
            const buf = [...held][c.pick % held.size]!;
            held.delete(buf);
            releasedWhileHeld.delete(buf);
            pool.unhold(buf);
          } else if (c.kind === 'trim') {
            pool.trim();
          }
          verify();
        }
        for (const buf of held) pool.unhold(buf);
        for (const { buf } of live) pool.release(buf);
        const st = pool.stats();
        assert.equal(st.liveChunks, 0, 'every chunk is back on a free list');
        assert.equal(st.liveChunkBytes, 0);
        assert.equal(st.dedicatedBuffers, 0);
        assert.equal(st.dedicatedBytes, 0);
        assert.equal(st.deferredReleases, 0);
        assert.ok(st.slabs === st.spareSlabs, 'only spare slabs are left');
        pool.checkConsistency();
        pool.trim();
        assert.equal(pool.stats().slabs, 0, 'trim gives every empty slab back');
        assert.equal(pool.stats().slabBytes, 0);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('a held chunk is not handed out again until the hold ends', () => {
    const pool = new PooledByteStore();
    const a = pool.allocate(100);
    pool.hold(a);
    pool.release(a);
    assert.equal(pool.stats().deferredReleases, 1);
    const others = Array.from({ length: 200 }, () => pool.allocate(100));
    assert.ok(!others.includes(a), 'the held chunk was not reused');
    for (const o of others) pool.release(o);
    pool.unhold(a);
    assert.equal(pool.stats().deferredReleases, 0);
    assert.equal(pool.stats().liveChunks, 0);
    assert.equal(pool.allocate(100), a, 'once released, the chunk (and its view) is reused first');
  });

  test('an emptied slab is given back unless it is its class’s spare; trim gives the spare back', () => {
    const pool = new PooledByteStore(sizeClassOptionsFor(0));
    const perSlab = pool.classes.slabChunks[pool.classes.classOf(1000)]!;
    const bufs = Array.from({ length: perSlab * 3 }, () => pool.allocate(1000));
    assert.equal(pool.stats().slabs, 3);
    for (const b of bufs) pool.release(b);
    assert.deepEqual([pool.stats().slabs, pool.stats().spareSlabs], [1, 1]);
    pool.trim();
    assert.equal(pool.stats().slabs, 0);
    assert.equal(pool.stats().slabBytes, 0);
  });

  test('new chunks fill the oldest partly used slab first, so that younger slabs drain', () => {
    const pool = new PooledByteStore(sizeClassOptionsFor(0));
    const perSlab = pool.classes.slabChunks[pool.classes.classOf(2000)]!;
    const first = Array.from({ length: perSlab }, () => pool.allocate(2000));
    const second = Array.from({ length: perSlab }, () => pool.allocate(2000));
    pool.release(first[0]!);
    pool.release(second[0]!);
    const next = pool.allocate(2000);
    assert.equal(next.buffer, first[0]!.buffer, 'the older slab serves first');
  });
});

describe('returned buffers', () => {
  test('carved buffers never overlap and never change after they are handed out', async () => {
    await assertProperty(
      fc.property(fc.array(fc.integer({ min: 0, max: 200_000 }), { minLength: 1, maxLength: 80 }), (sizes) => {
        const pool = new ReturnBufferPool();
        const out = sizes.map((n, i) => {
          const b = pool.allocate(n);
          assert.equal(b.length, n);
          b.set(pattern(n, i));
          return b;
        });
        out.forEach((b, i) => assert.ok(b.equals(pattern(b.length, i)), `buffer ${i} kept its bytes`));
        for (let i = 0; i < out.length; i++) {
          for (let j = i + 1; j < out.length; j++) {
            const a = out[i]!;
            const b = out[j]!;
            if (a.buffer !== b.buffer || a.length === 0 || b.length === 0) continue;
            const disjoint = a.byteOffset + a.length <= b.byteOffset || b.byteOffset + b.length <= a.byteOffset;
            assert.ok(disjoint, `buffers ${i} and ${j} overlap`);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('a kept buffer keeps at most its slab: 16× a power-of-two size, under 32× any size', () => {
    const pool = new ReturnBufferPool();
    for (const n of [1, 100, 511, 512, 1000, 4095, 4096, 5000, 16_384, 40_000, 65_536, 65_537, 300_000]) {
      const b = pool.allocate(n);
      const bound = pool.retainedBound(n);
      assert.ok(b.buffer.byteLength <= bound, `${n} B keeps ${b.buffer.byteLength} B, bound ${bound}`);
      assert.ok(bound <= Math.max(8192, 32 * n), `${n} B: bound ${bound}`);
      if (n >= 512 && n <= 65_536) {
        assert.ok(bound < 32 * n);
        if ((n & (n - 1)) === 0) assert.equal(bound, 16 * n);
        assert.equal(b.byteOffset % 8, 0, 'carved buffers are 8-byte aligned');
      }
      if (n > 65_536) assert.equal(b.buffer.byteLength, n, 'large buffers have an ArrayBuffer of their own');
    }
    assert.equal(pool.retainedBound(65_536), 1024 * 1024);
  });
});

/** A pooled cache over `backend` and a way to check its books once it is quiet. */
function pooledCache(backend: Backend, options: CacheFSOptions = {}): { cfs: CacheFS; pool: PooledByteStore; check: () => Promise<void> } {
  const cfs = new CacheFS(backend, { flushInterval: 0, ...options, pool: true });
  const pool = poolOf(cfs);
  const check = async () => {
    await settle();
    pool.checkConsistency();
    const st = pool.stats();
    assert.equal(st.deferredReleases, 0, 'no release is still held back once the loads are done');
    assert.equal(cfs.stats().bytesUsed, st.liveChunkBytes + st.dedicatedBytes, 'bytesUsed is exactly what the pool has handed out');
  };
  return { cfs, pool, check };
}

describe('pooled cache', () => {
  type Op =
    | { op: 'readFile'; path: number }
    | { op: 'readAt'; path: number; position: number; length: number }
    | { op: 'writeFile'; path: number; size: number }
    | { op: 'writeAt'; path: number; position: number; size: number }
    | { op: 'truncate'; path: number; len: number }
    | { op: 'invalidate'; path: number }
    | { op: 'unlink'; path: number }
    | { op: 'clear' };
  const PATHS = ['/a', '/b', '/c', '/d/e'];
  const path = fc.nat(PATHS.length - 1);
  const fileSize = fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 300 }) },
    { weight: 2, arbitrary: fc.integer({ min: 300, max: 5000 }) },
    { weight: 1, arbitrary: fc.integer({ min: 30_000, max: 70_000 }) },
  );
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ op: fc.constant('readFile' as const), path }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('readAt' as const), path, position: fc.nat(70_000), length: fc.integer({ min: 1, max: 70_000 }) }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('writeFile' as const), path, size: fileSize }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('writeAt' as const), path, position: fc.nat(6000), size: fc.integer({ min: 1, max: 3000 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), path, len: fileSize }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('invalidate' as const), path }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('unlink' as const), path }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
  );
  const optionsArb = fc.record({
    writeMode: fc.constantFrom('write-through' as const, 'write-back' as const, 'write-around' as const),
    eviction: fc.constantFrom('lru' as const, 'lfu' as const, 'ttl' as const, 'hybrid' as const),
    maxBytes: fc.constantFrom(0, 400, 6000, 100_000),
    maxEntries: fc.constantFrom(0, 2),
  });

  test('random insert/evict/invalidate/write/truncate sequences: books balance, bytes are right, nothing leaks', async () => {
    let seq = 0;
    await assertProperty(
      fc.asyncProperty(optionsArb, fc.array(opArb, { minLength: 1, maxLength: 25 }), async (options, ops) => {
        const initial: Record<string, Uint8Array> = { '/a': pattern(100, 1), '/b': pattern(40_000, 2), '/d/e': pattern(3000, 3) };
        const { cfs, pool, check } = pooledCache(memoryBackend(initial), options);
        const model = new Map<string, Buffer>(Object.entries(initial).map(([p, b]) => [p, Buffer.from(b)]));
        try {
          for (const o of ops) {
            const p = o.op === 'clear' ? '' : PATHS[o.path]!;
            const current = model.get(p);
            switch (o.op) {
              case 'readFile':
                if (current === undefined) {
                  await assert.rejects(cfs.readFile(p), { code: 'ENOENT' });
                } else {
                  const got = await cfs.readFile(p);
                  assert.ok(got.equals(current), `readFile ${p}`);
                  assert.ok(!pool.owns(got), 'readFile never hands out pool memory');
                }
                break;
              case 'readAt': {
                if (current === undefined) break;
                const handle = await cfs.open(p, 'r');
                const into = Buffer.alloc(o.length, 0xee);
                const { bytesRead } = await handle.read(into, 0, o.length, o.position);
                await handle.close();
                const want = current.subarray(Math.min(o.position, current.length), Math.min(current.length, o.position + o.length));
                assert.equal(bytesRead, want.length, `read ${p} at ${o.position}`);
                assert.ok(into.subarray(0, bytesRead).equals(want), `read ${p} at ${o.position}: bytes`);
                break;
              }
              case 'writeFile': {
                const data = pattern(o.size, ++seq + 10);
                await cfs.writeFile(p, data);
                model.set(p, data);
                break;
              }
              case 'writeAt': {
                if (current === undefined) break;
                const data = pattern(o.size, ++seq + 10);
                const handle = await cfs.open(p, 'r+');
                await handle.write(data, 0, data.length, o.position);
                await handle.close();
                const next = Buffer.alloc(Math.max(current.length, o.position + data.length));
                current.copy(next);
                data.copy(next, o.position);
                model.set(p, next);
                break;
              }
              case 'truncate': {
                if (current === undefined) break;
                await cfs.truncate(p, o.len);
                const next = Buffer.alloc(o.len);
                current.copy(next, 0, 0, Math.min(o.len, current.length));
                model.set(p, next);
                break;
              }
              case 'invalidate':
                await cfs.invalidate(p);
                break;
              case 'unlink':
                if (current === undefined) break;
                await cfs.unlink(p);
                model.delete(p);
                break;
              case 'clear':
                await cfs.clear();
                break;
            }
            await check();
            if (options.maxBytes > 0 && cfs.detailedStats().dirtyEntries === 0) {
              assert.ok(cfs.stats().bytesUsed <= options.maxBytes, 'maxBytes holds for what the pool holds');
            }
          }
          for (const [p, want] of model) assert.ok((await cfs.readFile(p)).equals(want), `final ${p}`);
          await cfs.flush();
          await cfs.clear();
          await check();
          const st = pool.stats();
          assert.equal(cfs.stats().bytesUsed, 0);
          assert.deepEqual([st.liveChunks, st.liveChunkBytes, st.dedicatedBuffers, st.dedicatedBytes], [0, 0, 0, 0], 'every page is back');
          assert.equal(st.slabs, st.spareSlabs, 'after clear() only one spare slab per class is kept');
          await cfs.close();
          assert.equal(pool.stats().slabs, 0, 'close() gives every slab back');
        } finally {
          await cfs.close();
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('a chunk reused by another entry never shows its old bytes, and earlier results stay as they were', async () => {
    const x = Buffer.alloc(100, 'x');
    const { cfs, check } = pooledCache(memoryBackend({ '/x': x, '/y': Buffer.alloc(100, 'y'), '/z': Buffer.alloc(100, 'z') }), { maxBytes: 200 });
    const fromX = await cfs.readFile('/x');
    const handleX = Buffer.alloc(100);
    const h = await cfs.open('/x', 'r');
    await h.read(handleX, 0, 100, 0);
    await h.close();
    await cfs.readFile('/y'); // /x leaves: 2 × 112 B > 200
    await cfs.readFile('/z'); // /y leaves, /z takes the chunk /x had
    assert.ok((await cfs.readFile('/z')).equals(Buffer.alloc(100, 'z')));
    assert.ok(fromX.equals(x), 'a buffer returned earlier is a copy: it did not change');
    assert.ok(handleX.equals(x));
    // A file that grows into a reused chunk reads zeros where it was never written.
    await cfs.writeFile('/w', Buffer.alloc(100, 'w'));
    await cfs.truncate('/w', 10);
    await cfs.truncate('/w', 100);
    assert.ok((await cfs.readFile('/w')).equals(Buffer.concat([Buffer.alloc(10, 'w'), Buffer.alloc(90)])));
    const hw = await cfs.open('/w', 'r+');
    await hw.write(Buffer.from('!'), 0, 1, 99);
    await hw.write(Buffer.from('?'), 0, 1, 150);
    await hw.close();
    const w = await cfs.readFile('/w');
    assert.equal(w.length, 151);
    assert.ok(w.subarray(100, 150).equals(Buffer.alloc(50)), 'a hole reads as zeros, not as an earlier tenant’s bytes');
    await check();
    await cfs.close();
  });

  test('returned buffers are never pool memory, for every size and read path', async () => {
    const sizes = [0, 10, 100, 4096, 5000, 40_000, 65_536, 70_000];
    const files = Object.fromEntries(sizes.map((n, i) => [`/f${n}`, pattern(n, i)]));
    const { cfs, pool, check } = pooledCache(memoryBackend(files));
    for (const [p, want] of Object.entries(files)) {
      const h = await cfs.open(p, 'r');
      const into = Buffer.alloc(want.length);
      await h.read(into, 0, want.length, 0); // a miss: from 16 KiB on it reads straight into the store
      assert.ok(into.equals(want));
      const viaHandle = (await h.readFile()) as Buffer;
      await h.close();
      const hit = await cfs.readFile(p);
      for (const got of [viaHandle, hit]) {
        assert.ok(got.equals(want), `${p}: bytes`);
        assert.ok(!pool.owns(got), `${p}: not pool memory`);
        const slot = cfs.core.store.lookup(p);
        if (slot >= 0 && got.length > 0) assert.notEqual(got.buffer, cfs.core.store.buffer(slot).buffer, `${p}: not the entry's memory`);
        got.fill(0);
      }
      assert.ok((await cfs.readFile(p)).equals(want), `${p}: the cache is unchanged by writes to a returned buffer`);
    }
    await check();
    await cfs.close();
  });

  for (const kind of ['memory', 'disk'] as const) {
    test(`${kind}: a file that grew or shrank after its stat was cached is read whole`, async () => {
      let backend: Backend;
      let rewrite: (p: string, data: Buffer) => Promise<void>;
      if (kind === 'memory') {
        const mem = memoryBackend({ '/grow': pattern(40_000, 1), '/shrink': pattern(40_000, 2) });
        backend = mem;
        rewrite = (p, data) => mem.writeFile(p, data);
      } else {
        const root = await mkdtemp(join(tmpdir(), 'cachefs-'));
        tempRoots.push(root);
        await diskWriteFile(join(root, 'grow'), pattern(40_000, 1));
        await diskWriteFile(join(root, 'shrink'), pattern(40_000, 2));
        backend = nodeBackend(root);
        rewrite = (p, data) => diskWriteFile(join(root, p), data);
      }
      const { cfs, check } = pooledCache(backend, { metadataCache: true });
      assert.equal((await cfs.stat('/grow')).size, 40_000);
      assert.equal((await cfs.stat('/shrink')).size, 40_000);
      const grown = pattern(50_000, 3);
      const shrunk = pattern(35_000, 4);
      await rewrite('/grow', grown); // behind the cache's back: its stat still says 40 000
      await rewrite('/shrink', shrunk);
      for (const [p, want] of [['/grow', grown], ['/shrink', shrunk]] as const) {
        const h = await cfs.open(p, 'r');
        const into = Buffer.alloc(60_000);
        const { bytesRead } = await h.read(into, 0, 60_000, 0);
        await h.close();
        assert.equal(bytesRead, want.length, `${p}: the whole current file`);
        assert.ok(into.subarray(0, bytesRead).equals(want));
        assert.ok((await cfs.readFile(p)).equals(want), `${p}: the cached entry is the whole file`);
      }
      await check();
      await cfs.close();
    });
  }

  test('readers sharing a load straight into the store get its bytes even when the entry is evicted and its chunk wanted at once', async () => {
    const big = pattern(40_000, 7);
    const other = pattern(40_500, 8); // the same size class as `big`
    const faulty = faultyBackend(memoryBackend({ '/pinned': 'p', '/big': big, '/other': other }));
    // The metadata cache answers the readers' stats at once, so that all three join one load.
    const { cfs, check } = pooledCache(faulty, { maxEntries: 1, metadataCache: true });
    await cfs.stat('/big');
    // One pinned entry fills the cache: every newcomer is its own victim, evicted as soon as installed.
    await cfs.readFile('/pinned');
    cfs.core.store.pin(cfs.core.store.lookup('/pinned'));
    const readGate = faulty.faults.gate('read');
    const readFileGate = faulty.faults.gate('readFile');
    const handles = await Promise.all([1, 2, 3].map(() => cfs.open('/big', 'r')));
    const reads = handles.map(async (h) => {
      const into = Buffer.alloc(40_000);
      const { bytesRead } = await h.read(into, 0, 40_000, 0);
      return into.subarray(0, bytesRead);
    });
    const otherRead = cfs.readFile('/other'); // installs through a copy: takes a free chunk of the class
    await readGate.reached;
    await readFileGate.reached;
    readGate.release();
    readFileGate.release();
    for (const got of await Promise.all(reads)) assert.ok(got.equals(big), 'every sharer got the loaded bytes');
    assert.ok((await otherRead).equals(other));
    assert.equal(faulty.faults.calls.read, 1, 'the readers shared one backend read');
    for (const h of handles) await h.close();
    await check();
    await cfs.close();
  });
});
