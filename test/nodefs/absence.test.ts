// Absences, link targets and "not a link" remembered by the metadata cache: served without a backend
// call, answered exactly as node:fs answers on the same real tree, and dropped by every change that
// could make them wrong (a create through the cache in any form, a rename into place, a change the
// cache overtakes, revalidation).
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CacheFS, nodeBackend, toNodeFs, type Backend } from '../../src/index.js';
import { tempDirs, until } from '../support.js';
import { errorShape, WRITE_MODES, writeTree } from './trees.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

/** A real nodeBackend that counts the calls that ask about a path (a wrapper, not a fake). */
function counted(root: string): { backend: Backend; calls: () => number } {
  const real = nodeBackend(root);
  let n = 0;
  const asks = new Set(['stat', 'lstat', 'readlink', 'realpath', 'open', 'readFile']);
  const backend = new Proxy(real, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function' || !asks.has(String(name))) return value;
      return (...args: unknown[]) => {
        n++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { backend, calls: () => n };
}

function callback<T>(call: (cb: (err: unknown, value?: T) => void) => void): Promise<{ error?: Record<string, unknown>; value?: T }> {
  return new Promise((resolve) => call((err, value) => resolve(err ? { error: errorShape(err) } : { value })));
}

function sync<T>(call: () => T): { error?: Record<string, unknown>; value?: T } {
  try {
    return { value: call() };
  } catch (err) {
    return { error: errorShape(err) };
  }
}

async function tree(): Promise<string> {
  const root = await dirs.make('absence-');
  writeTree(root, { 'a.txt': 'A', 'd/b.txt': 'B' });
  nodeFs.symlinkSync('a.txt', join(root, 'link'));
  nodeFs.symlinkSync('d', join(root, 'dirlink'));
  return root;
}

for (const mode of WRITE_MODES) {
  describe(`absences and link answers, ${mode}`, () => {
    it('answers a missing path, a file and a link as node:fs does, the second time without the backend', async () => {
      const root = await tree();
      const { backend, calls } = counted('/');
      const cache = new CacheFS(backend, { writeMode: mode, metadataCache: true });
      const fs = toNodeFs(cache);
      const probes: [string, (f: typeof nodeFs) => Promise<unknown>][] = [
        ['stat missing', (f) => callback((cb) => f.stat(join(root, 'nope'), cb))],
        ['lstat missing', (f) => callback((cb) => f.lstat(join(root, 'd/nope'), cb))],
        ['readFile missing', (f) => callback((cb) => f.readFile(join(root, 'nope.json'), cb))],
        ['readlink missing', (f) => callback((cb) => f.readlink(join(root, 'nope'), cb))],
        ['readlink of a file', (f) => callback((cb) => f.readlink(join(root, 'a.txt'), cb))],
        ['readlink of a directory', (f) => callback((cb) => f.readlink(join(root, 'd'), cb))],
        ['readlink of /', (f) => callback((cb) => f.readlink('/', cb))],
        ['readlink of a link', (f) => callback((cb) => f.readlink(join(root, 'link'), cb))],
        ['readlink buffer', (f) => callback<Buffer>((cb) => f.readlink(join(root, 'link'), 'buffer', cb)).then((r) => ({ ...r, value: r.value?.toString('latin1') }))],
        ['missing through a linked directory', (f) => callback((cb) => f.stat(join(root, 'dirlink/nope'), cb))],
        ['statSync missing', async (f) => sync(() => f.statSync(join(root, 'nope')))],
        ['statSync missing, no throw', async (f) => sync(() => f.statSync(join(root, 'nope'), { throwIfNoEntry: false }))],
        ['lstatSync missing', async (f) => sync(() => f.lstatSync(join(root, 'd/nope')))],
        ['readFileSync missing', async (f) => sync(() => f.readFileSync(join(root, 'nope.json')))],
        ['readlinkSync of a file', async (f) => sync(() => f.readlinkSync(join(root, 'a.txt')))],
        ['readlinkSync missing', async (f) => sync(() => f.readlinkSync(join(root, 'nope')))],
        ['existsSync missing', async (f) => sync(() => f.existsSync(join(root, 'nope')))],
        ['promise stat missing', (f) => f.promises.stat(join(root, 'nope')).then(() => ({}), (err: unknown) => ({ error: errorShape(err) }))],
      ];
      for (const [name, probe] of probes) {
        const expected = await probe(nodeFs);
        assert.deepEqual(await probe(fs as unknown as typeof nodeFs), expected, `${name} (first)`);
        // A failed read proves its absence in the background (one lstat): soon, not at once.
        await until(async () => {
          const before = calls();
          assert.deepEqual(await probe(fs as unknown as typeof nodeFs), expected, `${name} (again)`);
          return calls() === before;
        }, `${name}: an answer from the cache alone`);
      }
      // Each error is a fresh object, as Node's are.
      const [e1, e2] = await Promise.all([0, 1].map(() => new Promise((resolve) => fs.stat(join(root, 'nope'), resolve))));
      assert.notEqual(e1, e2);
      await cache.close();
    });

    it('forgets an absence when the cache creates the path, in any form', async () => {
      const root = await tree();
      const cache = new CacheFS(nodeBackend('/'), { writeMode: mode, metadataCache: true, flushInterval: 20 });
      const fs = toNodeFs(cache);
      const creations: [string, (p: string) => Promise<unknown> | unknown][] = [
        ['writeFile', (p) => cache.writeFile(p, 'x')],
        ['writeFileSync', (p) => fs.writeFileSync(p, 'x')],
        ['writeFileSync through a linked directory', (p) => fs.writeFileSync(p.replace(`${root}/d/`, `${root}/dirlink/`), 'x')],
        ['appendFile', (p) => cache.appendFile(p, 'x')],
        ['open wx', async (p) => (await cache.open(p, 'wx')).close()],
        ['mkdir', (p) => cache.mkdir(p)],
        ['mkdirSync', (p) => fs.mkdirSync(p)],
        ['mkdir recursive below', (p) => cache.mkdir(join(p, 'x/y'), { recursive: true })],
        ['symlink', (p) => cache.symlink(join(root, 'a.txt'), p)],
        ['symlinkSync', (p) => fs.symlinkSync(join(root, 'a.txt'), p)],
        ['link', (p) => cache.link(join(root, 'a.txt'), p)],
        ['copyFile', (p) => cache.copyFile(join(root, 'a.txt'), p)],
        ['copyFileSync', (p) => fs.copyFileSync(join(root, 'a.txt'), p)],
        ['cp', (p) => cache.cp(join(root, 'a.txt'), p)],
        ['rename into place', async (p) => (await cache.writeFile(join(root, 'src.tmp'), 'x'), cache.rename(join(root, 'src.tmp'), p))],
        ['renameSync into place', (p) => (fs.writeFileSync(join(root, 'src2.tmp'), 'x'), fs.renameSync(join(root, 'src2.tmp'), p))],
      ];
      let i = 0;
      for (const [name, create] of creations) {
        const p = join(root, 'd', `new${i++}`);
        // Every way a resolver asks, twice (the second answer comes from memory), so that each kind of
        // answer is remembered.
        for (let again = 0; again < 2; again++) {
          assert.equal((await callback((cb) => fs.stat(p, cb))).error?.code, 'ENOENT', name);
          assert.equal((await callback((cb) => fs.lstat(p, cb))).error?.code, 'ENOENT', name);
          assert.equal((await callback((cb) => fs.readlink(p, cb))).error?.code, 'ENOENT', name);
          assert.equal((await callback((cb) => fs.readJson(p, cb))).error?.code, 'ENOENT', name);
        }
        assert.equal(fs.existsSync(p), false, name);
        await create(p);
        const expected = nodeFs.lstatSync(p);
        const seen = await callback<nodeFs.Stats>((cb) => fs.lstat(p, cb));
        assert.equal(seen.error, undefined, `${name}: lstat after the create`);
        assert.equal(seen.value!.mode, expected.mode, name);
        assert.equal(fs.existsSync(p), true, name);
        assert.deepEqual(await callback((cb) => fs.readlink(p, cb)), await callback((cb) => nodeFs.readlink(p, cb)), `${name}: readlink`);
        assert.equal((await callback<nodeFs.Stats>((cb) => fs.stat(p, cb))).value?.mode, nodeFs.statSync(p).mode, `${name}: stat after the create`);
      }
      await cache.close();
    });

    it('forgets a "not a link" answer and a link target when the path is replaced', async () => {
      const root = await tree();
      const cache = new CacheFS(nodeBackend('/'), { writeMode: mode, metadataCache: true, flushInterval: 20 });
      const fs = toNodeFs(cache);
      const p = join(root, 'd/b.txt');
      assert.equal((await callback((cb) => fs.readlink(p, cb))).error?.code, 'EINVAL');
      await cache.unlink(p);
      await cache.symlink('../a.txt', p);
      assert.deepEqual(await callback((cb) => fs.readlink(p, cb)), { value: '../a.txt' });
      fs.unlinkSync(p);
      fs.symlinkSync('elsewhere', p);
      assert.equal(fs.readlinkSync(p), 'elsewhere');
      await cache.rm(p);
      assert.deepEqual(await callback((cb) => fs.readlink(p, cb)), await callback((cb) => nodeFs.readlink(p, cb)));
      await cache.close();
    });
  });
}

describe('answers given again from memory', () => {
  it('are what node:fs answers, each error a fresh object a caller may change', async () => {
    const root = await tree();
    writeTree(root, { 'package.json': '{"name":"p"}' });
    const { backend, calls } = counted('/');
    const cache = new CacheFS(backend, { metadataCache: true });
    const fs = toNodeFs(cache);
    const asks: [string, (f: typeof nodeFs) => Promise<{ error?: Record<string, unknown>; value?: unknown }>][] = [
      ['stat missing', (f) => callback((cb) => f.stat(join(root, 'nope'), cb))],
      ['lstat missing', (f) => callback((cb) => f.lstat(join(root, 'd/nope'), cb))],
      ['stat through a file', (f) => callback((cb) => f.stat(join(root, 'a.txt/x'), cb))],
      ['readlink of a file', (f) => callback((cb) => f.readlink(join(root, 'a.txt'), cb))],
      ['readlink missing', (f) => callback((cb) => f.readlink(join(root, 'nope'), cb))],
      ['readlink of a link', (f) => callback((cb) => f.readlink(join(root, 'link'), cb))],
      ['stat of a file', (f) => callback<nodeFs.Stats>((cb) => f.stat(join(root, 'a.txt'), cb)).then((r) => ({ error: r.error, value: r.value?.size }))],
      ['lstat of a link', (f) => callback<nodeFs.Stats>((cb) => f.lstat(join(root, 'link'), cb)).then((r) => ({ error: r.error, value: r.value?.isSymbolicLink() }))],
    ];
    for (const [name, ask] of asks) {
      const expected = await ask(nodeFs);
      for (let again = 0; again < 3; again++) assert.deepEqual(await ask(fs as unknown as typeof nodeFs), expected, `${name} (${again})`);
    }
    const before = calls();
    for (const [name, ask] of asks) assert.deepEqual(await ask(fs as unknown as typeof nodeFs), await ask(nodeFs), name);
    assert.equal(calls(), before, 'all from memory');
    const json = (): Promise<{ error?: Record<string, unknown>; value?: unknown }> => callback((cb) => fs.readJson(join(root, 'package.json'), cb));
    assert.deepEqual(await json(), { value: { name: 'p' } });
    assert.deepEqual(await json(), { value: { name: 'p' } });

    const errors = await Promise.all([0, 1].map(() => new Promise<Error>((resolve) => fs.stat(join(root, 'nope'), resolve))));
    const [e1, e2] = errors as [Error & { code?: string }, Error & { code?: string }];
    assert.notEqual(e1, e2);
    assert.ok(e1 instanceof Error);
    const nodeError = await new Promise<Error>((resolve) => nodeFs.stat(join(root, 'nope'), resolve as never));
    assert.equal(e1.message, nodeError.message);
    assert.equal(String(e1), String(nodeError));
    assert.equal(e1.stack?.split('\n')[0], nodeError.stack?.split('\n')[0]);
    assert.deepEqual(Object.keys(e1), Object.keys(nodeError));
    e1.message = `while resolving: ${e1.message}`;
    (e1 as { code?: string }).code = 'CHANGED';
    const e3 = await new Promise<Error & { code?: string }>((resolve) => fs.stat(join(root, 'nope'), resolve as never));
    assert.equal(e3.message, nodeError.message, 'a caller changing its error changes no other');
    assert.equal(e3.code, 'ENOENT');

    // Changed through the cache: every answer is dropped.
    await cache.writeFile(join(root, 'nope'), 'now here');
    await cache.writeFile(join(root, 'package.json'), '{"name":"q"}');
    assert.equal((await callback<nodeFs.Stats>((cb) => fs.stat(join(root, 'nope'), cb))).value?.size, 8);
    assert.deepEqual(await json(), { value: { name: 'q' } });
    await cache.close();
  });

  it('are not kept for a relative path, which names another file after a chdir', async () => {
    const root = await tree();
    const cache = new CacheFS(nodeBackend('/'), { metadataCache: true });
    const fs = toNodeFs(cache);
    await cache.chdir(join(root, 'd'));
    for (let again = 0; again < 2; again++) assert.equal((await callback((cb) => fs.stat('a.txt', cb))).error?.code, 'ENOENT');
    for (let again = 0; again < 2; again++) assert.equal((await callback((cb) => fs.readlink('b.txt', cb))).error?.code, 'EINVAL');
    await cache.chdir(root);
    assert.equal((await callback<nodeFs.Stats>((cb) => fs.stat('a.txt', cb))).value?.size, 1);
    assert.equal((await callback((cb) => fs.readlink('link', cb))).value, 'a.txt');
    await cache.close();
  });

  it('are dropped when the watcher hears of a change made behind the cache', async () => {
    const root = await tree();
    const cache = new CacheFS(nodeBackend(root), { metadataCache: true, watch: true });
    await cache.ready();
    const fs = toNodeFs(cache);
    const p = '/d/later';
    for (let again = 0; again < 2; again++) assert.equal((await callback((cb) => fs.stat(p, cb))).error?.code, 'ENOENT');
    nodeFs.writeFileSync(join(root, p), 'made behind the cache');
    await until(async () => (await callback<nodeFs.Stats>((cb) => fs.stat(p, cb))).value?.size === 'made behind the cache'.length, 'the watcher drops the remembered absence');
    await cache.close();
  });
});

describe('absences and their limits', () => {
  it('does not remember an absence that a create overtook while the probe was on its way', async () => {
    const root = await tree();
    const real = nodeBackend('/');
    let hold: Promise<void> | undefined;
    // A wrapper that answers lstat only once `hold` settles (the real call has run already).
    const backend = new Proxy(real, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (name !== 'lstat') return value;
        return async (path: string) => {
          const answer = real.lstat(path).then((st) => ({ st }), (err: unknown) => ({ err }));
          if (hold !== undefined) await hold;
          const got = await answer;
          if ('err' in got) throw got.err;
          return got.st;
        };
      },
    });
    const cache = new CacheFS(backend, { metadataCache: true });
    const fs = toNodeFs(cache);
    const p = join(root, 'd/late');
    let release!: () => void;
    hold = new Promise((resolve) => (release = resolve));
    const probe = callback((cb) => fs.stat(p, cb));
    hold = undefined;
    await cache.writeFile(p, 'made meanwhile');
    release();
    assert.equal((await probe).error?.code, 'ENOENT'); // it asked before the file existed
    assert.equal((await callback<nodeFs.Stats>((cb) => fs.stat(p, cb))).value?.size, 'made meanwhile'.length);
    await cache.close();
  });

  it('forgets absences below a missing directory once a file or a link is made in its place', async () => {
    // A path below a directory that did not exist was absent; a file made there turns it into ENOTDIR, a
    // link into whatever lies below the link's target (a model-test counterexample: rm -r /d, read
    // /d/e, write the file /d, rename /d/e gave ENOENT where the disk says ENOTDIR).
    for (const mode of WRITE_MODES) {
      const root = await dirs.make('absence-below-');
      writeTree(root, { 't/e': 'E' });
      const cache = new CacheFS(nodeBackend(root), { writeMode: mode, metadataCache: true, flushInterval: 20 });
      const fs = toNodeFs(cache);
      const makes: [string, (p: string) => Promise<unknown> | unknown][] = [
        ['writeFile', (p) => cache.writeFile(p, '')],
        ['writeFileSync', (p) => fs.writeFileSync(p, '')],
        ['symlink', (p) => cache.symlink('t', p)],
        ['symlinkSync', (p) => fs.symlinkSync('t', p)],
      ];
      for (const [name, make] of makes) {
        const dir = `/${name}`;
        await assert.rejects(cache.readFile(`${dir}/e`), { code: 'ENOENT' });
        await until(async () => {
          // The failed read proves the absence in the background; asked again, it is answered from memory.
          const got = await callback((cb) => fs.stat(`${dir}/e`, cb));
          return got.error?.code === 'ENOENT';
        }, `${name}: absent first`);
        await assert.rejects(cache.stat(`${dir}/x/y`), { code: 'ENOENT' });
        await make(dir);
        const expected = await callback((cb) => nodeFs.stat(join(root, dir, 'e'), cb));
        assert.deepEqual((await callback((cb) => fs.stat(`${dir}/e`, cb))).error?.code, expected.error?.code, `${name} ${mode}: stat`);
        await assert.rejects(cache.rename(`${dir}/x/y`, '/elsewhere'), { code: nodeFs.statSync(join(root, dir)).isDirectory() ? 'ENOENT' : 'ENOTDIR' }, `${name} ${mode}: rename`);
        if (expected.error === undefined) assert.equal(String(await cache.readFile(`${dir}/e`)), 'E', `${name} ${mode}: read through the link`);
        else await assert.rejects(cache.readFile(`${dir}/e`), { code: expected.error.code }, `${name} ${mode}: read`);
      }
      await cache.close();
    }
  });

  it('forgets an absence when it was the only thing the metadata cache held', async () => {
    // The metadata cache holds no stats here, only the absence: shortcuts for an empty metadata cache
    // must still count absences as something to drop.
    for (const mode of WRITE_MODES) {
      const root = await dirs.make('absence-only-');
      const cache = new CacheFS(nodeBackend(root), { writeMode: mode, metadataCache: true, flushInterval: 20 });
      await assert.rejects(cache.stat('/only'), { code: 'ENOENT' });
      await assert.rejects(cache.readFile('/only'), { code: 'ENOENT' });
      await cache.writeFile('/only', 'here');
      assert.equal((await cache.stat('/only')).size, 4, mode);
      assert.equal(String(await cache.readFile('/only')), 'here', mode);
      await cache.close();
      assert.equal(nodeFs.readFileSync(join(root, 'only'), 'utf8'), 'here', mode);
    }
  });

  it('asks again once an absence is older than revalidation allows', async () => {
    const root = await tree();
    const cache = new CacheFS(nodeBackend('/'), { metadataCache: true, revalidate: 'always' });
    const fs = toNodeFs(cache);
    const p = join(root, 'outside');
    assert.equal((await callback((cb) => fs.stat(p, cb))).error?.code, 'ENOENT');
    nodeFs.writeFileSync(p, 'made outside the cache');
    assert.equal((await callback<nodeFs.Stats>((cb) => fs.stat(p, cb))).value?.size, 'made outside the cache'.length);
    assert.equal(fs.existsSync(p), true);
    await cache.close();
  });

  it('remembers nothing without the metadata cache', async () => {
    const root = await tree();
    const cache = new CacheFS(nodeBackend('/'));
    const fs = toNodeFs(cache);
    const p = join(root, 'outside');
    assert.equal((await callback((cb) => fs.stat(p, cb))).error?.code, 'ENOENT');
    assert.equal((await callback((cb) => fs.readlink(join(root, 'a.txt'), cb))).error?.code, 'EINVAL');
    nodeFs.writeFileSync(p, 'made outside the cache');
    nodeFs.unlinkSync(join(root, 'a.txt'));
    nodeFs.symlinkSync('d', join(root, 'a.txt'));
    assert.equal(fs.existsSync(p), true);
    assert.equal((await callback((cb) => fs.readlink(join(root, 'a.txt'), cb))).value, 'd');
    await cache.close();
  });
});
