// More third-party programs that take an fs object, through toNodeFs over a cache small enough to evict,
// in every write mode, compared with the same program over node:fs on the same tree: the walkers fast-glob
// is built on (@nodelib/fs.walk, @nodelib/fs.stat), glob's path-scurry, fdir and tinyglobby, klaw, and
// browserify's resolve (handed the drop-in's readFile, stat and realpath, as its options ask).
import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as fsStat from '@nodelib/fs.stat';
import * as fsWalk from '@nodelib/fs.walk';
import { fdir } from 'fdir';
import { PathScurry } from 'path-scurry';
import { glob as tinyGlob, globSync as tinyGlobSync } from 'tinyglobby';
import { toNodeFs } from '../../src/index.js';
import { tempDirs } from '../support.js';
import { smallCache, WRITE_MODES, writeTree } from './trees.js';

type Fs = typeof nodeFs;
const require = createRequire(import.meta.url);
// Neither ships types; they are called the way their READMEs show.
const klaw = require('klaw') as (root: string, options?: { fs?: unknown; preserveSymlinks?: boolean }) => AsyncIterable<{ path: string; stats: nodeFs.Stats }>;
const resolve = require('resolve') as {
  (id: string, options: object, cb: (err: Error | null, found?: string) => void): void;
  sync(id: string, options: object): string;
};

const dirs = tempDirs();
after(() => dirs.cleanup());

/** A tree with nesting, links to a file and to a directory, a broken link, packages for resolve. */
async function tree(): Promise<string> {
  const root = await dirs.make();
  const files: Record<string, string> = {
    'src/index.js': "require('alpha')",
    'src/lib/util.js': 'x'.repeat(5000),
    'src/lib/deep/a/b/c.txt': 'c',
    'node_modules/alpha/package.json': JSON.stringify({ name: 'alpha', main: './lib/main' }),
    'node_modules/alpha/lib/main.js': '',
    'node_modules/beta/index.js': '',
    'node_modules/@s/gamma/package.json': JSON.stringify({ name: '@s/gamma', main: 'dist/g.js' }),
    'node_modules/@s/gamma/dist/g.js': '',
  };
  for (let i = 0; i < 30; i++) files[`many/f${i}.txt`] = `${i}`.repeat(3000);
  writeTree(root, files);
  nodeFs.symlinkSync('lib/util.js', join(root, 'src/util-link.js'));
  nodeFs.symlinkSync('lib', join(root, 'src/lib-link'));
  nodeFs.symlinkSync('nowhere', join(root, 'src/broken'));
  nodeFs.symlinkSync(join(root, 'node_modules/alpha'), join(root, 'node_modules/alias'));
  return root;
}

const sorted = (xs: string[]) => [...xs].sort();
const rel = (root: string) => (p: string) => (p.startsWith(root) ? p.slice(root.length) : p);

function walkEntries(entries: fsWalk.Entry[], root: string): string[] {
  return sorted(entries.map((e) => `${rel(root)(e.path)} ${e.dirent.isDirectory() ? 'd' : e.dirent.isSymbolicLink() ? 'l' : 'f'} ${e.stats?.size ?? ''}`));
}

