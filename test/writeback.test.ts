// Write-back: every flush trigger, positional correctness before and after a flush, ordering with
// renames and removals, and what a failing backend may and may not do to written data.
import { after, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile as readDisk, utimes, writeFile as writeDisk } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS, memoryBackend, nodeBackend, type Backend } from '../src/index.js';
import { faultyBackend, type FaultCode } from './fault-backend.js';
import type { CacheFSOptions } from '../src/options.js';
import { nextEvent, prng, tempDirs, truncateModel, until, writeAtModel, backendText } from './support.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

const WB: CacheFSOptions = { writeMode: 'write-back', flushInterval: 0 };


async function exists(backend: Backend, path: string): Promise<boolean> {
  return backend.lstat(path).then(
    () => true,
    () => false,
  );
}

const BACKENDS: Array<[string, (files: Record<string, string>) => Promise<Backend>]> = [
  ['memory', async (files) => memoryBackend(files)],
  [
    'disk',
    async (files) => {
      const root = await dirs.make();
      const b = nodeBackend(root);
      for (const [p, content] of Object.entries(files)) await b.writeFile(p, Buffer.from(content));
      return b;
    },
  ],
];

describe('flush triggers', () => {
  test('the background flusher writes dirty data every flushInterval', async () => {
    const backend = memoryBackend({ '/a': 'old' });
    const fs = new CacheFS(backend, { writeMode: 'write-back', flushInterval: 10 });
    const flushed = nextEvent(fs, 'flush', (e) => e.path === '/a');
    await fs.writeFile('/a', 'new content');
    assert.equal(await backendText(backend, '/a'), 'old', 'the write itself did not reach the backend');
    assert.deepEqual(await flushed, { path: '/a', bytes: 11 });
    assert.equal(await backendText(backend, '/a'), 'new content');
    assert.equal(fs.detailedStats().dirtyEntries, 0);
    await fs.close();
  });

  test('closing a handle flushes its file (flushOnClose), and not when flushOnClose is false', async () => {
    for (const flushOnClose of [true, false]) {
      const backend = memoryBackend({ '/a': 'abcdef' });
      const fs = new CacheFS(backend, { ...WB, flushOnClose });
      const h = await fs.open('/a', 'r+');
      await h.write(Buffer.from('XY'), 0, 2, 2);
      assert.equal(await backendText(backend, '/a'), 'abcdef');
      await h.close();
      assert.equal(await backendText(backend, '/a'), flushOnClose ? 'abXYef' : 'abcdef', `flushOnClose: ${flushOnClose}`);
      await fs.close();
      assert.equal(await backendText(backend, '/a'), 'abXYef', 'close flushes in any case');
    }
  });

  test('handle.sync() and datasync() flush the file', async () => {
    const backend = memoryBackend({ '/a': '123' });
    const fs = new CacheFS(backend, { ...WB, flushOnClose: false });
    const h = await fs.open('/a', 'r+');
    await h.write('9', 0);
    await h.sync();
    assert.equal(await backendText(backend, '/a'), '923');
    await h.write('8', 1);
    await h.datasync();
    assert.equal(await backendText(backend, '/a'), '983');
    await h.close();
    await fs.close();
  });

  test('an entry evicted for room is flushed first, and leaves only once it is clean', async () => {
    const backend = memoryBackend();
    const fs = new CacheFS(backend, { ...WB, maxBytes: 4096, pool: false });
    const evicted: string[] = [];
    fs.on('evict', (e: { path: string; reason: string }) => evicted.push(`${e.path}:${e.reason}`));
    await fs.writeFile('/a', Buffer.alloc(3000, 'a'));
    assert.equal(await backendText(backend, '/a'), '', 'created empty, content deferred');
    await fs.writeFile('/b', Buffer.alloc(3000, 'b'));
    assert.deepEqual(evicted, ['/a:policy']);
    assert.equal(await backendText(backend, '/a'), 'a'.repeat(3000), 'flushed before it left');
    assert.ok(fs.stats().bytesUsed <= 4096);
    assert.equal(fs.detailedStats().dirtyEntries, 1);
    await fs.close();
    assert.equal(await backendText(backend, '/b'), 'b'.repeat(3000));
  });

  test('invalidate, invalidatePrefix, invalidatePattern, clear, cleanExpired and close flush before dropping', async () => {
    const backend = memoryBackend({ '/d/1': '', '/d/2': '', '/p/x.txt': '', '/c': '', '/t': '', '/z': '' });
    const fs = new CacheFS(backend, { ...WB, ttlRules: [{ pattern: '/t', ttl: 1 }] });
    const writes: Record<string, string> = { '/d/1': 'one', '/d/2': 'two', '/p/x.txt': 'ex', '/c': 'see', '/t': 'tee', '/z': 'zed' };
    for (const [p, v] of Object.entries(writes)) await fs.writeFile(p, v);
    assert.equal(await fs.invalidate('/d/1'), true);
    assert.equal(await backendText(backend, '/d/1'), 'one');
    assert.equal(await fs.invalidatePrefix('/d'), 1);
    assert.equal(await backendText(backend, '/d/2'), 'two');
    assert.equal(await fs.invalidatePattern('/p/*.txt'), 1);
    assert.equal(await backendText(backend, '/p/x.txt'), 'ex');
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 1 }); // /t (TTL 1 ms) has expired: the clock says so
    try {
      assert.equal(await fs.cleanExpired(), 1, 'the /t entry expired and was dropped');
    } finally {
      mock.timers.reset();
    }
    assert.equal(await backendText(backend, '/t'), 'tee');
    await fs.clear();
    assert.equal(await backendText(backend, '/c'), 'see');
    assert.equal(fs.stats().entries, 0);
    await fs.writeFile('/z', 'zed again');
    await fs.close();
    assert.equal(await backendText(backend, '/z'), 'zed again');
    assert.equal(fs.detailedStats().flushCount, 7);
  });

  test('flush() writes everything; batchFlush(paths) only the paths given', async () => {
    const backend = memoryBackend({ '/a': '', '/b': '', '/c': '' });
    const fs = new CacheFS(backend, WB);
    await fs.writeFile('/a', 'A');
    await fs.writeFile('/b', 'B');
    await fs.writeFile('/c', 'C');
    await fs.batchFlush(['/a', 'c', '/not-cached']);
    assert.deepEqual([await backendText(backend, '/a'), await backendText(backend, '/b'), await backendText(backend, '/c')], ['A', '', 'C']);
    assert.equal(fs.detailedStats().dirtyEntries, 1);
    await fs.flush();
    assert.equal(await backendText(backend, '/b'), 'B');
    assert.equal(fs.detailedStats().dirtyEntries, 0);
    await fs.close();
  });

  test('a view made by sub() flushes its own part', async () => {
    const backend = memoryBackend({ '/v/a': '', '/w': '' });
    const fs = new CacheFS(backend, WB);
    const view = fs.sub('/v');
    await view.writeFile('/a', 'in view');
    await fs.writeFile('/w', 'outside');
    await view.flush();
    assert.equal(await backendText(backend, '/v/a'), 'in view');
    assert.equal(await backendText(backend, '/w'), '');
    await view.batchFlush(['/a']);
    await fs.close();
  });
});

