// Async races: concurrent misses share one backend read, and a load that began before a mutation never
// installs its stale result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheFS, memoryBackend } from '../src/index.js';
import { faultyBackend } from './fault-backend.js';

for (const writeMode of ['write-through', 'write-back', 'write-around'] as const) {
  test(`${writeMode}: a slow read, a write in between, and the cache still returns the written bytes`, async () => {
    const backend = faultyBackend(memoryBackend({ '/f': 'old contents' }), {});
    const fs = new CacheFS(backend, { writeMode, flushInterval: 0 });
    const gate = backend.faults.gate('readFile');
    const slowRead = fs.readFile('/f', 'utf8');
    await gate.reached; // the load has read nothing yet, and is in flight
    const write = fs.writeFile('/f', 'new contents');
    if (writeMode === 'write-back') {
      await write; // write-back does not need the backend's readFile
    } else {
      await write;
    }
    gate.release();
    assert.equal(await slowRead, 'old contents', 'the concurrent read returns what it read');
    assert.equal(await fs.readFile('/f', 'utf8'), 'new contents');
    assert.equal(await fs.readFile('/f', 'utf8'), 'new contents');
    await fs.close();
  });
}

test('a load that began before a truncate, rename or unlink never installs', async () => {
  for (const mutate of ['truncate', 'rename', 'unlink'] as const) {
    const backend = faultyBackend(memoryBackend({ '/f': 'abcdef', '/g': 'other' }), {});
    const fs = new CacheFS(backend);
    const gate = backend.faults.gate('readFile');
    const slowRead = fs.readFile('/f', 'utf8');
    await gate.reached;
    if (mutate === 'truncate') await fs.truncate('/f', 2);
    if (mutate === 'rename') await fs.rename('/g', '/f');
    if (mutate === 'unlink') await fs.unlink('/f');
    gate.release();
    await slowRead.catch(() => undefined);
    if (mutate === 'truncate') assert.equal(await fs.readFile('/f', 'utf8'), 'ab');
    if (mutate === 'rename') assert.equal(await fs.readFile('/f', 'utf8'), 'other');
    if (mutate === 'unlink') await assert.rejects(fs.readFile('/f'), { code: 'ENOENT' });
  }
});

test('concurrent misses of one path share a single backend read', async () => {
  const backend = faultyBackend(memoryBackend({ '/shared': 'x'.repeat(1000) }), {});
  const fs = new CacheFS(backend);
  const gate = backend.faults.gate('readFile');
  const reads = Array.from({ length: 50 }, () => fs.readFile('/shared'));
  await gate.reached;
  gate.release();
  const results = await Promise.all(reads);
  assert.equal(backend.faults.calls.readFile, 1);
  for (const r of results) assert.equal(r.length, 1000);
  results[0]!.fill(0);
  assert.equal((await fs.readFile('/shared', 'utf8'))[0], 'x', 'each caller got its own buffer');
  assert.equal(fs.stats().misses, 50);
});

test('invalidate during a slow load: the load does not resurrect the entry', async () => {
  const backend = faultyBackend(memoryBackend({ '/f': 'v1' }), {});
  const fs = new CacheFS(backend);
  const gate = backend.faults.gate('readFile');
  const slowRead = fs.readFile('/f', 'utf8');
  await gate.reached;
  await backend.writeFile('/f', Buffer.from('v2')); // changed behind the cache's back
  await fs.invalidate('/f');
  gate.release();
  await slowRead;
  assert.equal(fs.stats().entries, 0);
});

test('concurrent writes to one file reach the backend and the cache in the same order', async () => {
  const backend = faultyBackend(memoryBackend({}), {});
  const fs = new CacheFS(backend);
  backend.faults.latency('writeFile', 5);
  await Promise.all(Array.from({ length: 20 }, (_, i) => fs.writeFile('/w', `value ${i}`)));
  const cached = await fs.readFile('/w', 'utf8');
  assert.equal(Buffer.from(await backend.readFile('/w')).toString(), cached);
  assert.equal(cached, 'value 19');
});
