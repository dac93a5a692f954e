// isomorphic-git beyond init/add/commit through toNodeFs (a small evicting cache, every write mode),
// against the same steps over node:fs on a twin tree: branches, checkouts that rewrite the working tree
// (files written, removed, directories made and emptied), the status matrix after edits and removals,
// blobs, a fast-forward merge, then the working tree itself, file by file, and the history on disk.
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import git from 'isomorphic-git';
import { toNodeFs } from '../../src/index.js';
import { tempDirs } from '../support.js';
import { smallCache, WRITE_MODES, writeTree } from './trees.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

type Fs = typeof nodeFs;
const author = { name: 'cachefs', email: 'c@example.com', timestamp: 1700000000, timezoneOffset: 0 };

/** Every file below `dir` (not .git) with its content, through `f`. */
function workingTree(f: Fs, dir: string, below = ''): string[] {
  const out: string[] = [];
  for (const name of (f.readdirSync(join(dir, below)) as string[]).sort()) {
    if (name === '.git') continue;
    const rel = below ? `${below}/${name}` : name;
    if (f.statSync(join(dir, rel)).isDirectory()) out.push(`${rel}/`, ...workingTree(f, dir, rel));
    else out.push(`${rel}: ${f.readFileSync(join(dir, rel), 'utf8').slice(0, 40)} (${f.statSync(join(dir, rel)).size})`);
  }
  return out;
}

/** The same steps a program would take; everything it observes is returned for comparison. */
async function session(f: Fs, dir: string) {
  const fs = f as never;
  const seen: Record<string, unknown> = {};
  await git.init({ fs, dir, defaultBranch: 'main' });
  await git.add({ fs, dir, filepath: '.' });
  seen.first = await git.commit({ fs, dir, message: 'first', author });
  await git.branch({ fs, dir, ref: 'feature', checkout: true });
  f.writeFileSync(join(dir, 'a.txt'), 'alpha, changed on feature\n');
  f.mkdirSync(join(dir, 'new/deeper'), { recursive: true });
  f.writeFileSync(join(dir, 'new/deeper/n.txt'), 'n'.repeat(30_000));
  f.unlinkSync(join(dir, 'sub/b.txt'));
  seen.statusBefore = await git.statusMatrix({ fs, dir });
  await git.add({ fs, dir, filepath: 'a.txt' });
  await git.add({ fs, dir, filepath: 'new/deeper/n.txt' });
  await git.remove({ fs, dir, filepath: 'sub/b.txt' });
  seen.second = await git.commit({ fs, dir, message: 'second', author });
  seen.branches = await git.listBranches({ fs, dir });
  // Back to main: the checkout writes a.txt back, restores sub/b.txt and removes new/.
  await git.checkout({ fs, dir, ref: 'main' });
  seen.onMain = workingTree(f, dir);
  seen.statusOnMain = await git.statusMatrix({ fs, dir });
  seen.merge = await git.merge({ fs, dir, ours: 'main', theirs: 'feature', fastForwardOnly: true, author });
  await git.checkout({ fs, dir, ref: 'main', force: true });
  seen.afterMerge = workingTree(f, dir);
  seen.files = await git.listFiles({ fs, dir });
  const blob = await git.readBlob({ fs, dir, oid: seen.second as string, filepath: 'new/deeper/n.txt' });
  seen.blob = [blob.oid, blob.blob.length];
  seen.log = (await git.log({ fs, dir })).map((c) => [c.oid, c.commit.message]);
  seen.resolved = await git.resolveRef({ fs, dir, ref: 'HEAD' });
  return seen;
}

for (const mode of WRITE_MODES) {
  describe(`isomorphic-git through toNodeFs, ${mode}`, () => {
    it('branch, checkout, status, remove, merge and blobs give what they give over node:fs', async () => {
      const twin = await dirs.make();
      const mine = await dirs.make();
      const files: Record<string, string> = { 'a.txt': 'alpha\n', 'sub/b.txt': 'bravo\n', 'sub/c.txt': 'c'.repeat(100_000), 'x/y/z.txt': 'zulu\n' };
      for (let i = 0; i < 40; i++) files[`many/f${i}.txt`] = `file ${i}\n`.repeat(100 * i);
      for (const r of [twin, mine]) writeTree(r, files);
      const expected = await session(nodeFs, twin);
      const cache = smallCache('/', mode);
      const got = await session(toNodeFs(cache) as unknown as Fs, mine);
      assert.deepEqual(got, expected);
      assert.ok(cache.stats().evictions > 0, 'the cache evicted');
      await cache.flush();
      // What reached the disk: the working tree and the history, read with node:fs.
      assert.deepEqual(workingTree(nodeFs, mine), workingTree(nodeFs, twin));
      assert.deepEqual((await git.log({ fs: nodeFs, dir: mine })).map((c) => c.oid), (expected.log as string[][]).map((c) => c[0]));
      await cache.close();
    });
  });
}
