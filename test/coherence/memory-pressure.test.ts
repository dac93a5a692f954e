// Memory pressure: above `memoryPressure` limits, clean entries are shed coldest first; dirty and pinned
// ones never leave that way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheFS, memoryBackend } from '../../src/index.js';
import { MemoryPressure } from '../../src/coherence/memory-pressure.js';
import { nextEvent } from './helpers.js';

interface Shed {
  entries: number;
  bytes: number;
  sample: { heapUsed: number; rss: number };
}

test('memoryPressure over a tiny limit: the timer sheds every clean entry, every dirty entry stays', async () => {
  const interval = MemoryPressure.intervalMs;
  MemoryPressure.intervalMs = 10;
  const files: Record<string, string> = {};
  for (let i = 0; i < 6; i++) files[`/clean${i}`] = `clean file ${i}`;
  const backend = memoryBackend(files);
  const fs = new CacheFS(backend, { writeMode: 'write-back', flushInterval: 0, memoryPressure: { maxRss: 1 } });
  MemoryPressure.intervalMs = interval;
  let shedBytes = 0;
  fs.on('shed', (e: Shed) => {
    assert.ok(e.sample.rss > 1 && e.entries > 0);
    shedBytes += e.bytes;
  });
  await fs.writeFile('/dirty0', 'unflushed zero');
  for (const path of Object.keys(files)) await fs.readFile(path);
  await fs.writeFile('/dirty1', 'unflushed one');
  // The timer keeps sampling: wait for the sample that leaves only the dirty entries.
  if (fs.stats().entries > 2) await nextEvent<Shed>(fs, 'shed', () => fs.stats().entries === 2);
  const stats = fs.detailedStats();
  assert.deepEqual(fs.core.store.allKeys().sort(), ['/dirty0', '/dirty1']);
  assert.equal(stats.dirtyEntries, 2);
  const cleanBytes = Object.values(files).reduce((n, s) => n + s.length, 0);
  assert.ok(stats.bytesShed >= cleanBytes, `${stats.bytesShed} bytes shed`);
  assert.equal(stats.bytesShed, shedBytes, "bytesShed sums the 'shed' events");
  assert.equal(await fs.readFile('/dirty0', 'utf8'), 'unflushed zero');
  assert.equal(await fs.readFile('/dirty1', 'utf8'), 'unflushed one');
  await fs.flush();
  assert.equal(new TextDecoder().decode(await backend.readFile('/dirty1')), 'unflushed one');
  await fs.close();
});

test("shedding follows the policy's order, coldest first, and passes over dirty entries", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 6; i++) files[`/clean${i}`] = `clean file ${i}`;
  // pool: false: the shed bytes are compared with file sizes (with pooling they are the chunks' sizes).
  const fs = new CacheFS(memoryBackend(files), { writeMode: 'write-back', flushInterval: 0, pool: false });
  const shedOrder: string[] = [];
  fs.on('evict', (e: { path: string; reason: string }) => {
    if (e.reason === 'pressure') shedOrder.push(e.path);
  });
  await fs.readFile('/clean3');
  await fs.writeFile('/dirty0', 'unflushed zero');
  for (const i of [0, 1, 2, 4, 5]) await fs.readFile(`/clean${i}`);
  await fs.writeFile('/dirty1', 'unflushed one');
  await fs.readFile('/clean3'); // a hit: now the warmest
  const shed = nextEvent<Shed>(fs, 'shed');
  const pressure = new MemoryPressure(fs.core, { maxRss: 1 });
  pressure.close();
  const result = pressure.check();
  const cleanBytes = Object.values(files).reduce((n, s) => n + s.length, 0);
  assert.deepEqual(shedOrder, ['/clean0', '/clean1', '/clean2', '/clean4', '/clean5', '/clean3']);
  assert.equal(result?.entries, 6);
  assert.equal(result?.bytes, cleanBytes);
  assert.deepEqual(await shed, result);
  assert.equal(fs.detailedStats().bytesShed, cleanBytes);
  assert.equal(fs.detailedStats().dirtyEntries, 2);
  await fs.close();
});

test('pinned entries are not shed, and dirty ones keep being flushable and evictable afterwards', async () => {
  const backend = memoryBackend({ '/a': 'aaaa', '/b': 'bbbb', '/pinned': 'pppp' });
  const fs = new CacheFS(backend, { writeMode: 'write-back', flushInterval: 0, maxEntries: 3 });
  await fs.readFile('/pinned');
  fs.core.store.pin(fs.core.store.lookup('/pinned'));
  await fs.writeFile('/dirty', 'dddd');
  await fs.readFile('/a');
  const pressure = new MemoryPressure(fs.core, { maxRss: 1 });
  pressure.close();
  const result = pressure.check();
  assert.equal(result?.entries, 1, 'only /a was clean and evictable');
  assert.deepEqual(fs.core.store.allKeys().sort(), ['/dirty', '/pinned']);
  // The dirty entry went back to the policy: a later eviction can still flush and evict it.
  await fs.readFile('/a');
  await fs.readFile('/b');
  assert.equal(fs.stats().entries, 3);
  assert.equal(new TextDecoder().decode(await backend.readFile('/dirty')), 'dddd', 'flushed before it was evicted');
  await fs.close();
});

test('under the limits nothing is shed', async () => {
  const fs = new CacheFS(memoryBackend({ '/a': 'aaaa' }));
  await fs.readFile('/a');
  const pressure = new MemoryPressure(fs.core, { maxHeapUsed: Number.MAX_SAFE_INTEGER, maxRss: Number.MAX_SAFE_INTEGER });
  pressure.close();
  assert.equal(pressure.check(), undefined);
  assert.equal(fs.stats().entries, 1);
  assert.equal(fs.detailedStats().bytesShed, 0);
  await fs.close();
});

test('memoryPressure options are validated', () => {
  assert.throws(() => new CacheFS(memoryBackend(), { memoryPressure: { maxRss: -1 } }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(err.message, /memoryPressure\.maxRss/);
    return true;
  });
  assert.throws(() => new CacheFS(memoryBackend(), { memoryPressure: { maxHeapUsed: 1.5 } }), { code: 'ERR_INVALID_ARG_VALUE' });
});
