import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS } from '../../src/fs/cachefs.js';
import { nodeBackend } from '../../src/backend/node.js';
import { fetchPath, rawGet, startServer, tempDir, type Running } from './helpers.js';

/** Deterministic bytes: a file whose every range is checkable. */
function pattern(size: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

const INDEX = '<!doctype html><title>home</title>\n';
const DOCS = '<!doctype html><title>docs</title>\n';
const CSS = 'body { color: red; }\n';
const JS = 'export const x = 1;\n';
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const DATA = pattern(10_000);
const BIG = pattern(6 * 1024 * 1024 + 123, 3);
const SECRET = 'top secret: outside the root\n';

describe('serving files', () => {
  let root: string;
  let removeRoot: () => Promise<void>;
  let removeOutside: () => Promise<void>;
  let cfs: CacheFS;
  let srv: Running;
  let listingCfs: CacheFS;
  let listingSrv: Running;

  before(async () => {
    ({ dir: root, remove: removeRoot } = await tempDir());
    const outside = await tempDir();
    removeOutside = outside.remove;
    await writeFile(join(outside.dir, 'secret.txt'), SECRET);
    await writeFile(join(root, 'index.html'), INDEX);
    await writeFile(join(root, 'style.css'), CSS);
    await writeFile(join(root, 'app.js'), JS);
    await writeFile(join(root, 'logo.png'), PNG);
    await writeFile(join(root, 'data.bin'), DATA);
    await writeFile(join(root, 'blob.xyz'), 'no known extension');
    await writeFile(join(root, 'big.bin'), BIG);
    await writeFile(join(root, 'empty.txt'), '');
    await writeFile(join(root, 'a.bin'), pattern(5000, 5));
    await writeFile(join(root, 'b.bin'), pattern(6000, 6));
    await writeFile(join(root, '.env'), 'PASSWORD=hunter2\n');
    await mkdir(join(root, 'docs'));
    await writeFile(join(root, 'docs', 'index.html'), DOCS);
    await mkdir(join(root, 'empty'));
    await writeFile(join(root, 'empty', 'note.txt'), 'a file in a directory without index.html\n');
    await writeFile(join(root, 'empty', '.hidden'), 'hidden\n');
    await symlink(join(outside.dir, 'secret.txt'), join(root, 'escape.txt'));
    await symlink(outside.dir, join(root, 'escape-dir'));
    await symlink('../' + outside.dir.split('/').pop() + '/secret.txt', join(root, 'relative-escape.txt'));
    await symlink('style.css', join(root, 'alias.css'));
    cfs = new CacheFS(nodeBackend(root), { metadataCache: true });
    srv = await startServer(cfs, { maxAgeSeconds: 60 });
    listingCfs = new CacheFS(nodeBackend(root), { metadataCache: true });
    listingSrv = await startServer(listingCfs, { listing: true });
  });

  after(async () => {
    await srv.server.close();
    await listingSrv.server.close();
    await cfs.close();
    await listingCfs.close();
    await removeRoot();
    await removeOutside();
  });

  test('GET / serves index.html with length, type, validators and cache headers', async () => {
    const r = await fetchPath(srv.port, '/');
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), INDEX);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(INDEX)));
    assert.match(r.headers.etag ?? '', /^"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+"$/);
    assert.ok(Number.isFinite(Date.parse(r.headers['last-modified'] ?? '')));
    assert.equal(r.headers['accept-ranges'], 'bytes');
    assert.equal(r.headers['cache-control'], 'public, max-age=60');
  });

  test('Content-Type follows the extension; unknown ones are application/octet-stream', async () => {
    const expected: Record<string, string> = {
      '/style.css': 'text/css; charset=utf-8',
      '/app.js': 'text/javascript; charset=utf-8',
      '/logo.png': 'image/png',
      '/blob.xyz': 'application/octet-stream',
      '/empty.txt': 'text/plain; charset=utf-8',
    };
    for (const [path, type] of Object.entries(expected)) {
      const r = await fetchPath(srv.port, path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers['content-type'], type, path);
    }
    assert.deepEqual((await fetchPath(srv.port, '/logo.png')).body, PNG);
    assert.equal((await fetchPath(srv.port, '/empty.txt')).body.length, 0);
  });

  test('HEAD answers the headers of GET without a body', async () => {
    const get = await fetchPath(srv.port, '/data.bin');
    const head = await fetchPath(srv.port, '/data.bin', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], String(DATA.length));
    assert.equal(head.headers.etag, get.headers.etag);
    assert.equal(head.headers['last-modified'], get.headers['last-modified']);
    assert.equal(head.headers['content-type'], get.headers['content-type']);
  });

  test('a directory redirects to its slash form, then serves its index.html', async () => {
    const r = await fetchPath(srv.port, '/docs');
    assert.equal(r.status, 301);
    assert.equal(r.headers.location, '/docs/');
    const q = await fetchPath(srv.port, '/docs?lang=en');
    assert.equal(q.headers.location, '/docs/?lang=en');
    const index = await fetchPath(srv.port, '/docs/');
    assert.equal(index.status, 200);
    assert.equal(index.body.toString(), DOCS);
    // `//evil.example` must not become a protocol-relative redirect.
    const sneaky = await rawGet(srv.port, '//docs');
    assert.equal(sneaky.status, 301);
    assert.match(sneaky.text, /\r\nLocation: \/docs\/\r\n/i);
  });

  test('no listing by default; --listing lists names (no dotfiles), escaped', async () => {
    assert.equal((await fetchPath(srv.port, '/empty/')).status, 404);
    const r = await fetchPath(listingSrv.port, '/empty/');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(r.body.toString(), /<a href="note\.txt">note\.txt<\/a>/);
    assert.doesNotMatch(r.body.toString(), /hidden/);
  });

  test('missing files, a file asked for as a directory, and dotfiles are 404', async () => {
    assert.equal((await fetchPath(srv.port, '/nope.html')).status, 404);
    assert.equal((await fetchPath(srv.port, '/style.css/')).status, 404);
    assert.equal((await fetchPath(srv.port, '/style.css/x')).status, 404);
    const env = await fetchPath(srv.port, '/.env');
    assert.equal(env.status, 404);
    assert.doesNotMatch(env.body.toString(), /hunter2/);
  });

  test('other methods are 405 with Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await fetchPath(srv.port, '/style.css', { method, body: 'x' });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
    assert.equal(await readFile(join(root, 'style.css'), 'utf8'), CSS);
  });

  describe('byte ranges', () => {
    const range = (spec: string, extra: Record<string, string> = {}, path = '/data.bin') =>
      fetchPath(srv.port, path, { headers: { Range: spec, ...extra } });

    test('first-last, open-ended and suffix ranges answer 206 with Content-Range', async () => {
      const cases: [string, number, number][] = [
        ['bytes=0-9', 0, 9],
        ['bytes=9990-', 9990, 9999],
        ['bytes=-5', 9995, 9999],
        ['bytes=100-199', 100, 199],
        ['bytes=9995-20000', 9995, 9999],
        ['bytes=-20000', 0, 9999],
        ['bytes=0-0', 0, 0],
      ];
      for (const [spec, start, end] of cases) {
        const r = await range(spec);
        assert.equal(r.status, 206, spec);
        assert.equal(r.headers['content-range'], `bytes ${start}-${end}/${DATA.length}`, spec);
        assert.equal(r.headers['content-length'], String(end - start + 1), spec);
        assert.deepEqual(r.body, DATA.subarray(start, end + 1), spec);
        assert.ok(r.headers.etag, spec);
      }
    });

    test('unsatisfiable ranges answer 416 with bytes */size', async () => {
      for (const spec of ['bytes=10000-', 'bytes=20000-30000', 'bytes=-0']) {
        const r = await range(spec);
        assert.equal(r.status, 416, spec);
        assert.equal(r.headers['content-range'], `bytes */${DATA.length}`, spec);
      }
      const empty = await range('bytes=0-', {}, '/empty.txt');
      assert.equal(empty.status, 416);
      assert.equal(empty.headers['content-range'], 'bytes */0');
    });

    test('several ranges, reversed ranges and other units are ignored: 200 with everything', async () => {
      for (const spec of ['bytes=0-1,5-6', 'bytes=9-2', 'items=0-1', 'bytes=abc', 'bytes=-']) {
        const r = await range(spec);
        assert.equal(r.status, 200, spec);
        assert.deepEqual(r.body, DATA, spec);
      }
    });

    test('If-Range applies the range only for the current version', async () => {
      const { headers } = await fetchPath(srv.port, '/data.bin', { method: 'HEAD' });
      const current = await range('bytes=0-3', { 'If-Range': headers.etag! });
      assert.equal(current.status, 206);
      const dated = await range('bytes=0-3', { 'If-Range': headers['last-modified']! });
      assert.equal(dated.status, 206);
      const stale = await range('bytes=0-3', { 'If-Range': '"0-0-0"' });
      assert.equal(stale.status, 200);
      assert.deepEqual(stale.body, DATA);
    });

    test('HEAD with a range answers 206 headers without a body', async () => {
      const r = await fetchPath(srv.port, '/data.bin', { method: 'HEAD', headers: { Range: 'bytes=10-19' } });
      assert.equal(r.status, 206);
      assert.equal(r.headers['content-range'], `bytes 10-19/${DATA.length}`);
      assert.equal(r.headers['content-length'], '10');
      assert.equal(r.body.length, 0);
    });

    test('a large file streams whole and in large ranges with the right bytes', async () => {
      const whole = await fetchPath(srv.port, '/big.bin');
      assert.equal(whole.status, 200);
      assert.equal(whole.headers['content-length'], String(BIG.length));
      assert.ok(whole.body.equals(BIG));
      const start = 1000;
      const end = BIG.length - 77;
      const part = await range(`bytes=${start}-${end}`, {}, '/big.bin');
      assert.equal(part.status, 206);
      assert.ok(part.body.equals(BIG.subarray(start, end + 1)));
    });
  });

  describe('conditional requests', () => {
    test('If-None-Match with the current ETag (strong, weak, in a list, or *) answers 304', async () => {
      const { headers } = await fetchPath(srv.port, '/style.css');
      const etag = headers.etag!;
      for (const value of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
        const r = await fetchPath(srv.port, '/style.css', { headers: { 'If-None-Match': value } });
        assert.equal(r.status, 304, value);
        assert.equal(r.body.length, 0);
        assert.equal(r.headers.etag, etag);
        assert.equal(r.headers['last-modified'], headers['last-modified']);
      }
      const other = await fetchPath(srv.port, '/style.css', { headers: { 'If-None-Match': '"something-else"' } });
      assert.equal(other.status, 200);
      assert.equal(other.body.toString(), CSS);
    });

    test('If-Modified-Since answers 304 unless the file is newer; If-None-Match takes precedence', async () => {
      const { headers } = await fetchPath(srv.port, '/app.js');
      const lastModified = headers['last-modified']!;
      assert.equal((await fetchPath(srv.port, '/app.js', { headers: { 'If-Modified-Since': lastModified } })).status, 304);
      const later = new Date(Date.parse(lastModified) + 3600_000).toUTCString();
      assert.equal((await fetchPath(srv.port, '/app.js', { headers: { 'If-Modified-Since': later } })).status, 304);
      const earlier = new Date(Date.parse(lastModified) - 3600_000).toUTCString();
      assert.equal((await fetchPath(srv.port, '/app.js', { headers: { 'If-Modified-Since': earlier } })).status, 200);
      assert.equal((await fetchPath(srv.port, '/app.js', { headers: { 'If-Modified-Since': 'not a date' } })).status, 200);
      const both = await fetchPath(srv.port, '/app.js', { headers: { 'If-None-Match': '"other"', 'If-Modified-Since': lastModified } });
      assert.equal(both.status, 200);
    });

    test('a write through the cache changes the ETag and the body served', async () => {
      await writeFile(join(root, 'changing.txt'), 'version one\n');
      const first = await fetchPath(srv.port, '/changing.txt');
      assert.equal(first.body.toString(), 'version one\n');
      await cfs.writeFile('/changing.txt', 'version two, longer\n');
      const second = await fetchPath(srv.port, '/changing.txt');
      assert.equal(second.body.toString(), 'version two, longer\n');
      assert.equal(second.headers['content-length'], String('version two, longer\n'.length));
      assert.notEqual(second.headers.etag, first.headers.etag);
      const stale = await fetchPath(srv.port, '/changing.txt', { headers: { 'If-None-Match': first.headers.etag! } });
      assert.equal(stale.status, 200);
    });
  });

  describe('traversal', () => {
    const attempts = [
      '/../etc/passwd',
      '/../../../../../../etc/passwd',
      '/docs/../../secret.txt',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
      '/docs/%2e%2e/%2e%2e/secret.txt',
      '/..%2f..%2fetc%2fpasswd',
      '/index.html%00.txt',
      '/%00',
      '/..\\..\\etc\\passwd',
      '/%5c..%5c..%5cetc%5cpasswd',
      '/./index.html',
    ];

    test('dot segments, encoded dots, NUL bytes and backslashes are refused (raw requests)', async () => {
      for (const target of attempts) {
        const r = await rawGet(srv.port, target);
        assert.ok(r.status === 403 || r.status === 404 || r.status === 400, `${target} answered ${r.status}`);
        assert.doesNotMatch(r.text, /root:|top secret/, target);
      }
    });

    test('a link leading out of the root is 403; a link inside it is served', async () => {
      for (const target of ['/escape.txt', '/escape-dir/secret.txt', '/relative-escape.txt']) {
        const r = await rawGet(srv.port, target);
        assert.equal(r.status, 403, target);
        assert.doesNotMatch(r.text, /top secret/, target);
      }
      const escapeDir = await rawGet(srv.port, '/escape-dir/');
      assert.equal(escapeDir.status, 403);
      const inside = await fetchPath(srv.port, '/alias.css');
      assert.equal(inside.status, 200);
      assert.equal(inside.body.toString(), CSS);
    });
  });

  test('bodies read into reused buffers keep their own length and bytes', async () => {
    const a = pattern(5000, 5);
    const b = pattern(6000, 6);
    for (let i = 0; i < 3; i++) {
      const [ra, rb, rd] = await Promise.all([fetchPath(srv.port, '/a.bin'), fetchPath(srv.port, '/b.bin'), fetchPath(srv.port, '/data.bin')]);
      assert.deepEqual(ra.body, a);
      assert.deepEqual(rb.body, b);
      assert.deepEqual(rd.body, DATA);
      assert.deepEqual((await fetchPath(srv.port, '/a.bin')).body, a);
    }
  });
});
