import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSize, parseCount, parseDuration, parseSize, UnitError } from '../../src/cli/units.js';

test('sizes: binary and decimal units, decimals, bare bytes', () => {
  assert.equal(parseSize('256MiB'), 256 * 1024 * 1024);
  assert.equal(parseSize('1.5GB'), 1_500_000_000);
  assert.equal(parseSize('1.5GiB'), 1.5 * 1024 ** 3);
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('0'), 0);
  assert.equal(parseSize('512 KiB'), 512 * 1024);
  assert.equal(parseSize('1.1KB'), 1100);
  assert.equal(parseSize('2kb'), 2000);
  assert.equal(parseSize('10B'), 10);
  assert.equal(parseSize('1TiB'), 1024 ** 4);
});

test('sizes: bad values fail with ERR_INVALID_ARG_VALUE naming the flag', () => {
  const cases: [string, RegExp][] = [
    ['12XB', /unknown unit 'XB'/],
    ['256m', /ambiguous: write 256MiB .* or 256MB/],
    ['-1MiB', /is not a size/],
    ['MiB', /is not a size/],
    ['0.5B', /whole number of bytes/],
    ['', /is not a size/],
    ['1e3', /is not a size/],
    ['99999999999PB', /unknown unit/],
    ['9999999999TiB', /too large/],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => parseSize(value, '--max-bytes'),
      (err: unknown) => {
        assert.ok(err instanceof UnitError, value);
        assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
        assert.equal(err.flag, '--max-bytes');
        assert.match(err.message, /^--max-bytes: /);
        assert.match(err.message, message, value);
        return true;
      },
    );
  }
});

test('durations: units, compounds, fractions', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('1d'), 86_400_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('1m0.5s'), 60_500);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration(' 10s '), 10_000);
});

test('durations: a bare number, an unknown unit or trailing text fail naming the flag', () => {
  const cases: [string, RegExp][] = [
    ['300', /needs a unit .* e\.g\. 300s or 300ms/],
    ['5x', /is not a duration/],
    ['5mm', /is not a duration/],
    ['s', /is not a duration/],
    ['-5s', /is not a duration/],
    ['1h 30m', /is not a duration/],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => parseDuration(value, '--ttl'),
      (err: unknown) => err instanceof UnitError && err.code === 'ERR_INVALID_ARG_VALUE' && err.flag === '--ttl' && message.test(err.message),
      value,
    );
  }
});

test('counts: whole non-negative numbers within a bound', () => {
  assert.equal(parseCount('0'), 0);
  assert.equal(parseCount('1000', '--max-entries'), 1000);
  assert.equal(parseCount('65535', '--port', 65535), 65535);
  assert.throws(() => parseCount('65536', '--port', 65535), /--port: "65536" is larger than 65535/);
  assert.throws(() => parseCount('1.5', '--max-entries'), /--max-entries: "1.5" is not a whole number/);
  assert.throws(() => parseCount('-1', '--max-entries'), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => parseCount('ten', '--max-entries'), { code: 'ERR_INVALID_ARG_VALUE' });
});

test('formatSize: bytes below 1 KiB, one decimal above', () => {
  assert.equal(formatSize(0), '0 B');
  assert.equal(formatSize(1023), '1023 B');
  assert.equal(formatSize(1536), '1.5 KiB');
  assert.equal(formatSize(256 * 1024 * 1024), '256 MiB');
  assert.equal(formatSize(1.25 * 1024 ** 3), '1.3 GiB');
});
