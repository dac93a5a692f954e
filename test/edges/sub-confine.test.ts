// Issue 17, item 1: a view made by sub(dir) confines like a backend root. Every call is made on a view
// `sub('/jail')` of a cache over one temporary tree and on a cache whose nodeBackend root is `jail` of
// an identical second tree; the answers must agree, and nothing outside `jail` may be read or changed.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { CacheFS, nodeBackend } from '../../src/index.js';
import type { WriteMode } from '../../src/options.js';
import { tempDirs } from '../support.js';

const MODES: WriteMode[] = ['write-through', 'write-back', 'write-around'];
const dirs = tempDirs();
after(() => dirs.cleanup());

async function tree(): Promise<string> {
  const dir = await dirs.make();
  await fsp.writeFile(`${dir}/secret`, 'SECRET');
  await fsp.mkdir(`${dir}/jail`);
  await fsp.writeFile(`${dir}/jail/ok`, 'ok');
  // Links made on disk by another program, leading out of the jail.
  await fsp.symlink(`${dir}/secret`, `${dir}/jail/disk-abs`);
  await fsp.symlink('../secret', `${dir}/jail/disk-rel`);
  await fsp.symlink('../newsecret', `${dir}/jail/disk-dangling`);
  return dir;
}

type Outcome = { ok: true; value: unknown } | { ok: false; code: unknown };
async function outcome(fn: () => unknown): Promise<Outcome> {
  try {
    const v = await fn();
    return { ok: true, value: Buffer.isBuffer(v) ? v.toString() : v && typeof v === 'object' ? 'object' : v };
  } catch (err) {
    return { ok: false, code: (err as { code?: unknown }).code };
  }
}

/** Calls made on the view and on the rooted cache alike. */
const CALLS: [string, (fs: CacheFS) => unknown][] = [
  ['symlink ../secret', (fs) => fs.symlink('../secret', '/l')],
  ['readFile through ../secret', (fs) => fs.readFile('/l')],
  ['writeFile through ../secret', (fs) => fs.writeFile('/l', 'pwned')],
  ['appendFile through ../secret', (fs) => fs.appendFile('/l', 'pwned')],
  ['realpath of ../secret', (fs) => fs.realpath('/l')],
  ['stat through ../secret', (fs) => fs.stat('/l')],
  ['open through ../secret', (fs) => fs.open('/l', 'r+').then((h) => h.close())],
  ['truncate through ../secret', (fs) => fs.truncate('/l')],
  ['lstat of the link itself', (fs) => fs.lstat('/l').then((s) => s.isSymbolicLink())],
  ['readlink', (fs) => fs.readlink('/l')],
  ['symlink ..', (fs) => fs.symlink('..', '/up')],
  ['readFile /up/secret', (fs) => fs.readFile('/up/secret')],
  ['writeFile /up/secret', (fs) => fs.writeFile('/up/secret', 'pwned')],
  ['readdir /up', (fs) => fs.readdir('/up')],
  ['unlink /up/secret', (fs) => fs.unlink('/up/secret')],
  ['rename out through /up', (fs) => fs.rename('/ok', '/up/moved')],
  ['copyFile through /up', (fs) => fs.copyFile('/up/secret', '/copy')],
  ['realpath /up', (fs) => fs.realpath('/up')],
  ['symlink absolute /secret (a path of the view)', (fs) => fs.symlink('/secret', '/abs')],
  ['readlink absolute', (fs) => fs.readlink('/abs')],
  ['readFile absolute', (fs) => fs.readFile('/abs')],
  ['writeFile absolute creates inside', (fs) => fs.writeFile('/abs', 'inside')],
  ['readFile absolute again', (fs) => fs.readFile('/abs')],
  ['realpath absolute', (fs) => fs.realpath('/abs')],
  ['readFile disk link (absolute)', (fs) => fs.readFile('/disk-abs')],
  ['readFile disk link (relative)', (fs) => fs.readFile('/disk-rel')],
  ['writeFile disk link (relative)', (fs) => fs.writeFile('/disk-rel', 'pwned')],
  ['writeFile dangling disk link', (fs) => fs.writeFile('/disk-dangling', 'pwned')],
  ['symlink ok, realpath answers a path of the view', (fs) => fs.symlink('ok', '/lok').then(() => fs.realpath('/lok'))],
  ['readFile /lok', (fs) => fs.readFile('/lok')],
  ['.. at the top stays at the top', (fs) => fs.readFile('/../../ok')],
  ['chdir /up', (fs) => fs.chdir('/up')],
];

describe('sub(dir) confines like a backend root (item 1)', () => {
  for (const mode of MODES) {
    test(mode, async () => {
      const viewTree = await tree();
      const rootTree = await tree();
      const parent = new CacheFS(nodeBackend(viewTree), { writeMode: mode, metadataCache: true });
      const rooted = new CacheFS(nodeBackend(`${rootTree}/jail`), { writeMode: mode, metadataCache: true });
      const view = parent.sub('/jail');
      try {
        await parent.readFile('/secret'); // cached in the shared cache: a hit must not leak it either
        for (const [name, call] of CALLS) {
          const expected = await outcome(() => call(rooted));
          const actual = await outcome(() => call(view));
          assert.deepEqual(actual, expected, `${mode}: ${name}`);
          if (!actual.ok) assert.notEqual((actual as { code: unknown }).code, undefined, name);
        }
        await parent.flush();
        await rooted.flush();
        assert.equal(await fsp.readFile(`${viewTree}/secret`, 'utf8'), 'SECRET', 'the parent\'s file is untouched');
        await assert.rejects(fsp.access(`${viewTree}/newsecret`), { code: 'ENOENT' });
        await assert.rejects(fsp.access(`${viewTree}/moved`), { code: 'ENOENT' });
        assert.equal(await fsp.readFile(`${viewTree}/jail/secret`, 'utf8'), 'inside');
      } finally {
        await view.close();
        await parent.close();
        await rooted.close();
      }
    });
  }

  test('links made through the parent cache that lead out of the view are EACCES in the view', async () => {
    const dir = await tree();
    const parent = new CacheFS(nodeBackend(dir));
    const view = parent.sub('/jail');
    try {
      await parent.symlink('/secret', '/jail/p');
      await parent.symlink('/nowhere', '/jail/dangling');
      assert.equal((await parent.readFile('/jail/p')).toString(), 'SECRET', 'the parent may follow it');
      await assert.rejects(view.readFile('/p'), { code: 'EACCES', syscall: 'open' });
      await assert.rejects(view.realpath('/p'), { code: 'EACCES', syscall: 'realpath' });
      await assert.rejects(view.writeFile('/dangling', 'x'), { code: 'EACCES' });
      await assert.rejects(fsp.access(`${dir}/nowhere`), { code: 'ENOENT' });
      assert.equal(await view.readlink('/p'), '/secret', 'a target outside the view is shown as the backend has it');
    } finally {
      await parent.close();
    }
  });
});
