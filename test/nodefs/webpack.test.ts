// webpack 5, the bundler issue 14 names, with toNodeFs as both its inputFileSystem and its
// outputFileSystem over a cache small enough to evict, in every write mode, compared with the same
// compile over node:fs (webpack's defaults) on a twin tree: the emitted bytes, read back with node:fs once
// the cache has flushed and closed, and the errors and warnings. A second compile after a module is
// edited through the drop-in must follow the edit. With webpack's filesystem cache written through the
// drop-in (its intermediateFileSystem: streams, rename, mkdir), a fresh compiler must restore every
// module, through the drop-in and over node:fs, as one over node:fs does. The caches sit over `/` so
// that every path means the same thing to both sides; mode 'development' with devtool false keeps the
// output deterministic.
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import webpack from 'webpack';
import { toNodeFs, type CacheFS } from '../../src/index.js';
import { tempDirs } from '../support.js';
import { smallCache, WRITE_MODES, writeTree } from './trees.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

/**
 * An entry importing two local modules (one pulls in 30 parts of 6 KiB, more entries and bytes than the
 * cache holds, so it must evict), a JSON file, a
 * package under node_modules by `exports` and one by `main`, a local package reached through a symlink, a
 * missing export (a warning) and a missing package (an error), so both reach the stats.
 */
function projectTree(root: string): void {
  writeTree(root, {
    'src/index.js': [
      "import { greet } from './greet.js';",
      "import { filler } from './filler.js';",
      "import data from './data.json';",
      "import { sub } from 'exported/sub';",
      "import main from 'by-main';",
      "import { local } from 'linked-pkg';",
      "import { nope } from './greet.js';",
      "export default [greet(data.name), filler.length, sub, main, local, nope];",
      "if (Math.random() > 2) require('missing-pkg');",
      '',
    ].join('\n'),
    'src/greet.js': "export const greet = (name) => `hello ${name}`;\n",
    'src/filler.js': `${Array.from({ length: 30 }, (_, i) => `import f${i} from './parts/p${i}.js';`).join('\n')}\nexport const filler = [${Array.from({ length: 30 }, (_, i) => `f${i}`).join(', ')}].join('');\n`,
    ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`src/parts/p${i}.js`, `export default ${JSON.stringify(String(i % 10).repeat(6 * 1024))};\n`])),
    'src/data.json': JSON.stringify({ name: 'cachefs', list: [1, 2, 3] }),
    'node_modules/exported/package.json': JSON.stringify({ name: 'exported', exports: { '.': './index.js', './sub': './lib/sub.js' } }),
    'node_modules/exported/index.js': 'export default 0;\n',
    'node_modules/exported/lib/sub.js': "export const sub = 'sub';\n",
    'node_modules/by-main/package.json': JSON.stringify({ name: 'by-main', main: 'dist/main.js' }),
    'node_modules/by-main/dist/main.js': 'module.exports = 42;\n',
    'packages/linked-pkg/package.json': JSON.stringify({ name: 'linked-pkg', main: 'index.js' }),
    'packages/linked-pkg/index.js': "export const local = 'local';\n",
  });
  nodeFs.symlinkSync('../packages/linked-pkg', join(root, 'node_modules/linked-pkg'));
}

type Fs = NonNullable<webpack.Compiler['inputFileSystem']>;
type Outcome = { files: Record<string, string>; errors: string[]; warnings: string[] };

/**
 * A compiler over `root` with webpack's defaults (node:fs), or with `fs` as its input and output; with
 * `persistent`, webpack's filesystem cache below `root/.cache`, written through `fs` as well.
 */
function compilerFor(root: string, fs?: unknown, persistent = false): webpack.Compiler {
  const compiler = webpack({
    mode: 'development', devtool: false, context: root, entry: './src/index.js', output: { path: join(root, 'dist') }, infrastructureLogging: { level: 'none' },
    ...(persistent ? { cache: { type: 'filesystem' as const, cacheDirectory: join(root, '.cache') } } : {}),
  });
  if (fs) {
    compiler.inputFileSystem = fs as Fs;
    compiler.outputFileSystem = fs as NonNullable<webpack.Compiler['outputFileSystem']>;
    compiler.intermediateFileSystem = fs as NonNullable<webpack.Compiler['intermediateFileSystem']>;
  }
  return compiler;
}

const closed = (compiler: webpack.Compiler) => new Promise<void>((resolve, reject) => compiler.close((err) => (err ? reject(err) : resolve())));

