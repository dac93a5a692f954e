// The Date fields of the drop-in's stats are the ones Node gives for the same file: Node rounds the
// fractional milliseconds to the nearest (`dateFromMs`), and a program that keys on `+stat.mtime` (webpack's
// snapshots do) must see the same number from both, or what one recorded looks changed to the other.
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDirs } from '../support.js';
import { dropIn, WRITE_MODES } from './trees.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

type StatsLike = { atime: Date; mtime: Date; ctime: Date; birthtime: Date };
const datesOf = (s: StatsLike) => [+s.atime, +s.mtime, +s.ctime, +s.birthtime];

for (const mode of WRITE_MODES) {
  describe(`stat dates through toNodeFs, ${mode}`, () => {
    it('are the Dates node:fs gives, rounded to the nearest millisecond, in every form', async () => {
      const root = await dirs.make();
      const file = join(root, 'f.txt');
      nodeFs.writeFileSync(file, 'x');
      // Both times end in .6 ms: a Date that drops the fraction is one millisecond early.
      nodeFs.utimesSync(file, 1_700_000_000.1236, 1_700_000_001.2346);
      const node = nodeFs.statSync(file);
      assert.equal(node.mtimeMs % 1 > 0.5, true, 'the file system keeps the fraction');
      const want = datesOf(node);
      const { cache, fs } = dropIn(root, mode);
      try {
        const got: Record<string, number[]> = {
          statSync: datesOf(fs.statSync('/f.txt') as StatsLike),
          lstatSync: datesOf(fs.lstatSync('/f.txt') as StatsLike),
          stat: datesOf(await new Promise<StatsLike>((resolve, reject) => fs.stat('/f.txt', (err: unknown, s?: StatsLike) => (err ? reject(err) : resolve(s!))))),
          statAgain: datesOf(await new Promise<StatsLike>((resolve, reject) => fs.stat('/f.txt', (err: unknown, s?: StatsLike) => (err ? reject(err) : resolve(s!))))),
          promises: datesOf(await fs.promises.stat('/f.txt')),
          bigint: datesOf(fs.statSync('/f.txt', { bigint: true }) as unknown as StatsLike),
        };
        const bigNode = datesOf(nodeFs.statSync(file, { bigint: true }));
        assert.deepEqual(got, { statSync: want, lstatSync: want, stat: want, statAgain: want, promises: want, bigint: bigNode });
      } finally {
        await cache.close();
      }
    });
  });
}
