// copyFile uses a backend's own copy (API.md 1.3 §11) when it has one and the cache holds nothing newer
// than the backend for either file; otherwise it reads through the cache and writes, so that write-back
// data not yet flushed is what gets copied.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { copyFile as nodeCopyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS, memoryBackend, nodeBackend, type Backend } from '../src/index.js';
import { faultyBackend } from './fault-backend.js';
import { backendText, tempDirs } from './support.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

describe('copyFile', () => {
  test("a backend's own copy is used when it has one", async () => {
    const backend = faultyBackend(memoryBackend({ '/a': 'alpha' }));
    const cfs = new CacheFS(backend);
    await cfs.copyFile('/a', '/b');
    assert.equal(backend.faults.calls.copyFile, 1);
    assert.equal(backend.faults.calls.readFile, 0, 'the bytes did not pass through the cache');
    assert.equal(await cfs.readFile('/b', 'utf8'), 'alpha');
    await cfs.close();
  });

  test('a cached copy of the destination is dropped, so the next read sees the copy', async () => {
    const backend = faultyBackend(memoryBackend({ '/a': 'alpha', '/b': 'old' }));
    const cfs = new CacheFS(backend, { metadataCache: true });
    assert.equal(await cfs.readFile('/b', 'utf8'), 'old');
    assert.equal((await cfs.stat('/b')).size, 3);
    await cfs.copyFile('/a', '/b');
    assert.equal(await cfs.readFile('/b', 'utf8'), 'alpha');
    assert.equal((await cfs.stat('/b')).size, 5);
    await cfs.close();
  });

  test('write-back: dirty data of the source is what is copied (not the backend’s older bytes)', async () => {
    const backend = faultyBackend(memoryBackend({ '/a': 'on disk' }));
    const cfs = new CacheFS(backend, { writeMode: 'write-back', flushInterval: 0 });
    await cfs.writeFile('/a', 'only in the cache');
    await cfs.copyFile('/a', '/b');
    assert.equal(backend.faults.calls.copyFile, 0);
    assert.equal(await cfs.readFile('/b', 'utf8'), 'only in the cache');
    await cfs.close();
    assert.equal(await backendText(backend, '/b'), 'only in the cache');
  });

  test('write-back: a dirty destination is written through the cache, so its flush cannot undo the copy', async () => {
    const backend = faultyBackend(memoryBackend({ '/a': 'alpha' }));
    const cfs = new CacheFS(backend, { writeMode: 'write-back', flushInterval: 0 });
    await cfs.writeFile('/b', 'dirty');
    await cfs.copyFile('/a', '/b');
    assert.equal(backend.faults.calls.copyFile, 0);
    await cfs.close();
    assert.equal(await backendText(backend, '/b'), 'alpha');
  });

  test('a backend without a copy face reads and writes through the cache', async () => {
    const { copyFile: _unused, ...rest } = memoryBackend({ '/a': 'alpha' });
    const backend = rest as Backend;
    const cfs = new CacheFS(backend);
    await cfs.copyFile('/a', '/b');
    assert.equal(await backendText(backend, '/b'), 'alpha');
    await cfs.close();
  });

  test('COPYFILE_EXCL through the backend fails as Node does on a real directory', async () => {
    const root = await dirs.make();
    const bare = await dirs.make();
    for (const dir of [root, bare]) {
      await writeFile(join(dir, 'a'), 'alpha');
      await writeFile(join(dir, 'b'), 'beta');
    }
    const nodeError = await nodeCopyFile(join(bare, 'a'), join(bare, 'b'), constants.COPYFILE_EXCL).then(
      () => assert.fail('Node copied over an existing file'),
      (err: NodeJS.ErrnoException) => err,
    );
    const cfs = new CacheFS(nodeBackend(root));
    await assert.rejects(cfs.copyFile('/a', '/b', constants.COPYFILE_EXCL), (err: NodeJS.ErrnoException & { dest?: string }) => {
      assert.equal(err.code, nodeError.code);
      assert.equal(err.syscall, nodeError.syscall);
      assert.equal(err.path, '/a');
      assert.equal(err.dest, '/b');
      return true;
    });
    assert.equal(await readFile(join(root, 'b'), 'utf8'), 'beta');
    await cfs.close();
  });
});
