// Watching: with `watch: true` over nodeBackend, changes made on disk by another process invalidate the
// cache; the tests wait for the cache's own 'watchInvalidate' event, then read the new truth.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CacheFS, memoryBackend, nodeBackend, type Backend } from '../../src/index.js';
import { ChangeWatcher } from '../../src/coherence/watcher.js';
import { inChild, invalidated, nextEvent, seed, tempRoot } from './helpers.js';

describe('watch: true over nodeBackend, with another process changing the disk', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let fs: CacheFS;
  before(async () => {
    ({ root, cleanup } = await tempRoot());
    await seed(root, {
      '/a.txt': 'alpha',
      '/b.txt': 'bravo',
      '/dir/c.txt': 'charlie',
      '/dir/sub/d.txt': 'delta',
      '/move/e.txt': 'echo',
    });
    fs = new CacheFS(nodeBackend(root), { watch: true, metadataCache: true });
  });
  after(async () => {
    await fs.close();
    await cleanup();
  });

  test('a changed file is invalidated, and the next read has the new content', async () => {
    assert.equal(await fs.readFile('/a.txt', 'utf8'), 'alpha');
    assert.equal((await fs.stat('/a.txt')).size, 5);
    const seen = invalidated(fs, ['/a.txt']);
    await inChild(root, `fs.writeFileSync(path.join(root, 'a.txt'), 'alpha, changed')`);
    await seen;
    assert.equal(await fs.readFile('/a.txt', 'utf8'), 'alpha, changed');
    assert.equal((await fs.stat('/a.txt')).size, 'alpha, changed'.length);
  });

  test('a deleted file yields ENOENT, and its directory listing is refreshed', async () => {
    assert.equal(await fs.readFile('/b.txt', 'utf8'), 'bravo');
    await fs.stat('/b.txt');
    const seen = invalidated(fs, ['/b.txt']);
    await inChild(root, `fs.unlinkSync(path.join(root, 'b.txt'))`);
    await seen;
    await assert.rejects(fs.readFile('/b.txt'), { code: 'ENOENT' });
    await assert.rejects(fs.stat('/b.txt'), { code: 'ENOENT' });
    assert.ok(!(await fs.readdir('/')).includes('b.txt'));
  });

  test('a created file is found, and the parent directory metadata is refreshed', async () => {
    await assert.rejects(fs.stat('/dir/new.txt'), { code: 'ENOENT' });
    const parentBefore = await fs.stat('/dir');
    const seen = invalidated(fs, ['/dir/new.txt']);
    await inChild(root, `fs.writeFileSync(path.join(root, 'dir', 'new.txt'), 'november')`);
    await seen;
    assert.equal(await fs.readFile('/dir/new.txt', 'utf8'), 'november');
    const parentAfter = await fs.stat('/dir');
    assert.ok(parentAfter.mtimeMs > parentBefore.mtimeMs, "the parent's cached stat was dropped");
  });

  test('a renamed directory: everything cached below the old name goes, the new name has the content', async () => {
    assert.equal(await fs.readFile('/move/e.txt', 'utf8'), 'echo');
    await fs.stat('/move/e.txt');
    const seen = invalidated(fs, ['/move', '/moved']);
    await inChild(root, `fs.renameSync(path.join(root, 'move'), path.join(root, 'moved'))`);
    await seen;
    assert.equal(fs.core.store.lookup('/move/e.txt'), -1);
    await assert.rejects(fs.readFile('/move/e.txt'), { code: 'ENOENT' });
    await assert.rejects(fs.stat('/move/e.txt'), { code: 'ENOENT' });
    assert.equal(await fs.readFile('/moved/e.txt', 'utf8'), 'echo');
  });

  test('a file renamed over another: both names show the truth', async () => {
    assert.equal(await fs.readFile('/dir/c.txt', 'utf8'), 'charlie');
    assert.equal(await fs.readFile('/dir/sub/d.txt', 'utf8'), 'delta');
    const seen = invalidated(fs, ['/dir/c.txt', '/dir/sub/d.txt']);
    await inChild(root, `fs.renameSync(path.join(root, 'dir', 'sub', 'd.txt'), path.join(root, 'dir', 'c.txt'))`);
    await seen;
    assert.equal(await fs.readFile('/dir/c.txt', 'utf8'), 'delta');
    await assert.rejects(fs.readFile('/dir/sub/d.txt'), { code: 'ENOENT' });
  });

  test('a storm of 1,000 changes is coalesced into far fewer batches and leaves no stale entry', async () => {
    const files = Array.from({ length: 20 }, (_, i) => `/storm/f${i}.txt`);
    await seed(root, Object.fromEntries(files.map((f) => [f, 'initial'])));
    for (const f of files) assert.equal(await fs.readFile(f, 'utf8'), 'initial');
    let batches = 0;
    let events = 0;
    const count = (e: { events: number }): void => {
      batches++;
      events += e.events;
    };
    fs.on('watchInvalidate', count);
    // The marker is written last: once its batch is applied, every earlier event has been applied too
    // (inotify delivers one instance's events in order).
    const done = invalidated(fs, ['/storm/done'], 30_000);
    await inChild(
      root,
      `for (let i = 0; i < 1000; i++) fs.writeFileSync(path.join(root, 'storm', 'f' + (i % 20) + '.txt'), 'value ' + i);
       fs.writeFileSync(path.join(root, 'storm', 'done'), '');`,
    );
    await done;
    fs.off('watchInvalidate', count);
    assert.ok(events >= 1000, `at least one event per change (${events})`);
    assert.ok(batches < 100, `1,000 changes were applied in ${batches} batches`);
    for (let i = 0; i < 20; i++) assert.equal(await fs.readFile(files[i]!, 'utf8'), `value ${980 + i}`);
  });
});

