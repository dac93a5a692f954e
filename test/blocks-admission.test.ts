// Which blocks of a large file random reads admit (issue 12, 19): the doorkeeper, what a block costs next
// to a read, neighbours of resident blocks over a slow store, background fills; and that maxEntries
// counts files, however many blocks each has.
// Block size and threshold are lowered through the cache's internal BlockCache knobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS, nodeBackend } from '../src/index.js';
import { BlockAdmission } from '../src/engine/blocks-admission.js';
import { newBlockedFile } from '../src/engine/block-file.js';
import { tempDirs } from './support.js';
import { until } from './until.js';

const dirs = tempDirs();
test.after(() => dirs.cleanup());

/** Content whose every byte says where it is, so a byte from the wrong block cannot pass. */
function pattern(size: number, salt = 0): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + salt + (i >> 8)) & 0xff;
  return b;
}

interface Knobs {
  threshold: number;
  blockSize: number;
  admission: BlockAdmission;
  files: Map<string, { slots: Map<number, number> }>;
}

function knobs(cfs: CacheFS): Knobs {
  return (cfs as unknown as { core: { blocks: Knobs } }).core.blocks;
}

function small(cfs: CacheFS, blockSize = 256): CacheFS {
  const blocks = knobs(cfs);
  blocks.threshold = 1024;
  blocks.blockSize = blockSize;
  return cfs;
}

const resident = (cfs: CacheFS, path: string): number[] => [...(knobs(cfs).files.get(path)?.slots.keys() ?? [])].sort((a, b) => a - b);

test('decide: unknown or local costs admit on the second touch and fill beside the read; the doorkeeper forgets by cost', () => {
  const a = new BlockAdmission();
  const f = newBlockedFile(1 << 20, undefined, 0);
  assert.equal(a.decide(f, 7, false, 100), 'range', 'first touch, costs unknown: the range only');
  assert.equal(a.decide(f, 7, false, 100), 'range+fill', 'second touch: admitted, filled beside the read');
  a.fillStarted(new Promise(() => undefined));
  a.fillStarted(new Promise(() => undefined));
  a.decide(f, 8, false, 100);
  assert.equal(a.decide(f, 8, false, 100), 'range', 'admitted, but both fills are busy');
  assert.equal(a.decide(f, 8, false, 100), 'range', 'still remembered while they are');

  // A local disk: a block costs ten range reads, so the doorkeeper remembers a tenth of the capacity.
  const local = new BlockAdmission();
  local.rangeRead(0.05);
  local.blockLoaded(0.5);
  assert.equal(local.cheapBlocks, false);
  const g = newBlockedFile(1 << 20, undefined, 0);
  local.decide(g, 0, false, 100);
  for (let b = 1; b <= 10; b++) local.decide(g, b, false, 100);
  assert.equal(local.decide(g, 0, false, 100), 'range', 'block 0 was forgotten after ten other first touches');
  assert.equal(local.decide(g, 0, false, 100), 'range+fill');
});

test('decide: where blocks cost what reads do, the caller loads them; a block nearby is admitted at its first touch', () => {
  const network = new BlockAdmission();
  network.rangeRead(20);
  network.blockLoaded(24);
  assert.equal(network.cheapBlocks, true);
  const f = newBlockedFile(1 << 20, undefined, 0);
  assert.equal(network.decide(f, 3, true, 100), 'block', 'next to a resident block, with room');
  assert.equal(network.decide(f, 5, false, 100), 'range', 'otherwise the doorkeeper');
  assert.equal(network.decide(f, 5, false, 100), 'block', 'second touch');

  const costly = new BlockAdmission();
  costly.rangeRead(20);
  costly.blockLoaded(60);
  assert.equal(costly.cheapBlocks, false, 'a block dearer than two reads (a slow link) is not cheap');
  const fast = new BlockAdmission();
  fast.rangeRead(0.2);
  fast.blockLoaded(0.2);
  assert.equal(fast.cheapBlocks, false, 'nor is one whose reads do not wait on a network');
});

