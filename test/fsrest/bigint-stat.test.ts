// stat and lstat with { bigint: true } answer Node's BigIntStats shape, compared with node:fs/promises on a
// real temp directory: over nodeBackend on that same directory (every field Node reports, the times to the
// millisecond the backend keeps), over memoryBackend on a mirrored tree (kind, size, mode, link count);
// errors carry Node's code, syscall and errno, in every write mode.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat as nodeLstat, mkdir, stat as nodeStat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BigIntFileStats, CacheFS, memoryBackend, nodeBackend, type WriteMode } from '../../src/index.js';
import { tempDirs } from '../support.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

const MODES: WriteMode[] = ['write-through', 'write-back', 'write-around'];
const INTEGERS = ['dev', 'ino', 'mode', 'nlink', 'uid', 'gid', 'rdev', 'size', 'blksize', 'blocks'] as const;
const KINDS = ['isFile', 'isDirectory', 'isSymbolicLink', 'isBlockDevice', 'isCharacterDevice', 'isFIFO', 'isSocket'] as const;
const TIMES = ['atime', 'mtime', 'ctime', 'birthtime'] as const;

/** The tree every case builds through the cache (and, for comparison, with node:fs). */
async function buildThroughCache(cfs: CacheFS): Promise<void> {
  await cfs.mkdir('/d');
  await cfs.writeFile('/d/f', 'twelve bytes');
  await cfs.symlink('f', '/d/l');
}

async function buildWithNode(root: string): Promise<void> {
  await mkdir(join(root, 'd'));
  await writeFile(join(root, 'd/f'), 'twelve bytes');
  await symlink('f', join(root, 'd/l'));
}

function assertBigIntShape(s: BigIntFileStats): void {
  for (const f of [...INTEGERS, ...TIMES.map((t) => `${t}Ms`), ...TIMES.map((t) => `${t}Ns`)]) {
    assert.equal(typeof (s as unknown as Record<string, unknown>)[f], 'bigint', `${f} is a bigint`);
  }
  for (const t of TIMES) {
    assert.ok(s[t] instanceof Date);
    assert.equal(BigInt(s[t].getTime()), s[`${t}Ms`]);
    assert.equal(s[`${t}Ns`] / 1_000_000n, s[`${t}Ms`]);
  }
}

async function errorOf(p: Promise<unknown>): Promise<Record<string, unknown>> {
  const err = await p.then(() => assert.fail('expected a failure'), (e: NodeJS.ErrnoException) => e);
  return { code: err.code, syscall: err.syscall, errno: err.errno };
}

for (const writeMode of MODES) {
  describe(`stat/lstat { bigint: true } (${writeMode})`, () => {
    test('nodeBackend: every field equals Node’s BigIntStats of the same file', async () => {
      const root = await dirs.make('cachefs-bigint-');
      const cfs = new CacheFS(nodeBackend(root), { writeMode, flushInterval: 0 });
      try {
        await buildThroughCache(cfs);
        await cfs.flush();
        for (const [call, nodeCall] of [['stat', nodeStat], ['lstat', nodeLstat]] as const) {
          for (const p of ['/d', '/d/f', '/d/l']) {
            const ours = await cfs[call](p, { bigint: true });
            const theirs = await nodeCall(join(root, p), { bigint: true });
            assert.ok(ours instanceof BigIntFileStats, `${call} ${p} gives BigIntFileStats`);
            assertBigIntShape(ours);
            for (const f of INTEGERS) assert.equal(ours[f], theirs[f], `${call} ${p} ${f}`);
            for (const k of KINDS) assert.equal(ours[k](), theirs[k](), `${call} ${p} ${k}`);
            for (const t of ['mtime', 'ctime', 'birthtime'] as const) {
              assert.equal(ours[`${t}Ms`], theirs[`${t}Ms`], `${call} ${p} ${t}Ms`);
              assert.equal(ours[t].getTime(), theirs[t].getTime(), `${call} ${p} ${t}`);
            }
          }
          assert.deepEqual(await errorOf(cfs[call]('/missing', { bigint: true })), await errorOf(nodeCall(join(root, 'missing'), { bigint: true })));
        }
        const plain = await cfs.stat('/d/f', { bigint: false });
        assert.equal(typeof plain.size, 'number', '{ bigint: false } keeps numbers');
        assert.equal(typeof (await cfs.stat('/d/f')).size, 'number');
      } finally {
        await cfs.close();
      }
    });

    test('memoryBackend: kind, size, mode and link count equal Node’s on a mirrored tree', async () => {
      const root = await dirs.make('cachefs-bigint-mirror-');
      await buildWithNode(root);
      const cfs = new CacheFS(memoryBackend(), { writeMode, flushInterval: 0 });
      try {
        await buildThroughCache(cfs);
        for (const [call, nodeCall] of [['stat', nodeStat], ['lstat', nodeLstat]] as const) {
          for (const p of ['/d/f', '/d/l']) {
            const ours = await cfs[call](p, { bigint: true });
            const theirs = await nodeCall(join(root, p), { bigint: true });
            assertBigIntShape(ours);
            for (const f of ['size', 'nlink'] as const) assert.equal(ours[f], theirs[f], `${call} ${p} ${f}`);
            assert.equal(ours.mode & 0o170000n, theirs.mode & 0o170000n, `${call} ${p} file type`);
            for (const k of KINDS) assert.equal(ours[k](), theirs[k](), `${call} ${p} ${k}`);
          }
          assert.deepEqual(await errorOf(cfs[call]('/missing', { bigint: true })), await errorOf(nodeCall(join(root, 'missing'), { bigint: true })));
        }
      } finally {
        await cfs.close();
      }
    });
  });
}
