// Per-path TTLs: `ttlRules` are globs tried in order, the first match gives the TTL (0 = forever), the
// `ttl` option applies otherwise; every eviction policy honours the per-entry expiry.
import { afterEach, beforeEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheFS, memoryBackend } from '../../src/index.js';
import { POLICY_NAMES } from '../../src/policy/policy.js';

// Time is the test's clock (Date mocked): a TTL passes when the test says so, never because the machine
// stalled between two calls.
beforeEach(() => mock.timers.enable({ apis: ['Date'], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

/** Moves the clock just past `at`. */
function until(at: number): void {
  mock.timers.tick(Math.max(0, at - Date.now() + 1));
}

const RULES = [
  { pattern: '/logs/**', ttl: 30 },
  { pattern: '/logs/keep/**', ttl: 0 }, // never reached: the rule above matches first
  { pattern: '*.css', ttl: 0 }, // relative: taken from '/'
  { pattern: '/data/*.json', ttl: 120_000 },
];

for (const eviction of POLICY_NAMES) {
  for (const writeMode of ['write-through', 'write-back'] as const) {
    test(`${eviction}, ${writeMode}: the first matching rule gives each entry its TTL, and expiry follows it`, async () => {
      const backend = memoryBackend({
        '/logs/keep/a.log': 'a',
        '/logs/b.log': 'b',
        '/site.css': 'c',
        '/data/d.json': 'd',
        '/other.txt': 'e',
      });
      const fs = new CacheFS(backend, { eviction, writeMode, ttl: 60_000, ttlRules: RULES, flushInterval: 0 });
      for (const p of ['/logs/keep/a.log', '/logs/b.log', '/site.css', '/data/d.json', '/other.txt']) await fs.readFile(p);
      await fs.writeFile('/logs/written.log', 'w');
      const store = fs.core.store;
      const ttlOf = (p: string): number => {
        const slot = store.lookup(p);
        assert.ok(slot >= 0, `${p} is cached`);
        return store.expiresAt(slot) - store.validatedAt(slot);
      };
      assert.equal(ttlOf('/logs/keep/a.log'), 30, 'first match wins over a more specific later rule');
      assert.equal(ttlOf('/logs/b.log'), 30);
      assert.equal(ttlOf('/logs/written.log'), 30, 'written entries get their rule too');
      assert.equal(ttlOf('/site.css'), Infinity, 'ttl 0 in a rule means forever');
      assert.equal(ttlOf('/data/d.json'), 120_000);
      assert.equal(ttlOf('/other.txt'), 60_000, 'no rule: the ttl option');

      until(store.expiresAt(store.lookup('/logs/written.log')));
      // Expired: the three /logs entries (the dirty one is flushed before it leaves), nothing else.
      assert.equal(await fs.cleanExpired(), 3);
      assert.deepEqual(store.allKeys().sort(), ['/data/d.json', '/other.txt', '/site.css']);
      assert.equal(new TextDecoder().decode(await backend.readFile('/logs/written.log')), 'w');
      fs.resetStats();
      assert.equal(await fs.readFile('/logs/b.log', 'utf8'), 'b');
      assert.equal(await fs.readFile('/site.css', 'utf8'), 'c');
      assert.equal(await fs.readFile('/other.txt', 'utf8'), 'e');
      assert.deepEqual({ hits: fs.stats().hits, misses: fs.stats().misses }, { hits: 2, misses: 1 });
      await fs.close();
    });
  }
}

test('a malformed ttlRules pattern is rejected at construction, naming the option', () => {
  assert.throws(() => new CacheFS(memoryBackend(), { ttlRules: [{ pattern: '/a/[bc', ttl: 1 }] }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
    assert.match(err.message, /ttlRules/);
    return true;
  });
  assert.throws(() => new CacheFS(memoryBackend(), { ttlRules: [{ pattern: '/a', ttl: -1 }] }), { code: 'ERR_INVALID_ARG_VALUE' });
});

for (const eviction of POLICY_NAMES) {
  test(`${eviction}: a read after an entry's own TTL misses, while a longer-lived neighbour still hits`, async () => {
    const fs = new CacheFS(memoryBackend({ '/short/a': 'a', '/long/b': 'b' }), {
      eviction,
      ttlRules: [{ pattern: '/short/*', ttl: 5 }],
    });
    await fs.readFile('/short/a');
    await fs.readFile('/long/b');
    until(fs.core.store.expiresAt(fs.core.store.lookup('/short/a')));
    fs.resetStats();
    await fs.readFile('/short/a');
    await fs.readFile('/long/b');
    assert.deepEqual({ hits: fs.stats().hits, misses: fs.stats().misses }, { hits: 1, misses: 1 });
    await fs.close();
  });
}

test('with ttlRules alone (no ttl option) an entry lives its TTL from its load, read whole or through a handle', async () => {
  const fs = new CacheFS(memoryBackend({ '/r/a': 'a', '/r/b': 'b' }), { ttlRules: [{ pattern: '/r/*', ttl: 60_000 }] });
  await fs.readFile('/r/a');
  const handle = await fs.open('/r/b');
  await handle.read(Buffer.alloc(1), 0, 1, 0);
  await handle.close();
  const store = fs.core.store;
  for (const p of ['/r/a', '/r/b']) assert.ok(store.expiresAt(store.lookup(p)) >= Date.now() + 50_000, `${p} expires a minute after its load`);
  fs.resetStats();
  await fs.readFile('/r/a');
  await fs.readFile('/r/b');
  assert.deepEqual({ hits: fs.stats().hits, misses: fs.stats().misses }, { hits: 2, misses: 0 });
  await fs.close();
});

test("'**' matches zero or more directories, at the start of a pattern too", async () => {
  const fs = new CacheFS(memoryBackend({ '/top.css': 't', '/a/b/deep.css': 'd', '/x.js': 'x' }), {
    ttl: 1_000,
    ttlRules: [{ pattern: '/**/*.css', ttl: 0 }, { pattern: '**/*.js', ttl: 5_000 }],
  });
  for (const p of ['/top.css', '/a/b/deep.css', '/x.js']) await fs.readFile(p);
  const store = fs.core.store;
  const ttlOf = (p: string): number => store.expiresAt(store.lookup(p)) - store.validatedAt(store.lookup(p));
  assert.equal(ttlOf('/top.css'), Infinity);
  assert.equal(ttlOf('/a/b/deep.css'), Infinity);
  assert.equal(ttlOf('/x.js'), 5_000);
  assert.equal(await fs.invalidatePattern('/**/*.css'), 2);
  await fs.close();
});
