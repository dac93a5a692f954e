/**
 * Human sizes and durations for command-line flags: `256MiB`, `1.5GB`, `5m`, `1h30m`, `250ms`.
 *
 * Sizes: a number with an optional unit. Binary units (`KiB`, `MiB`, `GiB`, `TiB`) are powers of 1024,
 * decimal ones (`kB`/`KB`, `MB`, `GB`, `TB`) powers of 1000, as `ls --si` and disk vendors count; `B` or
 * no unit means bytes. Single letters (`256m`) are refused as ambiguous. The result must be a whole number
 * of bytes.
 *
 * Durations: one or more number-unit pairs (`ms`, `s`, `m`, `h`, `d`), as Go's `time.ParseDuration`
 * reads them. A bare number is refused (is `300` seconds or milliseconds?) except `0`.
 *
 * Errors carry `code: 'ERR_INVALID_ARG_VALUE'` and name the flag they came from.
 */

/** A flag value that could not be read; `code` is `ERR_INVALID_ARG_VALUE`, `flag` names the flag. */
export class UnitError extends Error {
  readonly code = 'ERR_INVALID_ARG_VALUE';
  constructor(
    readonly flag: string,
    readonly value: string,
    reason: string,
  ) {
    super(`${flag}: ${JSON.stringify(value)} ${reason}`);
    this.name = 'UnitError';
  }
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const SIZE_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)$/i;

/**
 * Bytes in a human size (`256MiB` = 268435456, `1.5GB` = 1500000000, `4096` = 4096).
 * @param flag the flag's name, for the error message (`--max-bytes`)
 */
export function parseSize(value: string, flag = 'size'): number {
  const match = SIZE_PATTERN.exec(value.trim());
  if (!match) throw new UnitError(flag, value, 'is not a size: use a number and a unit such as 512KiB, 256MiB or 1.5GB');
  const unit = match[2]!.toLowerCase();
  const factor = SIZE_UNITS[unit];
  if (unit.length === 1 && factor === undefined) {
    // Docker and the JVM read `256m` as MiB, `ls --si` as MB: refuse rather than guess.
    throw new UnitError(flag, value, `is ambiguous: write ${match[1]}${match[2]!.toUpperCase()}iB (powers of 1024) or ${match[1]}${match[2]!.toUpperCase()}B (powers of 1000)`);
  }
  if (factor === undefined) {
    throw new UnitError(flag, value, `has an unknown unit '${match[2]}': use B, KiB, MiB, GiB, TiB or kB, MB, GB, TB`);
  }
  const bytes = Number(match[1]) * factor;
  // 1.1KB is 1100 bytes, but floating point says 1100.0000000000002: round what is within rounding error.
  const whole = Math.round(bytes);
  if (Math.abs(bytes - whole) > 1e-6 * Math.max(1, bytes)) throw new UnitError(flag, value, 'is not a whole number of bytes');
  if (!Number.isSafeInteger(whole)) throw new UnitError(flag, value, 'is too large');
  return whole;
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION_PART = /(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h|d)/gy;

/**
 * Milliseconds in a human duration (`250ms`, `30s`, `5m`, `1h30m`, `1.5h`, `0`).
 * @param flag the flag's name, for the error message (`--ttl`)
 */
export function parseDuration(value: string, flag = 'duration'): number {
  const text = value.trim();
  if (text === '0') return 0;
  if (/^\d+(\.\d+)?$/.test(text)) {
    throw new UnitError(flag, value, `needs a unit (ms, s, m, h, d), e.g. ${text}s or ${text}ms`);
  }
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let consumed = 0;
  for (let m = DURATION_PART.exec(text); m !== null; m = DURATION_PART.exec(text)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    consumed = DURATION_PART.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length) {
    throw new UnitError(flag, value, 'is not a duration: use a number and a unit such as 250ms, 30s, 5m, 1h30m');
  }
  const ms = Math.round(total);
  if (!Number.isSafeInteger(ms)) throw new UnitError(flag, value, 'is too large');
  return ms;
}

/**
 * A non-negative whole number (`--max-entries 1000`, `--port 0`), with an optional upper bound.
 * @param flag the flag's name, for the error message
 */
export function parseCount(value: string, flag = 'count', max = Number.MAX_SAFE_INTEGER): number {
  const text = value.trim();
  if (!/^\d+$/.test(text)) throw new UnitError(flag, value, 'is not a whole number');
  const n = Number(text);
  if (n > max) throw new UnitError(flag, value, `is larger than ${max}`);
  return n;
}

/** `1536` → `1.5 KiB`: for progress lines and stats tables. */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(n >= 100 ? 0 : 1)} ${units[i]}`;
}
