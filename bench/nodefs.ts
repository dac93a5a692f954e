/**
 * The nodefs suite (`npm run bench -- nodefs`): programs written for `node:fs` running through
 * `toNodeFs(cache)`, each beside its baselines in the same run (issue 14). Rows:
 *
 * - `resolve 1,000 requests`: enhanced-resolve resolving 1,000 requests (every package of this
 *   project's `node_modules`, then `<package>/package.json`, repeated to 1,000) from the project root,
 *   through `toNodeFs(cache)`, through enhanced-resolve's own `CachedInputFileSystem` and through plain
 *   `node:fs`. Cold: a fresh cache / CachedInputFileSystem per round. Warm: the same requests again on
 *   the same one, three passes each side, every pass counted. Targets: warm cachefs ≤ warm
 *   CachedInputFileSystem; cold cachefs ≤ 1.3x node:fs. Then `warm, N alternating pairs`: one warm cache
 *   and one CachedInputFileSystem, a pass of each in turn (order swapped every pair), the median of the
 *   pairs' ratios: drift-free where the medians of separate passes move by ±5% between runs.
 * - `typecheck src/`: a TypeScript program of this project's `src/` (its tsconfig's options), its
 *   diagnostics computed with a compiler host whose file reads go through `toNodeFs(cache)`, against the
 *   stock host (node:fs). Cold: a fresh cache; warm: a second check on the same cache in the same process.
 *   Targets: cold ≤ 1.2x node:fs; warm < node:fs. A throw-away check first warms the compiler's JIT.
 *
 * Each row is the median of its rounds; the sides alternate inside a round.
 */
import * as nodeFs from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import ts from 'typescript';
import { CacheFS, nodeBackend, toNodeFs } from '../src/index.js';
import { routeLookups } from '../test/nodefs/compiler-host.js';
import type { ReportRow, Suite, SuiteOptions } from './suite.js';

const require = createRequire(import.meta.url);
// enhanced-resolve is CommonJS with `export =`; requiring it keeps its own typings.
const { CachedInputFileSystem, ResolverFactory } = require('enhanced-resolve') as typeof import('enhanced-resolve');

/** One row: cachefs beside one baseline, in milliseconds per run. */
export interface NodeFsRow extends ReportRow {
  cachefs: number;
  baseline: number;
  baselineName: string;
  ratio: number;
  target: string;
  holds: boolean;
}

const ROOT = process.cwd();
const REQUEST_COUNT = 1000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function requests(): string[] {
  const names: string[] = [];
  for (const entry of nodeFs.readdirSync(join(ROOT, 'node_modules'))) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) for (const sub of nodeFs.readdirSync(join(ROOT, 'node_modules', entry))) names.push(`${entry}/${sub}`);
    else names.push(entry);
  }
  const all = [...names, ...names.map((n) => `${n}/package.json`)];
  const out: string[] = [];
  for (let i = 0; out.length < REQUEST_COUNT; i++) out.push(all[i % all.length]!);
  return out;
}

async function resolveAll(fileSystem: unknown, list: readonly string[]): Promise<number> {
  const resolver = ResolverFactory.createResolver({
    fileSystem: fileSystem as never, extensions: ['.js', '.json', '.node'], conditionNames: ['node', 'require', 'import'],
  });
  let found = 0;
  for (const request of list) {
    await new Promise<void>((resolve) => resolver.resolve({}, ROOT, request, {}, (err) => {
      if (!err) found++;
      resolve();
    }));
  }
  return found;
}

