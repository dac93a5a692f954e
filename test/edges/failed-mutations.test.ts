// Issue 17, item 3 (API 1.3 §2): a mutating backend call that takes effect and then rejects (a lost
// acknowledgement, injected by faultyBackend with `when: 'after'`) must not leave the cache stale.
// After the failure, every answer of the cache is compared with what node:fs/promises reads from the
// real directory, in every write mode. Dirty data is never dropped: it stays dirty and is flushed later.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { CacheFS, nodeBackend } from '../../src/index.js';
import { faultyBackend, type FaultOperation } from '../fault-backend.js';
import type { WriteMode } from '../../src/options.js';
import { tempDirs } from '../support.js';

const MODES: WriteMode[] = ['write-through', 'write-back', 'write-around'];
const dirs = tempDirs();
after(() => dirs.cleanup());

const PATHS = ['/a', '/b', '/c', '/d', '/d/x', '/l', '/m'];

async function answer(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    const v = await fn();
    if (Buffer.isBuffer(v)) return v.toString();
    if (v && typeof v === 'object' && 'isFile' in v) {
      const st = v as { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; size: number; mode: number };
      return { file: st.isFile(), dir: st.isDirectory(), link: st.isSymbolicLink(), size: st.isDirectory() ? 0 : st.size, mode: st.mode };
    }
    return v;
  } catch (err) {
    return { code: (err as { code?: string }).code };
  }
}

/** The cache's answers for every path, beside Node's on the real directory. */
async function assertMatchesDisk(cache: CacheFS, dir: string, context: string): Promise<void> {
  for (const p of PATHS) {
    assert.deepEqual(await answer(() => cache.readFile(p)), await answer(() => fsp.readFile(dir + p)), `${context}: readFile ${p}`);
    assert.deepEqual(await answer(() => cache.stat(p)), await answer(() => fsp.stat(dir + p)), `${context}: stat ${p}`);
    assert.deepEqual(await answer(() => cache.lstat(p)), await answer(() => fsp.lstat(dir + p)), `${context}: lstat ${p}`);
  }
  assert.deepEqual(await answer(() => cache.readdir('/')), await answer(async () => (await fsp.readdir(dir)).sort()), `${context}: readdir /`);
  assert.deepEqual(await answer(() => cache.readdir('/d')), await answer(async () => (await fsp.readdir(`${dir}/d`)).sort()), `${context}: readdir /d`);
}

/** Each scenario: the backend operations that fail after taking effect, and the call that makes them. */
const SCENARIOS: [string, FaultOperation[], (fs: CacheFS) => Promise<unknown>][] = [
  ['rename to a new name', ['rename'], (fs) => fs.rename('/a', '/c')],
  ['rename over another file', ['rename'], (fs) => fs.rename('/a', '/b')],
  ['rename of a directory', ['rename'], (fs) => fs.rename('/d', '/m')],
  ['writeFile', ['writeFile', 'write', 'truncate'], (fs) => fs.writeFile('/a', 'new bytes of a')],
  ['writeFile of a new file', ['writeFile', 'write', 'truncate'], (fs) => fs.writeFile('/c', 'new file c')],
  ['appendFile', ['writeFile', 'write', 'truncate'], (fs) => fs.appendFile('/a', '+tail')],
  ['handle write', ['writeFile', 'write', 'truncate'], async (fs) => {
    const h = await fs.open('/a', 'r+');
    try {
      await h.write(Buffer.from('XY'), 0, 2, 1);
    } finally {
      await h.close();
    }
  }],
  ['truncate', ['writeFile', 'write', 'truncate'], (fs) => fs.truncate('/a', 2)],
  ['unlink', ['unlink'], (fs) => fs.unlink('/a')],
  ['rm -r', ['unlink', 'rmdir'], (fs) => fs.rm('/d', { recursive: true })],
  ['chmod', ['chmod'], (fs) => fs.chmod('/a', 0o600)],
  ['utimes', ['utimes'], (fs) => fs.utimes('/a', 1000, 2000)],
  ['symlink', ['symlink'], (fs) => fs.symlink('b', '/l')],
  ['mkdir', ['mkdir'], (fs) => fs.mkdir('/m')],
  ['copyFile', ['writeFile', 'write', 'copyFile'], (fs) => fs.copyFile('/b', '/c')],
];

