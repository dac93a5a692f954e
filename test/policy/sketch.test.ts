import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashKey } from '../../src/policy/policy.js';
import { CountMinSketch } from '../../src/policy/sketch.js';

const A = hashKey('/a');
const B = hashKey('/b');
const C = hashKey('/c');

test('sketch: counts occurrences; unseen keys count 0', () => {
  const s = new CountMinSketch(64);
  for (let i = 0; i < 5; i++) s.increment(A);
  for (let i = 0; i < 3; i++) s.increment(B);
  assert.equal(s.frequency(A), 5);
  assert.equal(s.frequency(B), 3);
  assert.equal(s.frequency(C), 0);
  assert.equal(s.sampleCount, 8);
});

test('sketch: 4-bit counters saturate at 15, and every increment is a sample, saturated or not', () => {
  const s = new CountMinSketch(64);
  for (let i = 0; i < 100; i++) s.increment(A);
  assert.equal(s.frequency(A), 15);
  assert.equal(s.sampleCount, 100);
});

test('sketch: reset halves every counter and starts a new period', () => {
  const s = new CountMinSketch(64);
  for (let i = 0; i < 15; i++) s.increment(A);
  for (let i = 0; i < 9; i++) s.increment(B);
  s.increment(C);
  s.reset();
  assert.equal(s.frequency(A), 7);
  assert.equal(s.frequency(B), 4);
  assert.equal(s.frequency(C), 0);
  assert.equal(s.sampleCount, 0);
});

test('sketch: ages by itself every 10 × capacity samples, counting accesses to saturated keys', () => {
  const s = new CountMinSketch(16);
  assert.equal(s.sampleSize, 160);
  // Only a saturated key is requested: under Caffeine's rule (only increments that raise a counter are
  // samples) this sketch would never age, and A would stay at 15 however long ago its popularity was.
  for (let i = 0; i < s.sampleSize - 1; i++) s.increment(A);
  assert.equal(s.frequency(A), 15);
  assert.equal(s.sampleCount, s.sampleSize - 1);
  s.increment(A);
  assert.equal(s.sampleCount, 0, 'the reset came at the sample size');
  assert.equal(s.frequency(A), 7);
  for (let i = 0; i < s.sampleSize; i++) s.increment(hashKey(`/filler/${i}`));
  assert.equal(s.sampleCount, 0, 'a period of other keys ages it again');
  // Halved again; the fillers' collisions can add to A's counters, but not 7 to each of its rows.
  assert.ok(s.frequency(A) < 7, `A: ${s.frequency(A)}`);
});

test('sketch: widening keeps every estimate; clear forgets', () => {
  const s = new CountMinSketch(16);
  const keys = Array.from({ length: 20 }, (_, i) => hashKey(`/k/${i}`));
  keys.forEach((k, i) => {
    for (let n = 0; n < i % 16; n++) s.increment(k);
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
