import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { CacheFS } from '../../src/fs/cachefs.js';
import { nodeBackend } from '../../src/backend/node.js';
import { faultyBackend } from '../fault-backend.js';
import { fetchPath, serveCli, startServer, tempDir } from './helpers.js';

test('SIGTERM stops cachefs serve gracefully: dirty write-back data is flushed, exit code 0', async () => {
  const { dir, remove } = await tempDir();
  try {
    await writeFile(join(dir, 'existing.txt'), 'old\n');
    const cli = await serveCli(dir, ['--writable', '--write-mode', 'write-back', '--flush-interval', '0']);
    const put = await fetchPath(cli.port, '/fresh/new.txt', { method: 'PUT', body: 'written through the server\n' });
    assert.equal(put.status, 201);
    const replace = await fetchPath(cli.port, '/existing.txt', { method: 'PUT', body: 'new\n' });
    assert.equal(replace.status, 204);
    // Write-back: the data lives in the cache only, so the flush at shutdown is what this test checks.
    assert.equal(await readFile(join(dir, 'existing.txt'), 'utf8'), 'old\n');
    const stats = JSON.parse((await fetchPath(cli.port, '/_cachefs/stats')).body.toString());
    assert.ok(stats.dirtyEntries >= 1, `dirty entries: ${stats.dirtyEntries}`);
    assert.equal((await fetchPath(cli.port, '/existing.txt')).body.toString(), 'new\n', 'served from the cache');

    cli.child.kill('SIGTERM');
    const { code, signal } = await cli.exited;
    assert.equal(signal, null);
    assert.equal(code, 0, cli.stderr());
    assert.equal(await readFile(join(dir, 'fresh', 'new.txt'), 'utf8'), 'written through the server\n');
    assert.equal(await readFile(join(dir, 'existing.txt'), 'utf8'), 'new\n');
    assert.match(cli.stderr(), /SIGTERM: finishing requests and flushing/);
    assert.match(cli.stderr(), /stopped/);
  } finally {
    await remove();
  }
});

test('SIGINT stops cachefs serve too, with exit code 0', async () => {
  const { dir, remove } = await tempDir();
  try {
    await writeFile(join(dir, 'index.html'), '<p>hi</p>\n');
    const cli = await serveCli(dir, ['--quiet']);
    assert.equal((await fetchPath(cli.port, '/')).body.toString(), '<p>hi</p>\n');
    cli.child.kill('SIGINT');
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.stderr());
    assert.equal(cli.stderr(), '', '--quiet prints nothing but errors');
  } finally {
    await remove();
  }
});

test('close() lets a running request finish, refuses new connections, then resolves', async () => {
  const { dir, remove } = await tempDir();
  const backend = faultyBackend(nodeBackend(dir));
  const cfs = new CacheFS(backend, { metadataCache: true });
  try {
    await writeFile(join(dir, 'slow.txt'), 'worth the wait\n');
    const { server, port } = await startServer(cfs);
    const gate = backend.faults.gate('readFile', 'before');
    const inFlight = fetchPath(port, '/slow.txt');
    await gate.reached;
    let closed = false;
    const closing = server.close().then(() => {
      closed = true;
    });
    // The listening socket is closed at once: a new connection is refused.
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(undefined);
        });
        s.on('error', reject);
      }),
      { code: 'ECONNREFUSED' },
    );
    assert.equal(closed, false, 'close waits for the running request');
    gate.release();
    const reply = await inFlight;
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), 'worth the wait\n');
    await closing;
    assert.equal(closed, true);
  } finally {
    await cfs.close();
    await remove();
  }
});

test('the process exits with 1 and says so when the shutdown flush fails', async () => {
  const { dir, remove } = await tempDir();
  try {
    await writeFile(join(dir, 'locked.txt'), 'original\n');
    const cli = await serveCli(dir, ['--writable', '--write-mode', 'write-back', '--flush-interval', '0']);
    assert.equal((await fetchPath(cli.port, '/locked.txt', { method: 'PUT', body: 'changed\n' })).status, 204);
    // Replace the file by a directory behind the cache's back: the flush cannot write a file there.
    await rm(join(dir, 'locked.txt'));
    await mkdir(join(dir, 'locked.txt'));
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    assert.equal(code, 1, cli.stderr());
    assert.match(cli.stderr(), /flush failed, data may be lost/);
    assert.ok((await stat(join(dir, 'locked.txt'))).isDirectory());
  } finally {
    await remove();
  }
});
