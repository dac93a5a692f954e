/**
 * How a finished warm is told to a person, the same on the client (`cachefs warm`) and in the server's
 * log: one closing line with the errors counted by code, the first failed files, and warnings when
 * nothing matched or when the warm evicted what it had loaded.
 */
import type { WarmProgress } from '../warm/options.js';
import { formatSize } from './units.js';
import type { WarmFailures } from '../server/warm-protocol.js';

/** `3 errors (ENOENT 2, ERR_CACHEFS_PIN_LIMIT 1)`, most frequent first. */
export function describeErrors(p: WarmProgress): string {
  const codes = Object.entries(p.errorsByCode ?? {}).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const label = `${p.errors} errors`;
  return codes.length === 0 ? label : `${label} (${codes.map(([code, n]) => `${code} ${n}`).join(', ')})`;
}

/** `81/100 files, 19 errors (ERR_CACHEFS_PIN_LIMIT 19), 12.0 MiB read`. */
export function describeProgress(p: WarmProgress): string {
  return `${p.completed}/${p.total} files, ${describeErrors(p)}, ${formatSize(p.bytesRead)} read`;
}

/** The lines after the closing one: failed files, what was left out, and the warnings. */
export function detailLines(final: WarmProgress & Partial<WarmFailures>, patterns: readonly string[] = []): string[] {
  const lines: string[] = [];
  for (const f of final.failures ?? []) lines.push(`  ${f.code} ${f.path}: ${f.message}`);
  if ((final.failuresOmitted ?? 0) > 0) lines.push(`  … and ${final.failuresOmitted} more (--verbose lists them all)`);
  if (final.total === 0) {
    lines.push(`warning: no file matched${patterns.length > 0 ? ` ${patterns.map((p) => JSON.stringify(p)).join(' ')}` : ''}`);
  }
  if ((final.evicted ?? 0) > 0) {
    lines.push(
      `warning: ${final.evicted} of the files this warm loaded were evicted by the warm itself: ` +
        'the set does not fit in the cache (serve with a larger --max-bytes, or warm fewer files)',
    );
  }
  return lines;
}

/** True when the warm did not do what was asked: a file failed, nothing matched, or the set did not fit. */
export function warmFellShort(final: WarmProgress): boolean {
  return final.errors > 0 || final.total === 0 || (final.evicted ?? 0) > 0;
}
