// Block-cached files (issue 12): counting, entries, batchStats, scan resistance, coherence, and the
// descriptor a handle keeps, on a real temporary directory. The block size and threshold are lowered
// through the cache's internal BlockCache knobs so the files stay small.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS, nodeBackend, memoryBackend } from '../src/index.js';
import type { Backend, BackendFile } from '../src/index.js';
import { nextEvent, tempDirs } from './support.js';
import { faultyBackend } from './fault-backend.js';
import { settle } from './until.js';

const dirs = tempDirs();
test.after(() => dirs.cleanup());

/** Content whose every byte says where it is, so a byte from the wrong block cannot pass. */
function pattern(size: number, salt = 0): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + salt + (i >> 8)) & 0xff;
  return b;
}

function small(cfs: CacheFS, threshold = 1024, blockSize = 256): CacheFS {
  const blocks = (cfs as unknown as { core: { blocks: { threshold: number; blockSize: number } } }).core.blocks;
  blocks.threshold = threshold;
  blocks.blockSize = blockSize;
  return cfs;
}

/** Counts `open` calls and live backend files of a real backend (a wrapper, no fake behaviour). */
function countingOpens(backend: Backend): { backend: Backend; opens: () => number; live: () => number } {
  let opens = 0;
  let live = 0;
  const wrapped = Object.create(backend) as Backend;
  wrapped.open = async (path, flags) => {
    const file = await backend.open!(path, flags);
    opens++;
    live++;
    const counted: BackendFile = Object.create(file) as BackendFile;
    counted.close = async () => {
      live--;
      await file.close();
    };
    return counted;
  };
  return { backend: wrapped, opens: () => opens, live: () => live };
}

test('positional reads of a block-cached file: the bytes Node reads, one hit or miss per call, entries count files', async () => {
  const root = await dirs.make();
  const data = pattern(5000);
  await fsp.writeFile(join(root, 'big'), data);
  const cfs = small(new CacheFS(nodeBackend(root), { maxBytes: 1 << 20 }));
  const node = await fsp.open(join(root, 'big'));
  const h = await cfs.open('/big');
  const reads: [number, number][] = [[10, 100], [200, 300], [10, 100], [0, 5000], [4990, 100], [6000, 10], [255, 2], [200, 300]];
  for (const [position, length] of reads) {
    const want = Buffer.alloc(length);
    const got = Buffer.alloc(length);
    const { bytesRead: n } = await node.read(want, 0, length, position);
    const before = cfs.stats();
    const { bytesRead } = await h.read(got, 0, length, position);
    const after = cfs.stats();
    assert.equal(bytesRead, n, `bytesRead at ${position}`);
    assert.deepEqual(got.subarray(0, bytesRead), want.subarray(0, n), `bytes at ${position}`);
    assert.equal(after.hits + after.misses - before.hits - before.misses, 1, `one count for the read at ${position}`);
  }
  const s = cfs.stats();
  assert.ok(s.hits >= 2, 'repeated ranges are served from blocks');
  assert.equal(s.entries, 1, 'one file, however many blocks');
  const info = cfs.batchStats(['/big']).get('/big')!;
  assert.equal(info.cached, true);
  assert.equal(info.size, 5000, "batchStats gives the file's size");
  // The whole read above loaded every block: readFile assembles them.
  const hitsBefore = cfs.stats().hits;
  assert.deepEqual(await cfs.readFile('/big'), data);
  assert.equal(cfs.stats().hits, hitsBefore + 1, 'readFile of a resident block-cached file is one hit');
  await h.close();
  await node.close();
  await cfs.close();
});

