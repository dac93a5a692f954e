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

test('sketch: 4-bit counters saturate at 15, and saturated increments are not samples', () => {
  const s = new CountMinSketch(64);
  for (let i = 0; i < 100; i++) s.increment(A);
  assert.equal(s.frequency(A), 15);
  assert.equal(s.sampleCount, 15);
});

test('sketch: reset halves every counter and the sample count', () => {
  const s = new CountMinSketch(64);
  for (let i = 0; i < 15; i++) s.increment(A);
  for (let i = 0; i < 9; i++) s.increment(B);
  s.increment(C);
  s.reset();
  assert.equal(s.frequency(A), 7);
  assert.equal(s.frequency(B), 4);
  assert.equal(s.frequency(C), 0);
  // 25 samples; 12 odd counters (4 rows × 3 keys) lose their remainders: (25 - 12/4) / 2.
  assert.equal(s.sampleCount, 11);
});

test('sketch: ages by itself when the samples reach 10 × capacity', () => {
  const s = new CountMinSketch(16);
  assert.equal(s.sampleSize, 160);
  for (let i = 0; i < 15; i++) s.increment(A);
  let before = s.sampleCount;
  let key = 0;
  while (s.sampleCount >= before) {
    before = s.sampleCount;
    s.increment(hashKey(`/filler/${key++}`));
    assert.ok(key < 1000, 'no reset happened');
  }
  assert.equal(before, s.sampleSize - 1, 'the reset came at the sample size');
  // A was saturated, so collisions could not raise it: exactly halved.
  assert.equal(s.frequency(A), 7);
  assert.ok(s.sampleCount <= s.sampleSize / 2);
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
