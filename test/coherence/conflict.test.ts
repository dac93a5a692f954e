// The write-back conflict rule: when a dirty entry's file changes behind the cache, the program's
// acknowledged write wins, is flushed over the external change at once, and 'conflict' names the path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile as diskRead } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS, nodeBackend } from '../../src/index.js';
import { faultyBackend } from '../fault-backend.js';
import { inChild, invalidated, nextEvent, seed, tempRoot } from './helpers.js';

interface Conflict {
  path: string;
  detectedBy: 'revalidate' | 'watch';
  deleted: boolean;
}

const detections = [
  ['revalidate', { revalidate: 0 }],
  ['watch', { watch: true }],
] as const;

for (const [detectedBy, options] of detections) {
  test(`${detectedBy}: a file changed behind a dirty entry — the program's write wins and is flushed`, async () => {
    const { root, cleanup } = await tempRoot();
    await seed(root, { '/c.txt': 'base' });
    const fs = new CacheFS(nodeBackend(root), { writeMode: 'write-back', flushInterval: 0, ...options });
    assert.equal(await fs.readFile('/c.txt', 'utf8'), 'base');
    await fs.writeFile('/c.txt', 'ours');
    const conflict = nextEvent<Conflict>(fs, 'conflict');
    const flushed = nextEvent<{ path: string }>(fs, 'flush', (e) => e.path === '/c.txt');
    await inChild(root, `fs.writeFileSync(path.join(root, 'c.txt'), 'theirs')`);
    if (detectedBy === 'revalidate') assert.equal(await fs.readFile('/c.txt', 'utf8'), 'ours', 'a read sees the dirty data');
    assert.deepEqual(await conflict, { path: '/c.txt', detectedBy, deleted: false });
    await flushed;
    assert.equal(await diskRead(join(root, 'c.txt'), 'utf8'), 'ours', 'flushed over the external change');
    assert.equal(await fs.readFile('/c.txt', 'utf8'), 'ours');
    assert.equal(fs.detailedStats().changesDetected, 1);
    await fs.close();
    await cleanup();
  });

  test(`${detectedBy}: a file deleted behind a dirty entry is recreated with the program's data`, async () => {
    const { root, cleanup } = await tempRoot();
    await seed(root, { '/d.txt': 'base' });
    const fs = new CacheFS(nodeBackend(root), { writeMode: 'write-back', flushInterval: 0, ...options });
    assert.equal(await fs.readFile('/d.txt', 'utf8'), 'base');
    await fs.writeFile('/d.txt', 'ours, acknowledged');
    const conflict = nextEvent<Conflict>(fs, 'conflict');
    const flushed = nextEvent<{ path: string }>(fs, 'flush', (e) => e.path === '/d.txt');
    await inChild(root, `fs.unlinkSync(path.join(root, 'd.txt'))`);
    if (detectedBy === 'revalidate') assert.equal(await fs.readFile('/d.txt', 'utf8'), 'ours, acknowledged');
    const seen = await conflict;
    assert.equal(seen.deleted, true);
    await flushed;
    assert.equal(await diskRead(join(root, 'd.txt'), 'utf8'), 'ours, acknowledged');
    await fs.close();
    await cleanup();
  });
}

test('no conflict is reported for a dirty entry whose file nobody else touched', async () => {
  const { root, cleanup } = await tempRoot();
  await seed(root, { '/q.txt': 'base' });
  const fs = new CacheFS(nodeBackend(root), { writeMode: 'write-back', flushInterval: 0, revalidate: 0 });
  let conflicts = 0;
  fs.on('conflict', () => conflicts++);
  await fs.readFile('/q.txt');
  await fs.writeFile('/q.txt', 'ours');
  assert.equal(await fs.readFile('/q.txt', 'utf8'), 'ours');
  await fs.flush();
  assert.equal(await fs.readFile('/q.txt', 'utf8'), 'ours');
  await fs.writeFile('/q.txt', 'ours again');
  assert.equal(await fs.readFile('/q.txt', 'utf8'), 'ours again');
  await fs.close();
  assert.equal(conflicts, 0);
  assert.equal(await diskRead(join(root, 'q.txt'), 'utf8'), 'ours again');
  await cleanup();
});

test("watch: the cache's own flush, seen by the watcher while it runs, is not a conflict", async () => {
  const { root, cleanup } = await tempRoot();
  await seed(root, { '/own.txt': 'base' });
  const backend = faultyBackend(nodeBackend(root));
  const fs = new CacheFS(backend, { writeMode: 'write-back', flushInterval: 0, watch: true });
  let conflicts = 0;
  fs.on('conflict', () => conflicts++);
  assert.equal(await fs.readFile('/own.txt', 'utf8'), 'base');
  await fs.writeFile('/own.txt', 'ours');
  // Hold the flush between its write and its end, so that the entry is still dirty when the watcher
  // reports the write and the cache checks the file.
  const holdFlush = backend.faults.gate('utimes', 'before');
  // Hold the check too, from before the flush starts: the watcher may report the write (and the cache
  // stat the file) at any point of the flush, on a slow machine even before the flush reaches utimes
  // (its write and truncate are separate calls). A gate set up only after that would wait for a stat
  // that already happened, with nothing left to keep the event loop alive.
  const holdCheck = backend.faults.gate('stat', 'after');
  const seen = invalidated(fs, ['/own.txt']);
  const flushing = fs.flush();
  await Promise.all([holdFlush.reached, holdCheck.reached, seen]);
  // The check's stat saw our own bytes on disk; it ends while the flush still runs.
  holdCheck.release();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(conflicts, 0);
  holdFlush.release();
  await flushing;
  assert.equal(await diskRead(join(root, 'own.txt'), 'utf8'), 'ours');
  await fs.close();
  assert.equal(conflicts, 0);
  await cleanup();
});
