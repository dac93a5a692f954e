// Issue 17, items 4 and 10 through the real `cachefs serve` process: an edit on disk is served by
// default (watching), --no-watch opts out, and FIFOs are refused with 403 without being opened; a warm
// of a FIFO settles, and SIGTERM ends the process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchPath, serveCli, tempDir } from '../cli/helpers.js';
import { until } from '../support.js';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups) await c();
});

async function dir(): Promise<string> {
  const t = await tempDir();
  cleanups.push(t.remove);
  return t.dir;
}

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  assert.equal(r.status, 0, `mkfifo: ${r.stderr}`);
}

test('serve shows an edit made on disk, by default; the banner says how changes are noticed (item 10)', async () => {
  const root = await dir();
  await writeFile(join(root, 'page.txt'), 'first version\n');
  await writeFile(join(root, 'gone.txt'), 'about to be deleted\n');
  const cli = await serveCli(root);
  try {
    await until(() => /changes on disk: watched/.test(cli.stderr()), 'the banner');
    const first = await fetchPath(cli.port, '/page.txt');
    assert.equal(first.body.toString(), 'first version\n');
    assert.equal((await fetchPath(cli.port, '/page.txt')).body.toString(), 'first version\n', 'cached');
    assert.equal((await fetchPath(cli.port, '/gone.txt')).status, 200);

    const editedAt = Date.now();
    await writeFile(join(root, 'page.txt'), 'second, longer version\n');
    await unlink(join(root, 'gone.txt'));
    let latest = first;
    await until(async () => {
      latest = await fetchPath(cli.port, '/page.txt');
      return latest.body.toString() === 'second, longer version\n';
    }, 'the edit to be served');
    const seenAfterMs = Date.now() - editedAt;
    assert.notEqual(latest.headers.etag, first.headers.etag, 'a new ETag for the new bytes');
    await until(async () => (await fetchPath(cli.port, '/gone.txt')).status === 404, 'the deleted file to be 404');
    // Reported, not asserted (no timing assertions): how long the edit took to show.
    console.log(`# edit served ${seenAfterMs} ms after it was written`);
  } finally {
    cli.child.kill('SIGTERM');
    await cli.exited;
  }
});

test('--no-watch opts out and the banner says so', async () => {
  const root = await dir();
  await writeFile(join(root, 'page.txt'), 'first\n');
  const cli = await serveCli(root, ['--no-watch']);
  try {
    await until(() => /changes on disk: not noticed \(--no-watch/.test(cli.stderr()), 'the banner');
    assert.equal((await fetchPath(cli.port, '/page.txt')).body.toString(), 'first\n');
    await writeFile(join(root, 'page.txt'), 'second\n');
    // With --revalidate always (its own process) the edit shows; this one keeps what it cached.
    assert.equal((await fetchPath(cli.port, '/page.txt')).body.toString(), 'first\n');
  } finally {
    cli.child.kill('SIGTERM');
    await cli.exited;
  }
});

test('a FIFO is refused with 403 without being opened; warming it settles; SIGTERM ends the process (item 4)', async () => {
  const root = await dir();
  await writeFile(join(root, 'ok.txt'), 'fine\n');
  mkfifo(join(root, 'pipe'));
  const cli = await serveCli(root, ['--shutdown-timeout', '2s']);
  try {
    assert.equal((await fetchPath(cli.port, '/pipe')).status, 403);
    assert.equal((await fetchPath(cli.port, '/pipe', { method: 'HEAD' })).status, 403);
    const warm = await fetchPath(cli.port, '/_cachefs/warm', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ paths: ['/pipe', '/ok.txt'] }),
    });
    assert.equal(warm.status, 200);
    const lines = warm.body.toString().trim().split('\n').map((l) => JSON.parse(l));
    const done = lines.at(-1);
    assert.equal(done.type, 'done');
    assert.equal(done.completed, 1);
    assert.equal(done.errors, 1);
    assert.deepEqual(done.errorsByCode, { ERR_CACHEFS_NOT_REGULAR_FILE: 1 });
    assert.equal((await fetchPath(cli.port, '/ok.txt')).body.toString(), 'fine\n');
  } finally {
    cli.child.kill('SIGTERM');
  }
  const { code, signal } = await cli.exited;
  assert.equal(signal, null);
  assert.equal(code, 0, cli.stderr());
  assert.match(cli.stderr(), /stopped/);
  await rm(join(root, 'pipe'));
});
