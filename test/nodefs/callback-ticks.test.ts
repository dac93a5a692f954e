// The drop-in's shared next tick: answers from memory are called back later, never synchronously, in
// the order asked; answers asked from inside a callback come after, and a callback that throws
// starves no other.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { callBackLater } from '../../src/fs/callback-ticks.js';

describe('callBackLater', () => {
  it('calls back on a later tick, in order, with (err) or (null, value)', async () => {
    const seen: unknown[][] = [];
    let synchronous = true;
    const done = new Promise<void>((resolve) => {
      callBackLater((...args) => seen.push(['a', synchronous, ...args]), null, 1);
      callBackLater((...args) => seen.push(['b', synchronous, ...args]), new Error('no'));
      callBackLater((...args) => {
        seen.push(['c', synchronous, ...args]);
        callBackLater((...inner) => {
          seen.push(['e', ...inner]);
          resolve();
        }, null, 5);
      }, null, 3);
      callBackLater((...args) => seen.push(['d', ...args]), null, undefined);
    });
    synchronous = false;
    await done;
    assert.deepEqual(seen.map((s) => s.slice(0, 3)), [['a', false, null], ['b', false, new Error('no')], ['c', false, null], ['d', null, undefined], ['e', null, 5]]);
    assert.equal(seen[1]!.length, 3, 'an error is passed alone');
    assert.equal(seen[0]![3], 1);
  });

  it('keeps calling back the rest after a callback throws', () => {
    const script = `
      const { callBackLater } = await import(${JSON.stringify(new URL('../../src/fs/callback-ticks.js', import.meta.url).href)});
      const order = [];
      process.on('uncaughtException', (e) => order.push('caught ' + e.message));
      callBackLater(() => order.push('a'), null, 1);
      callBackLater(() => { order.push('b'); throw new Error('boom'); }, null, 2);
      callBackLater(() => order.push('c'), null, 3);
      callBackLater(() => { order.push('d'); callBackLater(() => order.push('f'), null, 6); }, null, 4);
      setTimeout(() => callBackLater(() => console.log(order.join(',')), null, 0), 20);
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
    assert.equal(out, 'a,b,caught boom,c,d,f');
  });

  it('lets a long chain of answers go as it runs (no array grows with it)', async () => {
    // A chain of 200,000 answers, each asked from the previous callback, as a resolver asks: every
    // answer is garbage once given; heap growth far below the chain's own size shows none is kept.
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    await new Promise<void>((resolve) => {
      let left = 200_000;
      const next = (): void => {
        if (--left === 0) return resolve();
        if (left % 10_000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
        callBackLater(next, null, new Uint8Array(256));
      };
      callBackLater(next, null, 0);
    });
    assert.ok(peak - before < 20 * 1024 * 1024, `heap grew ${((peak - before) / 1048576).toFixed(1)} MiB for answers of 51 MiB in all`);
  });
});
