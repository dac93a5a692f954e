// Writes that complete before the call returns (engine/writer.ts: a cached file over an in-memory backend,
// write-through or write-around): the same bytes, errors, counters and cache state as the asynchronous way.
// Each script runs over `memoryBackend()` (immediate) and over `{ ...memoryBackend() }`, which does not
// inherit the in-memory claim (the reference way); the bytes are also compared with node:fs on a real file.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { open as diskOpen, readFile as diskReadFile, writeFile as diskWriteFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS, memoryBackend, type Backend } from '../src/index.js';
import type { CacheFSOptions } from '../src/options.js';
import { tempDirs } from './support.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

type Outcome = Record<string, unknown>;

/** Runs `script` over the immediate backend and the reference one, and returns both outcomes. */
async function both(options: CacheFSOptions, files: Record<string, string>, script: (cfs: CacheFS, backend: Backend) => Promise<Outcome>): Promise<[Outcome, Outcome]> {
  const run = async (backend: Backend): Promise<Outcome> => {
    const cfs = new CacheFS(backend, options);
    try {
      const out = await script(cfs, backend);
      const s = cfs.detailedStats();
      return { ...out, writeOps: s.writeOps, hits: s.hits, misses: s.misses, entries: s.entries };
    } finally {
      await cfs.close();
    }
  };
  const immediate = memoryBackend(files);
  assert.equal(immediate.syncInMemory, true, 'the immediate way is under test');
  const reference = { ...memoryBackend(files) };
  assert.notEqual(reference.syncInMemory, true, 'the reference backend takes the asynchronous way');
  return [await run(immediate), await run(reference)];
}

const settled = <T>(p: Promise<T>): Promise<{ ok: T } | { code: unknown }> =>
  p.then(
    (ok) => ({ ok }),
    (err: NodeJS.ErrnoException) => ({ code: err.code }),
  );

describe('immediate writes', () => {
  for (const writeMode of ['write-through', 'write-around'] as const) {
    test(`${writeMode}: open 'w' / positional writes / 'a' on a cached file match the reference way and node:fs`, async () => {
      const [fast, slow] = await both({ writeMode }, { '/f.txt': 'hello world' }, async (cfs) => {
        await cfs.readFile('/f.txt'); // cached
        const h = await cfs.open('/f.txt', 'w');
        const r1 = await h.write(Buffer.from('abc'));
        const r2 = await h.write(Buffer.from('XY'), 0, 2, 7); // a gap of zeros before it
        const r3 = await h.write('z'); // at the handle's position, which the positional write left alone
        await h.close();
        const afterW = (await cfs.readFile('/f.txt')).toString('hex');
        const a = await cfs.open('/f.txt', 'a');
        await a.write('!');
        await a.close();
        return { r1: r1.bytesWritten, r2: r2.bytesWritten, r3: r3.bytesWritten, afterW, final: (await cfs.readFile('/f.txt')).toString('hex') };
      });
      assert.deepEqual(fast, slow);
      // node:fs on a real file: the same script's bytes.
      const path = join(await dirs.make(), 'f.txt');
      await diskWriteFile(path, 'hello world');
      const h = await diskOpen(path, 'w');
      await h.write(Buffer.from('abc'));
      await h.write(Buffer.from('XY'), 0, 2, 7);
      await h.write('z');
      await h.close();
      assert.equal(fast['afterW'], (await diskReadFile(path)).toString('hex'));
      const a = await diskOpen(path, 'a');
      await a.write('!');
      await a.close();
      assert.equal(fast['final'], (await diskReadFile(path)).toString('hex'));
    });
  }

  test('a cached file removed behind the cache: open "w" fails with the same code, and the cache forgets it alike', async () => {
    const [fast, slow] = await both({ writeMode: 'write-through' }, { '/gone.txt': 'data' }, async (cfs, backend) => {
      await cfs.readFile('/gone.txt');
      await backend.unlink('/gone.txt'); // behind the cache
      const opened = await settled(cfs.open('/gone.txt', 'w'));
      const read = await settled(cfs.readFile('/gone.txt', 'utf8'));
      return { opened: 'code' in opened ? opened : 'opened', read };
    });
    assert.deepEqual(fast, slow);
    assert.deepEqual(fast['opened'], { code: 'ENOENT' }, 'truncating a file that is gone fails as the backend says');
    assert.deepEqual(fast['read'], { code: 'ENOENT' }, 'the stale copy was dropped with the failure');
  });

  test('a write arriving while the path is locked waits for the mutation before it (no immediate way then)', async () => {
    const [fast, slow] = await both({ writeMode: 'write-through' }, { '/r.txt': '0123456789' }, async (cfs) => {
      await cfs.readFile('/r.txt');
      const h = await cfs.open('/r.txt', 'r+');
      // The truncation takes the path's lock as it is called; the write arrives while it is held.
      const cut = h.truncate(5);
      const part = h.write('xy', 7);
      await Promise.all([cut, part]);
      await h.close();
      return { text: (await cfs.readFile('/r.txt')).toString('hex') };
    });
    assert.deepEqual(fast, slow);
    // In call order: cut to 5, then 'xy' at 7 after a gap of zeros. The other order would leave '01234'.
    assert.equal(fast['text'], Buffer.from('01234\0\0xy', 'latin1').toString('hex'));
  });
});
