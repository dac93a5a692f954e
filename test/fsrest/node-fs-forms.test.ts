// The callback forms of link, lchown, lutimes, statfs, opendir, cp and stat { bigint } on toNodeFs(cache)
// against node:fs's on a twin real directory: what reaches the callback (value or error code, errno,
// syscall, path, message) and the trees after, in every write mode.
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { after, describe, it } from 'node:test';
import { tempDirs } from '../support.js';
import { dropIn, errorShape, WRITE_MODES, writeTree } from '../nodefs/trees.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

type Cb = (err: unknown, value?: unknown) => void;

function callbackOutcome(call: (cb: Cb) => void, root: string, show: (v: unknown) => unknown = (v) => v): Promise<unknown> {
  return new Promise((resolve) => call((err, value) => resolve(err ? { error: errorShape(err, root) } : { value: show(value) })));
}

for (const mode of WRITE_MODES) {
  describe(`toNodeFs callback forms of the rest of the surface, ${mode}`, () => {
    it('answer as node:fs does', async () => {
      const ours = await dirs.make('cachefs-forms-cache-');
      const theirs = await dirs.make('cachefs-forms-node-');
      const tree = { 'a.txt': 'alpha', 'd/b.txt': 'beta' };
      writeTree(ours, tree);
      writeTree(theirs, tree);
      const { cache, fs } = dropIn(ours, mode);
      const uid = process.getuid?.() ?? 0;
      const gid = process.getgid?.() ?? 0;
      const names = (v: unknown) => (v as nodeFs.Dir).path.split('/').pop();
      const cases: [string, (f: typeof nodeFs, b: string, cb: Cb) => void, ((v: unknown) => unknown)?][] = [
        ['link', (f, b, cb) => f.link(`${b}/a.txt`, `${b}/hard.txt`, cb)],
        ['link EEXIST', (f, b, cb) => f.link(`${b}/a.txt`, `${b}/d/b.txt`, cb)],
        ['stat bigint nlink', (f, b, cb) => f.stat(`${b}/hard.txt`, { bigint: true }, cb), (v) => (v as nodeFs.BigIntStats).nlink],
        ['lchown', (f, b, cb) => f.lchown(`${b}/a.txt`, uid, gid, cb)],
        ['lutimes', (f, b, cb) => f.lutimes(`${b}/a.txt`, 1000, 2000, cb)],
        ['mtime after lutimes', (f, b, cb) => f.lstat(`${b}/a.txt`, cb), (v) => (v as nodeFs.Stats).mtimeMs],
        ['statfs missing', (f, b, cb) => f.statfs(`${b}/missing`, cb)],
        ['statfs bsize', (f, b, cb) => f.statfs(b || '/', cb), (v) => (v as nodeFs.StatsFs).bsize],
        ['opendir', (f, b, cb) => f.opendir(`${b}/d`, cb), names],
        ['opendir of a file', (f, b, cb) => f.opendir(`${b}/a.txt`, cb)],
        ['cp', (f, b, cb) => f.cp(`${b}/d`, `${b}/copy`, { recursive: true }, cb)],
        ['copied', (f, b, cb) => f.readFile(`${b}/copy/b.txt`, 'utf8', cb)],
        ['cp without recursive', (f, b, cb) => f.cp(`${b}/d`, `${b}/copy2`, cb)],
      ];
      try {
        for (const [what, call, show] of cases) {
          const mine = await callbackOutcome((cb) => call(fs as unknown as typeof nodeFs, '', cb), ours, show);
          const node = await callbackOutcome((cb) => call(nodeFs, theirs, cb), theirs, show);
          assert.deepEqual(mine, node, what);
        }
        assert.throws(() => (fs as unknown as typeof nodeFs).link('/a.txt', '/x', undefined as unknown as Cb), { code: 'ERR_INVALID_ARG_TYPE' });
      } finally {
        await cache.close();
      }
    });
  });
}