for (const [name, make] of BACKENDS) {
  describe(`positional correctness (${name} backend)`, () => {
    test('writes at offsets, holes, appends and truncation read back exactly, before and after a flush', async () => {
      const backend = await make({ '/f': 'hello world' });
      const fs = new CacheFS(backend, WB);
      let model: Buffer = Buffer.from('hello world');
      const check = async (label: string): Promise<void> => {
        assert.deepEqual(await fs.readFile('/f'), model, `${label}: readFile through the cache`);
        assert.equal((await fs.stat('/f')).size, model.length, `${label}: stat size`);
      };
      const h = await fs.open('/f', 'r+');
      await h.write(Buffer.from('HE'), 0, 2, 0);
      model = writeAtModel(model, 0, Buffer.from('HE'));
      await check('overwrite at 0');
      await h.write(Buffer.from('!!'), 0, 2, 20);
      model = writeAtModel(model, 20, Buffer.from('!!'));
      await check('write past the end leaves a hole of zeros');
      await fs.appendFile('/f', 'tail');
      model = writeAtModel(model, model.length, Buffer.from('tail'));
      await check('append');
      await fs.flush();
      assert.deepEqual(Buffer.from(await backend.readFile('/f')), model, 'backend after the first flush');
      await h.truncate(5);
      model = truncateModel(model, 5);
      await check('cut');
      await h.write(Buffer.from('xyz'), 0, 3, 8);
      model = writeAtModel(model, 8, Buffer.from('xyz'));
      await check('write past a cut');
      await fs.truncate('/f', 14);
      model = truncateModel(model, 14);
      await check('extended with zeros');
      assert.notDeepEqual(Buffer.from(await backend.readFile('/f')), model, 'not flushed yet');
      await h.close();
      assert.deepEqual(Buffer.from(await backend.readFile('/f')), model, 'backend after the flush on close');
      await fs.close();
    });

    test('random positional writes, cuts and extensions on a 64 KiB file, flushed at random moments', async () => {
      const random = prng(20240611);
      const size0 = 64 * 1024;
      const initial = Buffer.alloc(size0);
      for (let i = 0; i < size0; i++) initial[i] = i % 251;
      const backend = await make({});
      await backend.writeFile('/big', initial);
      const fs = new CacheFS(backend, WB);
      let model: Buffer = Buffer.from(initial);
      const h = await fs.open('/big', 'r+');
      for (let step = 0; step < 300; step++) {
        const r = random();
        if (r < 0.7) {
          const len = 1 + Math.floor(random() * (random() < 0.1 ? 9000 : 40));
          const pos = Math.floor(random() * (model.length + 2000));
          const data = Buffer.alloc(len, 1 + (step % 250));
          await h.write(data, 0, len, pos);
          model = writeAtModel(model, pos, data);
        } else if (r < 0.85) {
          const len = Math.floor(random() * (size0 + 4000));
          await h.truncate(len);
          model = truncateModel(model, len);
        } else {
          await fs.flush();
          assert.deepEqual(Buffer.from(await backend.readFile('/big')), model, `backend equals the cache after flush at step ${step}`);
        }
      }
      assert.deepEqual(await fs.readFile('/big'), model);
      await h.close();
      assert.deepEqual(Buffer.from(await backend.readFile('/big')), model);
      await fs.close();
    });
  });
}