/** Runs one compile; its errors and warnings with the root taken out (the twins differ only there). */
function run(compiler: webpack.Compiler, root: string): Promise<Omit<Outcome, 'files'>> {
  return new Promise((resolve, reject) => {
    compiler.run((err, stats) => {
      if (err || !stats) return reject(err ?? new Error('no stats'));
      const json = stats.toJson({ all: false, errors: true, warnings: true });
      const text = (list: { message: string; moduleName?: string }[] | undefined) =>
        (list ?? []).map((e) => `${e.moduleName ?? ''}: ${e.message}`.split(root).join('<root>'));
      resolve({ errors: text(json.errors), warnings: text(json.warnings) });
    });
  });
}

/** What webpack wrote below `dist`, read with node:fs (after the cache flushed), root taken out. */
function emitted(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of nodeFs.readdirSync(join(root, 'dist')).sort()) out[name] = nodeFs.readFileSync(join(root, 'dist', name), 'latin1').split(root).join('<root>');
  return out;
}

const EDIT = "export const greet = (name) => `edited ${name}`;\n";

/** Compile, edit greet.js (with node:fs, or through the drop-in), compile again with the same compiler. */
async function compileTwice(root: string, cache?: CacheFS): Promise<Outcome[]> {
  const fs = cache ? toNodeFs(cache) : undefined;
  const compiler = compilerFor(root, fs);
  const first = await run(compiler, root);
  if (cache) await cache.flush();
  const firstFiles = emitted(root);
  (fs ?? nodeFs).writeFileSync(join(root, 'src/greet.js'), EDIT);
  const second = await run(compiler, root);
  await closed(compiler);
  if (cache) await cache.flush();
  return [{ ...first, files: firstFiles }, { ...second, files: emitted(root) }];
}

for (const mode of WRITE_MODES) {
  describe(`webpack through toNodeFs, ${mode}`, () => {
    it('emits the bytes, errors and warnings it emits over node:fs, and follows an edit made through the drop-in', async () => {
      const twin = await dirs.make();
      const mine = await dirs.make();
      projectTree(twin);
      projectTree(mine);
      const expected = await compileTwice(twin);
      // The comparison can fail: the project gives one error and one warning, and the edit shows.
      assert.equal(expected[0].errors.length, 1);
      assert.equal(expected[0].warnings.length, 1);
      assert.ok(expected[0].files['main.js'].includes('hello ') && expected[1].files['main.js'].includes('edited '));
      const cache = smallCache('/', mode);
      const got = await compileTwice(mine, cache);
      const evictions = cache.stats().evictions;
      await cache.close();
      assert.deepEqual(got[0], expected[0], 'first compile');
      assert.deepEqual(got[1], expected[1], 'second compile, after the edit');
      assert.ok(evictions > 0, 'the cache evicted');
    });
  });
}

/** How many modules a compile built (rather than restored from webpack's cache), and its error count. */
function builtAndEmitted(compiler: webpack.Compiler, root: string): Promise<{ built: number; errors: number }> {
  return new Promise((resolve, reject) => {
    compiler.run((err, stats) => {
      if (err || !stats) return reject(err ?? new Error('no stats'));
      const json = stats.toJson({ all: false, modules: true, errors: true });
      closed(compiler).then(() => resolve({ built: (json.modules ?? []).filter((m) => m.built).length, errors: json.errors?.length ?? 0 }), reject);
    });
  });
}

/** A cold compile with webpack's filesystem cache, then a compile by a fresh compiler (and cache) that restores it. */
async function coldThenRestored(root: string, fs: () => { fs?: unknown; done(): Promise<void> }) {
  const outcomes = [];
  for (let i = 0; i < 2; i++) {
    const side = fs();
    outcomes.push(await builtAndEmitted(compilerFor(root, side.fs, true), root));
    await side.done();
    outcomes.push(emitted(root));
  }
  return outcomes;
}

for (const mode of WRITE_MODES) {
  describe(`webpack's filesystem cache through toNodeFs, ${mode}`, () => {
    it('writes a pack a fresh compiler restores, through the drop-in and then over node:fs', async () => {
      const twin = await dirs.make();
      const mine = await dirs.make();
      projectTree(twin);
      projectTree(mine);
      const expected = await coldThenRestored(twin, () => ({ done: async () => {} }));
      assert.equal((expected[2] as { built: number }).built, 0, 'over node:fs, the second compile restores every module');
      let evictions = 0;
      const got = await coldThenRestored(mine, () => {
        const cache = smallCache('/', mode);
        return { fs: toNodeFs(cache), done: async () => { evictions += cache.stats().evictions; await cache.close(); } };
      });
      assert.deepEqual(got, expected);
      assert.ok(evictions > 0, 'the cache evicted');
      // The pack reached the disk whole: webpack over node:fs restores it too.
      assert.deepEqual(await builtAndEmitted(compilerFor(mine, undefined, true), mine), expected[2]);
    });
  });
}