async function setUp(mode: WriteMode): Promise<{ dir: string; cache: CacheFS; backend: ReturnType<typeof faultyBackend> }> {
  const dir = await dirs.make();
  await fsp.writeFile(`${dir}/a`, 'old a');
  await fsp.writeFile(`${dir}/b`, 'old b');
  await fsp.mkdir(`${dir}/d`);
  await fsp.writeFile(`${dir}/d/x`, 'old x');
  const backend = faultyBackend(nodeBackend(dir));
  const cache = new CacheFS(backend, { writeMode: mode, metadataCache: true });
  // Everything the cache can know: data, metadata, listings, resolutions.
  await assertMatchesDisk(cache, dir, 'before');
  return { dir, cache, backend };
}

describe('a failed mutating backend call leaves nothing stale (item 3)', () => {
  for (const mode of MODES) {
    test(mode, async () => {
      for (const [name, ops, call] of SCENARIOS) {
        const { dir, cache, backend } = await setUp(mode);
        try {
          backend.faults.resetCalls();
          backend.faults.failAlways(ops, 'EIO', 'after');
          let failed: unknown;
          try {
            await call(cache);
          } catch (err) {
            failed = err;
          }
          if (failed === undefined) {
            // Write-back took the call into the cache: the failure comes with the flush, and the data stays dirty.
            assert.equal(mode, 'write-back', `${name}: the call must fail in ${mode}`);
            await assert.rejects(cache.flush(), `${name}: the flush fails`);
            assert.ok(cache.detailedStats().dirtyEntries > 0, `${name}: the data stays dirty after a failed flush`);
          } else {
            assert.equal((failed as { code?: string }).code, 'EIO', `${mode} ${name}: ${String(failed)}`);
          }
          const injected = ops.reduce((n, op) => n + backend.faults.calls[op], 0);
          assert.ok(injected > 0, `${name}: the fault was reached`);
          backend.faults.heal();
          await assertMatchesDisk(cache, dir, `${mode} ${name} after the failure`);
          await cache.flush(); // dirty data, if any, is retried and lands
          assert.equal(cache.detailedStats().dirtyEntries, 0, `${name}: flushed`);
          await assertMatchesDisk(cache, dir, `${mode} ${name} after the retry`);
        } finally {
          backend.faults.heal();
          await cache.close();
        }
      }
    });
  }

  test('write-back: dirty data of other paths, and of the path itself, survives a failed call', async () => {
    const { dir, cache, backend } = await setUp('write-back');
    try {
      await cache.writeFile('/a', 'dirty a');
      await cache.writeFile('/d/x', 'dirty x');
      backend.faults.failAlways(['unlink'], 'EIO', 'after');
      await assert.rejects(cache.unlink('/b'), { code: 'EIO', syscall: 'unlink' });
      backend.faults.failAlways(['chmod'], 'EIO', 'after');
      await assert.rejects(cache.chmod('/a', 0o600), { code: 'EIO' });
      backend.faults.heal();
      assert.equal(cache.detailedStats().dirtyEntries, 2);
      assert.equal((await cache.readFile('/a')).toString(), 'dirty a');
      assert.equal((await cache.readFile('/d/x')).toString(), 'dirty x');
      await assert.rejects(cache.readFile('/b'), { code: 'ENOENT' });
      await cache.flush();
      assert.equal(await fsp.readFile(`${dir}/a`, 'utf8'), 'dirty a');
      assert.equal(await fsp.readFile(`${dir}/d/x`, 'utf8'), 'dirty x');
      await assertMatchesDisk(cache, dir, 'after the flush');
    } finally {
      await cache.close();
    }
  });
});