test('a flush writes the dirty ranges, not the whole file', async () => {
  const big = Buffer.alloc(1024 * 1024, 'x');
  const backend = faultyBackend(memoryBackend({ '/big': big }));
  const fs = new CacheFS(backend, WB);
  const h = await fs.open('/big', 'r+');
  await h.write(Buffer.from('0123456789'), 0, 10, 500_000);
  backend.faults.resetCalls();
  const flushed = nextEvent(fs, 'flush');
  await h.sync();
  assert.deepEqual(await flushed, { path: '/big', bytes: 10 });
  assert.equal(backend.faults.calls.writeFile, 0, 'no whole-file write');
  assert.equal(backend.faults.calls.write, 1, 'one positional write');
  const expected = Buffer.from(big);
  expected.write('0123456789', 500_000, 'latin1');
  assert.deepEqual(Buffer.from(await backend.readFile('/big')), expected);
  await h.close();
  await fs.close();
});

describe('ordering with renames and removals', () => {
  test('dirty data follows a rename: the backend gets it under the new name only', async () => {
    const backend = memoryBackend({ '/a': 'old' });
    const fs = new CacheFS(backend, WB);
    await fs.writeFile('/a', 'dirty data');
    await fs.rename('/a', '/b');
    assert.equal(await fs.readFile('/b', 'utf8'), 'dirty data');
    await fs.flush();
    assert.equal(await exists(backend, '/a'), false);
    assert.equal(await backendText(backend, '/b'), 'dirty data');
    await fs.close();
  });

  test('a rename waits for a flush in flight, so the flush cannot write under the old name', async () => {
    const backend = faultyBackend(memoryBackend({ '/a': 'old' }));
    const fs = new CacheFS(backend, WB);
    await fs.writeFile('/a', 'new');
    const gate = backend.faults.gate('write', 'before');
    const flushing = fs.flush();
    await gate.reached;
    let renamed = false;
    const renaming = fs.rename('/a', '/b').then(() => (renamed = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(renamed, false, 'the rename waits for the flush');
    gate.release();
    await flushing;
    await renaming;
    assert.equal(await exists(backend, '/a'), false, 'no file left under the old name');
    assert.equal(await backendText(backend, '/b'), 'new');
    await fs.close();
  });

  test('a flush asked for during a rename waits for it and writes under the new name', async () => {
    const backend = faultyBackend(memoryBackend({ '/a': 'old' }));
    const fs = new CacheFS(backend, WB);
    await fs.writeFile('/a', 'new');
    const gate = backend.faults.gate('rename', 'before');
    const renaming = fs.rename('/a', '/b');
    await gate.reached;
    const flushing = fs.flush();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(backend.faults.calls.write, 0, 'nothing written while the rename is in flight');
    gate.release();
    await renaming;
    await flushing;
    assert.equal(fs.detailedStats().dirtyEntries, 0, 'flush() resolved with the moved data written');
    assert.equal(await exists(backend, '/a'), false);
    assert.equal(await backendText(backend, '/b'), 'new');
    await fs.close();
  });

  test('a file removed while its flush is in flight is not brought back', async () => {
    for (const remove of ['unlink', 'rm'] as const) {
      const backend = faultyBackend(memoryBackend({ '/a': 'old' }));
      const fs = new CacheFS(backend, WB);
      await fs.writeFile('/a', 'doomed');
      const gate = backend.faults.gate('write', 'before');
      const flushing = fs.flush();
      await gate.reached;
      const removing = remove === 'unlink' ? fs.unlink('/a') : fs.rm('/a');
      gate.release();
      await flushing;
      await removing;
      await fs.flush();
      await fs.close();
      assert.equal(await exists(backend, '/a'), false, `${remove}: the removed file stays removed`);
    }
  });

  test('a rename over a dirty file drops that file’s dirty data; the moved file’s data lands', async () => {
    const backend = memoryBackend({ '/a': '', '/b': '' });
    const fs = new CacheFS(backend, WB);
    await fs.writeFile('/a', 'A dirty');
    await fs.writeFile('/b', 'B dirty');
    await fs.rename('/b', '/a');
    await fs.close();
    assert.equal(await backendText(backend, '/a'), 'B dirty');
    assert.equal(await exists(backend, '/b'), false);
  });

  test('dirty files inside a renamed directory land under the new directory', async () => {
    const backend = memoryBackend({ '/d/x': 'x0', '/d/sub/y': 'y0' });
    const fs = new CacheFS(backend, WB);
    await fs.writeFile('/d/x', 'x1');
    await fs.appendFile('/d/sub/y', '+y1');
    await fs.rename('/d', '/e');
    await fs.close();
    assert.equal(await exists(backend, '/d'), false);
    assert.equal(await backendText(backend, '/e/x'), 'x1');
    assert.equal(await backendText(backend, '/e/sub/y'), 'y0+y1');
  });

  test('rm -r that fails part-way keeps the dirty data of the files it did not reach', async () => {
    const backend = faultyBackend(memoryBackend({ '/d/a': '', '/d/b': '', '/d/c': '' }));
    const fs = new CacheFS(backend, WB);
    for (const n of ['a', 'b', 'c']) await fs.writeFile(`/d/${n}`, `dirty ${n}`);
    backend.faults.failNth('unlink', 2, 'EIO');
    await assert.rejects(fs.rm('/d', { recursive: true }), { code: 'EIO' });
    const left = (await backend.readdir('/d')).map((e) => e.name).sort();
    assert.equal(left.length, 2, 'one file was removed before the failure');
    await fs.flush();
    for (const n of ['a', 'b', 'c']) {
      if (left.includes(n)) assert.equal(await backendText(backend, `/d/${n}`), `dirty ${n}`, `${n} kept its data`);
      else assert.equal(await exists(backend, `/d/${n}`), false, `${n} stays removed`);
    }
    await fs.close();
  });

  test('a write that lands while invalidate() flushes stays cached and is flushed later', async () => {
    const backend = faultyBackend(memoryBackend({ '/a': '' }));
    const fs = new CacheFS(backend, WB);
    await fs.writeFile('/a', 'first');
    const gate = backend.faults.gate('write', 'after');
    const invalidating = fs.invalidate('/a');
    await gate.reached;
    await fs.writeFile('/a', 'second');
    gate.release();
    await invalidating;
    assert.equal(await fs.readFile('/a', 'utf8'), 'second');
    await fs.close();
    assert.equal(await backendText(backend, '/a'), 'second');
  });

  test('a write-through of a too-large write lands after the file’s earlier dirty data', async () => {
    const backend = memoryBackend({ '/f': '' });
    const fs = new CacheFS(backend, { ...WB, maxBytes: 4096, pool: false });
    await fs.writeFile('/f', 'small dirty');
    await fs.writeFile('/f', Buffer.alloc(10_000, 'L'));
    await fs.close();
    assert.equal(await backendText(backend, '/f'), 'L'.repeat(10_000));
  });
});

test('a file changed behind a dirty entry (a conflict) is rewritten whole, not just the dirty ranges', async () => {
  const root = await dirs.make();
  await writeDisk(join(root, 'f'), 'abcdefghij');
  await utimes(join(root, 'f'), 2000, 2000); // an old file: its identity can vouch for what is read
  const fs = new CacheFS(nodeBackend(root), { ...WB, revalidate: 0 });
  assert.equal(await fs.readFile('/f', 'utf8'), 'abcdefghij');
  const h = await fs.open('/f', 'r+');
  await h.write('XY', 0);
  await writeDisk(join(root, 'f'), '0123456789'); // someone else rewrites the file
  const flushed = nextEvent(fs, 'flush', (e) => e.path === '/f');
  assert.equal(await fs.readFile('/f', 'utf8'), 'XYcdefghij', 'the program’s data is read');
  await flushed;
  assert.equal(await readDisk(join(root, 'f'), 'utf8'), 'XYcdefghij', 'the program’s whole file replaced theirs');
  await h.close();
  await fs.close();
});

describe('a failing backend never loses written data', () => {
  for (const code of ['EIO', 'ENOSPC', 'ENOTDIR', 'ETIMEDOUT'] as FaultCode[]) {
    test(`${code}: flush() rejects with an AggregateError naming each path, data stays dirty, stats and events report it`, async () => {
      const backend = faultyBackend(memoryBackend({ '/a': 'a0', '/b': 'b0', '/ok': 'ok0' }));
      const fs = new CacheFS(backend, WB);
      const errors: Array<{ path: string; error: { code: string }; attempts: number }> = [];
      const flushes: string[] = [];
      fs.on('flushError', (e) => errors.push(e));
      fs.on('flush', (e: { path: string }) => flushes.push(e.path));
      await fs.writeFile('/a', 'A1');
      await fs.writeFile('/b', 'B1');
      await fs.writeFile('/ok', 'fine');
      await fs.batchFlush(['/ok']);
      backend.faults.failAlways(['write', 'writeFile', 'truncate'], code);
      const err = await fs.flush().then(
        () => assert.fail('flush() must reject'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof AggregateError);
      assert.match(err.message, /\/a/);
      assert.match(err.message, /\/b/);
      assert.deepEqual(err.errors.map((e: { path: string }) => e.path).sort(), ['/a', '/b']);
      for (const e of err.errors) {
        assert.equal(e.code, code);
        assert.equal(e.syscall, 'write');
      }
      assert.deepEqual(errors.map((e) => [e.path, e.error.code, e.attempts]).sort(), [['/a', code, 1], ['/b', code, 1]]);
      let stats = fs.detailedStats();
      assert.equal(stats.flushErrors, 2);
      assert.equal(stats.flushCount, 1);
      assert.equal(stats.dirtyEntries, 2);
      assert.equal(await fs.readFile('/a', 'utf8'), 'A1', 'the cache still serves the written data');
      await assert.rejects(fs.invalidate('/a'), { code });
      assert.equal(await fs.readFile('/a', 'utf8'), 'A1', 'a failed invalidation keeps the entry');
      await assert.rejects(fs.close(), AggregateError);
      assert.equal(await fs.readFile('/b', 'utf8'), 'B1', 'a failed close keeps the cache open');
      backend.faults.heal();
      await fs.flush();
      stats = fs.detailedStats();
      assert.equal(stats.dirtyEntries, 0);
      assert.equal(stats.flushCount, 3);
      assert.deepEqual(flushes.sort(), ['/a', '/b', '/ok']);
      assert.equal(await backendText(backend, '/a'), 'A1');
      assert.equal(await backendText(backend, '/b'), 'B1');
      await fs.close();
    });
  }

  test('the background flusher retries with exponential backoff and jitter until the backend heals', async () => {
    const backend = faultyBackend(memoryBackend({ '/a': '' }));
    const fs = new CacheFS(backend, { writeMode: 'write-back', flushInterval: 5 });
    backend.faults.failWrites('EIO');
    const attempts: Array<{ attempts: number; retryInMs: number }> = [];
    const fourth = nextEvent(fs, 'flushError', (e: { attempts: number; retryInMs: number }) => {
      attempts.push({ attempts: e.attempts, retryInMs: e.retryInMs });
      return e.attempts === 4;
    });
    await fs.writeFile('/a', 'persist me');
    await fourth;
    assert.deepEqual(attempts.map((a) => a.attempts), [1, 2, 3, 4], 'one failure after another, counted');
    for (const { attempts: n, retryInMs } of attempts) {
      const base = 100 * 2 ** (n - 1);
      assert.ok(retryInMs >= base / 2 - 1 && retryInMs <= base + 1, `attempt ${n}: retry in ${retryInMs} ms, within [${base / 2}, ${base}]`);
    }
    const flushed = nextEvent(fs, 'flush', (e) => e.path === '/a');
    backend.faults.heal();
    await flushed;
    assert.equal(await backendText(backend, '/a'), 'persist me');
    assert.equal(fs.detailedStats().flushErrors >= 4, true);
    await fs.close();
  });

  test('dirty entries stay resident past maxBytes while their flushes fail, and leave once the backend heals', async () => {
    const backend = faultyBackend(memoryBackend());
    const fs = new CacheFS(backend, { writeMode: 'write-back', flushInterval: 5, maxBytes: 8192, pool: false });
    const names = ['/f1', '/f2', '/f3', '/f4', '/f5'];
    for (const n of names) await backend.writeFile(n, new Uint8Array(0));
    backend.faults.failAlways(['write', 'writeFile', 'truncate'], 'ENOSPC');
    for (const n of names) await fs.writeFile(n, Buffer.alloc(3000, n.charCodeAt(2)));
    const s = fs.stats();
    assert.equal(s.entries, 5, 'nothing dirty left the cache');
    assert.ok(s.bytesUsed > 8192, 'past the limit rather than losing data');
    assert.equal(fs.detailedStats().dirtyEntries, 5);
    for (const n of names) assert.deepEqual(await fs.readFile(n), Buffer.alloc(3000, n.charCodeAt(2)));
    backend.faults.heal();
    await until(() => fs.detailedStats().dirtyEntries === 0 && fs.stats().bytesUsed <= 8192, 'flushed and back under the limit');
    for (const n of names) assert.deepEqual(Buffer.from(await backend.readFile(n)), Buffer.alloc(3000, n.charCodeAt(2)));
    await fs.close();
  });

  test('a flush that fails after some of its ranges were written is completed by the next one', async () => {
    const backend = faultyBackend(memoryBackend({ '/f': 'x'.repeat(100_000) }));
    const fs = new CacheFS(backend, WB);
    let model: Buffer = Buffer.from('x'.repeat(100_000), 'latin1');
    const h = await fs.open('/f', 'r+');
    for (const pos of [0, 30_000, 60_000, 90_000]) {
      await h.write(Buffer.from('ABCD'), 0, 4, pos);
      model = writeAtModel(model, pos, Buffer.from('ABCD'));
    }
    await h.truncate(95_000);
    model = truncateModel(model, 95_000);
    backend.faults.failNth('write', 3, 'EIO');
    await assert.rejects(fs.flush(), AggregateError);
    assert.notDeepEqual(Buffer.from(await backend.readFile('/f')), model, 'the failed flush left the backend half-done');
    await h.write(Buffer.from('late'), 0, 4, 50_000);
    model = writeAtModel(model, 50_000, Buffer.from('late'));
    await fs.flush();
    assert.deepEqual(Buffer.from(await backend.readFile('/f')), model);
    await h.close();
    await fs.close();
  });

  test('a write the backend applied but reported as failed is written again and ends up right', async () => {
    const backend = faultyBackend(memoryBackend({ '/f': 'abcdef' }));
    const fs = new CacheFS(backend, WB);
    const h = await fs.open('/f', 'r+');
    await h.write('XY', 2);
    backend.faults.failNext('write', 'ETIMEDOUT', 'after');
    await assert.rejects(h.sync(), { code: 'ETIMEDOUT' });
    assert.equal(fs.detailedStats().dirtyEntries, 1);
    await h.sync();
    assert.equal(await backendText(backend, '/f'), 'abXYef');
    await h.close();
    await fs.close();
  });

  test('writes made while a flush is failing are kept with what that flush owed', async () => {
    const backend = faultyBackend(memoryBackend({ '/f': '0000000000' }));
    const fs = new CacheFS(backend, WB);
    const h = await fs.open('/f', 'r+');
    await h.write('1', 1);
    const gate = backend.faults.gate('write', 'before');
    backend.faults.failNext('write', 'EIO');
    const flushing = fs.flush();
    await gate.reached;
    await h.write('8', 8);
    gate.release();
    await assert.rejects(flushing, AggregateError);
    await fs.flush();
    assert.equal(await backendText(backend, '/f'), '0100000080');
    await h.close();
    await fs.close();
  });
});

test('detailedStats counts flushes, errors and dirty entries; events carry path and bytes', async () => {
  const root = await dirs.make();
  const backend = nodeBackend(root);
  const fs = new CacheFS(backend, WB);
  await fs.writeFile('/one', 'first');
  await fs.writeFile('/two', 'second');
  assert.equal(fs.detailedStats().dirtyEntries, 2);
  const events: Array<{ path: string; bytes: number }> = [];
  fs.on('flush', (e) => events.push(e));
  await fs.flush();
  assert.deepEqual(events.sort((a, b) => a.path.localeCompare(b.path)), [
    { path: '/one', bytes: 5 },
    { path: '/two', bytes: 6 },
  ]);
  const stats = fs.detailedStats();
  assert.equal(stats.flushCount, 2);
  assert.equal(stats.flushErrors, 0);
  assert.equal(stats.dirtyEntries, 0);
  assert.equal(await readDisk(join(root, 'two'), 'utf8'), 'second');
  await fs.close();
});
