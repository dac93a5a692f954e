// Blocks of large files and the cache's limits (issue 12): maxEntries counts files, however many blocks
// each has.
// Block size and threshold are lowered through the cache's internal BlockCache knobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS, nodeBackend } from '../src/index.js';
import { tempDirs } from './support.js';

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
