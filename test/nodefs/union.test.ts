// unionfs composes fs objects (an in-memory overlay over a disk, as test setups and bundlers' virtual
// modules do): each call goes to the last fs that answers without an error. The drop-in under a memfs
// overlay must answer as node:fs under the same overlay, in every write mode: the union leans on the
// error codes, callback shapes and merged directory listings of each layer.
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { after, describe, it } from 'node:test';
import { Volume } from 'memfs';
import { Union } from 'unionfs';
import { toNodeFs } from '../../src/index.js';
import { tempDirs } from '../support.js';
import { smallCache, WRITE_MODES, writeTree } from './trees.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

type Cb = (err: NodeJS.ErrnoException | null, value?: unknown) => void;

/** What a program sees through the union: reads, listings, existence, stats, errors, in each form. */
async function observe(u: typeof nodeFs, root: string) {
  const seen: unknown[] = [];
  const attempt = (call: () => unknown) => {
    try {
      return call();
    } catch (err) {
      return (err as NodeJS.ErrnoException).code;
    }
  };
  const viaCallback = (call: (cb: Cb) => void) => new Promise((resolve) => call((err, value) => resolve(err ? err.code : value)));
  for (const rel of ['/disk.txt', '/shadowed.txt', '/virtual/v.js', '/src/a.js', '/nope']) {
    seen.push(rel, attempt(() => u.readFileSync(root + rel, 'utf8')), u.existsSync(root + rel), attempt(() => u.statSync(root + rel).size));
    seen.push(await viaCallback((cb) => u.readFile(root + rel, 'utf8', cb)), await viaCallback((cb) => u.stat(root + rel, (err, st) => cb(err, st?.isFile()))));
    seen.push(await u.promises.readFile(root + rel, 'utf8').catch((err: NodeJS.ErrnoException) => err.code));
  }
  seen.push((u.readdirSync(root) as string[]).sort(), (u.readdirSync(root + '/src') as string[]).sort());
  seen.push(await viaCallback((cb) => u.readdir(root + '/src', (err, names) => cb(err, names?.sort()))));
  seen.push(attempt(() => u.readdirSync(root + '/nope')));
  // A write lands in the first layer that takes it (the overlay, the last used): the disk keeps its text.
  u.writeFileSync(root + '/disk.txt', 'written through the union');
  seen.push(u.readFileSync(root + '/disk.txt', 'utf8'));
  return seen;
}

for (const mode of WRITE_MODES) {
  describe(`unionfs over toNodeFs, ${mode}`, () => {
    it('a memfs overlay over the drop-in answers as over node:fs', async () => {
      const root = await dirs.make();
      const files: Record<string, string> = { 'disk.txt': 'on disk', 'shadowed.txt': 'disk version', 'src/a.js': 'a', 'src/b.js': 'b' };
      for (let i = 0; i < 30; i++) files[`src/many${i}.js`] = 'm'.repeat(4000);
      writeTree(root, files);
      const overlay = () => Volume.fromJSON({ [`${root}/shadowed.txt`]: 'overlay version', [`${root}/virtual/v.js`]: 'virtual', [`${root}/src/c.js`]: 'c', [`${root}/disk.txt`]: 'overlay copy' });
      const expected = await observe(new Union().use(nodeFs).use(overlay() as never) as unknown as typeof nodeFs, root);
      const cache = smallCache('/', mode);
      const fs = toNodeFs(cache);
      for (const name of Object.keys(files)) fs.readFileSync(`${root}/${name}`); // fill the small cache: it evicts
      const got = await observe(new Union().use(fs as never).use(overlay() as never) as unknown as typeof nodeFs, root);
      assert.deepEqual(got, expected);
      assert.equal(nodeFs.readFileSync(`${root}/disk.txt`, 'utf8'), 'on disk');
      assert.ok(cache.stats().evictions > 0, 'the cache evicted');
      await cache.close();
    });
  });
}
