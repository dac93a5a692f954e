/**
 * Markdown tables for the terminal and for pasting into documents: the seed's layout (unpooled against
 * pooled, with a change column per measure) and the peers' layout (each variant against the `limit`).
 */
import type { Row } from './harness.js';

/** Formats ns/op as the seed does: thousands separators above 1,000, about four significant digits below. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '—';
  if (ns >= 1000) return Math.round(ns).toLocaleString('en-US');
  if (ns >= 100) return ns.toFixed(1);
  if (ns >= 10) return ns.toFixed(2);
  return ns.toFixed(3);
}

/** Formats bytes/op: whole bytes with separators (small fractional averages keep one decimal). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '—';
  if (bytes >= 100 || bytes === 0) return Math.round(bytes).toLocaleString('en-US');
  return bytes.toFixed(1);
}

/** Formats GC runs per 100k operations. */
export function formatGc(gc: number): string {
  if (!Number.isFinite(gc)) return '—';
  if (gc === 0) return '0';
  if (gc >= 100) return Math.round(gc).toLocaleString('en-US');
  return gc.toFixed(gc >= 10 ? 1 : 2);
}

/**
 * The relative change from `before` to `after`, as the seed writes it: `+4%`, `0%`, and in bold when
 * it is an improvement of 5% or more (`**-10%**`).
 */
export function formatChange(before: number, after: number): string {
  if (!Number.isFinite(before) || !Number.isFinite(after)) return '—';
  if (before === 0) return after === 0 ? '0%' : 'new';
  const pct = ((after - before) / before) * 100;
  const abs = Math.abs(pct);
  const digits = abs < 1 && abs >= 0.05 ? 1 : 0;
  const rounded = Number(pct.toFixed(digits));
  if (rounded === 0) return '0%';
  const text = `${rounded > 0 ? '+' : ''}${rounded.toFixed(digits)}%`;
  return rounded <= -5 ? `**${text}**` : text;
}

function markdown(header: readonly string[], body: readonly (readonly string[])[]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((h) => '-'.repeat(h.length + 2)).join('|')}|`];
  for (const cells of body) lines.push(`| ${cells.join(' | ')} |`);
  return lines.join('\n');
}

/** Names in first-seen order. */
function namesOf(rows: readonly Row[]): string[] {
  return [...new Set(rows.map((r) => r.name))];
}

/**
 * The seed's table: one line per benchmark, `unpooled` and `pooled` side by side. `poolingNote`, when
 * given, is printed above the table (it says that both variants ran the same code).
 */
export function formatSeedTable(rows: readonly Row[], poolingNote?: string): string {
  const header = [
    'Benchmark',
    'Unpooled (ns/op)', 'Pooled (ns/op)', 'Change',
    'Unpooled (B/op)', 'Pooled (B/op)', 'Change',
    'Unpooled (GC/100k)', 'Pooled (GC/100k)', 'Change',
  ];
  const body: string[][] = [];
  for (const name of namesOf(rows)) {
    const u = rows.find((r) => r.name === name && r.variant === 'unpooled');
    const p = rows.find((r) => r.name === name && r.variant === 'pooled');
    const ns = (r: Row | undefined): number => r?.nsPerOp ?? Number.NaN;
    const b = (r: Row | undefined): number => r?.bytesPerOp ?? Number.NaN;
    const g = (r: Row | undefined): number => r?.gcPer100k ?? Number.NaN;
    body.push([
      name,
      formatNs(ns(u)), formatNs(ns(p)), formatChange(ns(u), ns(p)),
      formatBytes(b(u)), formatBytes(b(p)), formatChange(b(u), b(p)),
      formatGc(g(u)), formatGc(g(p)), formatChange(g(u), g(p)),
    ]);
  }
  const table = markdown(header, body);
  return poolingNote ? `> ${poolingNote}\n\n${table}` : table;
}

/**
 * The peers' table: one line per (benchmark, variant), with the time relative to that benchmark's
 * `limit` row (`1.00x` is the limit itself; `—` when the benchmark has no limit row in this run).
 */
export function formatPeersTable(rows: readonly Row[]): string {
  const header = ['Benchmark', 'Variant', 'ns/op', 'B/op', 'GC/100k', 'vs limit (ns/op)'];
  const body: string[][] = [];
  for (const name of namesOf(rows)) {
    const limit = rows.find((r) => r.name === name && r.variant === 'limit');
    for (const r of rows.filter((x) => x.name === name)) {
      const ratio = limit && limit.nsPerOp > 0 ? `${(r.nsPerOp / limit.nsPerOp).toFixed(2)}x` : '—';
      body.push([name, r.variant, formatNs(r.nsPerOp), formatBytes(r.bytesPerOp), formatGc(r.gcPer100k), ratio]);
    }
  }
  return markdown(header, body);
}

/** A plain table of any rows, for suites without a layout of their own. */
export function formatRows(rows: readonly Row[]): string {
  const header = ['Suite', 'Benchmark', 'Variant', 'ns/op', 'B/op', 'GC/100k'];
  return markdown(header, rows.map((r) => [r.suite, r.name, r.variant, formatNs(r.nsPerOp), formatBytes(r.bytesPerOp), formatGc(r.gcPer100k)]));
}
