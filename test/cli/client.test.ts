import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS } from '../../src/fs/cachefs.js';
import { nodeBackend } from '../../src/backend/node.js';
import { faultyBackend } from '../fault-backend.js';
import type { WarmOutcome } from '../../src/server/admin.js';
import { formatStats } from '../../src/cli/client.js';
import { fetchPath, runCli, startServer, tempDir, type Running } from './helpers.js';

describe('cachefs stats and cachefs warm against a running server', () => {
  let root: string;
  let remove: () => Promise<void>;
  let cfs: CacheFS;
  let srv: Running;
  let tokenCfs: CacheFS;
  let tokenSrv: Running;

  before(async () => {
    ({ dir: root, remove } = await tempDir());
    await mkdir(join(root, 'assets'));
    for (let i = 0; i < 5; i++) await writeFile(join(root, 'assets', `f${i}.css`), `.c${i} { color: red }\n`);
    await writeFile(join(root, 'assets', 'logo.png'), Buffer.alloc(300, 7));
    await writeFile(join(root, 'list.txt'), '# hot paths\n/assets/f0.css\n\n/assets/logo.png\n');
    cfs = new CacheFS(nodeBackend(root), { metadataCache: true });
    srv = await startServer(cfs);
    tokenCfs = new CacheFS(nodeBackend(root), { metadataCache: true });
    tokenSrv = await startServer(tokenCfs, { adminToken: 'tok-123' });
  });

  after(async () => {
    await srv.server.close();
    await tokenSrv.server.close();
    await cfs.close();
    await tokenCfs.close();
    await remove();
  });

  test('stats prints the served cache statistics, human-readable or as JSON', async () => {
    await fetchPath(srv.port, '/assets/f1.css');
    const plain = runCli(['stats', '--url', srv.base]);
    assert.equal((await plain.exited).code, 0, plain.stderr());
    assert.match(plain.stdout(), /^misses\s+1$/m);
    assert.match(plain.stdout(), /^hitRate\s+0\.0%$/m);
    assert.match(plain.stdout(), /^maxBytes\s+100 MiB \(104857600\)$/m);
    const asJson = runCli(['stats', '--url', srv.base, '--json']);
    assert.equal((await asJson.exited).code, 0, asJson.stderr());
    const parsed = JSON.parse(asJson.stdout());
    assert.deepEqual(Object.keys(parsed).sort(), Object.keys(cfs.detailedStats()).sort());
  });

  test('stats with a token: refused without it, accepted from --token or CACHEFS_ADMIN_TOKEN', async () => {
    const refused = runCli(['stats', '--url', tokenSrv.base], { CACHEFS_ADMIN_TOKEN: '' });
    assert.equal((await refused.exited).code, 1);
    assert.match(refused.stderr(), /Authorization: Bearer .*\[ERR_CACHEFS_FORBIDDEN\]/);
    const flag = runCli(['stats', '--url', tokenSrv.base, '--token', 'tok-123']);
    assert.equal((await flag.exited).code, 0, flag.stderr());
    const env = runCli(['stats', '--url', tokenSrv.base], { CACHEFS_ADMIN_TOKEN: 'tok-123' });
    assert.equal((await env.exited).code, 0, env.stderr());
    assert.match(env.stdout(), /^hits\s+\d+$/m);
  });

  test('an unreachable server or a bad URL is a one-line error with a code, exit 1', async () => {
    const down = runCli(['stats', '--url', 'http://127.0.0.1:1']);
    assert.equal((await down.exited).code, 1);
    assert.match(down.stderr(), /^cachefs: cannot reach cachefs serve at http:\/\/127\.0\.0\.1:1: connect ECONNREFUSED .*\n$/);
    const bad = runCli(['warm', '--url', 'ftp://x', '/a']);
    assert.equal((await bad.exited).code, 1);
    assert.match(bad.stderr(), /--url: "ftp:\/\/x" must be an http: or https: URL \[ERR_INVALID_URL\]/);
    const nothing = runCli(['warm', '--url', srv.base]);
    assert.equal((await nothing.exited).code, 1);
    assert.match(nothing.stderr(), /give at least one glob, or --list FILE \[ERR_CACHEFS_USAGE\]/);
  });

  test('warm loads the matching files and prints plain progress lines off a terminal', async () => {
    const cli = runCli(['warm', '--url', srv.base, '/assets/*.css', '--concurrency', '2']);
    assert.equal((await cli.exited).code, 0, cli.stderr());
    assert.match(cli.stdout(), /^warmed 5\/5 files, 0 errors, \d+ B read\n$/);
    assert.match(cli.stderr(), /^warm: \d\/5 files, 0 errors/m);
    const before = cfs.stats().hits;
    await fetchPath(srv.port, '/assets/f3.css');
    assert.equal(cfs.stats().hits, before + 1);
  });

  test('warm --list sends the listed paths; failures give exit code 1', async () => {
    const cli = runCli(['warm', '--url', srv.base, '--list', join(root, 'list.txt'), '--json']);
    assert.equal((await cli.exited).code, 0, cli.stderr());
    const final = JSON.parse(cli.stdout());
    assert.equal(final.type, 'done');
    assert.equal(final.total, 2);
    assert.equal(final.completed, 2);
    await writeFile(join(root, 'bad-list.txt'), '/assets/f4.css\n/assets/missing.css\n');
    const failing = runCli(['warm', '--url', srv.base, '--list', join(root, 'bad-list.txt')]);
    assert.equal((await failing.exited).code, 1);
    assert.match(failing.stdout(), /warmed 1\/2 files, 1 errors/);
    const missing = runCli(['warm', '--url', srv.base, '--list', join(root, 'nope.txt')]);
    assert.equal((await missing.exited).code, 1);
    assert.match(missing.stderr(), /^cachefs: --list: cannot read .*nope\.txt: ENOENT/);
  });
});

