// The node:fs drop-in against Node's own fs on the same real directory: results, errors (code, errno,
// syscall, path, message), which form throws and which passes the error, descriptors and streams.
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, describe, it } from 'node:test';
import { CacheFS, memoryBackend, toNodeFs } from '../../src/index.js';
import { tempDirs } from '../support.js';
import { dropIn, errorShape, WRITE_MODES, writeTree } from './trees.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

/** Runs a sync call and returns its value or its error's shape. */
function outcome(call: () => unknown, root?: string): unknown {
  try {
    const value = call();
    return { value: value instanceof Buffer ? value.toString('latin1') : value };
  } catch (err) {
    return { error: errorShape(err, root) };
  }
}

/** Runs a callback call; fails if it throws, returns the shape of what reached the callback. */
function callbackOutcome(call: (cb: (err: unknown, value?: unknown) => void) => void, root?: string): Promise<unknown> {
  return new Promise((resolve) => {
    call((err, value) => resolve(err ? { error: errorShape(err, root) } : { value: value instanceof Buffer ? value.toString('latin1') : value }));
  });
}

for (const mode of WRITE_MODES) {
  describe(`toNodeFs, ${mode}`, () => {
    it('answers sync and callback calls as node:fs does, errors included', async () => {
      const cases: [string, (f: typeof nodeFs, base: string) => unknown][] = [
        ['readFileSync', (f, b) => f.readFileSync(b + '/a.txt', 'utf8')],
        ['readFileSync missing', (f, b) => f.readFileSync(b + '/nope/x')],
        ['readFileSync of a directory', (f, b) => f.readFileSync(b + '/d')],
        ['statSync size', (f, b) => f.statSync(b + '/d/b.txt').size],
        ['statSync isDirectory', (f, b) => f.statSync(b + '/d').isDirectory()],
        ['statSync missing, throwIfNoEntry false', (f, b) => f.statSync(b + '/zz', { throwIfNoEntry: false })],
        ['statSync bigint', (f, b) => { const s = f.statSync(b + '/d/b.txt', { bigint: true }); return [typeof s.size, s.size, typeof s.mtimeNs, s.isFile()]; }],
        ['lstatSync bigint of a link', (f, b) => { const s = f.lstatSync(b + '/link', { bigint: true })!; return [typeof s.mode, s.isSymbolicLink()]; }],
        ['lstatSync of a link', (f, b) => f.lstatSync(b + '/link').isSymbolicLink()],
        ['readdirSync', (f, b) => f.readdirSync(b + '/d').sort()],
        ['readdirSync withFileTypes', (f, b) => f.readdirSync(b + '/d', { withFileTypes: true }).map((e) => [e.name, e.isDirectory(), e.isFile()]).sort()],
        ['readdirSync of a file', (f, b) => f.readdirSync(b + '/a.txt')],
        ['existsSync', (f, b) => [f.existsSync(b + '/a.txt'), f.existsSync(b + '/nope')]],
        ['readlinkSync', (f, b) => f.readlinkSync(b + '/link')],
        ['realpathSync', (f, b) => f.realpathSync(b + '/link').slice(b.length)],
        ['mkdirSync existing', (f, b) => f.mkdirSync(b + '/d')],
        ['mkdirSync recursive', (f, b) => f.mkdirSync(b + '/m/n/o', { recursive: true })?.slice(b.length)],
        ['rmdirSync not empty', (f, b) => f.rmdirSync(b + '/d')],
        ['unlinkSync missing', (f, b) => f.unlinkSync(b + '/nope')],
        ['writeFileSync then read', (f, b) => (f.writeFileSync(b + '/w.txt', 'one'), f.appendFileSync(b + '/w.txt', '+two'), f.readFileSync(b + '/w.txt', 'utf8'))],
        ['writeFileSync wx existing', (f, b) => f.writeFileSync(b + '/a.txt', 'x', { flag: 'wx' })],
        ['renameSync missing', (f, b) => f.renameSync(b + '/nope', b + '/other')],
        ['renameSync then read', (f, b) => (f.renameSync(b + '/w.txt', b + '/v.txt'), [f.existsSync(b + '/w.txt'), f.readFileSync(b + '/v.txt', 'utf8')])],
        ['truncateSync', (f, b) => (f.truncateSync(b + '/v.txt', 2), f.readFileSync(b + '/v.txt', 'utf8'))],
        ['copyFileSync', (f, b) => (f.copyFileSync(b + '/a.txt', b + '/copy.txt'), f.readFileSync(b + '/copy.txt', 'utf8'))],
        ['rmSync a directory without recursive', (f, b) => f.rmSync(b + '/m')],
        ['rmSync recursive', (f, b) => (f.rmSync(b + '/m', { recursive: true }), f.existsSync(b + '/m'))],
        ['accessSync missing', (f, b) => f.accessSync(b + '/nope')],
      ];
      // Each case runs once on a twin tree through Node and once on this tree through the cache.
      const twinRoot = await dirs.make();
      const mineRoot = await dirs.make();
      for (const r of [twinRoot, mineRoot]) {
        writeTree(r, { 'a.txt': 'alpha', 'd/b.txt': 'bravo', 'd/e/c.txt': 'charlie' });
        nodeFs.symlinkSync('a.txt', join(r, 'link'));
      }
      const mine = dropIn(mineRoot, mode);
      for (const [name, call] of cases) {
        const expected = outcome(() => call(nodeFs, twinRoot), twinRoot);
        const got = outcome(() => call(mine.fs as unknown as typeof nodeFs, ''), undefined);
        assert.deepEqual(got, expected, name);
      }
      await mine.cache.close();
    });

    it('passes fs errors to callbacks and throws argument errors, as node:fs does', async () => {
      const root = await dirs.make();
      writeTree(root, { 'a.txt': 'alpha', 'd/b.txt': 'bravo' });
      const { cache, fs } = dropIn(root, mode);
      const f = fs as unknown as typeof nodeFs;
      const cases: [string, (x: typeof nodeFs, b: string, cb: (err: unknown, value?: unknown) => void) => void][] = [
        ['readFile', (x, b, cb) => x.readFile(b + '/a.txt', 'utf8', cb)],
        ['readFile missing', (x, b, cb) => x.readFile(b + '/nope', cb)],
        ['readFile of a directory', (x, b, cb) => x.readFile(b + '/d', cb)],
        ['stat missing', (x, b, cb) => x.stat(b + '/nope', cb)],
        ['readdir', (x, b, cb) => x.readdir(b + '/d', cb)],
        ['mkdir existing', (x, b, cb) => x.mkdir(b + '/d', cb)],
        ['rmdir not empty', (x, b, cb) => x.rmdir(b + '/d', cb)],
        ['unlink missing', (x, b, cb) => x.unlink(b + '/nope', cb)],
        ['rename missing', (x, b, cb) => x.rename(b + '/nope', b + '/x', cb)],
        ['access missing', (x, b, cb) => x.access(b + '/nope', cb)],
        ['writeFile then value', (x, b, cb) => x.writeFile(b + '/n.txt', 'new', cb)],
      ];
      for (const [name, call] of cases) {
        const expected = await callbackOutcome((cb) => call(nodeFs, root, cb), root);
        // Undo Node's write so that both see the same tree.
        nodeFs.rmSync(join(root, 'n.txt'), { force: true });
        const got = await callbackOutcome((cb) => call(f, '', cb));
        assert.deepEqual(got, expected, name);
      }
      const exists = await new Promise((resolve) => f.exists('/a.txt', resolve));
      assert.equal(exists, true);
      const argumentErrors: [string, (x: typeof nodeFs) => unknown][] = [
        ['readFile without a callback', (x) => (x.readFile as unknown as (p: string) => void)('/a.txt')],
        ['stat of a number', (x) => x.stat(5 as unknown as string, () => undefined)],
        ['readFile with NUL', (x) => x.readFile('/a\u0000b', () => undefined)],
        ['readFileSync with NUL', (x) => x.readFileSync('/a\u0000b')],
        ['close without a number', (x) => x.close('x' as unknown as number, () => undefined)],
        // The forms that answer from the cache alone check as the others do.
        ['stat without a callback', (x) => (x.stat as unknown as (p: string) => void)('/a.txt')],
        ['lstat without a callback', (x) => (x.lstat as unknown as (p: string, o: object) => void)('/a.txt', {})],
        ['readlink without a callback', (x) => (x.readlink as unknown as (p: string) => void)('/a.txt')],
        ['stat with NUL', (x) => x.stat('/a\u0000b', () => undefined)],
        ['lstat with NUL', (x) => x.lstat('/a\u0000b', () => undefined)],
        ['readlink with NUL', (x) => x.readlink('/a\u0000b', () => undefined)],
        ['statSync with NUL', (x) => x.statSync('/a\u0000b')],
        ['readlink of a number', (x) => x.readlink(5 as unknown as string, () => undefined)],
      ];
      for (const [name, call] of argumentErrors) {
        let nodeCode: unknown;
        try {
          call(nodeFs);
        } catch (err) {
          nodeCode = (err as { code?: string }).code;
        }
        assert.ok(nodeCode, `node:fs throws for ${name}`);
        assert.throws(() => call(f), (err: { code?: string }) => err.code === nodeCode, name);
      }
      await cache.close();
    });

    it('hands out numeric descriptors: read, write, fstat, ftruncate, close, then EBADF', async () => {
      const root = await dirs.make();
      writeTree(root, { 'a.txt': 'hello world' });
      const { cache, fs } = dropIn(root, mode);
      const f = fs as unknown as typeof nodeFs;
      const fd = f.openSync('/a.txt', 'r+');
      assert.equal(typeof fd, 'number');
      const buf = Buffer.alloc(5);
      assert.equal(f.readSync(fd, buf, 0, 5, null), 5);
      assert.equal(buf.toString(), 'hello');
      assert.equal(f.readSync(fd, buf, 0, 5, null), 5);
      assert.equal(buf.toString(), ' worl');
      assert.equal(f.writeSync(fd, 'D!', 10), 2);
      assert.equal(f.fstatSync(fd).size, 12);
      f.ftruncateSync(fd, 4);
      assert.equal(f.readFileSync('/a.txt', 'utf8'), 'hell');
      f.closeSync(fd);
      const nodeErr = outcome(() => nodeFs.fstatSync(fd + 100000));
      assert.deepEqual(outcome(() => f.fstatSync(fd)), nodeErr);
      assert.deepEqual(outcome(() => f.closeSync(fd)), outcome(() => nodeFs.closeSync(fd + 100000)));

      const afd = await new Promise<number>((resolve, reject) => f.open('/b.txt', 'w+', (err, n) => (err ? reject(err) : resolve(n))));
      await new Promise<void>((resolve, reject) => f.write(afd, Buffer.from('abcdef'), 0, 6, null, (err) => (err ? reject(err) : resolve())));
      const into = Buffer.alloc(3);
      const n = await new Promise<number>((resolve, reject) => f.read(afd, into, 0, 3, 2, (err, bytes) => (err ? reject(err) : resolve(bytes))));
      assert.equal(into.subarray(0, n).toString(), 'cde');
      const size = await new Promise<number>((resolve, reject) => f.fstat(afd, (err, st) => (err ? reject(err) : resolve(st.size))));
      assert.equal(size, 6);
      await new Promise<void>((resolve, reject) => f.close(afd, (err) => (err ? reject(err) : resolve())));
      const ebadf = await new Promise<unknown>((resolve) => f.fstat(afd, (err) => resolve(errorShape(err))));
      const nodeEbadf = await new Promise<unknown>((resolve) => nodeFs.fstat(afd + 100000, (err) => resolve(errorShape(err))));
      assert.deepEqual(ebadf, nodeEbadf);
      await cache.flush();
      assert.equal(nodeFs.readFileSync(join(root, 'b.txt'), 'utf8'), 'abcdef');
      await cache.close();
    });

    it('streams a range with start/end and a small highWaterMark, and writes a stream', async () => {
      const root = await dirs.make();
      const text = Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join('');
      writeTree(root, { 'big.txt': text });
      const { cache, fs } = dropIn(root, mode);
      const f = fs as unknown as typeof nodeFs;
      const collect = async (s: NodeJS.ReadableStream) => {
        const chunks: Buffer[] = [];
        for await (const c of s) chunks.push(c as Buffer);
        return chunks;
      };
      const mineChunks = await collect(f.createReadStream('/big.txt', { start: 100, end: 20000, highWaterMark: 1000 }));
      const nodeChunks = await collect(nodeFs.createReadStream(join(root, 'big.txt'), { start: 100, end: 20000, highWaterMark: 1000 }));
      assert.equal(Buffer.concat(mineChunks).toString(), Buffer.concat(nodeChunks).toString());
      assert.ok(mineChunks.every((c) => c.length <= 1000));
      await pipeline(f.createReadStream('/big.txt'), f.createWriteStream('/copy.txt'));
      assert.equal(f.readFileSync('/copy.txt', 'utf8'), text);
      await cache.flush();
      assert.equal(nodeFs.readFileSync(join(root, 'copy.txt'), 'utf8'), text);
      await cache.close();
    });
  });
}

