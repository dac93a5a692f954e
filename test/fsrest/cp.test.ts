// cp through the cache against node:fs/promises' cp on a real temp directory holding the same tree: the
// copied tree (kinds, bytes, link targets), and Node's errors (code, syscall, errno, info.code) for a
// directory without recursive, errorOnExist without force, copying into itself or onto itself, and kind
// mismatches; force, filter, over nodeBackend and memoryBackend, in every write mode.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp as nodeCp, lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { CacheFS, memoryBackend, nodeBackend, type Backend, type WriteMode } from '../../src/index.js';
import { tempDirs } from '../support.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

const MODES: WriteMode[] = ['write-through', 'write-back', 'write-around'];
const BACKENDS: [string, () => Promise<Backend>][] = [
  ['nodeBackend', async () => nodeBackend(await dirs.make('cachefs-cp-cache-'))],
  ['memoryBackend', async () => memoryBackend()],
];
const FILES: Record<string, string> = { 'src/a': 'alpha', 'src/sub/b': 'beta', 'src/sub/deep/c': 'gamma', 'src/skip.tmp': 'no', other: 'other' };

async function outcome(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => 'ok',
    (e: NodeJS.ErrnoException & { info?: { code: string } }) => ({ code: e.code, syscall: e.syscall, errno: e.errno, info: e.info?.code, name: e.name }),
  );
}

/** The tree below `dir` of a real disk: path → kind and bytes or link target (relative to `root`). */
async function nodeListing(root: string, dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(root, dir), { recursive: true })).sort()) {
    const full = join(root, dir, name);
    const st = await lstat(full);
    out[name] = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? `link ${(await readlink(full)).replace(root, '')}` : `file ${await readFile(full, 'utf8')}`;
  }
  return out;
}

async function cacheListing(cfs: CacheFS, dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await cfs.readdir(`/${dir}`, { recursive: true })).sort()) {
    const full = `/${dir}/${name}`;
    const st = await cfs.lstat(full);
    out[name] = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? `link ${await cfs.readlink(full)}` : `file ${await cfs.readFile(full, 'utf8')}`;
  }
  return out;
}

for (const writeMode of MODES) {
  for (const [backendName, makeBackend] of BACKENDS) {
    describe(`cp (${backendName}, ${writeMode})`, () => {
      test('trees, force, errorOnExist, filter and Node’s errors', async () => {
        const root = await dirs.make('cachefs-cp-node-');
        const cfs = new CacheFS(await makeBackend(), { writeMode, flushInterval: 0 });
        try {
          for (const [f, text] of Object.entries(FILES)) {
            await mkdir(join(root, f, '..'), { recursive: true });
            await writeFile(join(root, f), text);
            await cfs.mkdir(`/${f}/..`, { recursive: true });
            await cfs.writeFile(`/${f}`, text);
          }
          await symlink('a', join(root, 'src/l'));
          await cfs.symlink('a', '/src/l');

          // Each call, made on both, in order; the trees are compared after each.
          const calls: [string, string, Parameters<CacheFS['cp']>[2]][] = [
            ['src', 'dir-no-recursive', undefined],
            ['src', 'copy', { recursive: true }],
            ['src', 'copy/inside', { recursive: true }],
            ['src/a', 'src/a', undefined],
            ['src/a', 'other', { force: false, errorOnExist: true }],
            ['src/sub/b', 'other', { force: false }],
            ['src/sub/b', 'other', undefined],
            ['src', 'other', { recursive: true }],
            ['other', 'src', { recursive: true }],
            ['missing', 'x', undefined],
            ['src', 'filtered', { recursive: true, filter: (s: string) => !s.endsWith('.tmp') }],
            ['src/a', 'new/parent/a', undefined],
            ['src/l', 'deref', { dereference: true }],
          ];
          for (const [from, to, options] of calls) {
            const filter = options?.filter;
            const nodeOptions = filter ? { ...options, filter: (s: string, d: string) => filter(`/${relative(root, s)}`, `/${relative(root, d)}`) } : options;
            const ours = await outcome(cfs.cp(`/${from}`, `/${to}`, options));
            const theirs = await outcome(nodeCp(join(root, from), join(root, to), nodeOptions as Parameters<typeof nodeCp>[2]));
            assert.deepEqual(ours, theirs, `cp ${from} ${to} ${JSON.stringify(options)}`);
          }
          for (const dir of ['copy', 'filtered', 'new']) assert.deepEqual(await cacheListing(cfs, dir), await nodeListing(root, dir), dir);
          assert.equal(await cfs.readFile('/other', 'utf8'), await readFile(join(root, 'other'), 'utf8'));
          assert.equal(await cfs.readFile('/deref', 'utf8'), await readFile(join(root, 'deref'), 'utf8'));
          assert.equal((await cfs.lstat('/deref')).isFile(), (await lstat(join(root, 'deref'))).isFile());
        } finally {
          await cfs.close();
        }
      });
    });
  }
}
