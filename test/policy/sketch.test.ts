import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashKey } from '../../src/policy/policy.js';
import { CountMinSketch } from '../../src/policy/sketch.js';

const A = hashKey('/a');
const B = hashKey('/b');
const C = hashKey('/c');

test('sketch: counts occurrences; unseen keys count 0; the first occurrence only passes the doorkeeper', () => {
  const s = new CountMinSketch(64);
  for (let i = 0; i < 5; i++) s.increment(A);
  for (let i = 0; i < 3; i++) s.increment(B);
  s.increment(C);
  assert.equal(s.frequency(A), 5);
  assert.equal(s.frequency(B), 3);
  assert.equal(s.frequency(C), 1, 'seen once: in the doorkeeper only');
  assert.equal(s.frequency(hashKey('/never')), 0);
  assert.equal(s.sampleCount, 9);
});

test('sketch: counters saturate at 15 (16 with the doorkeeper); occurrences of a saturated key are not samples', () => {
  const s = new CountMinSketch(64);
  for (let i = 0; i < 100; i++) s.increment(A);
  assert.equal(s.frequency(A), 16);
  assert.equal(s.sampleCount, 16, "as in Caffeine: only an occurrence that changed something is a sample");
});

test('sketch: reset halves every counter, clears the doorkeeper and halves the sample count', () => {
  const s = new CountMinSketch(64);
  for (let i = 0; i < 16; i++) s.increment(A);
  for (let i = 0; i < 10; i++) s.increment(B);
  s.increment(C);
  const before = s.sampleCount;
  s.reset();
  assert.equal(s.frequency(A), 7, '15 counted, halved; the doorkeeper forgot A');
  assert.equal(s.frequency(B), 4);
  assert.equal(s.frequency(C), 0);
  assert.equal(s.sampleCount, before >>> 1);
  s.increment(C);
  assert.equal(s.frequency(C), 1, 'C passes the doorkeeper again');
});

test('sketch: ages by itself after 10 × capacity samples', () => {
  const s = new CountMinSketch(16);
  assert.equal(s.sampleSize, 160);
  for (let i = 0; i < 16; i++) s.increment(A);
  assert.equal(s.frequency(A), 16);
  let n = 0;
  while (s.frequency(A) === 16 && n < 1000) s.increment(hashKey(`/filler/${n++}`));
  // The fillers are new keys: each one is a sample (a doorkeeper entry), so the reset comes after the
  // 144 samples the period had left, no sooner.
  assert.equal(n, s.sampleSize - 16);
  assert.ok(s.frequency(A) <= 8, `A after a reset: ${s.frequency(A)}`);
});

test('sketch: widening keeps every estimate; clear forgets', () => {
  const s = new CountMinSketch(16);
  const keys = Array.from({ length: 20 }, (_, i) => hashKey(`/k/${i}`));
  keys.forEach((k, i) => {
    for (let n = 0; n < i % 17; n++) s.increment(k);
  });
  const before = keys.map((k) => s.frequency(k));
  s.ensureCapacity(5000);
  assert.equal(s.capacity, 5000);
  assert.equal(s.sampleSize, 50_000);
  assert.deepEqual(keys.map((k) => s.frequency(k)), before);
  s.ensureCapacity(10);
  assert.equal(s.capacity, 5000, 'never shrinks');
  s.clear();
  assert.deepEqual(keys.map((k) => s.frequency(k)), keys.map(() => 0));
  assert.equal(s.sampleCount, 0);
});

test('sketch without a doorkeeper: every occurrence counts, and a reset rounds up so that a count of one survives', () => {
  const s = new CountMinSketch(64, { doorkeeper: false });
  for (let i = 0; i < 5; i++) s.increment(A);
  s.increment(C);
  assert.equal(s.frequency(A), 5);
  assert.equal(s.frequency(C), 1, 'no doorkeeper: the first occurrence is a count');
  s.reset();
  assert.equal(s.frequency(A), 3, '5 halved, rounded up');
  assert.equal(s.frequency(C), 1, 'seen once still outranks never seen');
  assert.equal(s.frequency(hashKey('/never')), 0);
  for (let i = 0; i < 100; i++) s.increment(B);
  s.reset();
  assert.equal(s.frequency(B), 8, '15 halved, rounded up: no carry into the next counter');
  // The doorkeeper's sketch rounds down, as Caffeine's: a key seen twice is forgotten by two resets.
  const d = new CountMinSketch(64);
  d.increment(C);
  d.increment(C);
  d.reset();
  d.reset();
  assert.equal(d.frequency(C), 0);
});

test('sketch: minSamples puts a floor under the period, and the rows widen with it', () => {
  const small = new CountMinSketch(16, { minSamples: 10_000 });
  assert.equal(small.sampleSize, 10_000);
  small.ensureCapacity(5000);
  assert.equal(small.sampleSize, 50_000, 'above the floor, 10 × capacity decides');
  // Widening with the period: 3,000 distinct keys counted 3 times each stay told apart in a sketch
  // sized for 16 keys but a 10,000-sample period (4,096 counters a row).
  const s = new CountMinSketch(16, { minSamples: 10_000, doorkeeper: false });
  for (let k = 0; k < 3000; k++) for (let n = 0; n < 3; n++) s.increment(hashKey(`/w/${k}`));
  let exact = 0;
  for (let k = 0; k < 3000; k++) if (s.frequency(hashKey(`/w/${k}`)) === 3) exact++;
  assert.ok(exact > 2500, `${exact} of 3,000 estimates exact`);
  const narrow = new CountMinSketch(16, { doorkeeper: false });
  narrow.ensureCapacity(16);
  let control = 0;
  for (let k = 0; k < 3000; k++) for (let n = 0; n < 3; n++) narrow.increment(hashKey(`/w/${k}`));
  for (let k = 0; k < 3000; k++) if (narrow.frequency(hashKey(`/w/${k}`)) === 3) control++;
  assert.ok(control < 1000, `control: 64 counters a row collide (${control} exact)`);
});
