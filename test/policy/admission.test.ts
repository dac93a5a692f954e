import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CacheFS } from '../../src/fs/cachefs.js';
import { memoryBackend } from '../../src/backend/memory.js';
import type { PolicyName } from '../../src/policy/policy.js';

/** A cache over files /a … /j (content: the name), limited to `maxEntries`, recording evicted paths. */
function cache(eviction: PolicyName, maxEntries: number, writeMode: 'write-through' | 'write-back' = 'write-through') {
  const files: Record<string, string> = {};
  for (const name of 'abcdefghij') files[`/${name}`] = name;
  const backend = memoryBackend(files);
  const fs = new CacheFS(backend, { eviction, maxEntries, maxBytes: 0, writeMode, flushInterval: 0 });
  const evicted: string[] = [];
  fs.on('evict', (e: { path: string }) => evicted.push(e.path));
  const read = async (...names: string[]): Promise<void> => {
    for (const n of names) assert.equal(await fs.readFile(`/${n}`, 'utf8'), n);
  };
  return { fs, backend, evicted, read };
}

test('admission before insertion, sieve: the hand evicts among the residents, then the new file goes in (NSDI\'24)', async () => {
  const { fs, evicted, read } = cache('sieve', 2);
  await read('a', 'b', 'a', 'b'); // both visited
  await read('c');
  // The hand clears a and b, wraps, and evicts a; c takes its place. Inserting c first would have made c
  // the only unvisited entry, evicted on arrival.
  assert.deepEqual(evicted, ['/a']);
  const before = fs.stats().hits;
  await read('c');
  assert.equal(fs.stats().hits, before + 1, 'c is cached');
  await fs.close();
});

test('admission before insertion, lfu: a newcomer is not its own victim when every resident was hit', async () => {
  const { fs, evicted, read } = cache('lfu', 2);
  await read('a', 'a', 'a', 'b', 'b');
  await read('c');
  assert.deepEqual(evicted, ['/b'], 'the least frequent resident leaves');
  await read('c');
  assert.equal(fs.stats().hits, 4, 'c is cached: a a, b, and c hit');
  await fs.close();
});

test('admission before insertion, tinylfu: a refused candidate counts in rejections, not evictions', async () => {
  const { fs, evicted, read } = cache('tinylfu', 4);
  await read('a', 'b', 'c', 'd'); // the window holds d; a, b, c are on probation
  await read('e'); // d, seen once, leaves the window and ties a: refused, and a goes round probation again
  let s = fs.detailedStats();
  assert.deepEqual(evicted, ['/d']);
  assert.equal(s.rejections, 1);
  assert.equal(s.evictions, 0);
  await read('e', 'f'); // e, hit once, beats b, now at the head of probation
  s = fs.detailedStats();
  assert.deepEqual(evicted, ['/d', '/b']);
  assert.equal(s.rejections, 1);
  assert.equal(s.evictions, 1);
  assert.equal(s.entries, 4);
  fs.resetStats();
  assert.equal(fs.detailedStats().rejections, 0, 'reset with the other counters');
  await fs.close();
});

test('admission before insertion never loses written data: dirty files refused or evicted are flushed first', async () => {
  for (const eviction of ['tinylfu', 'sieve', 'lfu', 'lru', 'hybrid'] as const) {
    const { fs, backend } = cache(eviction, 3, 'write-back');
    for (let round = 0; round < 3; round++) {
      for (const name of 'abcdefghij') await fs.writeFile(`/${name}`, `${name}${round}`);
    }
    await fs.flush();
    for (const name of 'abcdefghij') {
      assert.equal(Buffer.from(await backend.readFile(`/${name}`)).toString(), `${name}2`, `${eviction}: /${name}`);
      assert.equal(await fs.readFile(`/${name}`, 'utf8'), `${name}2`, `${eviction}: /${name} through the cache`);
    }
    assert.ok(fs.stats().entries <= 3, `${eviction}: ${fs.stats().entries} entries`);
    await fs.close();
  }
});
