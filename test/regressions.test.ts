// Bugs a mutation audit (issue 18) put into src/ and the rest of the suite let through. Each test names
// the behaviour it guards; each was checked by putting its bug back by hand and watching it fail.
// Time is the test's own clock (mock.timers on Date), never the machine's speed.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS, memoryBackend, nodeBackend } from '../src/index.js';
import { MemoryPressure } from '../src/coherence/memory-pressure.js';
import { backendText, tempDirs } from './support.js';

const dirs = tempDirs();
test.after(() => dirs.cleanup());

/** Runs `body` with `Date` under a clock the test moves (`tick(ms)`); real timers keep running. */
async function withClock(body: (tick: (ms: number) => void) => Promise<void>): Promise<void> {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  try {
    await body((ms) => mock.timers.tick(ms));
  } finally {
    mock.timers.reset();
  }
}

// Bug 1: a dirty (write-back) entry past its TTL dropped on read loses an acknowledged write.
for (const onDisk of [false, true]) {
  test(`write-back: a dirty entry past its TTL is still the truth on read, and reaches the backend (${onDisk ? 'disk' : 'memory'})`, async () => {
    await withClock(async (tick) => {
      const root = onDisk ? await dirs.make() : undefined;
      if (root) await nodeFs.writeFile(join(root, 'f'), 'old bytes');
      const backend = root ? nodeBackend(root) : memoryBackend({ '/f': 'old bytes' });
      const fs = new CacheFS(backend, { writeMode: 'write-back', flushInterval: 0, ttl: 100 });
      assert.equal(await fs.readFile('/f', 'utf8'), 'old bytes');
      await fs.writeFile('/f', 'new bytes');
      tick(1000); // ten TTLs later, nothing flushed yet
      assert.equal(await fs.readFile('/f', 'utf8'), 'new bytes', 'the acknowledged write is what a read returns');
      assert.equal((await fs.stat('/f')).size, 'new bytes'.length);
      assert.equal(fs.detailedStats().dirtyEntries, 1, 'still dirty: nothing flushed it');
      assert.equal(await backendText(backend, '/f'), 'old bytes', 'not flushed before close');
      await fs.close();
      assert.equal(await backendText(backend, '/f'), 'new bytes', 'the write reached the backend');
    });
  });
}

test('write-back: cleanExpired flushes an expired dirty entry before dropping it', async () => {
  await withClock(async (tick) => {
    const backend = memoryBackend({ '/f': 'old' });
    const fs = new CacheFS(backend, { writeMode: 'write-back', flushInterval: 0, ttl: 100 });
    await fs.writeFile('/f', 'new');
    tick(101);
    await fs.cleanExpired();
    assert.equal(await backendText(backend, '/f'), 'new');
    assert.equal(await fs.readFile('/f', 'utf8'), 'new');
    await fs.close();
  });
});

// Bug 2: a rename (or copy) over a file whose metadata is cached must not leave the destination's old stat.
for (const writeMode of ['write-through', 'write-back', 'write-around'] as const) {
  test(`metadataCache, ${writeMode}: rename and copyFile over a file with cached metadata show the new file's stat, as Node does`, async () => {
    const ref = await dirs.make();
    const root = await dirs.make();
    for (const dir of [ref, root]) {
      await nodeFs.writeFile(join(dir, 'src'), 'a much longer source file');
      await nodeFs.writeFile(join(dir, 'dst'), 'short');
      await nodeFs.writeFile(join(dir, 'cpy'), 'x');
      await nodeFs.chmod(join(dir, 'src'), 0o600);
      await nodeFs.chmod(join(dir, 'dst'), 0o644);
      await nodeFs.utimes(join(dir, 'src'), 1000, 1000);
      await nodeFs.utimes(join(dir, 'dst'), 2000, 2000);
    }
    const fs = new CacheFS(nodeBackend(root), { writeMode, metadataCache: true, flushInterval: 0 });
    // Cache the destinations' metadata (only: with their data cached too, dropping the data drops it).
    for (const p of ['/src', '/dst', '/cpy']) await fs.stat(p);
    await fs.rename('/src', '/dst');
    await nodeFs.rename(join(ref, 'src'), join(ref, 'dst'));
    await fs.copyFile('/dst', '/cpy');
    await nodeFs.copyFile(join(ref, 'dst'), join(ref, 'cpy'));
    // Write-back: the copy is dirty, and its mtime is the cache's own until the flush writes it.
    if (writeMode === 'write-back') await fs.flush();
    for (const p of ['/dst', '/cpy']) {
      const got = await fs.stat(p);
      const want = await nodeFs.stat(join(ref, p));
      const onBackend = await nodeFs.stat(join(root, p));
      assert.equal(got.size, want.size, `${p} size`);
      if (p === '/dst') assert.equal(got.mode, want.mode, `${p} mode`);
      assert.equal(got.mode, onBackend.mode, `${p} mode is the backend's`);
      // mtime: a rename keeps the source's (set above, so known); a copy's is whatever the disk gave it.
      assert.equal(got.mtimeMs, onBackend.mtimeMs, `${p} mtime is the backend's`);
      if (p === '/dst') assert.equal(got.mtimeMs, want.mtimeMs, 'rename keeps the source mtime');
      assert.equal(await fs.readFile(p, 'utf8'), await nodeFs.readFile(join(ref, p), 'utf8'));
    }
    await assert.rejects(fs.stat('/src'), { code: 'ENOENT' });
    await fs.close();
  });
}