describe('toNodeFs, sync faces', () => {
  it('serves sync hits from the cache and counts a sync miss', async () => {
    const backend = memoryBackend();
    await backend.mkdir('/d', { recursive: true });
    await backend.writeFile('/d/a.txt', Buffer.from('abc'));
    const cache = new CacheFS(backend);
    const f = toNodeFs(cache);
    assert.equal(f.readFileSync('/d/a.txt', 'utf8'), 'abc');
    const afterMiss = cache.stats();
    assert.equal(f.readFileSync('/d/a.txt', 'utf8'), 'abc');
    assert.equal(cache.stats().hits, afterMiss.hits + 1);
    await cache.close();
  });

  it('throws ERR_CACHEFS_SYNC_UNSUPPORTED on a miss when the backend has no sync face', async () => {
    const base = memoryBackend();
    await base.writeFile('/a.txt', Buffer.from('abc'));
    const { sync: _sync, ...withoutSync } = base as typeof base & { sync?: unknown };
    const cache = new CacheFS(withoutSync as typeof base);
    const f = toNodeFs(cache);
    assert.throws(() => f.readFileSync('/a.txt'), { code: 'ERR_CACHEFS_SYNC_UNSUPPORTED' });
    await cache.readFile('/a.txt');
    assert.equal(f.readFileSync('/a.txt', 'utf8'), 'abc');
    await cache.close();
  });
});