test('on a local disk a random first touch reads its range only; the second admits the block, filled beside the read', async () => {
  const root = await dirs.make();
  const data = pattern(64 * 1024);
  await fsp.writeFile(join(root, 'big'), data);
  const cfs = small(new CacheFS(nodeBackend(root), { maxBytes: 1 << 20 }));
  const h = await cfs.open('/big');
  const buf = Buffer.alloc(100);
  const readAt = async (position: number): Promise<void> => {
    const { bytesRead } = await h.read(buf, 0, 100, position);
    assert.deepEqual(buf.subarray(0, bytesRead), data.subarray(position, position + 100), `bytes at ${position}`);
  };
  await readAt(0); // the file's first read loads its block and learns the file is large
  assert.deepEqual(resident(cfs, '/big'), [0]);
  await readAt(40 * 256 + 10);
  assert.deepEqual(resident(cfs, '/big'), [0], 'one touch admits nothing');
  const before = cfs.stats();
  await readAt(40 * 256 + 50);
  assert.equal(cfs.stats().misses, before.misses + 1, 'the second touch is a miss');
  await until(() => resident(cfs, '/big').includes(40), 'the fill of block 40');
  await readAt(40 * 256 + 120);
  assert.equal(cfs.stats().hits, before.hits + 1, 'then the block serves reads');
  await h.close();
  await cfs.close();
});

test('over a store whose reads wait on a network, a neighbour of a resident block loads at its first touch and brings its own', async () => {
  const root = await dirs.make();
  const data = pattern(64 * 1024, 3);
  await fsp.writeFile(join(root, 'big'), data);
  const cfs = small(new CacheFS(nodeBackend(root), { maxBytes: 1 << 20 }));
  const h = await cfs.open('/big');
  const buf = Buffer.alloc(100);
  await h.read(buf, 0, 100, 0);
  // What a 20 ms round trip measures: reads and blocks cost alike. Enough samples to outweigh whatever
  // the first read measured on this machine, and the few local reads below cannot undo it.
  for (let i = 0; i < 40; i++) {
    knobs(cfs).admission.rangeRead(20);
    knobs(cfs).admission.blockLoaded(20);
  }
  const before = cfs.stats();
  const { bytesRead } = await h.read(buf, 0, 100, 256 + 30);
  assert.deepEqual(buf.subarray(0, bytesRead), data.subarray(286, 386));
  assert.equal(cfs.stats().misses, before.misses + 1);
  assert.ok(resident(cfs, '/big').includes(1), 'block 1, next to resident block 0, was admitted at its first touch');
  await until(() => resident(cfs, '/big').includes(2), 'read-around of block 2');
  for (const position of [256 + 200, 2 * 256 + 5]) {
    const got = await h.read(buf, 0, 100, position);
    assert.deepEqual(buf.subarray(0, got.bytesRead), data.subarray(position, position + 100));
  }
  assert.equal(cfs.stats().hits, before.hits + 2, 'both served from blocks');
  await h.close();
  await cfs.close();
});

test('maxEntries counts files: a file\'s blocks take one entry, however many are resident', async () => {
  const root = await dirs.make();
  const big = pattern(5000, 1);
  await fsp.writeFile(join(root, 'big'), big);
  await fsp.writeFile(join(root, 's1'), 'one');
  await fsp.writeFile(join(root, 's2'), 'two');
  const cfs = small(new CacheFS(nodeBackend(root), { maxEntries: 2, maxBytes: 1 << 20 }));
  assert.deepEqual(await cfs.readFile('/big'), big);
  assert.equal(resident(cfs, '/big').length, 20, 'every block of a file read whole');
  assert.equal(await cfs.readFile('/s1', 'utf8'), 'one');
  assert.equal(cfs.stats().entries, 2);
  assert.equal(resident(cfs, '/big').length, 20, 'two files are within maxEntries: no block left');
  const hits = cfs.stats().hits;
  assert.deepEqual(await cfs.readFile('/big'), big);
  assert.equal(cfs.stats().hits, hits + 1, 'the large file is still whole in the cache');
  assert.equal(await cfs.readFile('/s2', 'utf8'), 'two');
  const { entries } = cfs.stats();
  assert.equal(entries, 2, 'a third file makes one leave');
  assert.equal(cfs.batchStats(['/s1']).get('/s1')!.cached, false, 'the least recently used file left');
  await cfs.close();
});
