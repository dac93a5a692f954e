import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHitRatioTable, replayPolicyHits, runHitRatio, VARIANTS } from '../../bench/hit-ratio.js';
import { renderHitRatioSvg } from '../../bench/hit-ratio-chart.js';
import { replayThroughApi } from '../../bench/hit-ratio-api.js';
import { referenceSieveHits } from '../../bench/sieve-reference.js';
import { loadLirsTrace } from '../../bench/traces-public.js';
import { loopTrace } from '../../bench/traces.js';
import { POLICY_NAMES } from '../../src/policy/policy.js';

test('hit-ratio simulator (quick): well-formed rows; optimal bounds every policy; sieve is the paper\'s SIEVE', async () => {
  const rows = await runHitRatio({ quick: true });
  const names = [...new Set(rows.map((r) => r.name))];
  assert.ok(names.includes('gli@500') && names.includes('zipf-0.99@1%'), names.join(' '));
  for (const name of names) {
    const variants = rows.filter((r) => r.name === name).map((r) => r.variant);
    const expected = name.startsWith('size-mix@') ? VARIANTS.filter((v) => v !== 'sieve-paper') : VARIANTS;
    assert.deepEqual([...variants].sort(), [...expected].sort(), `${name}: one row per variant`);
  }
  for (const row of rows) {
    assert.equal(row.suite, 'hit-ratio');
    assert.match(row.name, /^[\w.+-]+@((0\.1|1|10)%|\d+)$/);
    assert.equal(row.replay, row.variant === 'optimal' || row.variant === 'sieve-paper' ? 'model' : row.name.startsWith('gli@') ? 'api' : 'policy');
    for (const value of [row.hitRatio, row.byteHitRatio]) {
      assert.ok(Number.isFinite(value) && value >= 0 && value <= 1, `${row.name} ${row.variant}: ${value}`);
    }
  }
  const at = (name: string, variant: string): number => rows.find((r) => r.name === name && r.variant === variant)!.hitRatio;
  for (const name of names) {
    // The byte-limited trace's reference is a heuristic, not a bound.
    if (name.startsWith('size-mix@')) continue;
    for (const row of rows.filter((r) => r.name === name)) {
      assert.ok(at(name, 'optimal') >= row.hitRatio, `${name}: ${row.variant} ${row.hitRatio} beats optimal`);
    }
    assert.ok(Math.abs(at(name, 'sieve') - at(name, 'sieve-paper')) <= 0.005, `${name}: sieve ${at(name, 'sieve')}, paper ${at(name, 'sieve-paper')}`);
  }
  // glimpse loops over files: recency is worthless there, frequency is everything.
  for (const name of ['gli@500', 'gli@1000']) assert.ok(at(name, 'tinylfu') > at(name, 'lru') + 0.1, name);
  const table = formatHitRatioTable(rows);
  for (const name of names) assert.ok(table.includes(name));
  const svg = renderHitRatioSvg(rows);
  assert.ok(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>'));
  for (const variant of VARIANTS) assert.ok(svg.includes(variant));
});

test('the simulator drives a policy exactly as CacheFS does: the same hits on 3,000 requests of glimpse', async () => {
  const trace = loadLirsTrace('gli.trace.gz', 3000);
  for (const policy of POLICY_NAMES) {
    const api = await replayThroughApi(policy, trace, 250);
    assert.equal(api.hits + api.misses, 3000);
    assert.equal(api.hits, replayPolicyHits(policy, trace, 250), policy);
    if (policy !== 'tinylfu') assert.equal(api.rejections, 0, `${policy} refuses nothing`);
  }
});

test('sieve through CacheFS hits exactly as SIEVE in the paper on small hand-checked and looping traces', async () => {
  // Worked by hand from the paper's pseudo-code, cache of 3: a b c, a (hit: visited), d (the hand starts
  // at the tail a, clears it, moves to b: evicted), b (the hand is at c: evicted), a (hit), e (the hand
  // is at d: evicted), a (hit): 3 hits.
  const keys = Int32Array.from([0, 1, 2, 0, 3, 1, 0, 4, 0]);
  const small = { keys, keySpace: 5 };
  assert.equal(referenceSieveHits(small, 3), 3);
  assert.equal((await replayThroughApi('sieve', small, 3)).hits, 3);
  const loop = loopTrace(12, 500);
  assert.equal((await replayThroughApi('sieve', loop, 10)).hits, referenceSieveHits(loop, 10));
});