test('watch over a backend without watch() fails at construction with ERR_INVALID_ARG_VALUE naming watch', () => {
  assert.throws(() => new CacheFS(memoryBackend(), { watch: true }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(err.message, /options\.watch/);
    return true;
  });
});

/**
 * nodeBackend whose watcher can be made to fail (as a lost inotify queue or a removed root would), and
 * whose new subscriptions can be refused for a while (as when the inotify watch limit is reached).
 */
function failingWatchBackend(root: string) {
  const inner = nodeBackend(root);
  let onError: ((err: Error) => void) | undefined;
  let refuse = false;
  let subscriptions = 0;
  const backend: Backend = {
    ...inner,
    watch(onChange, onErr) {
      if (refuse) throw Object.assign(new Error('no watch descriptors left'), { code: 'ENOSPC' });
      subscriptions++;
      onError = onErr;
      return inner.watch!(onChange, onErr);
    },
  };
  return {
    backend,
    failWatcher: (err: Error) => onError?.(err),
    refuseWatching: (value: boolean) => (refuse = value),
    subscriptions: () => subscriptions,
  };
}

test('a failed watcher: the cache falls back to revalidation, says so, and watches again', async () => {
  const { root, cleanup } = await tempRoot();
  await seed(root, { '/f.txt': 'one' });
  const firstRewatch = ChangeWatcher.rewatchFirstMs;
  ChangeWatcher.rewatchFirstMs = 20;
  const { backend, failWatcher, refuseWatching, subscriptions } = failingWatchBackend(root);
  const fs = new CacheFS(backend, { watch: true });
  try {
    assert.equal(await fs.readFile('/f.txt', 'utf8'), 'one');
    refuseWatching(true);
    const reported = nextEvent<{ error: Error }>(fs, 'watchError');
    failWatcher(Object.assign(new Error('inotify queue overflow'), { code: 'EOVERFLOW' }));
    const { error } = await reported;
    assert.equal((error as Error & { code?: string }).code, 'EOVERFLOW');
    assert.equal(fs.core.revalidateAfter, 0, 'every entry is checked before use while the watcher is down');
    assert.equal(await fs.readFile('/f.txt', 'utf8'), 'one');
    // No watcher can report this change: revalidation must see it.
    await inChild(root, `fs.writeFileSync(path.join(root, 'f.txt'), 'two, unseen by any watcher')`);
    assert.equal(await fs.readFile('/f.txt', 'utf8'), 'two, unseen by any watcher');
    const restored = nextEvent(fs, 'watchRestored');
    refuseWatching(false);
    await restored;
    assert.equal(subscriptions(), 2);
    assert.equal(fs.core.revalidateAfter, -1, 'back to the configured revalidate');
    assert.equal(await fs.readFile('/f.txt', 'utf8'), 'two, unseen by any watcher');
    const seen = invalidated(fs, ['/f.txt']);
    await inChild(root, `fs.writeFileSync(path.join(root, 'f.txt'), 'three')`);
    await seen;
    assert.equal(await fs.readFile('/f.txt', 'utf8'), 'three');
  } finally {
    ChangeWatcher.rewatchFirstMs = firstRewatch;
    await fs.close();
    await cleanup();
  }
});

test('a watcher that cannot start: the cache revalidates and reports it after construction', async () => {
  const { root, cleanup } = await tempRoot();
  await seed(root, { '/f.txt': 'one' });
  const { backend, refuseWatching } = failingWatchBackend(root);
  refuseWatching(true);
  const fs = new CacheFS(backend, { watch: true });
  const { error } = await nextEvent<{ error: Error & { code?: string } }>(fs, 'watchError');
  assert.equal(error.code, 'ENOSPC');
  assert.equal(await fs.readFile('/f.txt', 'utf8'), 'one');
  await inChild(root, `fs.writeFileSync(path.join(root, 'f.txt'), 'two')`);
  assert.equal(await fs.readFile('/f.txt', 'utf8'), 'two');
  await fs.close();
  await cleanup();
});

test('watchers and timers never keep the process alive, and close() stops them', async () => {
  const { root, cleanup } = await tempRoot();
  await seed(root, { '/f.txt': 'x' });
  const entry = pathToFileURL(join(process.cwd(), 'dist', 'src', 'index.js')).href;
  const script = `
    import { CacheFS, nodeBackend } from ${JSON.stringify(entry)};
    const fs = new CacheFS(nodeBackend(${JSON.stringify(root)}), {
      watch: true, revalidate: 1000, writeMode: 'write-back', memoryPressure: { maxRss: 1e15 },
    });
    await fs.readFile('/f.txt');
    console.log('served');
  `;
  // The child never calls close(): it must still exit on its own once its work is done.
  const output = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
  assert.equal(output.trim(), 'served');

  const fs = new CacheFS(nodeBackend(root), { watch: true });
  const watcher = (fs.core as unknown as { watcher: { watching: boolean } }).watcher;
  assert.equal(watcher.watching, true);
  await fs.close();
  assert.equal(watcher.watching, false);
  await cleanup();
});
