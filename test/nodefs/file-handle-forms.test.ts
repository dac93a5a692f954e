// FileHandle calls that the promise API (the drop-in's `promises`) gives, in Node's forms, against Node's
// own FileHandle on a twin tree in every write mode: readv/writev, stat with bigint, the handle's read
// and write streams and readLines, and a handle given to createReadStream/createWriteStream as `fd`.
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import { tempDirs } from '../support.js';
import { dropIn, WRITE_MODES, writeTree } from './trees.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

type Promises = typeof nodeFs.promises;

/** The same steps on either side; `base` is put before every path. */
async function steps(fs: Pick<typeof nodeFs, 'createReadStream' | 'createWriteStream' | 'readFileSync'>, promises: Promises, base: string) {
  const seen: unknown[] = [];
  const h = await promises.open(base + '/a.txt', 'r+');
  const into = [Buffer.alloc(3), Buffer.alloc(4), Buffer.alloc(100)];
  const r = await h.readv(into, 0);
  seen.push(r.bytesRead, into.map((b) => b.toString('latin1', 0, 6)));
  const w = await h.writev([Buffer.from('XY'), new Uint8Array([90])], 2);
  seen.push(w.bytesWritten);
  const st = await h.stat({ bigint: true });
  seen.push(typeof st.size, st.size, typeof st.mtimeNs, (await h.stat()).size);
  await h.close();

  const lines = await promises.open(base + '/lines.txt', 'r');
  const got: string[] = [];
  for await (const line of lines.readLines()) got.push(line);
  seen.push(got); // readLines closes the handle at the end

  const r2 = await promises.open(base + '/lines.txt', 'r');
  seen.push(await text(r2.createReadStream({ start: 3, end: 20, highWaterMark: 4 })));
  const w2 = await promises.open(base + '/out.txt', 'w');
  await pipeline(async function* () {
    yield 'one ';
    yield Buffer.from('two');
  }, w2.createWriteStream());
  seen.push(fs.readFileSync(base + '/out.txt', 'utf8'));

  // A FileHandle given to the module's stream functions as `fd`.
  const r3 = await promises.open(base + '/a.txt', 'r');
  seen.push(await text(fs.createReadStream(null as never, { fd: r3 as never, start: 1 })));
  const w3 = await promises.open(base + '/out2.txt', 'w');
  await pipeline(async function* () {
    yield 'via fd';
  }, fs.createWriteStream(null as never, { fd: w3 as never }));
  seen.push(fs.readFileSync(base + '/out2.txt', 'utf8'));
  return seen;
}

for (const mode of WRITE_MODES) {
  describe(`FileHandle forms through toNodeFs, ${mode}`, () => {
    it('readv, writev, stat bigint, streams, readLines and a handle as fd answer as Node\'s FileHandle does', async () => {
      const twin = await dirs.make();
      const mineRoot = await dirs.make();
      const files = { 'a.txt': 'alpha bravo', 'lines.txt': Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n') };
      for (const r of [twin, mineRoot]) writeTree(r, files);
      const expected = await steps(nodeFs, nodeFs.promises, twin);
      const mine = dropIn(mineRoot, mode);
      const fs = mine.fs as unknown as typeof nodeFs;
      assert.deepEqual(await steps(fs, fs.promises, ''), expected);
      await mine.cache.flush();
      assert.equal(nodeFs.readFileSync(join(mineRoot, 'a.txt'), 'utf8'), nodeFs.readFileSync(join(twin, 'a.txt'), 'utf8'));
      await mine.cache.close();
    });
  });
}
