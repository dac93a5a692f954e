// proper-lockfile (used by package managers and build caches) takes an `fs` option and locks with mkdir,
// stat, utimes and rmdir, judging staleness by the lock's mtime. Through toNodeFs in every write mode it
// must lock, refuse, release, take over a stale lock and check as it does over node:fs.
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { createRequire } from 'node:module';
import { after, describe, it } from 'node:test';
import { toNodeFs } from '../../src/index.js';
import { tempDirs } from '../support.js';
import { smallCache, WRITE_MODES, writeTree } from './trees.js';

const require = createRequire(import.meta.url);
interface LockOptions { fs: unknown; stale?: number; update?: number; realpath?: boolean; onCompromised?: (err: Error) => void }
// No types ship with it; called as its README shows.
const lockfile = require('proper-lockfile') as {
  lock(file: string, options: LockOptions): Promise<() => Promise<void>>;
  check(file: string, options: LockOptions): Promise<boolean>;
  lockSync(file: string, options: LockOptions): () => void;
  checkSync(file: string, options: LockOptions): boolean;
};

const dirs = tempDirs();
after(() => dirs.cleanup());

type Fs = typeof nodeFs;
const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** The same locking session on either side; `f` is the fs handed to proper-lockfile. */
async function session(f: Fs, root: string) {
  const seen: unknown[] = [];
  const file = `${root}/package.json`;
  const quiet = { fs: f, update: 60_000, onCompromised: () => undefined };
  const release = await lockfile.lock(file, quiet);
  seen.push(await lockfile.check(file, { fs: f }), f.statSync(`${file}.lock`).isDirectory());
  seen.push(await lockfile.lock(file, { fs: f }).then(() => 'locked twice', code));
  await release();
  seen.push(await lockfile.check(file, { fs: f }), f.existsSync(`${file}.lock`));
  // A lock whose mtime is old is stale: another locker takes it over.
  await lockfile.lock(file, quiet);
  f.utimesSync(`${file}.lock`, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
  seen.push(await lockfile.check(file, { fs: f, stale: 10_000 }));
  const takeover = await lockfile.lock(file, { ...quiet, stale: 10_000 });
  seen.push(await lockfile.check(file, { fs: f, stale: 10_000 }));
  await takeover();
  const unlockSync = lockfile.lockSync(file, { fs: f, realpath: false });
  seen.push(lockfile.checkSync(file, { fs: f, realpath: false }));
  unlockSync();
  seen.push(lockfile.checkSync(file, { fs: f, realpath: false }));
  seen.push(await lockfile.lock(`${root}/missing.json`, { fs: f }).then(() => 'locked', code));
  return seen;
}

for (const mode of WRITE_MODES) {
  describe(`proper-lockfile through toNodeFs, ${mode}`, () => {
    it('locks, refuses, releases, takes over a stale lock and checks as over node:fs', async () => {
      const twin = await dirs.make();
      const mine = await dirs.make();
      for (const r of [twin, mine]) writeTree(r, { 'package.json': '{}' });
      // The module object itself: proper-lockfile keeps a note on the fs it is given, and an ESM namespace takes none.
      const expected = await session(require('node:fs') as Fs, twin);
      const cache = smallCache('/', mode);
      assert.deepEqual(await session(toNodeFs(cache) as unknown as Fs, mine), expected);
      await cache.flush();
      assert.equal(nodeFs.existsSync(`${mine}/package.json.lock`), false, 'no lock left on disk');
      await cache.close();
    });
  });
}
