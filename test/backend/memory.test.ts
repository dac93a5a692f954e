import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { memoryBackend } from '../../src/backend/memory.js';
import { FsError } from '../../src/errors.js';
import { backendContract, bytes, rejectsWith, S_IFDIR, S_IFMT, text } from './contract.js';
import { facesContract } from './faces.js';

describe('memoryBackend', () => {
  backendContract(async () => memoryBackend());
  facesContract(async () => memoryBackend(), { linux: true });

  it("is named 'memory' and has every optional method but watch", () => {
    const b = memoryBackend();
    assert.equal(b.name, 'memory');
    for (const method of ['read', 'write', 'realpath', 'chown', 'copyFile'] as const) {
      assert.equal(typeof b[method], 'function', method);
    }
    assert.equal(b.watch, undefined);
  });

  it('is seeded from a record of absolute paths, creating parents', async () => {
    const seed = new Uint8Array([1, 2, 3]);
    const b = memoryBackend({ '/a/b/c.txt': 'text', '/a/bin': seed, '/top': '' });
    seed[0] = 9;
    assert.equal(text(await b.readFile('/a/b/c.txt')), 'text');
    assert.deepEqual([...(await b.readFile('/a/bin'))], [1, 2, 3]);
    assert.equal((await b.stat('/top')).size, 0);
    assert.equal((await b.stat('/a/b')).mode & S_IFMT, S_IFDIR);
    assert.deepEqual((await b.readdir('/a')).map((e) => e.name).sort(), ['b', 'bin']);
  });

  it('stores strings as UTF-8', async () => {
    const b = memoryBackend({ '/u': 'é✓' });
    assert.deepEqual([...(await b.readFile('/u'))], [0xc3, 0xa9, 0xe2, 0x9c, 0x93]);
  });

  it('the sync face is a plain object whose calls work detached', () => {
    const b = memoryBackend({ '/f': 'sync' });
    assert.ok(b.sync);
    const { readFile, stat, writeFile } = b.sync;
    writeFile('/g', bytes('detached'));
    assert.equal(text(readFile('/g')), 'detached');
    assert.equal(stat('/f').size, 4);
    assert.equal(Object.getPrototypeOf(b.sync), Object.prototype);
    assert.throws(() => readFile('/nope'), { code: 'ENOENT', syscall: 'open', path: '/nope' });
  });

  it('instances do not share files', async () => {
    const one = memoryBackend({ '/f': 'one' });
    const two = memoryBackend();
    await two.writeFile('/g', bytes('two'));
    await rejectsWith(two.readFile('/f'), 'ENOENT');
    await rejectsWith(one.readFile('/g'), 'ENOENT');
  });

  it('errors are FsErrors naming the paths of the call, not the resolved ones', async () => {
    const b = memoryBackend({ '/real/f': 'x' });
    await b.symlink('/real', '/alias');
    const err = await rejectsWith(b.mkdir('/alias/f'), 'EEXIST');
    assert.ok(err instanceof FsError);
    assert.equal(err.path, '/alias/f');
    const renamed = await rejectsWith(b.rename('/alias/f', '/alias/f/x'), 'ENOTDIR');
    assert.equal(renamed.path, '/alias/f');
    assert.equal(renamed.dest, '/alias/f/x');
  });
});

describe('memoryBackend rename over an existing file', () => {
  it('leaves the directory countable: rmdir succeeds once it is empty', async () => {
    const b = memoryBackend({ '/a': 'alpha', '/d/a': 'delta-a' });
    await b.rename('/a', '/d/a');
    assert.equal(Buffer.from(await b.readFile('/d/a')).toString(), 'alpha');
    await b.unlink('/d/a');
    assert.deepEqual(await b.readdir('/d'), []);
    await b.rmdir('/d');
    await assert.rejects(b.stat('/d'), { code: 'ENOENT' });
  });
});
