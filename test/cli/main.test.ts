import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheOptionsOf } from '../../src/cli/main.js';
import { CacheFS } from '../../src/fs/cachefs.js';
import { memoryBackend } from '../../src/backend/memory.js';
import { fetchPath, runCli, serveCli, tempDir } from './helpers.js';

test('--help works for the program and every subcommand', async () => {
  const expectations: [string[], RegExp[]][] = [
    [['--help'], [/Usage: cachefs/, /serve/, /warm/, /stats/, /bench/]],
    [['serve', '--help'], [/--max-bytes <size>/, /default: 100MiB/, /--write-mode <mode>/, /--admin-token/, /--no-metrics/, /Examples:/]],
    [['warm', '--help'], [/--url <url>/, /--list <file>/, /--token <token>/, /--concurrency <n>/]],
    [['stats', '--help'], [/--url <url>/, /--json/]],
    [['bench', '--help'], [/Usage: cachefs bench/, /cachefs bench -- --help/]],
  ];
  for (const [args, patterns] of expectations) {
    const cli = runCli(args);
    const { code } = await cli.exited;
    assert.equal(code, 0, `${args.join(' ')}: ${cli.stderr()}`);
    for (const p of patterns) assert.match(cli.stdout(), p, args.join(' '));
  }
});

test('bad flag values fail before anything starts, naming the flag', async () => {
  const { dir, remove } = await tempDir();
  try {
    const cases: [string[], RegExp][] = [
      [['--max-bytes', '12XB'], /option '--max-bytes <size>' argument '12XB' is invalid\. "12XB" has an unknown unit/],
      [['--max-bytes', '256m'], /'--max-bytes <size>' argument '256m' is invalid\. "256m" is ambiguous/],
      [['--ttl', '300'], /option '--ttl <duration>' argument '300' is invalid\. "300" needs a unit/],
      [['--port', '70000'], /option '-p, --port <port>' argument '70000' is invalid\. "70000" is larger than 65535/],
      [['--write-mode', 'write-sometimes'], /option '--write-mode <mode>' argument 'write-sometimes' is invalid\. Allowed choices are/],
      [['--ttl-rule', 'nonsense'], /option '--ttl-rule <glob=duration>' argument 'nonsense' is invalid\. write GLOB=DURATION/],
      [['--revalidate', 'sometimes'], /option '--revalidate <when>' argument 'sometimes' is invalid/],
    ];
    for (const [flags, message] of cases) {
      const cli = runCli(['serve', dir, ...flags]);
      const { code } = await cli.exited;
      assert.equal(code, 1, flags.join(' '));
      assert.match(cli.stderr(), message, flags.join(' '));
      assert.equal(cli.stdout(), '', 'nothing was served');
    }
  } finally {
    await remove();
  }
});

test('a missing or non-directory DIR is a usage error with a code', async () => {
  const { dir, remove } = await tempDir();
  try {
    await writeFile(join(dir, 'file.txt'), 'x');
    const missing = runCli(['serve', join(dir, 'nope')]);
    assert.equal((await missing.exited).code, 1);
    assert.match(missing.stderr(), /^cachefs: serve: .*nope: no such directory \[ERR_CACHEFS_USAGE\]\n$/);
    const file = runCli(['serve', join(dir, 'file.txt')]);
    assert.equal((await file.exited).code, 1);
    assert.match(file.stderr(), /file\.txt is not a directory \[ERR_CACHEFS_USAGE\]/);
  } finally {
    await remove();
  }
});

test('a port in use is reported with its code', async () => {
  const { dir, remove } = await tempDir();
  try {
    const first = await serveCli(dir, ['--quiet']);
    try {
      const second = runCli(['serve', dir, '--port', String(first.port)]);
      assert.equal((await second.exited).code, 1);
      assert.match(second.stderr(), /^cachefs: serve: cannot listen on 127\.0\.0\.1:\d+: listen EADDRINUSE/);
    } finally {
      first.child.kill('SIGTERM');
    }
    assert.equal((await first.exited).code, 0);
  } finally {
    await remove();
  }
});

test('serve flags become CacheFS options that CacheFS accepts', () => {
  const options = cacheOptionsOf({
    port: 0, host: '127.0.0.1', writeMode: 'write-back', eviction: 'lfu', maxBytes: 1024, maxEntries: 10, ttl: 5000,
    ttlRule: [{ pattern: '**/*.html', ttl: 30_000 }], flushInterval: 0, flushOnClose: false, metadataCache: true,
    metadataMaxEntries: 100, pool: false, revalidate: 'always', watch: false, maxHeapUsed: 1 << 30, name: 'site',
    admin: true, metrics: true, maxUpload: 1, shutdownTimeout: 1,
  });
  assert.deepEqual(options, {
    writeMode: 'write-back', eviction: 'lfu', maxBytes: 1024, maxEntries: 10, ttl: 5000, flushInterval: 0, flushOnClose: false,
    metadataCache: true, metadataMaxEntries: 100, pool: false, revalidate: 'always', watch: false,
    ttlRules: [{ pattern: '**/*.html', ttl: 30_000 }], name: 'site', memoryPressure: { maxHeapUsed: 1 << 30 },
  });
  const cfs = new CacheFS(memoryBackend(), options);
  assert.equal(cfs.detailedStats().eviction, 'lfu');
  return cfs.close();
});

test('the cache flags reach the served cache', async () => {
  const { dir, remove } = await tempDir();
  try {
    const cli = await serveCli(dir, ['--quiet', '--max-bytes', '1.5MiB', '--max-entries', '7', '--ttl', '2m', '--eviction', 'lfu', '--write-mode', 'write-around']);
    const stats = JSON.parse((await fetchPath(cli.port, '/_cachefs/stats')).body.toString());
    assert.equal(stats.maxBytes, 1.5 * 1024 * 1024);
    assert.equal(stats.maxEntries, 7);
    assert.equal(stats.ttl, 120_000);
    assert.equal(stats.eviction, 'lfu');
    assert.equal(stats.writeMode, 'write-around');
    cli.child.kill('SIGTERM');
    assert.equal((await cli.exited).code, 0);
  } finally {
    await remove();
  }
});
