// rollup 4, through its `fs` option (a promise-shaped module: rollup's RollupFsModule, which the drop-in's
// `promises` is) over a cache small enough to evict, in every write mode, compared with the same build
// over node:fs on a twin tree: the files `bundle.write` emitted, read back with node:fs after the cache
// flushed, and the warnings. A second build (with the first one's `cache`) after a module is edited
// through the drop-in must follow the edit. The caches sit over `/` so that every path means the same
// thing to both sides.
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { rollup, type RollupCache, type RollupFsModule } from 'rollup';
import { toNodeFs, type CacheFS } from '../../src/index.js';
import { tempDirs } from '../support.js';
import { smallCache, WRITE_MODES, writeTree } from './trees.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

/**
 * An entry importing two local modules (one pulls in 30 parts of 6 KiB, more entries and bytes than the
 * cache holds), a directory reached through a symlink, a module named
 * without its extension (rollup tries .mjs, then .js), and a bare import rollup leaves external (a warning).
 */
function projectTree(root: string): void {
  writeTree(root, {
    'src/index.js': [
      "import { greet } from './greet.js';",
      "import { filler } from './filler.js';",
      "import { local } from './linked/index.js';",
      "import { nested } from './nested/index';",
      "import external from 'some-package';",
      'export default [greet(), filler.length, local, nested, external];',
      '',
    ].join('\n'),
    'src/greet.js': "export const greet = () => 'hello';\n",
    'src/filler.js': `${Array.from({ length: 30 }, (_, i) => `import f${i} from './parts/p${i}.js';`).join('\n')}\nexport const filler = [${Array.from({ length: 30 }, (_, i) => `f${i}`).join(', ')}].join('');\n`,
    ...Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`src/parts/p${i}.js`, `export default ${JSON.stringify(String(i % 10).repeat(6 * 1024))};\n`])),
    'src/nested/index.js': "export const nested = 'nested';\n",
    'packages/linked/index.js': "export const local = 'local';\n",
  });
  nodeFs.symlinkSync('../packages/linked', join(root, 'src/linked'));
}

type Outcome = { files: Record<string, string>; warnings: string[]; modules: string[] };

/** One build of `root` (through `fs`, or rollup's own node:fs), written below `dist`. */
async function build(root: string, fs: RollupFsModule | undefined, cache: RollupCache | undefined) {
  const warnings: string[] = [];
  const bundle = await rollup({
    input: join(root, 'src/index.js'), cache, ...(fs ? { fs } : {}),
    // Rollup names modules relative to the working directory in its messages: both spellings of the root go.
    onwarn: (w) => warnings.push(`${w.code}: ${w.message}`.split(root).join('<root>').split(relative(process.cwd(), root)).join('<root>')),
  });
  await bundle.write({ dir: join(root, 'dist'), format: 'es' });
  await bundle.close();
  return { warnings, modules: bundle.watchFiles.map((f) => f.split(root).join('<root>')).sort(), cache: bundle.cache };
}

/** What rollup wrote below `dist`, read with node:fs (after the cache flushed), root taken out. */
function emitted(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of nodeFs.readdirSync(join(root, 'dist')).sort()) out[name] = nodeFs.readFileSync(join(root, 'dist', name), 'latin1').split(root).join('<root>');
  return out;
}

const EDIT = "export const greet = () => 'edited';\n";

/** Build, edit greet.js (with node:fs, or through the drop-in), build again with the first build's cache. */
async function buildTwice(root: string, cache?: CacheFS): Promise<Outcome[]> {
  const fs = cache ? (toNodeFs(cache).promises as unknown as RollupFsModule) : undefined;
  const first = await build(root, fs, undefined);
  if (cache) await cache.flush();
  const firstFiles = emitted(root);
  if (fs) await fs.writeFile(join(root, 'src/greet.js'), EDIT);
  else nodeFs.writeFileSync(join(root, 'src/greet.js'), EDIT);
  const second = await build(root, fs, first.cache);
  if (cache) await cache.flush();
  return [{ warnings: first.warnings, modules: first.modules, files: firstFiles }, { warnings: second.warnings, modules: second.modules, files: emitted(root) }];
}

for (const mode of WRITE_MODES) {
  describe(`rollup through toNodeFs, ${mode}`, () => {
    it('writes the bytes and warnings it gives over node:fs, and follows an edit made through the drop-in', async () => {
      const twin = await dirs.make();
      const mine = await dirs.make();
      projectTree(twin);
      projectTree(mine);
      const expected = await buildTwice(twin);
      // The comparison can fail: the external import warns, the module through the link is read,
      // and the edit shows.
      assert.equal(expected[0].warnings.length, 1);
      assert.ok(expected[0].modules.includes('<root>/src/linked/index.js'));
      assert.ok(expected[0].files['index.js'].includes("'hello'") && expected[1].files['index.js'].includes("'edited'"));
      const cache = smallCache('/', mode);
      const got = await buildTwice(mine, cache);
      const evictions = cache.stats().evictions;
      await cache.close();
      assert.deepEqual(got[0], expected[0], 'first build');
      assert.deepEqual(got[1], expected[1], 'second build, after the edit');
      assert.ok(evictions > 0, 'the cache evicted');
    });
  });
}
