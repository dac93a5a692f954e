// Warming: progress, bounded concurrency, cancellation, priorities (pinning, low), the path sources
// (pattern, directory, list file, smart), and the core's shared-load and stale-install rules.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheFS, memoryBackend, nodeBackend, type WarmProgress } from '../src/index.js';
import { faultyBackend } from './fault-backend.js';
import { until, settle } from './until.js';

/** `n` files `/d/f0 … /d/f{n-1}`, each `size` bytes of its own letter. */
function files(n: number, size: number, dir = '/d'): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[`${dir}/f${i}`] = String.fromCharCode(97 + (i % 26)).repeat(size);
  return out;
}

function names(n: number, dir = '/d'): string[] {
  return Array.from({ length: n }, (_, i) => `${dir}/f${i}`);
}

function isPinned(fs: CacheFS, path: string): boolean {
  const slot = fs.core.store.lookup(path);
  return slot >= 0 && fs.core.store.isPinned(slot);
}

describe('warm: progress', () => {
  test('loads every file, counts total, completed and bytesRead, and is not counted as reads', async () => {
    const backend = faultyBackend(memoryBackend(files(5, 10)));
    const fs = new CacheFS(backend);
    await fs.readFile('/d/f0'); // already cached: completes without a backend read
    fs.resetStats();
    backend.faults.resetCalls();
    const seen: WarmProgress[] = [];
    const events: { path: string; completed: number }[] = [];
    fs.on('warmProgress', (e: { path: string; completed: number }) => events.push({ path: e.path, completed: e.completed }));
    const result = await fs.warm(names(5), { onProgress: (p) => seen.push(p) });
    assert.deepEqual(result, { total: 5, completed: 5, errors: 0, bytesRead: 40, errorsByCode: {}, evicted: 0 });
    assert.equal(backend.faults.calls.readFile, 4);
    assert.equal(seen.length, 5, 'onProgress after each file');
    assert.deepEqual(seen.map((p) => p.completed), [1, 2, 3, 4, 5]);
    assert.ok(seen.every((p) => p.total === 5));
    assert.deepEqual(seen.at(-1), result);
    assert.deepEqual(events.map((e) => e.path).sort(), names(5));
    const s = fs.stats();
    assert.equal(s.hits + s.misses, 0, 'warming is not the program reading');
    assert.equal(s.entries, 5);
    for (const p of names(5)) assert.equal((await fs.readFile(p)).length, 10);
    assert.equal(fs.stats().hits, 5);
    await fs.close();
  });

  test('concurrency bounds the loads in flight', async () => {
    const backend = faultyBackend(memoryBackend(files(10, 4)));
    const fs = new CacheFS(backend);
    const gate = backend.faults.gate('readFile', 'before');
    const warming = fs.warm(names(10), { concurrency: 3 });
    await until(() => gate.waiting === 3, 'three loads in flight');
    await settle();
    assert.equal(backend.faults.calls.readFile, 3, 'no fourth load while three are in flight');
    gate.release();
    assert.deepEqual(await warming, { total: 10, completed: 10, errors: 0, bytesRead: 40, errorsByCode: {}, evicted: 0 });
    await fs.close();
  });

  test('warmingProgress sums the warms still running and is zero afterwards', async () => {
    const backend = faultyBackend(memoryBackend({ ...files(3, 5, '/a'), ...files(2, 7, '/b') }));
    const fs = new CacheFS(backend);
    const view = fs.sub('/b');
    const gate = backend.faults.gate('readFile', 'before');
    const first = fs.warm(names(3, '/a'), { concurrency: 1 });
    const second = view.warm(['/f0', '/f1'], { concurrency: 1 });
    await until(() => gate.waiting === 2, 'both warms in flight');
    assert.deepEqual(fs.warmingProgress(), { total: 5, completed: 0, errors: 0, bytesRead: 0, errorsByCode: {}, evicted: 0 });
    assert.deepEqual(view.warmingProgress(), fs.warmingProgress(), 'views share one cache');
    gate.release();
    await first;
    await second;
    assert.deepEqual(fs.warmingProgress(), { total: 0, completed: 0, errors: 0, bytesRead: 0, errorsByCode: {}, evicted: 0 });
    await fs.close();
  });

  test('warmingProgress moves while a warm runs', async () => {
    const backend = faultyBackend(memoryBackend(files(3, 5)));
    const fs = new CacheFS(backend);
    const during: WarmProgress[] = [];
    await fs.warm(names(3), { concurrency: 1, onProgress: () => during.push(fs.warmingProgress()) });
    assert.deepEqual(during.map((p) => [p.total, p.completed, p.bytesRead]), [[3, 1, 5], [3, 2, 10], [3, 3, 15]]);
    await fs.close();
  });

  test('skipErrors counts failures and goes on; without it the first failure rejects', async () => {
    const backend = faultyBackend(memoryBackend(files(3, 2)));
    const fs = new CacheFS(backend);
    const list = ['/d/f0', '/missing', '/d/f1', '/d', '/d/f2'];
    const failures: string[] = [];
    fs.on('warmProgress', (e: { path: string; error?: { code: string } }) => {
      if (e.error) failures.push(`${e.path}:${e.error.code}`);
    });
    const result = await fs.warm(list, { skipErrors: true, concurrency: 1 });
    assert.deepEqual(result, { total: 5, completed: 3, errors: 2, bytesRead: 6, errorsByCode: { EISDIR: 1, ENOENT: 1 }, evicted: 0 });
    assert.deepEqual(failures, ['/missing:ENOENT', '/d:EISDIR']);
    await fs.clear();
    await assert.rejects(fs.warm(list, { concurrency: 1 }), { code: 'ENOENT', path: '/missing' });
    await fs.close();
  });

  test('an onProgress callback that throws stops the warm with its error', async () => {
    const fs = new CacheFS(memoryBackend(files(4, 1)));
    const boom = new Error('listener failed');
    let calls = 0;
    await assert.rejects(fs.warm(names(4), { concurrency: 1, onProgress: () => { calls++; throw boom; } }), boom);
    assert.equal(calls, 1);
    await fs.close();
  });

  test('invalid options and a closed cache are rejected with codes', async () => {
    const fs = new CacheFS(memoryBackend(files(1, 1)));
    await assert.rejects(fs.warm(['/d/f0'], { concurrency: 0 }), { code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(fs.warm(['/d/f0'], { priority: 'urgent' as never }), { code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(fs.warm(['/d/f0'], { signal: {} as AbortSignal }), { code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(fs.warm(['/d/f0'], { onProgress: 1 as never }), { code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(fs.warm('/d/f0' as never), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(fs.warm([42 as never]), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(fs.warmSmart({ limit: -1 }), { code: 'ERR_INVALID_ARG_VALUE' });
    await fs.close();
    await assert.rejects(fs.warm(['/d/f0']), { code: 'ERR_CACHEFS_CLOSED' });
    await assert.rejects(fs.warmFromDir('/'), { code: 'ERR_CACHEFS_CLOSED' });
  });
});

describe('warm: cancellation', () => {
  test('closing the cache stops a running warm with ERR_CACHEFS_CLOSED', async () => {
    const backend = faultyBackend(memoryBackend(files(6, 3)));
    const fs = new CacheFS(backend);
    const gate = backend.faults.gate('readFile', 'before');
    const warming = fs.warm(names(6), { concurrency: 1, skipErrors: true });
    await gate.reached;
    await fs.close(); // does not wait for the load held at the gate
    gate.release();
    await assert.rejects(warming, { code: 'ERR_CACHEFS_CLOSED' });
    assert.equal(backend.faults.calls.readFile, 1);
  });


  test('abort mid-warm: rejects with AbortError, starts no new load, keeps the cache consistent', async () => {
    const backend = faultyBackend(memoryBackend(files(10, 8)));
    const fs = new CacheFS(backend);
    const gate = backend.faults.gate('readFile', 'before');
    const controller = new AbortController();
    let progressAfterAbort = 0;
    let aborted = false;
    const warming = fs.warm(names(10), {
      concurrency: 2,
      signal: controller.signal,
      onProgress: () => {
        if (aborted) progressAfterAbort++;
      },
    });
    await until(() => gate.waiting === 2, 'two loads in flight');
    const reason = new Error('user went away');
    controller.abort(reason);
    aborted = true;
    await assert.rejects(warming, (err: Error & { code?: string; cause?: unknown }) => {
      assert.equal(err.name, 'AbortError');
      assert.equal(err.code, 'ABORT_ERR');
      assert.equal(err.cause, reason);
      return true;
    });
    assert.deepEqual(fs.warmingProgress(), { total: 0, completed: 0, errors: 0, bytesRead: 0, errorsByCode: {}, evicted: 0 });
    gate.release();
    await until(() => gate.waiting === 0, 'the in-flight loads finish');
    await settle();
    assert.equal(backend.faults.calls.readFile, 2, 'only the loads in flight at the abort reached the backend');
    assert.equal(progressAfterAbort, 0, 'nothing is reported after the abort');
    const cached = names(10).filter((p) => fs.batchStats([p]).get(p)!.cached);
    assert.equal(cached.length, 2, 'the in-flight loads finished and installed');
    for (const p of names(10)) assert.equal((await fs.readFile(p, 'utf8')).length, 8);
    await fs.close();
  });

  test('an already aborted signal rejects before any backend call', async () => {
    const backend = faultyBackend(memoryBackend(files(3, 1)));
    const fs = new CacheFS(backend);
    backend.faults.resetCalls();
    const signal = AbortSignal.abort();
    await assert.rejects(fs.warm(names(3), { signal }), { name: 'AbortError', code: 'ABORT_ERR' });
    await assert.rejects(fs.warmFromDir('/d', { signal }), { name: 'AbortError' });
    await assert.rejects(fs.prefetch(names(3), { signal }), { name: 'AbortError' });
    const calls = Object.values(backend.faults.calls).reduce((a, b) => a + b, 0);
    assert.equal(calls, 0);
    await fs.close();
  });

  test('abort while a directory walk lists: no load starts', async () => {
    const backend = faultyBackend(memoryBackend({ ...files(3, 1, '/t/a'), ...files(3, 1, '/t/b') }));
    const fs = new CacheFS(backend);
    const gate = backend.faults.gate('readdir', 'before');
    const controller = new AbortController();
    const warming = fs.warmFromDir('/t', { signal: controller.signal });
    await gate.reached;
    controller.abort();
    await assert.rejects(warming, { name: 'AbortError' });
    gate.release();
    await until(() => gate.waiting === 0, 'the listing finishes');
    await settle();
    assert.equal(backend.faults.calls.readFile, 0);
    assert.equal(backend.faults.calls.readdir, 1, 'the walk stopped after the listing in flight');
    await fs.close();
  });
});

describe('warm: priorities', () => {
  test("'high' pins: pinned entries survive eviction pressure until invalidated", async () => {
    // pool: false in these tests: their byte arithmetic is in file sizes (pool rounding: test/store/pool.test.ts).
    const fs = new CacheFS(memoryBackend({ ...files(3, 300, '/hot'), ...files(10, 300, '/cold') }), { maxBytes: 1000, pool: false });
    const evicted: string[] = [];
    fs.on('evict', (e: { path: string; reason: string }) => evicted.push(`${e.path}:${e.reason}`));
    const result = await fs.warm(names(3, '/hot'), { priority: 'high' });
    assert.deepEqual(result, { total: 3, completed: 3, errors: 0, bytesRead: 900, errorsByCode: {}, evicted: 0 });
    for (const p of names(10, '/cold')) await fs.readFile(p);
    for (const p of names(3, '/hot')) assert.ok(isPinned(fs, p), `${p} pinned`);
    assert.ok(!evicted.some((e) => e.startsWith('/hot/')), 'no pinned entry was evicted');
    assert.ok(evicted.filter((e) => e.endsWith(':evicted')).length >= 9, 'the other entries took the pressure');
    const st = fs.stats();
    assert.ok(st.bytesUsed <= 1000, `limits hold: ${st.bytesUsed}`);
    fs.resetStats();
    for (const p of names(3, '/hot')) await fs.readFile(p);
    assert.equal(fs.stats().hits, 3);
    assert.equal(await fs.invalidate('/hot/f0'), true);
    assert.equal(fs.batchStats(['/hot/f0']).get('/hot/f0')!.cached, false, 'invalidation unpins');
    assert.equal(fs.core.store.pinnedBytes, 600);
    await fs.close();
  });

  test("'high' beyond maxBytes fails those files with ERR_CACHEFS_PIN_LIMIT", async () => {
    const fs = new CacheFS(memoryBackend(files(5, 300)), { maxBytes: 1000, pool: false });
    const errors: string[] = [];
    fs.on('warmProgress', (e: { path: string; error?: { code: string } }) => e.error && errors.push(`${e.path}:${e.error.code}`));
    const result = await fs.warm(names(5), { priority: 'high', skipErrors: true, concurrency: 1 });
    assert.deepEqual(result, { total: 5, completed: 3, errors: 2, bytesRead: 1500, errorsByCode: { ERR_CACHEFS_PIN_LIMIT: 2 }, evicted: 0 });
    assert.deepEqual(errors, ['/d/f3:ERR_CACHEFS_PIN_LIMIT', '/d/f4:ERR_CACHEFS_PIN_LIMIT']);
    assert.equal(fs.core.store.pinnedBytes, 900);
    assert.ok(!fs.batchStats(['/d/f3']).get('/d/f3')!.cached, 'a file that could not be pinned was not installed');
    await assert.rejects(fs.warm(['/d/f4'], { priority: 'high' }), (err: Error & { code: string; path: string }) => {
      assert.equal(err.code, 'ERR_CACHEFS_PIN_LIMIT');
      assert.equal(err.path, '/d/f4');
      assert.match(err.message, /maxBytes 1000/);
      return true;
    });
    // Room again after an invalidation.
    await fs.invalidate('/d/f0');
    assert.deepEqual(await fs.warm(['/d/f4'], { priority: 'high' }), { total: 1, completed: 1, errors: 0, bytesRead: 300, errorsByCode: {}, evicted: 0 });
    assert.ok(isPinned(fs, '/d/f4'));
    await fs.close();
  });

  test("'high' pins files that are already cached, within maxEntries too", async () => {
    const fs = new CacheFS(memoryBackend(files(3, 10)), { maxEntries: 2 });
    await fs.readFile('/d/f0');
    const result = await fs.warm(['/d/f0', '/d/f1', '/d/f2'], { priority: 'high', skipErrors: true, concurrency: 1 });
    assert.deepEqual(result, { total: 3, completed: 2, errors: 1, bytesRead: 10, errorsByCode: { ERR_CACHEFS_PIN_LIMIT: 1 }, evicted: 0 });
    assert.ok(isPinned(fs, '/d/f0') && isPinned(fs, '/d/f1'));
    assert.equal(fs.core.store.pinnedEntries, 2);
    await fs.close();
  });

  test("'low' loads only what fits and never evicts", async () => {
    const backend = faultyBackend(memoryBackend({ ...files(3, 300, '/old'), ...files(3, 300, '/new') }));
    const fs = new CacheFS(backend, { maxBytes: 1000, pool: false });
    await fs.readFile('/old/f0');
    const evicted: string[] = [];
    fs.on('evict', (e: { path: string }) => evicted.push(e.path));
    const result = await fs.warm(names(3, '/new'), { priority: 'low', concurrency: 1 });
    assert.deepEqual(result, { total: 3, completed: 3, errors: 0, bytesRead: 900, errorsByCode: {}, evicted: 0 }, 'a file that does not fit is left out, not failed');
    assert.deepEqual(evicted, []);
    const stats = fs.batchStats(['/old/f0', ...names(3, '/new')]);
    assert.deepEqual([...stats.values()].map((s) => s.cached), [true, true, true, false]);
    assert.equal(fs.stats().bytesUsed, 900);
    await fs.close();
  });

  test("'low' does not even read when the cache is full", async () => {
    const backend = faultyBackend(memoryBackend(files(4, 300)));
    const fs = new CacheFS(backend, { maxBytes: 900, pool: false });
    const result = await fs.warm(names(4), { priority: 'low', concurrency: 1 });
    assert.deepEqual(result, { total: 4, completed: 4, errors: 0, bytesRead: 900, errorsByCode: {}, evicted: 0 });
    assert.equal(backend.faults.calls.readFile, 3);
    assert.equal(fs.stats().evictions, 0);
    await fs.close();
  });

  test("'normal' loads like a read: it may evict", async () => {
    const fs = new CacheFS(memoryBackend(files(4, 300)), { maxBytes: 1000 });
    const evicted: string[] = [];
    fs.on('evict', (e: { path: string; reason: string }) => evicted.push(`${e.path}:${e.reason}`));
    await fs.warm(names(4), { concurrency: 1 });
    assert.deepEqual(evicted, ['/d/f0:evicted']);
    await fs.close();
  });
});

describe('warm: the shared load', () => {
  test('a warm and a concurrent read share one backend read', async () => {
    const backend = faultyBackend(memoryBackend({ '/f': 'shared bytes' }));
    const fs = new CacheFS(backend);
    const gate = backend.faults.gate('readFile', 'before');
    const warming = fs.warm(['/f']);
    await gate.reached;
    const reading = fs.readFile('/f', 'utf8');
    gate.release();
    assert.equal(await reading, 'shared bytes');
    assert.equal((await warming).completed, 1);
    assert.equal(backend.faults.calls.readFile, 1);
    await fs.close();
  });

  test('a warm overtaken by a write does not install what it read', async () => {
    for (const writeMode of ['write-through', 'write-back', 'write-around'] as const) {
      const backend = faultyBackend(memoryBackend({ '/f': 'old' }));
      const fs = new CacheFS(backend, { writeMode, flushInterval: 0 });
      const gate = backend.faults.gate('readFile', 'after');
      const warming = fs.warm(['/f'], { priority: 'high' });
      await gate.reached;
      await fs.writeFile('/f', 'new');
      gate.release();
      await warming;
      assert.equal(await fs.readFile('/f', 'utf8'), 'new', writeMode);
      await fs.close();
    }
  });
});

describe('warm: sources', () => {
  const tree = {
    '/src/a.ts': 'a', '/src/lib/b.ts': 'bb', '/src/lib/c.js': 'ccc', '/src/lib/deep/d.ts': 'dddd', '/docs/x.md': 'x',
  };

  test('warmFromPattern: globs over the tree, walking only below the static prefix and only as deep as needed', async () => {
    const backend = faultyBackend(memoryBackend(tree));
    const fs = new CacheFS(backend);
    assert.deepEqual(await fs.warmFromPattern('/src/**/*.ts'), { total: 3, completed: 3, errors: 0, bytesRead: 7, errorsByCode: {}, evicted: 0 });
    assert.equal(fs.stats().entries, 3);
    backend.faults.resetCalls();
    await fs.clear();
    assert.deepEqual(await fs.warmFromPattern('/src/*.ts'), { total: 1, completed: 1, errors: 0, bytesRead: 1, errorsByCode: {}, evicted: 0 });
    assert.equal(backend.faults.calls.readdir, 1, 'no descent below /src for a one-level pattern');
    assert.equal((await fs.warmFromPattern('/nowhere/**')).total, 0);
    await fs.chdir('/src');
    assert.equal((await fs.warmFromPattern('lib/*.js')).total, 1, 'relative to cwd');
    await assert.rejects(fs.warmFromPattern('/src/[a'), { code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(fs.warmFromPattern(7 as never), { code: 'ERR_INVALID_ARG_VALUE' });
    await fs.close();
  });

  test('warmFromDir: recursive, in a sub view, and a missing directory rejects', async () => {
    const fs = new CacheFS(memoryBackend(tree));
    const view = fs.sub('/src');
    const paths: string[] = [];
    view.on('warmProgress', (e: { path: string }) => paths.push(e.path));
    assert.deepEqual(await view.warmFromDir('/', { concurrency: 1 }), { total: 4, completed: 4, errors: 0, bytesRead: 10, errorsByCode: {}, evicted: 0 });
    assert.deepEqual(paths, ['/a.ts', '/lib/b.ts', '/lib/c.js', '/lib/deep/d.ts'], 'paths of the view, in name order');
    assert.ok(fs.batchStats(['/src/lib/deep/d.ts']).get('/src/lib/deep/d.ts')!.cached);
    assert.ok(!fs.batchStats(['/docs/x.md']).get('/docs/x.md')!.cached);
    await assert.rejects(fs.warmFromDir('/none'), { code: 'ENOENT', syscall: 'scandir', path: '/none' });
    await fs.close();
  });

  test('warmFromDir on disk: links to files are warmed, links to directories are not followed', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cachefs-'));
    after(() => rm(root, { recursive: true, force: true }));
    await mkdir(join(root, 'w/sub'), { recursive: true });
    await writeFile(join(root, 'w/one.txt'), '1');
    await writeFile(join(root, 'w/sub/two.txt'), '22');
    await symlink('one.txt', join(root, 'w/link.txt'));
    await symlink('.', join(root, 'w/sub/loop'));
    const fs = new CacheFS(nodeBackend(root));
    const result = await fs.warmFromDir('/w');
    assert.deepEqual(result, { total: 3, completed: 3, errors: 0, bytesRead: 3, errorsByCode: {}, evicted: 0 }, 'link.txt shares one.txt (already cached)');
    assert.equal(fs.stats().entries, 2, 'a link and its target are one entry');
    await fs.close();
  });

  test('warmFromPattern with skipErrors counts an unreadable directory as one failed item', async () => {
    const backend = faultyBackend(memoryBackend(tree));
    const fs = new CacheFS(backend);
    backend.faults.failNth('readdir', 2, 'EACCES');
    const result = await fs.warmFromDir('/src', { skipErrors: true });
    assert.deepEqual(result, { total: 2, completed: 1, errors: 1, bytesRead: 1, errorsByCode: { EACCES: 1 }, evicted: 0 });
    backend.faults.failNth('readdir', 2, 'EACCES');
    await assert.rejects(fs.warmFromDir('/src'), { code: 'EACCES', path: '/src/lib' });
    await fs.close();
  });

  test('warmFromList: reads the list through the cache, skips comments and blanks, resolves relative paths', async () => {
    const list = ['# hot files', '/src/a.ts', '', '  lib/b.ts  ', '/src/a.ts', '# the end', '/docs/missing.md'].join('\n');
    const backend = faultyBackend(memoryBackend({ ...tree, '/lists/hot.txt': list }));
    const fs = new CacheFS(backend);
    await fs.chdir('/src');
    const result = await fs.warmFromList('/lists/hot.txt', { skipErrors: true });
    assert.deepEqual(result, { total: 3, completed: 2, errors: 1, bytesRead: 3, errorsByCode: { ENOENT: 1 }, evicted: 0 });
    assert.ok(fs.batchStats(['/src/lib/b.ts']).get('/src/lib/b.ts')!.cached);
    assert.equal(fs.stats().misses, 1, 'the list itself was read like any file');
    await assert.rejects(fs.warmFromList('/lists/none.txt'), { code: 'ENOENT' });
    await fs.close();
  });

  test('warmSmart: most looked-up uncached files first; directories, rare and cached paths left out', async () => {
    const backend = faultyBackend(memoryBackend({ '/a': 'aaaa', '/b': 'bb', '/c': 'c', '/e': 'eeeeee', '/dir/x': 'x' }));
    const fs = new CacheFS(backend, { metadataCache: true });
    const look = async (p: string, n: number) => {
      for (let i = 0; i < n; i++) await fs.stat(p);
    };
    await look('/b', 3);
    await look('/a', 5);
    await look('/c', 1);
    await look('/dir', 4);
    await look('/e', 6);
    await fs.readFile('/e');
    const order: string[] = [];
    const result = await fs.warmSmart({ concurrency: 1 });
    fs.on('warmProgress', (e: { path: string }) => order.push(e.path));
    assert.deepEqual(result, { total: 2, completed: 2, errors: 0, bytesRead: 6, errorsByCode: {}, evicted: 0 });
    await fs.invalidate('/a');
    await fs.invalidate('/b');
    await look('/a', 5);
    await look('/b', 3);
    await fs.warmSmart({ concurrency: 1 });
    assert.deepEqual(order, ['/a', '/b']);
    await fs.invalidate('/a');
    await fs.invalidate('/b');
    order.length = 0;
    assert.equal((await fs.warmSmart({ limit: 1 })).total, 1);
    assert.deepEqual(order, ['/a']);
    order.length = 0;
    assert.equal((await fs.warmSmart({ minLookups: 7 })).total, 0, 'only /a has 7 lookups or more, and it is cached now');
    await fs.close();
  });
});

test('a pin belongs to the path: a write-through rewrite keeps the entry pinned under pressure', async () => {
  const fs = new CacheFS(memoryBackend({ '/p': 'pinned', '/a': 'x'.repeat(50), '/b': 'y'.repeat(50) }), { maxBytes: 100 });
  await fs.warm(['/p'], { priority: 'high' });
  await fs.writeFile('/p', 'pinned, rewritten');
  await fs.readFile('/a');
  await fs.readFile('/b');
  const stats = fs.batchStats(['/p']);
  assert.equal(stats.get('/p')?.cached, true);
  assert.equal(await fs.readFile('/p', 'utf8'), 'pinned, rewritten');
  await fs.close();
});
