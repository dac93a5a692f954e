// link, lchown, lutimes and statfs through the cache, compared with node:fs/promises on a real temp
// directory (results, and errors' code, syscall and errno), over nodeBackend and memoryBackend, in every
// write mode; and the errors chosen where a backend lacks the face.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  link as nodeLink, lchown as nodeLchown, lstat as nodeLstat, lutimes as nodeLutimes, mkdir, readdir as nodeReaddir,
  readFile as nodeReadFile, statfs as nodeStatfs, symlink, writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS, memoryBackend, nodeBackend, type Backend, type WriteMode } from '../../src/index.js';
import { tempDirs } from '../support.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

const MODES: WriteMode[] = ['write-through', 'write-back', 'write-around'];

async function outcome(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    (value) => ({ value }),
    (e: NodeJS.ErrnoException) => ({ code: e.code, syscall: e.syscall, errno: e.errno }),
  );
}

/** A real directory holding what the cache's tree holds, made with node:fs. */
async function nodeTree(): Promise<string> {
  const root = await dirs.make('cachefs-more-node-');
  await mkdir(join(root, 'd'));
  await writeFile(join(root, 'd/f'), 'bytes');
  await symlink('f', join(root, 'd/l'));
  return root;
}

async function cacheTree(cfs: CacheFS): Promise<void> {
  await cfs.mkdir('/d');
  await cfs.writeFile('/d/f', 'bytes');
  await cfs.symlink('f', '/d/l');
}

const BACKENDS: [string, () => Promise<Backend>][] = [
  ['nodeBackend', async () => nodeBackend(await dirs.make('cachefs-more-cache-'))],
  ['memoryBackend', async () => memoryBackend()],
];

