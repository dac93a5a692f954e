// Real third-party programs through toNodeFs over a cache small enough to evict, in every write mode,
// compared with the same program over node:fs on a twin tree (or the same tree, for read-only ones).
// The caches sit over `/` so that every path means the same thing to both sides.
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import enhancedResolve from 'enhanced-resolve';
import fg from 'fast-glob';
import { glob, globSync } from 'glob';
import git from 'isomorphic-git';
import ts from 'typescript';
import { toNodeFs, type WriteMode } from '../../src/index.js';
import { tempDirs } from '../support.js';
import { routeLookups } from './compiler-host.js';
import { smallCache, WRITE_MODES, writeTree } from './trees.js';

const { CachedInputFileSystem, ResolverFactory } = enhancedResolve;
const dirs = tempDirs();
after(() => dirs.cleanup());

/** A small project: packages with main, exports, browser-less subpaths, a scoped package, a link. */
function projectTree(root: string): void {
  const files: Record<string, string> = {
    'src/index.js': "import a from 'alpha'; import b from '@scope/beta/util';",
    'src/lib/helper.js': 'export default 1;',
    'src/lib/index.ts': 'export const x = 1;',
    'node_modules/alpha/package.json': JSON.stringify({ name: 'alpha', main: 'lib/main.js' }),
    'node_modules/alpha/lib/main.js': 'module.exports = 1;',
    'node_modules/@scope/beta/package.json': JSON.stringify({ name: '@scope/beta', exports: { '.': './index.js', './util': './dist/util.js' } }),
    'node_modules/@scope/beta/index.js': '',
    'node_modules/@scope/beta/dist/util.js': '',
    'node_modules/gamma/index.json': '{}',
    'node_modules/gamma/package.json': JSON.stringify({ name: 'gamma' }),
  };
  for (let i = 0; i < 40; i++) files[`node_modules/pkg${i}/package.json`] = JSON.stringify({ name: `pkg${i}`, main: i % 2 ? 'main.js' : undefined });
  for (let i = 0; i < 40; i++) files[`node_modules/pkg${i}/${i % 2 ? 'main.js' : 'index.js'}`] = `module.exports = ${i};`.repeat(200);
  writeTree(root, files);
  nodeFs.symlinkSync(join(root, 'node_modules/alpha'), join(root, 'node_modules/alias'));
}

const REQUESTS = ['alpha', '@scope/beta', '@scope/beta/util', 'gamma', './lib/helper', './lib', 'alias', 'missing-pkg', './nope',
  ...Array.from({ length: 40 }, (_, i) => `pkg${i}`)];

async function resolveAll(fileSystem: unknown, root: string, sync: boolean): Promise<string[]> {
  const resolver = ResolverFactory.createResolver({
    fileSystem: fileSystem as never, extensions: ['.js', '.json', '.ts'], useSyncFileSystemCalls: sync, conditionNames: ['node', 'import'],
  });
  const out: string[] = [];
  for (const request of REQUESTS) {
    const result = await new Promise<string>((resolve) => {
      resolver.resolve({}, join(root, 'src'), request, {}, (err, found) => resolve(err ? `error: ${String(err.message).split('\n')[0]}` : String(found)));
    });
    out.push(result);
  }
  return out;
}

function typescriptDiagnosticsAndEmit(root: string, fileSystem: typeof nodeFs | undefined) {
  const options: ts.CompilerOptions = { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, declaration: true, outDir: join(root, 'out') };
  const host = ts.createCompilerHost(options);
  if (fileSystem) {
    host.readFile = (p) => (fileSystem.existsSync(p) ? fileSystem.readFileSync(p, 'utf8') : undefined);
    routeLookups(host, fileSystem);
    const original = host.getSourceFile;
    host.getSourceFile = (name, languageVersion, onError) => {
      const text = host.readFile(name);
      return text === undefined ? original(name, languageVersion, onError) : ts.createSourceFile(name, text, languageVersion);
    };
  }
  const emitted = new Map<string, string>();
  host.writeFile = (name, text) => emitted.set(name, text);
  const program = ts.createProgram([join(root, 'ts/main.ts')], options, host);
  const result = program.emit();
  const diagnostics = ts.getPreEmitDiagnostics(program).concat(result.diagnostics)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n') + ` @${d.file?.fileName}:${d.start}`);
  return { diagnostics, emitted: [...emitted.entries()].sort() };
}