test('Ctrl-C in cachefs warm cancels the warming on the server', async () => {
  const { dir, remove } = await tempDir();
  const backend = faultyBackend(nodeBackend(dir));
  const cfs = new CacheFS(backend, { metadataCache: true });
  try {
    for (let i = 0; i < 20; i++) await writeFile(join(dir, `page${i}.html`), `<p>${i}</p>\n`);
    const srv = await startServer(cfs);
    try {
      const gate = backend.faults.gate('readFile', 'before');
      const ended = once(srv.server, 'warm') as Promise<[WarmOutcome]>;
      const serverSideClosed = new Promise<void>((resolve) => srv.server.server.on('connection', (s) => s.once('close', () => resolve())));
      const cli = runCli(['warm', '--url', srv.base, '/*.html', '--concurrency', '1']);
      await gate.reached;
      cli.child.kill('SIGINT');
      const { code } = await cli.exited;
      assert.equal(code, 130, cli.stderr());
      assert.match(cli.stderr(), /warm: cancelled; the server stops warming too/);
      await serverSideClosed;
      await new Promise((resolve) => setImmediate(resolve));
      gate.release();
      const [outcome] = await ended;
      assert.equal(outcome.outcome, 'aborted');
      assert.ok(outcome.progress.completed < 20, `completed ${outcome.progress.completed} of 20`);
      assert.ok(cfs.stats().entries < 20);
    } finally {
      await srv.server.close();
    }
  } finally {
    await cfs.close();
    await remove();
  }
});

test('formatStats aligns names and renders sizes, rates and TTLs', () => {
  const text = formatStats({ hits: 3, hitRate: 0.75, bytesUsed: 2048, maxBytes: 0, ttl: 0, writeMode: 'write-back' });
  assert.equal(
    text,
    ['hits       3', 'hitRate    75.0%', 'bytesUsed  2.0 KiB (2048)', 'maxBytes   no limit', 'ttl        none', 'writeMode  write-back', ''].join('\n'),
  );
});
