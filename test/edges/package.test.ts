// Issue 17, item 12: what a user gets from `npm install cachefs`. The package is packed from this
// checkout and installed into an empty folder (dependencies from npm's cache or the registry); then
// `import` and `require` of cachefs work, `npx cachefs --help` works, nothing warns, the manifest has no
// `prepare`, every source map resolves, and `cachefs bench` says it is a repository command.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fsp from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ROOT } from '../cli/helpers.js';
import { tempDirs } from '../support.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

function sh(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
}

async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

test('npm pack, then an install of the tarball in an empty folder: import, require, npx cachefs, no warnings', async () => {
  const work = await dirs.make('cachefs-pack-');
  const packed = sh('npm', ['pack', '--pack-destination', work, '--json'], ROOT);
  assert.equal(packed.status, 0, packed.stderr);
  const [{ filename }] = JSON.parse(packed.stdout) as { filename: string }[];
  const manifestAfter = JSON.parse(await fsp.readFile(join(ROOT, 'package.json'), 'utf8'));
  assert.equal(manifestAfter.scripts.prepare, 'node scripts/ensure-built.mjs', 'the repository keeps its prepare after packing');

  const app = join(work, 'app');
  await fsp.mkdir(app);
  await fsp.writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const installed = sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, filename)], app);
  assert.equal(installed.status, 0, installed.stderr);
  assert.doesNotMatch(installed.stderr + installed.stdout, /warn/i, 'no install warning');

  const pkg = join(app, 'node_modules', 'cachefs');
  const manifest = JSON.parse(await fsp.readFile(join(pkg, 'package.json'), 'utf8'));
  assert.equal(manifest.scripts?.prepare, undefined, 'no prepare in the published manifest');
  assert.equal(manifest.engines.node, '^20.19.0 || >=22.12.0');
  assert.match(await fsp.readFile(join(pkg, 'LICENSE'), 'utf8'), /^MIT License/);

  const probe = 'for (const name of ["CacheFS", "memoryBackend", "nodeBackend", "toBackendStats", "createCacheServer", "compareSnapshots"]) if (typeof m[name] !== "function") throw new Error("missing export " + name);';
  const imported = sh(process.execPath, ['--input-type=module', '-e', `const m = await import('cachefs'); ${probe} console.log('import ok');`], app);
  assert.equal(imported.status, 0, imported.stderr);
  assert.match(imported.stdout, /import ok/);
  const required = sh(process.execPath, ['-e', `const m = require('cachefs'); ${probe} console.log('require ok');`], app);
  assert.equal(required.status, 0, required.stderr);
  assert.match(required.stdout, /require ok/);
  assert.doesNotMatch(required.stderr, /warn/i);

  const help = sh('npx', ['--no-install', 'cachefs', '--help'], app);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /serve \[options\] <dir>/);
  const bench = sh('npx', ['--no-install', 'cachefs', 'bench', 'serve'], app);
  assert.equal(bench.status, 1);
  assert.match(bench.stderr, /bench is a repository command/);
  assert.doesNotMatch(bench.stderr, /\n\s+at /, 'no stack trace');

  // Every source map shipped points at sources that are shipped too.
  for (const map of (await filesBelow(pkg)).filter((f) => f.endsWith('.js.map'))) {
    const { sources } = JSON.parse(await fsp.readFile(map, 'utf8')) as { sources: string[] };
    for (const source of sources) await fsp.access(join(dirname(map), source));
  }
});

test('a fresh clone explains itself: npm run build before npm install, bin/cachefs.js before a build', async () => {
  const clone = await dirs.make('cachefs-clone-');
  await fsp.cp(join(ROOT, 'package.json'), join(clone, 'package.json'));
  await fsp.cp(join(ROOT, 'scripts'), join(clone, 'scripts'), { recursive: true });
  await fsp.cp(join(ROOT, 'bin'), join(clone, 'bin'), { recursive: true });
  const build = sh('npm', ['run', 'build'], clone);
  assert.equal(build.status, 1);
  assert.match(build.stderr, /run `npm install` first/);
  const cli = sh(process.execPath, [join(clone, 'bin', 'cachefs.js'), '--help'], clone);
  assert.equal(cli.status, 1);
  assert.match(cli.stderr, /not built yet: run `npm install`/);
  assert.doesNotMatch(cli.stderr, /\n\s+at /, 'no stack trace');
});
