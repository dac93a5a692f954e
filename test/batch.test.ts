// Batch operations: batchInvalidate, batchStats and prefetch.
import { test, describe, mock } from 'node:test';
import assert from 'node:assert/strict';
import { CacheFS, memoryBackend } from '../src/index.js';
import { faultyBackend } from './fault-backend.js';
import { until, settle } from './until.js';

const FILES = { '/a': 'alpha', '/b': 'bravo!', '/c': 'c', '/dir/d': 'delta' };

describe('batchInvalidate', () => {
  test('drops what is cached, counts the paths that had anything, emits invalidate for each', async () => {
    const fs = new CacheFS(memoryBackend(FILES), { metadataCache: true });
    await fs.readFile('/a');
    await fs.readFile('/b');
    await fs.stat('/dir/d'); // metadata only: counts as cached
    const events: string[] = [];
    fs.on('invalidate', (e: { path: string }) => events.push(e.path));
    const invalidateOpsBefore = fs.detailedStats().invalidateOps;
    assert.equal(await fs.batchInvalidate(['/a', '/b', '/c', '/dir/d', '/nowhere']), 3);
    assert.deepEqual(events, ['/a', '/b', '/dir/d']);
    assert.equal(fs.stats().entries, 0);
    assert.equal(fs.detailedStats().metadataEntries, 0);
    assert.equal(fs.detailedStats().invalidateOps - invalidateOpsBefore, 5, 'one invalidation per path');
    assert.equal(await fs.batchInvalidate(['/a']), 0, 'nothing left to drop');
    assert.equal(await fs.batchInvalidate([]), 0);
    await fs.close();
  });

  test('agrees with a loop of invalidate() on the same cache state', async () => {
    const setup = async (): Promise<CacheFS> => {
      const fs = new CacheFS(memoryBackend(FILES), { metadataCache: true });
      await fs.readFile('/a');
      await fs.readFile('/dir/d');
      await fs.stat('/c');
      return fs;
    };
    const paths = ['/a', '/b', '/c', '/dir/d', '/a'];
    const one = await setup();
    const two = await setup();
    let loop = 0;
    for (const p of new Set(paths)) if (await one.invalidate(p)) loop++;
    assert.equal(await two.batchInvalidate(paths), loop);
    assert.deepEqual(
      { entries: two.stats().entries, meta: two.detailedStats().metadataEntries },
      { entries: one.stats().entries, meta: one.detailedStats().metadataEntries },
    );
    await one.close();
    await two.close();
  });

  test('write-back: dirty entries are flushed before they leave; a failed flush keeps its entry and rejects', async () => {
    const backend = faultyBackend(memoryBackend(FILES));
    const fs = new CacheFS(backend, { writeMode: 'write-back', flushInterval: 0 });
    await fs.writeFile('/a', 'new a');
    await fs.writeFile('/b', 'new b');
    await fs.readFile('/c');
    assert.equal(await fs.batchInvalidate(['/a', '/b', '/c']), 3);
    assert.equal(Buffer.from(await backend.readFile('/a')).toString(), 'new a');
    assert.equal(Buffer.from(await backend.readFile('/b')).toString(), 'new b');
    assert.equal(fs.stats().entries, 0);

    await fs.writeFile('/a', 'newer a');
    await fs.readFile('/c');
    backend.faults.failAlways(['writeFile', 'write', 'truncate'], 'EIO'); // the calls a (ranged) flush makes
    const events: string[] = [];
    fs.on('invalidate', (e: { path: string }) => events.push(e.path));
    await assert.rejects(fs.batchInvalidate(['/a', '/c']), (err: AggregateError) => {
      assert.ok(err instanceof AggregateError);
      assert.equal(err.errors.length, 1);
      assert.equal((err.errors[0] as { code: string }).code, 'EIO');
      return true;
    });
    assert.deepEqual(events, ['/c'], 'the clean path was dropped');
    const a = fs.batchStats(['/a']).get('/a')!;
    assert.deepEqual(a, { path: '/a', size: 7, dirty: true, accessCount: 0, cached: true }, 'the dirty entry stays');
    backend.faults.heal();
    assert.equal(await fs.readFile('/a', 'utf8'), 'newer a');
    await fs.close();
  });

  test('a load in flight does not reinstall a path invalidated meanwhile', async () => {
    const backend = faultyBackend(memoryBackend({ '/f': 'v1' }));
    const fs = new CacheFS(backend);
    const gate = backend.faults.gate('readFile', 'after');
    const reading = fs.readFile('/f', 'utf8');
    await gate.reached;
    await backend.writeFile('/f', Buffer.from('v2'));
    await fs.batchInvalidate(['/f']);
    gate.release();
    await reading;
    assert.equal(fs.stats().entries, 0);
    assert.equal(await fs.readFile('/f', 'utf8'), 'v2');
    await fs.close();
  });

  test('paths of a sub view, and invalid arguments', async () => {
    const fs = new CacheFS(memoryBackend(FILES));
    const view = fs.sub('/dir');
    await view.readFile('/d');
    const events: string[] = [];
    fs.on('invalidate', (e: { path: string }) => events.push(e.path));
    assert.equal(await view.batchInvalidate(['/d']), 1);
    assert.deepEqual(events, ['/d']);
    await assert.rejects(fs.batchInvalidate('/a' as never), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(fs.batchInvalidate(['/a\u0000']), { code: 'ERR_INVALID_ARG_VALUE' });
    await fs.close();
    await assert.rejects(fs.batchInvalidate(['/a']), { code: 'ERR_CACHEFS_CLOSED' });
  });
});

describe('batchStats', () => {
  test('reports size, dirty, accessCount and cached from memory, without a backend call or a hit', async () => {
    const backend = faultyBackend(memoryBackend(FILES));
    const fs = new CacheFS(backend, { writeMode: 'write-back', flushInterval: 0 });
    await fs.readFile('/a');
    await fs.readFile('/a');
    await fs.readFile('/a');
    await fs.writeFile('/b', 'dirty!!');
    const before = fs.stats();
    backend.faults.resetCalls();
    const stats = fs.batchStats(['/a', '/b', '/c', 'dir/d']);
    assert.deepEqual([...stats.keys()], ['/a', '/b', '/c', 'dir/d'], 'keyed by the path as given');
    assert.deepEqual(stats.get('/a'), { path: '/a', size: 5, dirty: false, accessCount: 2, cached: true });
    assert.deepEqual(stats.get('/b'), { path: '/b', size: 7, dirty: true, accessCount: 0, cached: true });
    assert.deepEqual(stats.get('/c'), { path: '/c', size: 0, dirty: false, accessCount: 0, cached: false });
    assert.equal(stats.get('dir/d')!.cached, false);
    assert.equal(Object.values(backend.faults.calls).reduce((x, y) => x + y, 0), 0);
    assert.deepEqual(fs.stats(), before);
    assert.throws(() => fs.batchStats(null as never), { code: 'ERR_INVALID_ARG_TYPE' });
    await fs.close();
  });

  test('an entry past its TTL is not reported as cached', async () => {
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    try {
      const fs = new CacheFS(memoryBackend(FILES), { ttl: 1 });
      await fs.readFile('/a');
      assert.equal(fs.batchStats(['/a']).get('/a')!.cached, true);
      mock.timers.tick(1);
      assert.equal(fs.batchStats(['/a']).get('/a')!.cached, false);
      await fs.close();
    } finally {
      mock.timers.reset();
    }
  });
});

describe('prefetch', () => {
  test('loads the files, lists failures, and counts no reads', async () => {
    const backend = faultyBackend(memoryBackend(FILES));
    const fs = new CacheFS(backend);
    await fs.readFile('/c');
    fs.resetStats();
    const events: unknown[] = [];
    fs.on('warmProgress', (e) => events.push(e));
    const result = await fs.prefetch(['/a', '/b', '/c', '/missing', '/dir']);
    assert.equal(result.loaded, 3);
    assert.deepEqual(result.failed.map((f) => [f.path, (f.error as { code: string }).code]), [['/missing', 'ENOENT'], ['/dir', 'EISDIR']]);
    assert.equal(fs.stats().entries, 3);
    assert.equal(fs.stats().hits + fs.stats().misses, 0);
    assert.deepEqual(events, [], 'a prefetch is not a warm: no warmProgress events');
    await assert.rejects(fs.prefetch(['/a', '/missing'], { skipErrors: false }), { code: 'ENOENT' });
    await assert.rejects(fs.prefetch(['/a'], { concurrency: 1.5 }), { code: 'ERR_INVALID_ARG_VALUE' });
    await fs.close();
  });

  test('bounded concurrency, and abort stops it', async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 8; i++) many[`/p${i}`] = 'x';
    const backend = faultyBackend(memoryBackend(many));
    const fs = new CacheFS(backend);
    const gate = backend.faults.gate('readFile', 'before');
    const controller = new AbortController();
    const prefetching = fs.prefetch(Object.keys(many), { concurrency: 2, signal: controller.signal });
    await until(() => gate.waiting === 2, 'two loads in flight');
    assert.equal(fs.warmingProgress().total, 0, 'a prefetch is not counted as a warm');
    controller.abort();
    await assert.rejects(prefetching, { name: 'AbortError', code: 'ABORT_ERR' });
    gate.release();
    await until(() => gate.waiting === 0, 'the in-flight loads finish');
    await settle();
    assert.equal(backend.faults.calls.readFile, 2);
    await fs.close();
  });
});
