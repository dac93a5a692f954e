// Cold readFile and stat of paths the cache has not resolved yet (issue 12, engine/cold.ts): the key is
// learnt from the call that had to be made anyway (an lstat, or the open file's real path), so keys stay
// canonical, links stay exact, and a miss costs what the backend call costs. Real temporary directories;
// the only wrapper counts and gates calls of the real nodeBackend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS, nodeBackend } from '../src/index.js';
import { faultyBackend } from './fault-backend.js';
import { tempDirs } from './support.js';

const dirs = tempDirs();
test.after(() => dirs.cleanup());

/** A tree: real/f, real/g, real/sub/h; dlink -> real (a directory link), flink -> real/f (a file link). */
async function tree(): Promise<string> {
  const root = await dirs.make('cachefs-cold-');
  fs.mkdirSync(join(root, 'real/sub'), { recursive: true });
  fs.writeFileSync(join(root, 'real/f'), 'f-bytes');
  fs.writeFileSync(join(root, 'real/g'), 'g-bytes');
  fs.writeFileSync(join(root, 'real/sub/h'), 'h-bytes');
  fs.symlinkSync('real', join(root, 'dlink'));
  fs.symlinkSync('real/f', join(root, 'flink'));
  return root;
}

const pick = (e: NodeJS.ErrnoException) => ({ code: e.code, syscall: e.syscall, errno: e.errno });

async function nodeError(call: () => Promise<unknown>): Promise<ReturnType<typeof pick>> {
  try {
    await call();
  } catch (err) {
    return pick(err as NodeJS.ErrnoException);
  }
  assert.fail('node:fs did not fail');
}

test('a file read cold through a directory link, a file link and its real path is one entry', async () => {
  const root = await tree();
  const cfs = new CacheFS(nodeBackend(root));
  try {
    assert.equal((await cfs.readFile('/dlink/f')).toString(), await fsp.readFile(join(root, 'dlink/f'), 'utf8'));
    assert.equal((await cfs.readFile('/real/f')).toString(), 'f-bytes');
    assert.equal((await cfs.readFile('/flink')).toString(), await fsp.readFile(join(root, 'flink'), 'utf8'));
    const s = cfs.stats();
    assert.equal(s.entries, 1);
    assert.equal(s.misses, 1);
    assert.equal(s.hits, 2);
    assert.equal(await cfs.realpath('/flink'), '/real/f');
  } finally {
    await cfs.close();
  }
});

test('a file link read cold first, then its target: one entry, the target a hit', async () => {
  const root = await tree();
  const cfs = new CacheFS(nodeBackend(root));
  try {
    assert.equal((await cfs.readFile('/flink')).toString(), 'f-bytes');
    assert.equal((await cfs.readFile('/real/f')).toString(), 'f-bytes');
    assert.equal((await cfs.readFile('/dlink/f')).toString(), 'f-bytes');
    assert.deepEqual([cfs.stats().entries, cfs.stats().misses, cfs.stats().hits], [1, 1, 2]);
  } finally {
    await cfs.close();
  }
});

test('a link retargeted through the cache is followed to its new target', async () => {
  const root = await tree();
  const cfs = new CacheFS(nodeBackend(root));
  try {
    assert.equal((await cfs.readFile('/flink')).toString(), 'f-bytes');
    assert.equal((await cfs.stat('/flink')).size, 7);
    await cfs.unlink('/flink');
    await cfs.symlink('real/sub/h', '/flink');
    assert.equal((await cfs.readFile('/flink')).toString(), await fsp.readFile(join(root, 'flink'), 'utf8'));
    assert.equal((await cfs.stat('/flink')).ino, (await fsp.stat(join(root, 'flink'))).ino);
    // A directory link retargeted: children follow it.
    assert.equal((await cfs.readFile('/dlink/g')).toString(), 'g-bytes');
    await cfs.unlink('/dlink');
    await cfs.symlink('real/sub', '/dlink');
    assert.equal((await cfs.readFile('/dlink/h')).toString(), 'h-bytes');
    const expected = await nodeError(() => fsp.readFile(join(root, 'dlink/g')));
    await assert.rejects(cfs.readFile('/dlink/g'), expected);
  } finally {
    await cfs.close();
  }
});

