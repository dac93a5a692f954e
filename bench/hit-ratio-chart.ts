/**
 * The hit-ratio chart (bench/results/hit-ratio.svg): one panel per trace, hit ratio against cache size,
 * one line per policy; kept apart from the simulator so that each file holds one concern.
 */
import { VARIANTS, type HitRatioRow } from './hit-ratio.js';

const COLORS: Record<HitRatioRow['variant'], string> = {
  lru: '#1f77b4',
  lfu: '#ff7f0e',
  ttl: '#8c564b',
  hybrid: '#2ca02c',
  tinylfu: '#d62728',
  sieve: '#9467bd',
  'sieve-paper': '#c5b0d5',
  optimal: '#222222',
};

const DASHES: Record<HitRatioRow['variant'], string> = {
  lru: '',
  lfu: '',
  ttl: '',
  hybrid: '',
  tinylfu: '',
  sieve: '',
  'sieve-paper': ' stroke-dasharray="2,2"',
  optimal: ' stroke-dasharray="5,3"',
};

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The results as a standalone SVG: one panel per trace (plus one for the byte hit ratio of the size-mix
 * trace), hit ratio against cache size (the trace's sizes, evenly spaced), one line per variant (the
 * paper's SIEVE dotted, optimal dashed), and a legend.
 */
export function renderHitRatioSvg(rows: readonly HitRatioRow[]): string {
  const traces = [...new Set(rows.map((r) => r.name.slice(0, r.name.lastIndexOf('@'))))];
  const panels: { title: string; trace: string; field: 'hitRatio' | 'byteHitRatio' }[] = traces.map((t) => ({
    title: `${t} — hit ratio`,
    trace: t,
    field: 'hitRatio',
  }));
  if (traces.includes('size-mix')) panels.push({ title: 'size-mix — byte hit ratio', trace: 'size-mix', field: 'byteHitRatio' });

  const cols = 4;
  const pw = 300;
  const ph = 240;
  const margin = { left: 48, right: 16, top: 34, bottom: 40 };
  const cells = panels.length + 1;
  const rowsCount = Math.ceil(cells / cols);
  const width = cols * pw;
  const height = rowsCount * ph + 40;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16">cachefs eviction policies: hit ratio against cache size</text>`,
  );
  const labelsOf = (trace: string): string[] =>
    [...new Set(rows.filter((r) => r.name.slice(0, r.name.lastIndexOf('@')) === trace).map((r) => r.name.slice(r.name.lastIndexOf('@') + 1)))];

  panels.forEach((panel, index) => {
    const ox = (index % cols) * pw;
    const oy = 40 + Math.floor(index / cols) * ph;
    const iw = pw - margin.left - margin.right;
    const ih = ph - margin.top - margin.bottom;
    const x0 = ox + margin.left;
    const y0 = oy + margin.top;
    const labels = labelsOf(panel.trace);
    const px = (index: number): number => x0 + ((index + 0.5) / labels.length) * iw;
    const py = (ratio: number): number => y0 + (1 - ratio) * ih;
    out.push(`<text x="${x0 + iw / 2}" y="${oy + 20}" text-anchor="middle" font-size="13">${escapeXml(panel.title)}</text>`);
    out.push(`<rect x="${x0}" y="${y0}" width="${iw}" height="${ih}" fill="none" stroke="#999"/>`);
    for (let g = 0; g <= 5; g++) {
      const y = py(g / 5);
      out.push(`<line x1="${x0}" y1="${y}" x2="${x0 + iw}" y2="${y}" stroke="#e5e5e5"/>`);
      out.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end">${g * 20}%</text>`);
    }
    labels.forEach((label, index) => {
      const x = px(index);
      out.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + ih}" stroke="#e5e5e5"/>`);
      out.push(`<text x="${x}" y="${y0 + ih + 16}" text-anchor="middle">${label}</text>`);
    });
    const unit = labels[0]?.endsWith('%') ? `share of key space${panel.trace === 'size-mix' ? ' bytes' : ''}` : 'entries';
    out.push(`<text x="${x0 + iw / 2}" y="${y0 + ih + 32}" text-anchor="middle" fill="#555">cache size (${unit})</text>`);
    for (const variant of VARIANTS) {
      const points: string[] = [];
      labels.forEach((label, index) => {
        const row = rows.find((r) => r.name === `${panel.trace}@${label}` && r.variant === variant);
        if (row !== undefined) points.push(`${px(index).toFixed(1)},${py(row[panel.field]).toFixed(1)}`);
      });
      if (points.length === 0) continue;
      const dash = DASHES[variant];
      out.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${COLORS[variant]}" stroke-width="2"${dash}/>`);
      for (const p of points) {
        const [cx, cy] = p.split(',');
        out.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${COLORS[variant]}"/>`);
      }
    }
  });

  // The legend takes the cell after the last panel.
  const li = panels.length;
  const lx = (li % cols) * pw + margin.left;
  const ly = 40 + Math.floor(li / cols) * ph + margin.top;
  out.push(`<text x="${lx}" y="${ly}" font-size="13">legend</text>`);
  VARIANTS.forEach((variant, i) => {
    const y = ly + 20 + i * 20;
    const dash = DASHES[variant];
    out.push(`<line x1="${lx}" y1="${y - 4}" x2="${lx + 28}" y2="${y - 4}" stroke="${COLORS[variant]}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${lx + 36}" y="${y}">${variant === 'optimal' ? 'optimal (Belady)' : variant}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
