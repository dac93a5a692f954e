// watch on the cache (fs/promises' async iterator and the drop-in's FSWatcher and watchFile) against
// node:fs's own watch of the same real directory, and readJson (enhanced-resolve's extension).
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CacheFS, nodeBackend, toNodeFs } from '../../src/index.js';
import { tempDirs, until } from '../support.js';
import { WRITE_MODES, writeTree } from './trees.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

/** Collects the events of an async iterator in the background until it ends. */
function collect<T>(iterator: AsyncIterable<T>): { events: T[]; ended: Promise<unknown> } {
  const events: T[] = [];
  const ended = (async () => {
    try {
      for await (const e of iterator) events.push(e);
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  return { events, ended };
}

for (const mode of WRITE_MODES) {
  describe(`watch through the cache, ${mode}`, () => {
    it('reports the names node:fs.watch reports for changes made through the cache', async () => {
      const root = await dirs.make('watch-');
      writeTree(root, { 'a.txt': 'A', 'd/b.txt': 'B' });
      const cache = new CacheFS(nodeBackend('/'), { writeMode: mode, metadataCache: true, flushInterval: 20 });
      const fs = toNodeFs(cache);
      const nodeNames = new Set<string>();
      const nodeWatcher = nodeFs.watch(root, (_type, name) => name && nodeNames.add(String(name)));
      const ac = new AbortController();
      const mine = collect(cache.watch(root, { signal: ac.signal }));
      const fsNames = new Set<string>();
      const fsWatcher = fs.watch(root, (_type: string, name: string | null) => name && fsNames.add(name));
      await cache.writeFile(join(root, 'new.txt'), 'x');
      await cache.mkdir(join(root, 'sub'));
      await cache.rename(join(root, 'a.txt'), join(root, 'renamed.txt'));
      await cache.unlink(join(root, 'renamed.txt'));
      fs.writeFileSync(join(root, 'sync.txt'), 'y');
      await cache.writeFile(join(root, 'd/deep.txt'), 'not a direct entry');
      await cache.flush();
      const expected = ['new.txt', 'sub', 'a.txt', 'renamed.txt', 'sync.txt'];
      await until(() => expected.every((n) => nodeNames.has(n)), 'node:fs reported every change');
      await until(() => expected.every((n) => mine.events.some((e) => e.filename === n)), 'the cache reported every change');
      assert.ok(expected.every((n) => fsNames.has(n)), 'the FSWatcher reported every change');
      for (const e of mine.events) {
        assert.ok(e.eventType === 'rename' || e.eventType === 'change', e.eventType);
        assert.ok(nodeNames.has(e.filename!) || e.filename === 'd', `node:fs reported ${e.filename} too`);
      }
      ac.abort();
      const err = (await mine.ended) as { name?: string; code?: string };
      assert.equal(err?.name, 'AbortError');
      assert.equal(err?.code, 'ABORT_ERR');
      const closed = new Promise((resolve) => fsWatcher.once('close', resolve));
      fsWatcher.close();
      await closed;
      nodeWatcher.close();
      await cache.close();
    });

    it('recursive names the path below the directory; a file watch names the file; break ends it', async () => {
      const root = await dirs.make('watch-');
      writeTree(root, { 'd/e/c.txt': 'C', 'f.txt': 'F' });
      const cache = new CacheFS(nodeBackend('/'), { writeMode: mode, flushInterval: 20 });
      const deep = collect(cache.watch(root, { recursive: true }));
      const file = cache.watch(join(root, 'f.txt'));
      await cache.writeFile(join(root, 'd/e/c.txt'), 'changed');
      await cache.appendFile(join(root, 'f.txt'), '+');
      await until(() => deep.events.some((e) => e.filename === 'd/e/c.txt'), 'the recursive watch reported d/e/c.txt');
      const first = await file.next();
      assert.deepEqual(first, { value: { eventType: 'change', filename: 'f.txt' }, done: false });
      assert.deepEqual(await file.return!(), { value: undefined, done: true });
      assert.equal((await file.next()).done, true);
      await cache.close();
    });
  });
}

describe('watch and its sources', () => {
  it('reports a change made outside the cache that its backend watcher noticed', async () => {
    const root = await dirs.make('watch-');
    writeTree(root, { 'a.txt': 'A' });
    const cache = new CacheFS(nodeBackend(root), { watch: true });
    const mine = collect(cache.watch('/'));
    nodeFs.writeFileSync(join(root, 'outside.txt'), 'x');
    await until(() => mine.events.some((e) => e.filename === 'outside.txt'), 'the watcher reported outside.txt');
    await cache.close();
  });

  it('watchFile calls back when the file changes through the cache', async () => {
    const root = await dirs.make('watch-');
    writeTree(root, { 'a.txt': 'A' });
    const cache = new CacheFS(nodeBackend('/'), { metadataCache: true });
    const fs = toNodeFs(cache);
    const seen: [number, number][] = [];
    const listener = (curr: nodeFs.Stats, prev: nodeFs.Stats) => seen.push([prev.size, curr.size]);
    fs.watchFile(join(root, 'a.txt'), { interval: 5 }, listener);
    await until(async () => {
      await cache.writeFile(join(root, 'a.txt'), 'A'.repeat(seen.length + 2));
      return seen.length > 0;
    }, 'watchFile called back');
    assert.ok(seen[0]![1] > 1);
    fs.unwatchFile(join(root, 'a.txt'), listener);
    await cache.close();
  });

  it('readJson parses as CachedInputFileSystem does, keeps the value, and drops it on a change', async () => {
    const root = await dirs.make('json-');
    writeTree(root, { 'p.json': '{"a":1}', 'empty.json': '', 'bad.json': '{' });
    const cache = new CacheFS(nodeBackend('/'), { metadataCache: true });
    const fs = toNodeFs(cache);
    const readJson = (p: string) => new Promise<{ err?: Error; value?: unknown }>((resolve) => fs.readJson(p, (err: unknown, value?: unknown) => resolve({ err: err as Error, value })));
    const first = await readJson(join(root, 'p.json'));
    assert.deepEqual(first.value, { a: 1 });
    assert.equal((await readJson(join(root, 'p.json'))).value, first.value, 'the same object while unchanged');
    assert.equal(fs.readJsonSync(join(root, 'p.json')), first.value);
    await cache.writeFile(join(root, 'p.json'), '{"a":2}');
    assert.deepEqual((await readJson(join(root, 'p.json'))).value, { a: 2 });
    fs.writeFileSync(join(root, 'p.json'), '{"a":3}');
    assert.deepEqual(fs.readJsonSync(join(root, 'p.json')), { a: 3 });
    assert.equal((await readJson(join(root, 'nope.json'))).err?.message.startsWith('ENOENT'), true);
    assert.equal((await readJson(join(root, 'empty.json'))).err?.message, 'No file content');
    assert.equal((await readJson(join(root, 'bad.json'))).err?.name, 'SyntaxError');
    assert.throws(() => (fs.readJson as unknown as (p: string) => void)(join(root, 'p.json')), { code: 'ERR_INVALID_ARG_TYPE' });
    await cache.close();
  });
});
