// Write-back holds a program's writes in the cache; a sync form drops what the cache holds for the paths
// it changes. These check that no sync change loses unflushed bytes: on the cache, and on the disk after
// a flush, the file still has what the program wrote.
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CacheFS, nodeBackend, toNodeFs } from '../../src/index.js';
import { tempDirs } from '../support.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

type Fs = typeof nodeFs;
const ids = (): [number, number] => [process.getuid!(), process.getgid!()];

/** Each change is made with sync forms right after a write the cache still holds dirty; [path to read, change]. */
const changes: [string, string, (f: Fs) => void][] = [
  ['chmodSync', '/d/a.txt', (f) => f.chmodSync('/d/a.txt', 0o600)],
  ['chownSync', '/d/a.txt', (f) => f.chownSync('/d/a.txt', ...ids())],
  ['utimesSync', '/d/a.txt', (f) => f.utimesSync('/d/a.txt', 1, 2)],
  ['renameSync of the file', '/d/b.txt', (f) => f.renameSync('/d/a.txt', '/d/b.txt')],
  ['renameSync of its directory', '/e/a.txt', (f) => f.renameSync('/d', '/e')],
  ['linkSync', '/d/hard.txt', (f) => f.linkSync('/d/a.txt', '/d/hard.txt')],
  ['lchownSync', '/d/a.txt', (f) => f.lchownSync('/d/a.txt', ...ids())],
  ['lutimesSync', '/d/a.txt', (f) => f.lutimesSync('/d/a.txt', 1, 2)],
  ['cpSync of its directory (the copy has the bytes)', '/e/a.txt', (f) => f.cpSync('/d', '/e', { recursive: true })],
];

describe('toNodeFs sync changes in write-back keep unflushed data', () => {
  for (const [name, readBack, change] of changes) {
    it(name, async () => {
      const root = await dirs.make();
      nodeFs.mkdirSync(join(root, 'd'));
      const cache = new CacheFS(nodeBackend(root), { writeMode: 'write-back', flushInterval: 600_000 });
      const f = toNodeFs(cache) as unknown as Fs;
      await cache.writeFile('/d/a.txt', 'unflushed bytes');
      assert.ok(cache.detailedStats().dirtyEntries > 0, 'the write is held dirty');
      change(f);
      assert.equal(f.readFileSync(readBack, 'utf8'), 'unflushed bytes', 'through the cache');
      await cache.flush();
      assert.equal(nodeFs.readFileSync(join(root, readBack), 'utf8'), 'unflushed bytes', 'on the disk');
      await cache.close();
    });
  }
});
