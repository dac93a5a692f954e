import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHitRatioTable, renderHitRatioSvg, runHitRatio, VARIANTS } from '../../bench/hit-ratio.js';

test('hit-ratio simulator (quick): well-formed rows, and optimal bounds every policy on entry-count traces', async () => {
  const rows = await runHitRatio({ quick: true });
  const names = [...new Set(rows.map((r) => r.name))];
  assert.equal(rows.length, names.length * VARIANTS.length, 'one row per trace@size and variant');
  for (const row of rows) {
    assert.equal(row.suite, 'hit-ratio');
    assert.match(row.name, /^[\w.+-]+@(0\.1|1|10)%$/);
    for (const value of [row.hitRatio, row.byteHitRatio]) {
      assert.ok(Number.isFinite(value) && value >= 0 && value <= 1, `${row.name} ${row.variant}: ${value}`);
    }
  }
  for (const name of names) {
    // The byte-limited trace's reference is a heuristic, not a bound.
    if (name.startsWith('size-mix@')) continue;
    const optimal = rows.find((r) => r.name === name && r.variant === 'optimal')!;
    for (const row of rows.filter((r) => r.name === name)) {
      assert.ok(optimal.hitRatio >= row.hitRatio, `${name}: ${row.variant} ${row.hitRatio} beats optimal ${optimal.hitRatio}`);
    }
  }
  const table = formatHitRatioTable(rows);
  for (const name of names) assert.ok(table.includes(name));
  const svg = renderHitRatioSvg(rows);
  assert.ok(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>'));
  for (const variant of VARIANTS) assert.ok(svg.includes(variant));
});
