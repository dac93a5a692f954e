import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS } from '../../src/fs/cachefs.js';
import { nodeBackend } from '../../src/backend/node.js';
import { faultyBackend } from '../fault-backend.js';
import type { WarmOutcome } from '../../src/server/admin.js';
import { fetchPath, startServer, tempDir, type Running } from './helpers.js';

const remote = (): boolean => false;

/** Fails (instead of hanging) when `promise` does not settle within 10 s. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 10_000);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

function json(body: Buffer): any {
  return JSON.parse(body.toString('utf8'));
}

describe('admin endpoints', () => {
  let root: string;
  let remove: () => Promise<void>;
  const open: { cfs: CacheFS; srv: Running }[] = [];

  async function serve(options: Parameters<typeof startServer>[1] = {}, cacheOptions = {}): Promise<{ cfs: CacheFS; srv: Running }> {
    const cfs = new CacheFS(nodeBackend(root), { metadataCache: true, ...cacheOptions });
    const srv = await startServer(cfs, options);
    const pair = { cfs, srv };
    open.push(pair);
    return pair;
  }

  before(async () => {
    ({ dir: root, remove } = await tempDir());
    await writeFile(join(root, 'a.txt'), 'alpha\n');
    await writeFile(join(root, 'b.txt'), 'bravo\n');
    await writeFile(join(root, 'c.css'), 'p { margin: 0 }\n');
    await mkdir(join(root, 'sub'));
    await writeFile(join(root, 'sub', 'd.txt'), 'delta\n');
    await mkdir(join(root, 'w', 'sub'), { recursive: true });
    await writeFile(join(root, 'w', 'a.txt'), 'alpha\n');
    await writeFile(join(root, 'w', 'b.txt'), 'bravo\n');
    await writeFile(join(root, 'w', 'sub', 'd.txt'), 'delta\n');
    await mkdir(join(root, '_cachefs'));
    await writeFile(join(root, '_cachefs', 'stats'), 'a file that happens to be called stats\n');
  });

  after(async () => {
    for (const { cfs, srv } of open) {
      await srv.server.close();
      await cfs.close();
    }
    await remove();
  });

  test('/_cachefs/stats is detailedStats() as JSON, and follows the reads', async () => {
    const { cfs, srv } = await serve();
    await fetchPath(srv.port, '/a.txt');
    await fetchPath(srv.port, '/a.txt');
    const r = await fetchPath(srv.port, '/_cachefs/stats');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-store');
    const stats = json(r.body);
    assert.deepEqual(Object.keys(stats).sort(), Object.keys(cfs.detailedStats()).sort());
    assert.equal(stats.misses, 1);
    assert.equal(stats.hits, 1);
    assert.equal(stats.entries, 1);
    assert.equal(stats.writeMode, 'write-through');
    const head = await fetchPath(srv.port, '/_cachefs/stats', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    const post = await fetchPath(srv.port, '/_cachefs/stats', { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(json(post.body).error.code, 'ERR_CACHEFS_METHOD');
  });

  test('/_cachefs/metrics is the cache\'s Prometheus text', async () => {
    const { srv } = await serve();
    await fetchPath(srv.port, '/b.txt');
    await fetchPath(srv.port, '/b.txt');
    const r = await fetchPath(srv.port, '/_cachefs/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/);
    const text = r.body.toString();
    assert.match(text, /^# TYPE cachefs_\w+ (counter|gauge|histogram)$/m);
    assert.match(text, /^cachefs_hits_total(\{[^}]*\})? 1$/m);
    assert.match(text, /^cachefs_misses_total(\{[^}]*\})? 1$/m);
    const head = await fetchPath(srv.port, '/_cachefs/metrics', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  test('unknown admin paths are 404 with a JSON error', async () => {
    const { srv } = await serve();
    const r = await fetchPath(srv.port, '/_cachefs/nothing');
    assert.equal(r.status, 404);
    assert.equal(json(r.body).error.code, 'ERR_CACHEFS_NOT_FOUND');
  });

  test('metrics: false removes metrics and stats; admin: false leaves /_cachefs/ to the files', async () => {
    const noMetrics = await serve({ metrics: false });
    assert.equal((await fetchPath(noMetrics.srv.port, '/_cachefs/metrics')).status, 404);
    assert.equal((await fetchPath(noMetrics.srv.port, '/_cachefs/stats')).status, 404);
    const warm = await fetchPath(noMetrics.srv.port, '/_cachefs/warm', { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(warm.status, 400, 'warming stays available');

    const noAdmin = await serve({ admin: false });
    const file = await fetchPath(noAdmin.srv.port, '/_cachefs/stats');
    assert.equal(file.status, 200);
    assert.equal(file.body.toString(), 'a file that happens to be called stats\n');
    assert.equal((await fetchPath(noAdmin.srv.port, '/_cachefs/metrics')).status, 404);
  });

  test('without a token, only loopback clients reach the admin endpoints', async () => {
    const { srv } = await serve({ isLocalClient: remote });
    for (const path of ['/_cachefs/stats', '/_cachefs/metrics']) {
      const r = await fetchPath(srv.port, path);
      assert.equal(r.status, 403, path);
      assert.equal(json(r.body).error.code, 'ERR_CACHEFS_FORBIDDEN');
      assert.match(json(r.body).error.message, /loopback/);
    }
    const warm = await fetchPath(srv.port, '/_cachefs/warm', { method: 'POST', body: '{"patterns":["/**"]}' });
    assert.equal(warm.status, 403);
    const file = await fetchPath(srv.port, '/a.txt');
    assert.equal(file.status, 200, 'files are for everyone');
  });

  test('with a token, every client needs Authorization: Bearer <token>, loopback included', async () => {
    const local = await serve({ adminToken: 's3cret' });
    const far = await serve({ adminToken: 's3cret', isLocalClient: remote });
    for (const { srv } of [local, far]) {
      const none = await fetchPath(srv.port, '/_cachefs/stats');
      assert.equal(none.status, 401);
      assert.match(none.headers['www-authenticate'] ?? '', /^Bearer/);
      const wrong = await fetchPath(srv.port, '/_cachefs/stats', { headers: { Authorization: 'Bearer guess' } });
      assert.equal(wrong.status, 401);
      assert.equal(json(wrong.body).error.message, 'wrong admin token');
      const basic = await fetchPath(srv.port, '/_cachefs/stats', { headers: { Authorization: 'Basic czNjcmV0' } });
      assert.equal(basic.status, 401);
      const right = await fetchPath(srv.port, '/_cachefs/stats', { headers: { Authorization: 'Bearer s3cret' } });
      assert.equal(right.status, 200);
      assert.equal(typeof json(right.body).hits, 'number');
    }
  });

  test('PUT and DELETE exist only with writable, under the admin access rules', async () => {
    const readOnly = await serve();
    assert.equal((await fetchPath(readOnly.srv.port, '/new.txt', { method: 'PUT', body: 'x' })).status, 405);

    const far = await serve({ writable: true, isLocalClient: remote });
    assert.equal((await fetchPath(far.srv.port, '/new.txt', { method: 'PUT', body: 'x' })).status, 403);
    await assert.rejects(stat(join(root, 'new.txt')), { code: 'ENOENT' });

    const tokened = await serve({ writable: true, adminToken: 't0k' });
    assert.equal((await fetchPath(tokened.srv.port, '/new.txt', { method: 'PUT', body: 'x' })).status, 401);

    const { srv } = await serve({ writable: true, maxUploadBytes: 1024 });
    const created = await fetchPath(srv.port, '/up/new.txt', { method: 'PUT', body: 'first\n' });
    assert.equal(created.status, 201);
    assert.equal(await readFile(join(root, 'up', 'new.txt'), 'utf8'), 'first\n');
    const replaced = await fetchPath(srv.port, '/up/new.txt', { method: 'PUT', body: 'second\n' });
    assert.equal(replaced.status, 204);
    assert.equal((await fetchPath(srv.port, '/up/new.txt')).body.toString(), 'second\n');
    assert.equal((await fetchPath(srv.port, '/up/big.txt', { method: 'PUT', body: 'x'.repeat(2048) })).status, 413);
    assert.equal((await fetchPath(srv.port, '/sub', { method: 'PUT', body: 'x' })).status, 409);
    assert.equal((await fetchPath(srv.port, '/%2e%2e/escaped.txt', { method: 'PUT', body: 'x' })).status, 403);
    const tokenedPut = await fetchPath(tokened.srv.port, '/up/t.txt', { method: 'PUT', body: 't\n', headers: { Authorization: 'Bearer t0k' } });
    assert.equal(tokenedPut.status, 201);
    const deleted = await fetchPath(srv.port, '/up/new.txt', { method: 'DELETE' });
    assert.equal(deleted.status, 204);
    await assert.rejects(stat(join(root, 'up', 'new.txt')), { code: 'ENOENT' });
    assert.equal((await fetchPath(srv.port, '/up/new.txt', { method: 'DELETE' })).status, 404);
  });

  describe('POST /_cachefs/warm', () => {
    const post = (port: number, body: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }) =>
      fetchPath(port, '/_cachefs/warm', { method: 'POST', body, headers });

    test('bad requests are refused before anything is warmed', async () => {
      const { srv } = await serve();
      assert.equal((await fetchPath(srv.port, '/_cachefs/warm')).status, 405);
      const cases: [string, number, RegExp][] = [
        ['not json', 400, /not valid JSON/],
        ['[]', 400, /JSON object/],
        ['{}', 400, /give "patterns" or "paths"/],
        ['{"patterns":[]}', 400, /give "patterns" or "paths"/],
        ['{"patterns":"*.txt"}', 400, /"patterns" must be an array/],
        ['{"paths":[""]}', 400, /"paths" must be an array of non-empty strings/],
        ['{"patterns":["*"],"concurrency":0}', 400, /"concurrency" must be an integer/],
        ['{"patterns":["*"],"priority":"urgent"}', 400, /"priority" must be one of/],
        ['{"patterns":["*"],"extra":1}', 400, /unknown field "extra"/],
      ];
      for (const [body, status, message] of cases) {
        const r = await post(srv.port, body);
        assert.equal(r.status, status, body);
        assert.equal(json(r.body).error.code, 'ERR_CACHEFS_BAD_REQUEST', body);
        assert.match(json(r.body).error.message, message, body);
      }
      assert.equal((await post(srv.port, '{"patterns":["*"]}', { 'Content-Type': 'text/plain' })).status, 415);
    });

    test('streams NDJSON progress and ends with done; the files are then cached', async () => {
      const { cfs, srv } = await serve();
      const r = await post(srv.port, JSON.stringify({ patterns: ['/w/**/*.txt'], concurrency: 2 }));
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/x-ndjson; charset=utf-8');
      const lines = r.body.toString().trim().split('\n').map((l) => JSON.parse(l));
      assert.ok(lines.length >= 2, 'at least one progress line and the final one');
      assert.equal(lines[0].type, 'progress');
      const final = lines.at(-1);
      assert.deepEqual(final, { type: 'done', total: 3, completed: 3, errors: 0, bytesRead: 18, errorsByCode: {}, evicted: 0, failures: [], failuresOmitted: 0 });
      const before = cfs.stats().hits;
      await fetchPath(srv.port, '/w/sub/d.txt');
      assert.equal(cfs.stats().hits, before + 1, 'served from the cache');
    });

    test('paths are warmed with warm(); a failing warm ends with an error line', async () => {
      const { srv } = await serve();
      const r = await post(srv.port, JSON.stringify({ paths: ['/w/a.txt', '/w/missing.txt'] }));
      assert.equal(r.status, 200);
      const final = JSON.parse(r.body.toString().trim().split('\n').at(-1)!);
      assert.equal(final.type, 'done');
      assert.equal(final.total, 2);
      assert.equal(final.completed, 1);
      assert.equal(final.errors, 1);
      const bad = await post(srv.port, JSON.stringify({ patterns: ['/[unclosed'] }));
      const last = JSON.parse(bad.body.toString().trim().split('\n').at(-1)!);
      assert.equal(last.type, 'error');
      assert.equal(last.code, 'ERR_INVALID_ARG_VALUE');
    });

    test('closing the connection aborts the warming on the server', async () => {
      const backend = faultyBackend(nodeBackend(root));
      const cfs = new CacheFS(backend, { metadataCache: true });
      const srv = await startServer(cfs);
      open.push({ cfs, srv });
      const gate = backend.faults.gate('readFile', 'before');
      const ended = once(srv.server, 'warm') as Promise<[WarmOutcome]>;
      const serverSideClosed = new Promise<void>((resolve) => srv.server.server.once('connection', (s) => s.once('close', () => resolve())));
      const req = request({ host: '127.0.0.1', port: srv.port, path: '/_cachefs/warm', method: 'POST', agent: false, headers: { 'Content-Type': 'application/json' } });
      req.on('error', () => {
        // the destroy below
      });
      req.end(JSON.stringify({ patterns: ['/w/**/*.txt'], concurrency: 1 }));
      await within(gate.reached, 'the first backend read of the warm');
      req.destroy();
      // Let the load through only once the server has seen the connection go, so the warm cannot
      // finish before it learns it was cancelled.
      await within(serverSideClosed, 'the server to see the disconnect');
      await new Promise((resolve) => setImmediate(resolve));
      gate.release();
      const [outcome] = await within(ended, 'the end of the warm');
      assert.equal(outcome.outcome, 'aborted');
      assert.ok(outcome.progress.completed < 3, `completed ${outcome.progress.completed} of 3`);
    });
  });
});