async function gitRun(fileSystem: unknown, dir: string): Promise<unknown> {
  const fs = fileSystem as never;
  const author = { name: 'cachefs', email: 'c@example.com', timestamp: 1700000000, timezoneOffset: 0 };
  await git.init({ fs, dir, defaultBranch: 'main' });
  for (const name of ['a.txt', 'sub/b.txt', 'sub/c.txt']) await git.add({ fs, dir, filepath: name });
  const first = await git.commit({ fs, dir, message: 'first', author });
  nodeFs.writeFileSync(join(dir, 'never-added.txt'), 'x');
  const fsLike = fileSystem as typeof nodeFs;
  fsLike.writeFileSync(join(dir, 'a.txt'), 'changed through the program');
  await git.add({ fs, dir, filepath: 'a.txt' });
  const second = await git.commit({ fs, dir, message: 'second', author });
  const log = (await git.log({ fs, dir })).map((c) => [c.oid, c.commit.message, c.commit.tree]);
  const status = await git.statusMatrix({ fs, dir });
  return { first, second, log, status };
}

for (const mode of WRITE_MODES as WriteMode[]) {
  describe(`third-party programs through toNodeFs, ${mode}`, () => {
    it('enhanced-resolve (async and useSyncFileSystemCalls) resolves as over node:fs', async () => {
      const root = await dirs.make();
      projectTree(root);
      const cache = smallCache('/', mode);
      const fs = toNodeFs(cache);
      for (const sync of [false, true]) {
        const expected = await resolveAll(new CachedInputFileSystem(nodeFs, 4000), root, sync);
        assert.deepEqual(await resolveAll(fs, root, sync), expected, `sync=${sync}`);
        assert.deepEqual(await resolveAll(fs, root, sync), expected, `sync=${sync}, again (hits)`);
      }
      assert.ok(cache.stats().evictions > 0, 'the cache evicted');
      await cache.close();
    });

    it('fast-glob and glob list what they list over node:fs', async () => {
      const root = await dirs.make();
      projectTree(root);
      const cache = smallCache('/', mode);
      const fs = toNodeFs(cache);
      const sorted = (xs: string[]) => [...xs].sort();
      for (const pattern of ['**/*.js', 'node_modules/*/package.json', 'src/**', '**/alias/**']) {
        const fgOptions = { cwd: root, followSymbolicLinks: true, dot: true };
        assert.deepEqual(sorted(await fg(pattern, { ...fgOptions, fs: fs as never })), sorted(await fg(pattern, fgOptions)), `fast-glob ${pattern}`);
        assert.deepEqual(sorted(fg.sync(pattern, { ...fgOptions, fs: fs as never })), sorted(fg.sync(pattern, fgOptions)), `fast-glob sync ${pattern}`);
        assert.deepEqual(sorted(await glob(pattern, { cwd: root, fs: fs as never })), sorted(await glob(pattern, { cwd: root })), `glob ${pattern}`);
        assert.deepEqual(sorted(globSync(pattern, { cwd: root, fs: fs as never })), sorted(globSync(pattern, { cwd: root })), `globSync ${pattern}`);
      }
      await cache.close();
    });

    it('TypeScript compiles a program read through it: same diagnostics, same emitted text', async () => {
      const root = await dirs.make();
      const files: Record<string, string> = {
        'ts/main.ts': "import { helper } from './util.js';\nimport type { Shape } from './types.js';\nexport const area = (s: Shape): number => helper(s.w) * s.h;\nconst wrong: string = 42;\n",
        'ts/util.ts': 'export function helper(n: number): number { return n * 2; }\n',
        'ts/types.ts': 'export interface Shape { w: number; h: number }\n',
        'ts/package.json': JSON.stringify({ type: 'module' }),
      };
      writeTree(root, files);
      const expected = typescriptDiagnosticsAndEmit(root, undefined);
      assert.ok(expected.diagnostics.length > 0 && expected.emitted.length > 0);
      const cache = smallCache('/', mode);
      const fs = toNodeFs(cache) as unknown as typeof nodeFs;
      assert.deepEqual(typescriptDiagnosticsAndEmit(root, fs), expected);
      assert.deepEqual(typescriptDiagnosticsAndEmit(root, fs), expected, 'a second compile (hits)');
      await cache.close();
    });

    it('isomorphic-git init/add/commit/log gives the objects and log it gives over node:fs', async () => {
      const twin = await dirs.make();
      const mine = await dirs.make();
      for (const r of [twin, mine]) writeTree(r, { 'a.txt': 'alpha\n', 'sub/b.txt': 'bravo\n', 'sub/c.txt': 'c'.repeat(100_000) });
      const expected = await gitRun(nodeFs, twin);
      const cache = smallCache('/', mode);
      const got = await gitRun(toNodeFs(cache), mine);
      assert.deepEqual(got, expected);
      await cache.flush();
      // The objects reached the disk: plain git reading with node:fs sees the same history.
      const onDisk = (await git.log({ fs: nodeFs, dir: mine })).map((c) => c.oid);
      assert.deepEqual(onDisk, (expected as { log: string[][] }).log.map((c) => c[0]));
      await cache.close();
    });
  });
}
