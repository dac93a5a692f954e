// Node's own ReadStream and WriteStream take a custom `fs` (open, read, write, writev, close, fstat): given
// the drop-in, in every write mode, they must read and write what they do over node:fs. And Node's Dir
// in its callback forms (read(cb), close(cb), entries()), which callback-style walkers use.
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

type Fs = typeof nodeFs;
const body = Array.from({ length: 4000 }, (_, i) => `line ${i}\n`).join('');

/** The steps on either side: `f` is handed to Node's streams as their fs; `b` goes before every path. */
async function steps(f: Fs, b: string) {
  const seen: unknown[] = [];
  seen.push(await text(nodeFs.createReadStream(b + '/big.txt', { fs: f, start: 7, end: 20_000, highWaterMark: 999 })));
  await pipeline(nodeFs.createReadStream(b + '/big.txt', { fs: f }), nodeFs.createWriteStream(b + '/copy.txt', { fs: f }));
  seen.push(f.readFileSync(b + '/copy.txt', 'utf8') === body);
  // Corked writes reach the fs as one writev.
  const corked = nodeFs.createWriteStream(b + '/corked.txt', { fs: f });
  corked.cork();
  for (const part of ['a', 'b', 'c']) corked.write(part);
  process.nextTick(() => corked.uncork());
  await new Promise<void>((resolve, reject) => {
    corked.on('error', reject);
    corked.end('d', () => resolve());
  });
  await new Promise<void>((resolve) => (corked.closed ? resolve() : corked.on('close', () => resolve())));
  seen.push(f.readFileSync(b + '/corked.txt', 'utf8'));
  const appending = nodeFs.createWriteStream(b + '/corked.txt', { fs: f, flags: 'a' });
  await pipeline(async function* () {
    yield '+more';
  }, appending);
  seen.push(f.readFileSync(b + '/corked.txt', 'utf8'));
  const missing = await new Promise((resolve) => nodeFs.createReadStream(b + '/nope', { fs: f }).on('error', (err: NodeJS.ErrnoException) => resolve([err.code, err.syscall])).resume());
  seen.push(missing);

  const dir = await new Promise<nodeFs.Dir>((resolve, reject) => f.opendir(b + '/d', (err, d) => (err ? reject(err) : resolve(d))));
  const names: unknown[] = [];
  for (;;) {
    const entry = await new Promise<nodeFs.Dirent | null>((resolve, reject) => dir.read((err, e) => (err ? reject(err) : resolve(e))));
    if (entry === null) break;
    names.push(entry.name);
  }
  seen.push(names.sort());
  seen.push(await new Promise((resolve) => dir.close((err) => resolve(err ?? 'closed'))));
  seen.push(await new Promise((resolve) => dir.close((err) => resolve((err as NodeJS.ErrnoException | null)?.code))));
  const again = f.opendirSync(b + '/d');
  const listed: string[] = [];
  // `entries` is Node's, not in its types.
  for await (const entry of (again as unknown as { entries(): AsyncIterable<nodeFs.Dirent> }).entries()) listed.push(entry.name);
  seen.push(listed.sort());
  return seen;
}

for (const mode of WRITE_MODES) {
  describe(`Node's streams and Dir over toNodeFs, ${mode}`, () => {
    it('read, write, writev and append as over node:fs; Dir read(cb), close(cb), entries()', async () => {
      const twin = await dirs.make();
      const mineRoot = await dirs.make();
      for (const r of [twin, mineRoot]) writeTree(r, { 'big.txt': body, 'd/x.txt': 'x', 'd/y.txt': 'y' });
      const expected = await steps(nodeFs, twin);
      const mine = dropIn(mineRoot, mode);
      assert.deepEqual(await steps(mine.fs as unknown as Fs, ''), expected);
      await mine.cache.flush();
      assert.equal(nodeFs.readFileSync(join(mineRoot, 'corked.txt'), 'utf8'), 'abcd+more');
      await mine.cache.close();
    });
  });
}