test('a scan larger than a quarter of maxBytes streams through without flushing the hot set', async () => {
  const root = await dirs.make();
  const big = pattern(64 * 1024, 3);
  await fsp.writeFile(join(root, 'scan'), big);
  const hot: string[] = [];
  for (let i = 0; i < 8; i++) {
    await fsp.writeFile(join(root, `h${i}`), pattern(500, i));
    hot.push(`/h${i}`);
  }
  const cfs = small(new CacheFS(nodeBackend(root), { maxBytes: 16 * 1024 }));
  for (const p of hot) await cfs.readFile(p);
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(await cfs.readFile('/scan'), big);
    const stats = cfs.batchStats(hot);
    for (const p of hot) assert.equal(stats.get(p)!.cached, true, `${p} still cached after scan ${round}`);
  }
  assert.equal(cfs.stats().misses, hot.length + 3, 'each scan is one miss');
  await cfs.close();
});

test('writes, truncation, invalidation and removal drop a file\'s blocks: reads follow the file', async () => {
  for (const writeMode of ['write-through', 'write-back', 'write-around'] as const) {
    const root = await dirs.make();
    const ref = join(root, 'ref');
    await fsp.mkdir(join(root, 'c'));
    await fsp.writeFile(join(root, 'c', 'f'), pattern(3000));
    await fsp.writeFile(ref, pattern(3000));
    const cfs = small(new CacheFS(nodeBackend(join(root, 'c')), { writeMode, maxBytes: 1 << 20, flushInterval: 0 }));
    const check = async (label: string): Promise<void> => {
      const want = await fsp.readFile(ref);
      const h = await cfs.open('/f');
      for (const [position, length] of [[0, 700], [250, 20], [0, 700], [2990, 50]] as const) {
        const got = Buffer.alloc(length);
        const { bytesRead } = await h.read(got, 0, length, position);
        assert.deepEqual(got.subarray(0, bytesRead), want.subarray(position, position + length), `${writeMode} ${label} at ${position}`);
      }
      await h.close();
      assert.deepEqual(await cfs.readFile('/f'), want, `${writeMode} ${label}: readFile`);
    };
    await check('initial');
    const w = await cfs.open('/f', 'r+');
    await w.write(Buffer.from('ACROSS-A-BOUNDARY'), 0, 17, 250);
    await w.close();
    const rh = await fsp.open(ref, 'r+');
    await rh.write(Buffer.from('ACROSS-A-BOUNDARY'), 0, 17, 250);
    await rh.close();
    await check('after a write across a block boundary');
    await cfs.truncate('/f', 1300);
    await fsp.truncate(ref, 1300);
    await check('after a truncation into a block');
    await cfs.truncate('/f', 2600);
    await fsp.truncate(ref, 2600);
    await check('after growing it back');
    await cfs.flush();
    // Changed behind the cache: invalidate is how the program says so.
    await fsp.writeFile(join(root, 'c', 'f'), pattern(4000, 9));
    await fsp.writeFile(ref, pattern(4000, 9));
    assert.equal(await cfs.invalidate('/f'), true, 'invalidate reports the blocks it dropped');
    await check('after invalidate');
    await cfs.unlink('/f');
    await assert.rejects(cfs.readFile('/f'), { code: 'ENOENT' });
    assert.equal(cfs.stats().entries, 0);
    await cfs.close();
  }
});

test('revalidation drops the blocks of a file changed behind the cache', async () => {
  const root = await dirs.make();
  await fsp.writeFile(join(root, 'f'), pattern(3000));
  const cfs = small(new CacheFS(nodeBackend(root), { revalidate: 'always', maxBytes: 1 << 20 }));
  const h = await cfs.open('/f');
  const buf = Buffer.alloc(100);
  await h.read(buf, 0, 100, 300);
  await h.read(buf, 0, 100, 300);
  await fsp.writeFile(join(root, 'f'), pattern(3000, 77)); // same size, new bytes (and mtime)
  await new Promise((resolve) => setTimeout(resolve, 30));
  const h2 = await cfs.open('/f');
  await h2.read(buf, 0, 100, 300);
  assert.deepEqual(buf, pattern(3000, 77).subarray(300, 400));
  await h.close();
  await h2.close();
  await cfs.close();
});

