// Issue 17, items 4 and 11 in the library and the CLI: FIFOs are read through and never cached, warm and
// prefetch skip them with ERR_CACHEFS_NOT_REGULAR_FILE without opening them; a warm counts its errors by
// code and the files it evicted, and `cachefs warm` says so (closing line, first paths, warnings, exit 1).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fsp from 'node:fs/promises';
import * as nodeFs from 'node:fs';
import { CacheFS, fsBackend, nodeBackend } from '../../src/index.js';
import { runCli, serveCli } from '../cli/helpers.js';
import { tempDirs } from '../support.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  assert.equal(r.status, 0, `mkfifo: ${r.stderr}`);
}

/** Writes `text` into the FIFO from another process (a writer Node's own readFile would wait for). */
function feed(path: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `printf '%s' "$1" > "$2"`, 'sh', text, path]);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}`))));
  });
}

test('a FIFO is read through, as Node reads it, and never cached (item 4)', async () => {
  const dir = await dirs.make();
  mkfifo(`${dir}/pipe`);
  // fsBackend over Node's own fs reads a FIFO as Node does (nodeBackend answers ESPIPE: see the report).
  const cache = new CacheFS(fsBackend(nodeFs, dir));
  try {
    const [nodeRead] = await Promise.all([fsp.readFile(`${dir}/pipe`, 'utf8'), feed(`${dir}/pipe`, 'first')]);
    assert.equal(nodeRead, 'first', "Node's answer");
    const [one] = await Promise.all([cache.readFile('/pipe', 'utf8'), feed(`${dir}/pipe`, 'first')]);
    assert.equal(one, 'first');
    const [two] = await Promise.all([cache.readFile('/pipe', 'utf8'), feed(`${dir}/pipe`, 'second')]);
    assert.equal(two, 'second', 'the second read reads the pipe again');
    assert.equal(cache.stats().entries, 0);
    assert.equal(cache.batchStats(['/pipe']).get('/pipe')!.cached, false);
    assert.equal((await cache.stat('/pipe')).isFIFO(), true);
  } finally {
    await cache.close();
  }
});

test('warm and prefetch skip a FIFO with ERR_CACHEFS_NOT_REGULAR_FILE and settle (item 4)', async () => {
  const dir = await dirs.make();
  mkfifo(`${dir}/pipe`);
  await fsp.writeFile(`${dir}/ok`, 'ok');
  const cache = new CacheFS(nodeBackend(dir));
  try {
    const warmed = await cache.warm(['/pipe', '/ok'], { skipErrors: true });
    assert.deepEqual(warmed, { total: 2, completed: 1, errors: 1, bytesRead: 2, errorsByCode: { ERR_CACHEFS_NOT_REGULAR_FILE: 1 }, evicted: 0 });
    await assert.rejects(cache.warm(['/pipe']), { code: 'ERR_CACHEFS_NOT_REGULAR_FILE', path: '/pipe' });
    const fetched = await cache.prefetch(['/pipe', '/ok']);
    assert.equal(fetched.loaded, 1);
    assert.equal(fetched.failed.length, 1);
    assert.equal((fetched.failed[0]!.error as { code: string }).code, 'ERR_CACHEFS_NOT_REGULAR_FILE');
    // A directory walk lists files only: the pipe is not even considered, and the walk settles.
    const fromDir = await cache.warmFromDir('/', { skipErrors: true });
    assert.equal(fromDir.errors, 0);
    assert.equal(cache.batchStats(['/pipe']).get('/pipe')!.cached, false);
  } finally {
    await cache.close();
  }
});

test('a warm that does not fit counts the files it evicted; errors are counted by code (item 11)', async () => {
  const dir = await dirs.make();
  const names: string[] = [];
  for (let i = 0; i < 20; i++) {
    await fsp.writeFile(`${dir}/f${i}`, Buffer.alloc(1000, i));
    names.push(`/f${i}`);
  }
  const cache = new CacheFS(nodeBackend(dir), { maxBytes: 8 * 1024, pool: false });
  try {
    const result = await cache.warm([...names, '/missing', '/also-missing'], { skipErrors: true, concurrency: 1 });
    assert.equal(result.total, 22);
    assert.equal(result.errors, 2);
    assert.deepEqual(result.errorsByCode, { ENOENT: 2 });
    const resident = names.filter((n) => cache.batchStats([n]).get(n)!.cached).length;
    assert.equal(result.evicted, 20 - resident, 'every loaded file that is no longer resident was evicted by the warm');
    assert.ok(result.evicted > 0);
    // Warming what is cached again evicts nothing.
    const again = await cache.warm(names.filter((n) => cache.batchStats([n]).get(n)!.cached), { concurrency: 1 });
    assert.equal(again.evicted, 0);
  } finally {
    await cache.close();
  }
});

test('cachefs warm: the closing line counts by code, the first paths follow, --verbose lists all, no match exits 1, --no-progress prints no progress (item 11)', async () => {
  const dir = await dirs.make();
  await fsp.mkdir(`${dir}/d`);
  for (let i = 0; i < 3; i++) await fsp.writeFile(`${dir}/d/f${i}.txt`, 'x');
  const list = `${dir}/../list-${process.pid}.txt`;
  const missing = Array.from({ length: 12 }, (_, i) => `/nope${i}`);
  await fsp.writeFile(list, [...missing, '/d/f0.txt'].join('\n'));
  const server = await serveCli(dir, ['--quiet']);
  try {
    const run = async (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
      const cli = runCli(['warm', '--url', `http://127.0.0.1:${server.port}`, ...args]);
      const { code } = await cli.exited;
      return { code, stdout: cli.stdout(), stderr: cli.stderr() };
    };
    const listed = await run(['--list', list, '--no-progress']);
    assert.equal(listed.code, 1);
    assert.match(listed.stdout, /warmed 1\/13 files, 12 errors \(ENOENT 12\)/);
    assert.equal((listed.stderr.match(/ENOENT \/nope/g) ?? []).length, 10, 'the first 10 failed paths');
    assert.match(listed.stderr, /and 2 more \(--verbose lists them all\)/);
    assert.doesNotMatch(listed.stderr, /warm: \d+\/\d+ files/, '--no-progress: no progress lines');

    const verbose = await run(['--list', list, '--no-progress', '--verbose']);
    assert.equal((verbose.stderr.match(/ENOENT \/nope/g) ?? []).length, 12);

    const none = await run(['/no/such/**', '--no-progress']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /warning: no file matched "\/no\/such\/\*\*"/);

    const plain = await run(['/d/*.txt']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /warmed 3\/3 files, 0 errors/);
    assert.match(plain.stderr, /warm: \d+\/3 files/, 'without --no-progress, plain lines when stderr is not a terminal');
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    await fsp.rm(list, { force: true });
  }
});

test('the server log counts warm errors by code and names the first paths (item 11)', async () => {
  const dir = await dirs.make();
  await fsp.writeFile(`${dir}/ok`, 'ok');
  const server = await serveCli(dir);
  try {
    const res = await fetch(`http://127.0.0.1:${server.port}/_cachefs/warm`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ paths: ['/ok', '/missing'] }),
    });
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
    const done = lines.at(-1);
    assert.deepEqual(done.errorsByCode, { ENOENT: 1 });
    assert.deepEqual(done.failures.map((f: { path: string; code: string }) => [f.path, f.code]), [['/missing', 'ENOENT']]);
    for (const line of lines) assert.ok('errorsByCode' in line && 'evicted' in line, 'every NDJSON line counts by code');
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
  assert.match(server.stderr(), /warm done: 1\/2 files, 1 errors \(ENOENT 1\)/);
  assert.match(server.stderr(), /warm ENOENT \/missing/);
});