for (const writeMode of MODES) {
  for (const [backendName, makeBackend] of BACKENDS) {
    describe(`link, lchown, lutimes, statfs (${backendName}, ${writeMode})`, () => {
      test('link: same results and errors as Node; the new name shares the bytes and the link count', async () => {
        const root = await nodeTree();
        const cfs = new CacheFS(await makeBackend(), { writeMode, flushInterval: 0, metadataCache: true });
        try {
          await cacheTree(cfs);
          assert.equal((await cfs.stat('/d/f')).nlink, 1, 'the link count is cached before the link');
          assert.deepEqual(await outcome(cfs.link('/d/f', '/d/g')), await outcome(nodeLink(join(root, 'd/f'), join(root, 'd/g'))));
          assert.equal(await cfs.readFile('/d/g', 'utf8'), await nodeReadFile(join(root, 'd/g'), 'utf8'));
          assert.equal((await cfs.stat('/d/f')).nlink, (await nodeLstat(join(root, 'd/f'))).nlink, 'the cached link count moved');
          assert.equal((await cfs.stat('/d/g')).ino, (await cfs.stat('/d/f')).ino);
          assert.deepEqual((await cfs.readdir('/d')).sort(), (await nodeReaddir(join(root, 'd'))).sort());
          await cfs.writeFile('/d/new', 'made in the cache');
          await writeFile(join(root, 'd/new'), 'made in the cache');
          for (const [a, b] of [['/d/f', '/d/new'], ['/d/missing', '/d/h'], ['/d/f', '/nodir/h'], ['/d', '/d2']]) {
            assert.deepEqual(await outcome(cfs.link(a, b)), await outcome(nodeLink(join(root, a), join(root, b))), `link ${a} ${b}`);
          }
          assert.deepEqual(await outcome(cfs.link('/d/l', '/d/l2')), await outcome(nodeLink(join(root, 'd/l'), join(root, 'd/l2'))));
          assert.equal((await cfs.lstat('/d/l2')).isSymbolicLink(), (await nodeLstat(join(root, 'd/l2'))).isSymbolicLink());
        } finally {
          await cfs.close();
        }
      });

      test('lchown to the current owner and lutimes: as Node, on a link and on a file', async () => {
        const root = await nodeTree();
        const cfs = new CacheFS(await makeBackend(), { writeMode, flushInterval: 0, metadataCache: true });
        try {
          await cacheTree(cfs);
          for (const p of ['/d/l', '/d/f']) {
            const own = await cfs.lstat(p);
            const theirs = await nodeLstat(join(root, p));
            assert.deepEqual(await outcome(cfs.lchown(p, own.uid, own.gid)), await outcome(nodeLchown(join(root, p), theirs.uid, theirs.gid)));
            const when = new Date(Date.UTC(2001, 2, 3, 4, 5, 6, 789));
            assert.deepEqual(await outcome(cfs.lutimes(p, when, when)), await outcome(nodeLutimes(join(root, p), when, when)));
            assert.equal((await cfs.lstat(p)).mtimeMs, (await nodeLstat(join(root, p))).mtimeMs, `${p}: the cached times moved`);
          }
          assert.equal((await cfs.stat('/d/l')).mtimeMs, (await cfs.stat('/d/f')).mtimeMs, 'lutimes on the file was seen through the link');
          assert.deepEqual(await outcome(cfs.lchown('/d/missing', 0, 0)), await outcome(nodeLchown(join(root, 'd/missing'), 0, 0)));
          assert.deepEqual(await outcome(cfs.lutimes('/d/missing', 1, 1)), await outcome(nodeLutimes(join(root, 'd/missing'), 1, 1)));
          await cfs.flush();
        } finally {
          await cfs.close();
        }
      });

      test('statfs: Node’s fields (numbers, or bigints when asked) and Node’s error', async () => {
        const root = await nodeTree();
        const cfs = new CacheFS(await makeBackend(), { writeMode, flushInterval: 0 });
        try {
          await cacheTree(cfs);
          const ours = await cfs.statfs('/d');
          const theirs = await nodeStatfs(root);
          assert.deepEqual(Object.keys(ours).sort(), ['bavail', 'bfree', 'blocks', 'bsize', 'ffree', 'files', 'type']);
          for (const [k, v] of Object.entries(ours)) assert.equal(typeof v, typeof (theirs as unknown as Record<string, unknown>)[k], k);
          const big = await cfs.statfs('/d', { bigint: true });
          const theirsBig = await nodeStatfs(root, { bigint: true });
          for (const [k, v] of Object.entries(big)) assert.equal(typeof v, typeof (theirsBig as unknown as Record<string, unknown>)[k], k);
          if (backendName === 'nodeBackend') {
            // The same volume (both temp directories): its fixed figures agree.
            for (const k of ['type', 'bsize', 'blocks', 'files'] as const) assert.equal(ours[k], theirs[k], k);
            assert.equal(big.bsize, theirsBig.bsize);
          }
          assert.deepEqual(await outcome(cfs.statfs('/missing')), await outcome(nodeStatfs(join(root, 'missing'))));
        } finally {
          await cfs.close();
        }
      });
    });
  }
}

describe('a backend without the face', () => {
  test('link is EPERM (link(2) on a file system without hard links); lutimes of a link is ENOTSUP; statfs is ENOSYS', async () => {
    const { link: _link, lutimes: _lutimes, statfs: _statfs, lchown: _lchown, ...rest } = memoryBackend({ '/f': 'x' });
    const cfs = new CacheFS(rest as Backend);
    try {
      await cfs.symlink('f', '/l');
      assert.deepEqual(await outcome(cfs.link('/f', '/g')), { code: 'EPERM', syscall: 'link', errno: -1 });
      assert.deepEqual(await outcome(cfs.lutimes('/l', 1, 1)), { code: 'ENOTSUP', syscall: 'lutime', errno: -95 });
      assert.deepEqual(await outcome(cfs.lutimes('/f', 1, 2)), { value: undefined }, 'a file takes utimes');
      assert.equal((await cfs.stat('/f')).mtimeMs, 2000);
      assert.deepEqual(await outcome(cfs.statfs('/f')), { code: 'ENOSYS', syscall: 'statfs', errno: -38 });
      assert.deepEqual(await outcome(cfs.lchown('/f', 0, 0)), { value: undefined }, 'a file takes chown');
    } finally {
      await cfs.close();
    }
  });
});