for (const mode of WRITE_MODES) {
  describe(`more third-party programs through toNodeFs, ${mode}`, () => {
    it('@nodelib/fs.walk (async, sync, stream) and @nodelib/fs.stat give what they give over node:fs', async () => {
      const root = await tree();
      const cache = smallCache('/', mode);
      const fs = toNodeFs(cache) as unknown as Fs;
      for (const options of [{ stats: true, followSymbolicLinks: true, throwErrorOnBrokenSymbolicLink: false }, { stats: false, followSymbolicLinks: false }]) {
        const expected = walkEntries(fsWalk.walkSync(root, new fsWalk.Settings(options)), root);
        const settings = new fsWalk.Settings({ ...options, fs });
        assert.deepEqual(walkEntries(fsWalk.walkSync(root, settings), root), expected, `walkSync ${JSON.stringify(options)}`);
        const walked = await new Promise<fsWalk.Entry[]>((ok, fail) => fsWalk.walk(root, settings, (err, entries) => (err ? fail(err) : ok(entries))));
        assert.deepEqual(walkEntries(walked, root), expected, `walk ${JSON.stringify(options)}`);
        // Read with events: fs.walk's stream never ends under `for await`, over node:fs too.
        const streamed = await new Promise<fsWalk.Entry[]>((ok, fail) => {
          const got: fsWalk.Entry[] = [];
          fsWalk.walkStream(root, settings).on('data', (e: fsWalk.Entry) => got.push(e)).on('error', fail).on('end', () => ok(got));
        });
        assert.deepEqual(walkEntries(streamed, root), expected, `walkStream ${JSON.stringify(options)}`);
      }
      for (const name of ['src/index.js', 'src/util-link.js', 'src/lib-link', 'src/broken', 'src/nope']) {
        const shapeOf = (got: () => nodeFs.Stats) => {
          try {
            const st = got();
            return [st.isFile(), st.isDirectory(), st.isSymbolicLink(), st.size];
          } catch (err) {
            return (err as NodeJS.ErrnoException).code;
          }
        };
        const settings = (fsOption?: Fs) => new fsStat.Settings({ followSymbolicLink: true, throwErrorOnBrokenSymbolicLink: false, fs: fsOption });
        const expected = shapeOf(() => fsStat.statSync(join(root, name), settings()));
        assert.deepEqual(shapeOf(() => fsStat.statSync(join(root, name), settings(fs))), expected, `fs.stat statSync ${name}`);
        const viaCallback = await new Promise<unknown>((ok) => fsStat.stat(join(root, name), settings(fs), (err, st) => ok(err ? err.code : shapeOf(() => st))));
        assert.deepEqual(viaCallback, expected, `fs.stat stat ${name}`);
      }
      // Every file the walk found, read through the drop-in: the cache is small, so it evicts.
      for (const entry of fsWalk.walkSync(root, new fsWalk.Settings({ fs }))) {
        if (entry.dirent.isFile()) assert.deepEqual(fs.readFileSync(entry.path), nodeFs.readFileSync(entry.path), entry.path);
      }
      assert.ok(cache.stats().evictions > 0, 'the cache evicted');
      await cache.close();
    });

    it('path-scurry, fdir and tinyglobby list what they list over node:fs', async () => {
      const root = await tree();
      const cache = smallCache('/', mode);
      const fs = toNodeFs(cache) as unknown as Fs;
      const scurry = (fsOption?: Fs) => new PathScurry(root, fsOption ? { fs: fsOption as never } : {});
      const scurried = (s: PathScurry) => sorted(s.walkSync({ follow: true }).map((p) => `${p.relativePosix()} ${p.isDirectory() ? 'd' : p.isSymbolicLink() ? 'l' : 'f'}`));
      assert.deepEqual(scurried(scurry(fs)), scurried(scurry()), 'path-scurry walkSync');
      const viaAsync = sorted((await scurry(fs).walk({ follow: true })).map((p) => p.relativePosix()));
      assert.deepEqual(viaAsync, sorted((await scurry().walk({ follow: true })).map((p) => p.relativePosix())), 'path-scurry walk');
      for (const name of ['src/util-link.js', 'src/lib-link', 'src/broken', 'src/nope']) {
        const facts = async (s: PathScurry) => {
          const p = s.cwd.resolve(name);
          return [(await p.lstat())?.isSymbolicLink(), (await p.readlink())?.relativePosix(), (await p.realpath())?.relativePosix(), p.lstatSync()?.isFile()];
        };
        assert.deepEqual(await facts(scurry(fs)), await facts(scurry()), `path-scurry lstat/readlink/realpath ${name}`);
      }
      const crawler = (fsOption?: Fs) => new fdir({ fs: fsOption as never, resolveSymlinks: true, includeDirs: true, relativePaths: true, suppressErrors: true });
      assert.deepEqual(sorted(crawler(fs).crawl(root).sync() as string[]), sorted(crawler().crawl(root).sync() as string[]), 'fdir sync');
      assert.deepEqual(sorted((await crawler(fs).crawl(root).withPromise()) as string[]), sorted(crawler().crawl(root).sync() as string[]), 'fdir async');
      for (const pattern of ['**/*.js', 'src/**', 'node_modules/*/package.json', '**/lib-link/**', 'many/f1*.txt']) {
        const options = { cwd: root, dot: true, followSymbolicLinks: true };
        const expected = sorted(tinyGlobSync(pattern, options));
        assert.deepEqual(sorted(tinyGlobSync(pattern, { ...options, fs: fs as never })), expected, `tinyglobby sync ${pattern}`);
        assert.deepEqual(sorted(await tinyGlob(pattern, { ...options, fs: fs as never })), expected, `tinyglobby ${pattern}`);
      }
      await cache.close();
    });

    it('klaw walks, and browserify resolve resolves, as over node:fs', async () => {
      const root = await tree();
      const cache = smallCache('/', mode);
      const fs = toNodeFs(cache) as unknown as Fs;
      const walk = async (fsOption?: Fs) => {
        const out: string[] = [];
        for await (const item of klaw(root, fsOption ? { fs: fsOption, preserveSymlinks: true } : { preserveSymlinks: true })) out.push(`${rel(root)(item.path)} ${item.stats.isDirectory()} ${item.stats.isSymbolicLink()} ${item.stats.size}`);
        return sorted(out);
      };
      assert.deepEqual(await walk(fs), await walk());
      // resolve's own defaults are built from node:fs the same way: stat for isFile/isDirectory, readFile, realpath.
      const optionsOf = (f: Fs) => {
        const kind = (p: string) => {
          try {
            return f.statSync(p);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
            throw err;
          }
        };
        return {
          basedir: join(root, 'src'), preserveSymlinks: false,
          readFileSync: f.readFileSync, isFile: (p: string) => kind(p)?.isFile() ?? false, isDirectory: (p: string) => kind(p)?.isDirectory() ?? false, realpathSync: f.realpathSync,
          readFile: f.readFile, realpath: f.realpath,
          // resolve's async isFile/isDirectory take a callback.
          asyncKinds: {
            isFile: (p: string, cb: (err: Error | null, yes?: boolean) => void) => f.stat(p, (err, st) => cb(err && err.code !== 'ENOENT' && err.code !== 'ENOTDIR' ? err : null, !err && st.isFile())),
            isDirectory: (p: string, cb: (err: Error | null, yes?: boolean) => void) => f.stat(p, (err, st) => cb(err && err.code !== 'ENOENT' && err.code !== 'ENOTDIR' ? err : null, !err && st.isDirectory())),
          },
        };
      };
      const resolveAll = async (f: Fs) => {
        const o = optionsOf(f);
        const out: string[] = [];
        for (const id of ['alpha', 'beta', '@s/gamma', 'alias', './lib/util', './lib-link/util.js', './util-link', 'missing', './nope', 'alpha/package.json']) {
          let viaSync: string;
          try {
            viaSync = rel(root)(resolve.sync(id, o));
          } catch (err) {
            viaSync = `error ${(err as NodeJS.ErrnoException).code}`;
          }
          const viaAsync = await new Promise<string>((ok) =>
            resolve(id, { ...o, ...o.asyncKinds, readFileSync: undefined, isFile: o.asyncKinds.isFile, isDirectory: o.asyncKinds.isDirectory }, (err, found) => ok(err ? `error ${(err as NodeJS.ErrnoException).code}` : rel(root)(found!))));
          out.push(`${id}: ${viaSync} | ${viaAsync}`);
        }
        return out;
      };
      const expected = await resolveAll(nodeFs);
      assert.deepEqual(await resolveAll(fs), expected);
      assert.deepEqual(await resolveAll(fs), expected, 'again (hits)');
      await cache.close();
    });
  });
}