test('watch drops the blocks of a file changed on disk', async () => {
  const root = await dirs.make();
  await fsp.writeFile(join(root, 'f'), pattern(3000));
  const cfs = small(new CacheFS(nodeBackend(root), { watch: true, maxBytes: 1 << 20 }));
  const h = await cfs.open('/f');
  const buf = Buffer.alloc(100);
  await h.read(buf, 0, 100, 600);
  await h.read(buf, 0, 100, 600);
  await h.close();
  assert.equal(cfs.batchStats(['/f']).get('/f')!.cached, true);
  const seen = nextEvent(cfs, 'watchInvalidate');
  await fsp.writeFile(join(root, 'f'), pattern(3000, 5));
  await seen;
  assert.equal(cfs.batchStats(['/f']).get('/f')!.cached, false, 'the blocks left with the change');
  assert.deepEqual((await cfs.readFile('/f')).subarray(600, 700), pattern(3000, 5).subarray(600, 700));
  await cfs.close();
});

test('a handle keeps one backend file for its misses and closes it; a backend without open reads by path', async () => {
  const root = await dirs.make();
  await fsp.writeFile(join(root, 'f'), pattern(5000));
  const counted = countingOpens(nodeBackend(root));
  const cfs = small(new CacheFS(counted.backend, { maxBytes: 1 << 20 }));
  const h = await cfs.open('/f');
  const buf = Buffer.alloc(64);
  for (let p = 0; p < 5000; p += 700) {
    const { bytesRead } = await h.read(buf, 0, 64, p);
    assert.deepEqual(buf.subarray(0, bytesRead), pattern(5000).subarray(p, p + 64));
  }
  assert.equal(counted.opens(), 1, 'one backend open for every miss of the handle');
  assert.equal(counted.live(), 1);
  await h.close();
  assert.equal(counted.live(), 0, 'close releases the backend file');
  await assert.rejects(h.read(buf, 0, 1, 0), { code: 'EBADF' });
  await cfs.close();

  // The same reads through a backend that lacks the open-file face: by path, as before.
  const withoutOpen = Object.create(memoryBackend({ '/f': pattern(5000) })) as Backend;
  (withoutOpen as { open?: unknown }).open = undefined;
  const mem = small(new CacheFS(withoutOpen, { maxBytes: 1 << 20 }));
  const mh = await mem.open('/f');
  for (let p = 0; p < 5000; p += 700) {
    const { bytesRead } = await mh.read(buf, 0, 64, p);
    assert.deepEqual(buf.subarray(0, bytesRead), pattern(5000).subarray(p, p + 64));
  }
  await mh.close();
  await mem.close();
});

test('a handle closes its backend file only after the block loads it started, and starts none after', async () => {
  const root = await dirs.make();
  const data = pattern(5000, 2);
  await fsp.writeFile(join(root, 'f'), data);
  const backend = faultyBackend(nodeBackend(root));
  const cfs = small(new CacheFS(backend, { maxBytes: 1 << 20 }));
  const h = await cfs.open('/f');
  const buf = Buffer.alloc(100);
  await h.read(buf, 0, 100, 0); // loads block 0 through the handle's backend file
  const held = backend.faults.gate('read', 'before');
  await h.read(buf, 0, 100, 100); // a sequential hit: read-ahead of the next blocks starts, and is held
  assert.deepEqual(buf, data.subarray(100, 200));
  await held.reached;
  let closed = false;
  const closing = h.close().then(() => (closed = true));
  await settle(20);
  assert.equal(closed, false, 'close waits for the read-ahead in flight on its file');
  held.release();
  await closing;
  // Another handle's sequential hit reads ahead with the source the blocks were loaded through: the
  // closed file refuses it before it reaches the backend.
  const reads = backend.faults.calls.read;
  const h2 = await cfs.open('/f');
  await h2.read(buf, 0, 100, 200);
  assert.deepEqual(buf, data.subarray(200, 300));
  await settle(20);
  assert.equal(backend.faults.calls.read, reads, 'nothing read through the closed file');
  await h2.close();
  assert.deepEqual(await cfs.readFile('/f'), data);
  await cfs.close();
});