for (const face of ['the backend\'s copy', 'a copy through the cache'] as const) {
  test(`copyFile gives the destination the source's mode, as node:fs does (${face})`, async () => {
    const ref = await dirs.make();
    const root = await dirs.make();
    for (const dir of [ref, root]) {
      await nodeFs.writeFile(join(dir, 'src'), 'source');
      await nodeFs.chmod(join(dir, 'src'), 0o600);
      await nodeFs.writeFile(join(dir, 'old'), 'old');
    }
    const disk = nodeBackend(root);
    // Without the backend's copy face, cachefs reads the source and writes the destination itself.
    const backend = face === 'the backend\'s copy' ? disk : new Proxy(disk, {
      get: (target, key) => {
        if (key === 'copyFile') return undefined;
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const fs = new CacheFS(backend);
    for (const dest of ['/new', '/old']) {
      await fs.copyFile('/src', dest);
      await nodeFs.copyFile(join(ref, 'src'), join(ref, dest));
      assert.equal((await fs.stat(dest)).mode, (await nodeFs.stat(join(ref, dest))).mode, dest);
      assert.equal(await fs.readFile(dest, 'utf8'), 'source');
    }
    await fs.close();
  });
}

// Bug 4: removals under memory pressure are shed, never evictions.
test('memory pressure: shed entries count as shed, not as evictions, in stats, Prometheus and events', async () => {
  const files: Record<string, string> = { '/a': 'aaaa', '/b': 'bbbb', '/c': 'cccc' };
  const fs = new CacheFS(memoryBackend(files), { pool: false, maxEntries: 2 });
  const reasons: string[] = [];
  fs.on('evict', (e: { reason: string }) => reasons.push(e.reason));
  await fs.readFile('/a');
  await fs.readFile('/b');
  await fs.readFile('/c'); // over maxEntries by one: exactly one policy eviction (/a)
  assert.equal(fs.stats().evictions, 1);
  const pressure = new MemoryPressure(fs.core, { maxRss: 1 });
  pressure.close();
  const shed = pressure.check();
  assert.equal(shed?.entries, 2, '/b and /c were shed');
  assert.equal(shed?.bytes, 8);
  const stats = fs.detailedStats();
  assert.equal(stats.evictions, 1, 'the shed entries are not evictions');
  assert.equal(stats.bytesShed, 8);
  assert.equal(stats.entries, 0);
  assert.equal(reasons.length, 3);
  assert.equal(reasons.filter((r) => r === reasons[0]).length, 1, 'the eviction and the two sheds carry different reasons');
  assert.equal(reasons[1], reasons[2]);
  const text = await fs.exportPrometheus();
  const evictions = [...text.matchAll(/^cachefs_evictions_total\{([^}]*)\} (\S+)$/gm)].map((m) => [m[1], Number(m[2])] as const);
  const byReason = Object.fromEntries(evictions.map(([labels, v]) => [/reason="([^"]*)"/.exec(labels)?.[1] ?? '', v]));
  assert.deepEqual(
    Object.fromEntries(Object.entries(byReason).filter(([, v]) => v > 0)),
    { evicted: 1, shed: 2 },
    'Prometheus: one eviction, two sheds',
  );
  await fs.close();
});

// Bug 5: warmingProgress must carry the errors of running warms.
test('a warm with failing files: errors show in warmingProgress while it runs, in onProgress and in the result', async () => {
  const root = await dirs.make();
  await nodeFs.writeFile(join(root, 'ok1'), '11');
  await nodeFs.writeFile(join(root, 'ok2'), '222');
  await nodeFs.mkdir(join(root, 'adir'));
  const fs = new CacheFS(nodeBackend(root));
  const seen: { errors: number; running: number }[] = [];
  const failedByCode: Record<string, number> = {};
  fs.on('warmProgress', (e: { path: string; error?: { code?: string; syscall?: string } }) => {
    if (e.error) failedByCode[`${e.path} ${e.error.code} ${e.error.syscall}`] = (failedByCode[`${e.path} ${e.error.code} ${e.error.syscall}`] ?? 0) + 1;
  });
  const result = await fs.warm(['/missing', '/ok1', '/adir', '/ok2'], {
    concurrency: 1,
    skipErrors: true,
    onProgress: (p) => seen.push({ errors: p.errors, running: fs.warmingProgress().errors }),
  });
  assert.deepEqual({ ...result, errorsByCode: undefined, evicted: undefined }, { total: 4, completed: 2, errors: 2, bytesRead: 5, errorsByCode: undefined, evicted: undefined });
  // concurrency 1, in order: ENOENT, ok, EISDIR, ok.
  assert.deepEqual(seen, [
    { errors: 1, running: 1 },
    { errors: 1, running: 1 },
    { errors: 2, running: 2 },
    { errors: 2, running: 2 },
  ]);
  assert.deepEqual(fs.warmingProgress(), { total: 0, completed: 0, errors: 0, bytesRead: 0, errorsByCode: {}, evicted: 0 });
  // Each failure once, with the code and syscall Node gives for reading that path.
  const node = async (p: string) => (await nodeFs.readFile(join(root, p)).catch((e: NodeJS.ErrnoException) => e)) as NodeJS.ErrnoException;
  const [missing, adir] = [await node('missing'), await node('adir')];
  assert.deepEqual(failedByCode, { [`/missing ${missing.code} ${missing.syscall}`]: 1, [`/adir ${adir.code} ${adir.syscall}`]: 1 });
  await fs.close();
});

test('warm errorsByCode (API 1.3 clarification 7) counts failures by their code', async () => {
  const root = await dirs.make();
  await nodeFs.writeFile(join(root, 'ok'), 'x');
  await nodeFs.mkdir(join(root, 'adir'));
  const fs = new CacheFS(nodeBackend(root));
  const result = (await fs.warm(['/missing', '/gone', '/adir', '/ok'], { skipErrors: true })) as unknown as { errorsByCode?: Record<string, number> };
  await fs.close();
  assert.deepEqual(result.errorsByCode, { ENOENT: 2, EISDIR: 1 });
});

// Bug 6: an EISDIR from reading a directory reports Node's syscall ('read'), errno and path.
test('readFile of a directory fails as node:fs does: code, syscall, errno', async () => {
  const root = await dirs.make();
  await nodeFs.mkdir(join(root, 'adir'));
  const node = (await nodeFs.readFile(join(root, 'adir')).catch((e: unknown) => e)) as NodeJS.ErrnoException;
  assert.equal(node.code, 'EISDIR', 'premise: Node fails with EISDIR');
  for (const backend of [nodeBackend(root), memoryBackend({ '/adir/x': 'x' })]) {
    for (const metadataCache of [false, true]) {
      const fs = new CacheFS(backend, { metadataCache });
      if (metadataCache) await fs.stat('/adir');
      for (let i = 0; i < 2; i++) {
        const err = (await fs.readFile('/adir').catch((e: unknown) => e)) as NodeJS.ErrnoException;
        assert.equal(err.code, node.code);
        assert.equal(err.syscall, node.syscall, `syscall (metadataCache ${metadataCache}, attempt ${i})`);
        assert.equal(err.errno, node.errno);
        assert.equal(err.path, '/adir');
      }
      await fs.close();
    }
  }
});

// Weak spot: maxEntries must evict exactly down to the limit, not one more.
for (const eviction of ['lru', 'lfu', 'ttl', 'hybrid', 'tinylfu', 'sieve'] as const) {
  test(`${eviction}: maxEntries N keeps exactly N entries after N+k distinct reads`, async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 6; i++) files[`/f${i}`] = `file ${i}`;
    const fs = new CacheFS(memoryBackend(files), { eviction, maxEntries: 3 });
    for (let i = 0; i < 6; i++) {
      await fs.readFile(`/f${i}`);
      const s = fs.stats();
      // tinylfu may refuse a newcomer rather than evict a resident: entries stay at the limit either way.
      assert.equal(s.entries, Math.min(i + 1, 3), `entries after reading /f${i}`);
      if (eviction !== 'tinylfu') assert.equal(s.evictions, Math.max(0, i + 1 - 3), `evictions after reading /f${i}`);
    }
    await fs.close();
  });
}

// Weak spot: handle reads count one hit or one miss per call.
test('handle reads: a miss then hits, one per call, whatever the positions', async () => {
  const fs = new CacheFS(memoryBackend({ '/f': 'abcdefghij', '/g': 'xyz' }));
  const h = await fs.open('/f');
  const buf = Buffer.alloc(4);
  const expected: [number, number][] = [];
  await h.read(buf, 0, 4, 0);
  expected.push([0, 1]);
  await h.read(buf, 0, 4, 6);
  expected.push([1, 1]);
  await h.read(buf, 0, 4, 20); // past the end: served from the cache, still one hit
  expected.push([2, 1]);
  const g = await fs.open('/g');
  await g.read(buf, 0, 3, 0);
  expected.push([2, 2]);
  assert.deepEqual([fs.stats().hits, fs.stats().misses], expected.at(-1));
  await fs.invalidate('/f');
  await h.read(buf, 0, 4, 0);
  await h.read(buf, 0, 4, 0);
  assert.deepEqual([fs.stats().hits, fs.stats().misses], [3, 3], 'after invalidation: one miss, then a hit');
  assert.equal(fs.stats().hitRate, 3 / 6);
  await h.close();
  await g.close();
  await fs.close();
});