async function time(run: () => Promise<unknown> | unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function freshCache(): CacheFS {
  return new CacheFS(nodeBackend('/'), { maxBytes: 256 * 1024 * 1024, metadataCache: true });
}

/**
 * Warm passes per cache, all counted: one pass of 1,000 warm resolutions is ~60-150 ms, short enough for
 * a GC or the first pass's deoptimizations to swing a single sample by 2x on either side.
 */
const WARM_PASSES = 3;

/** Warm pairs (one pass each side, order swapped every pair) after the rounds; `NODEFS_PAIRS` sets it. */
const ALTERNATING_PAIRS = Math.max(2, Number(process.env.NODEFS_PAIRS) || 20);

async function resolutionRows(rounds: number): Promise<NodeFsRow[]> {
  const list = requests();
  const sides = { cachefsCold: [] as number[], cachefsWarm: [] as number[], cifsCold: [] as number[], cifsWarm: [] as number[], node: [] as number[] };
  const counts = new Set<number>();
  for (let r = 0; r < rounds; r++) {
    sides.node.push(await time(async () => counts.add(await resolveAll(nodeFs, list))));
    const cifs = new CachedInputFileSystem(nodeFs, 60_000);
    sides.cifsCold.push(await time(async () => counts.add(await resolveAll(cifs, list))));
    for (let pass = 0; pass < WARM_PASSES; pass++) sides.cifsWarm.push(await time(async () => counts.add(await resolveAll(cifs, list))));
    const cache = freshCache();
    const fs = toNodeFs(cache);
    sides.cachefsCold.push(await time(async () => counts.add(await resolveAll(fs, list))));
    for (let pass = 0; pass < WARM_PASSES; pass++) sides.cachefsWarm.push(await time(async () => counts.add(await resolveAll(fs, list))));
    await cache.close();
  }
  // Then warm passes of one cache and one CachedInputFileSystem side by side, the order swapped every
  // pair: the ratio of each pair cancels the machine's drift, which moves a single run's medians by ±5%.
  const alternating: number[] = [];
  const pairCachefs: number[] = [];
  const pairCifs: number[] = [];
  const cache = freshCache();
  const fs = toNodeFs(cache);
  const cifs = new CachedInputFileSystem(nodeFs, 60_000);
  counts.add(await resolveAll(fs, list));
  counts.add(await resolveAll(cifs, list));
  for (let pair = 0; pair < ALTERNATING_PAIRS; pair++) {
    const ours = async () => pairCachefs.push(await time(async () => counts.add(await resolveAll(fs, list))));
    const theirs = async () => pairCifs.push(await time(async () => counts.add(await resolveAll(cifs, list))));
    if (pair % 2 === 0) await ours().then(theirs);
    else await theirs().then(ours);
    alternating.push(pairCachefs[pair]! / pairCifs[pair]!);
  }
  await cache.close();
  if (counts.size !== 1) throw new Error(`nodefs bench: the sides resolved different numbers of requests: ${[...counts].join(', ')}`);
  const row = (variant: string, cachefs: number[], baseline: number[], baselineName: string, limit: number, target: string, ratio?: number): NodeFsRow => {
    const c = median(cachefs);
    const b = median(baseline);
    const r = ratio ?? c / b;
    return { suite: 'nodefs', name: `resolve ${list.length} requests`, variant, cachefs: c, baseline: b, baselineName, ratio: r, target, holds: r <= limit };
  };
  return [
    row('warm', sides.cachefsWarm, sides.cifsWarm, 'CachedInputFileSystem (warm)', 1, '<= 1.0x'),
    row(`warm, ${ALTERNATING_PAIRS} alternating pairs`, pairCachefs, pairCifs, 'CachedInputFileSystem (warm)', 1, '<= 1.0x (median pair ratio)', median(alternating)),
    row('warm', sides.cachefsWarm, sides.node, 'node:fs', Infinity, '(for reference)'),
    row('cold', sides.cachefsCold, sides.node, 'node:fs', 1.3, '<= 1.3x'),
    row('cold', sides.cachefsCold, sides.cifsCold, 'CachedInputFileSystem (cold)', Infinity, '(for reference)'),
  ];
}

function typecheck(fileSystem: typeof nodeFs | undefined): number {
  const config = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile).config as object;
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
  const options = { ...parsed.options, incremental: false, noEmit: true };
  const rootNames = parsed.fileNames.filter((f) => f.startsWith(join(ROOT, 'src') + '/'));
  const host = ts.createCompilerHost(options);
  if (fileSystem) {
    host.readFile = (p) => {
      try {
        return fileSystem.readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    };
    routeLookups(host, fileSystem);
    host.getSourceFile = (name, languageVersion) => {
      const text = host.readFile(name);
      return text === undefined ? undefined : ts.createSourceFile(name, text, languageVersion);
    };
  }
  const program = ts.createProgram(rootNames, options, host);
  return ts.getPreEmitDiagnostics(program).length;
}

async function typecheckRows(rounds: number): Promise<NodeFsRow[]> {
  typecheck(undefined); // the compiler's own JIT warm-up, measured by no side
  const node: number[] = [];
  const cold: number[] = [];
  const warm: number[] = [];
  const diagnostics = new Set<number>();
  for (let r = 0; r < rounds; r++) {
    node.push(await time(() => diagnostics.add(typecheck(undefined))));
    const cache = freshCache();
    const fs = toNodeFs(cache) as unknown as typeof nodeFs;
    cold.push(await time(() => diagnostics.add(typecheck(fs))));
    warm.push(await time(() => diagnostics.add(typecheck(fs))));
    await cache.close();
  }
  if (diagnostics.size !== 1) throw new Error(`nodefs bench: the typechecks disagree: ${[...diagnostics].join(', ')} diagnostics`);
  const n = median(node);
  const row = (variant: string, c: number, limit: number, target: string, strict: boolean): NodeFsRow => ({
    suite: 'nodefs', name: 'typecheck src/', variant, cachefs: c, baseline: n, baselineName: 'node:fs (stock host)', ratio: c / n, target,
    holds: strict ? c / n < limit : c / n <= limit,
  });
  return [row('cold', median(cold), 1.2, '<= 1.2x', false), row('warm', median(warm), 1, '< 1.0x', true)];
}

export const nodefsSuite: Suite<NodeFsRow> = {
  name: 'nodefs',
  description: 'enhanced-resolve and a TypeScript typecheck through toNodeFs(cache) vs CachedInputFileSystem and node:fs',
  inDefaultRun: false,
  async run(opts: SuiteOptions): Promise<NodeFsRow[]> {
    const want = (name: string) => !opts.filter || opts.filter.test(`nodefs/${name}`);
    const rows: NodeFsRow[] = [];
    if (want('resolve')) rows.push(...(await resolutionRows(5)));
    if (want('typecheck')) rows.push(...(await typecheckRows(3)));
    return rows;
  },
  format(rows) {
    const lines = ['| row | variant | cachefs ms | baseline | baseline ms | ratio | target | holds |', '|---|---|---:|---|---:|---:|---|---|'];
    for (const r of rows) {
      lines.push(`| ${r.name} | ${r.variant} | ${r.cachefs.toFixed(1)} | ${r.baselineName} | ${r.baseline.toFixed(1)} | ${r.ratio.toFixed(2)}x | ${r.target} | ${r.holds ? 'yes' : 'no'} |`);
    }
    return lines.join('\n');
  },
};