test('cold stat: one lstat once the directory is known, the same answers as node:fs', async () => {
  const root = await tree();
  const backend = faultyBackend(nodeBackend(root), { realPathOnOpen: true });
  const cfs = new CacheFS(backend, { metadataCache: true });
  try {
    await cfs.stat('/real/g'); // resolves /real once
    backend.faults.resetCalls();
    const st = await cfs.stat('/real/f');
    assert.equal(backend.faults.calls.lstat + backend.faults.calls.stat + backend.faults.calls.realpath, 1);
    const ref = await fsp.stat(join(root, 'real/f'));
    assert.deepEqual([st.ino, st.size, st.mode, st.mtimeMs], [ref.ino, ref.size, ref.mode, ref.mtimeMs]);
    // Through links: the target's stats, as node:fs gives.
    for (const p of ['/flink', '/dlink/f', '/dlink', '/real/sub']) {
      const ours = await cfs.stat(p);
      const theirs = await fsp.stat(join(root, p));
      assert.deepEqual([ours.ino, ours.mode, ours.size], [theirs.ino, theirs.mode, theirs.size], p);
    }
    // A cold stat through a link and through the real path is one metadata entry's worth of answers.
    assert.equal((await cfs.stat('/dlink/sub/h')).ino, (await cfs.stat('/real/sub/h')).ino);
    for (const p of ['/real/missing', '/real/f/x', '/nowhere/at/all', '/dlink/missing']) {
      const expected = await nodeError(() => fsp.stat(join(root, p)));
      await assert.rejects(cfs.stat(p), expected, p);
    }
  } finally {
    await cfs.close();
  }
});

test('concurrent cold stats of one file share one lstat, each caller with its own stats object; a change made through the cache is seen after', async () => {
  const root = await tree();
  const backend = faultyBackend(nodeBackend(root), { realPathOnOpen: true });
  const cfs = new CacheFS(backend, { metadataCache: true });
  try {
    await cfs.stat('/real/g'); // resolves /real
    backend.faults.resetCalls();
    const got = await Promise.all(Array.from({ length: 50 }, () => cfs.stat('/real/f')));
    const ref = await fsp.stat(join(root, 'real/f'));
    for (const st of got) assert.deepEqual([st.ino, st.size], [ref.ino, ref.size]);
    assert.equal(new Set(got).size, 50, 'each caller gets its own stats object');
    const calls = backend.faults.calls;
    assert.deepEqual([calls.lstat, calls.stat, calls.realpath], [1, 0, 0]);
    // A stat after a change made through the cache is not answered by what the shared lstat found.
    await cfs.writeFile('/real/f', 'longer bytes now');
    assert.equal((await cfs.stat('/real/f')).size, 'longer bytes now'.length);
  } finally {
    await cfs.close();
  }
});

test('cold readFile errors are node:fs errors', async () => {
  const root = await tree();
  fs.writeFileSync(join(root, 'outside-secret'), 'no');
  const inner = join(root, 'inner');
  fs.mkdirSync(inner);
  fs.symlinkSync('../real', join(inner, 'up'));
  fs.symlinkSync(join(root, 'outside-secret'), join(inner, 'out-abs'));
  fs.cpSync(join(root, 'real'), join(inner, 'real'), { recursive: true });
  const cfs = new CacheFS(nodeBackend(inner));
  try {
    for (const p of ['/real/missing', '/real/f/x', '/real', '/real/sub']) {
      const expected = await nodeError(() => fsp.readFile(join(inner, p)));
      await assert.rejects(cfs.readFile(p), expected, p);
    }
    // Links that lead out of the backend's root stay refused, as a middle and as the last component.
    await assert.rejects(cfs.readFile('/up/f'), { code: 'EACCES' });
    await assert.rejects(cfs.readFile('/out-abs'), { code: 'EACCES' });
    assert.equal(cfs.stats().entries, 0);
  } finally {
    await cfs.close();
  }
});

test('concurrent cold reads of one file share one open and one read, and no realpath of the file', async () => {
  const root = await tree();
  const backend = faultyBackend(nodeBackend(root), { realPathOnOpen: true });
  const cfs = new CacheFS(backend);
  try {
    await cfs.readFile('/real/g'); // resolves /real
    backend.faults.resetCalls();
    const got = await Promise.all(Array.from({ length: 50 }, () => cfs.readFile('/real/f')));
    for (const b of got) assert.equal(b.toString(), 'f-bytes');
    const calls = backend.faults.calls;
    assert.deepEqual([calls.open, calls.read, calls.readFile, calls.realpath, calls.stat], [1, 1, 0, 0, 1]);
    assert.equal(cfs.stats().misses, 51);
    assert.equal((await cfs.readFile('/real/f')).toString(), 'f-bytes');
    assert.equal(cfs.stats().hits, 1);
  } finally {
    await cfs.close();
  }
});

test('a write that lands while a cold read opens its file is not undone by the read', async () => {
  const root = await tree();
  const backend = faultyBackend(nodeBackend(root), { realPathOnOpen: true });
  const cfs = new CacheFS(backend);
  try {
    await cfs.readFile('/real/g');
    const gate = backend.faults.gate('open', 'after');
    const reading = cfs.readFile('/real/f');
    await gate.reached;
    // Replaced by rename, so the descriptor the read holds is the old file.
    fs.writeFileSync(join(root, 'real/f.new'), 'new-bytes');
    await cfs.rename('/real/f.new', '/real/f');
    gate.release();
    assert.equal((await reading).toString(), 'f-bytes'); // what it opened: a read concurrent with the rename
    assert.equal((await cfs.readFile('/real/f')).toString(), 'new-bytes');
  } finally {
    await cfs.close();
  }
});
