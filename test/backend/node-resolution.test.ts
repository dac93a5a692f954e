// nodeBackend remembers directories' checked resolutions (API.md 1.3 §4): these tests hold it to the
// rules that make that safe. Calls through the backend that change the name space are seen at once; a
// tree changed behind the backend is caught at once by calls that open a file (their descriptor is
// checked) and by path calls once the remembered resolution is older than its one second of trust.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodeBackend } from '../../src/backend/node.js';
import { TRUST_MS } from '../../src/backend/node-confine.js';
import { bytes, rejectsWith, text } from './contract.js';

let tmp: string;
let outside: string;
let counter = 0;
before(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cachefs-res-')));
  outside = path.join(tmp, 'outside');
  fs.mkdirSync(path.join(outside, 'd'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'd', 'f'), 'secret');
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A root holding /a/d/f ("inside"), with /a/d's resolution remembered by a first stat. */
async function primed() {
  const root = path.join(tmp, `root-${++counter}`);
  fs.mkdirSync(path.join(root, 'a', 'd'), { recursive: true });
  fs.writeFileSync(path.join(root, 'a', 'd', 'f'), 'inside');
  const b = nodeBackend(root);
  assert.equal((await b.stat('/a/d/f')).size, 6);
  assert.ok(b.sync);
  assert.equal(b.sync.stat('/a/d/f').size, 6);
  return { root, b, sync: b.sync };
}

describe('nodeBackend remembered resolutions', () => {
  it('a directory replaced by a link through the backend is refused at once', async () => {
    const { b, sync } = await primed();
    await b.unlink('/a/d/f');
    await b.rmdir('/a/d');
    await b.symlink(path.relative(path.join(tmp, `root-${counter}`, 'a'), path.join(outside, 'd')), '/a/d');
    await rejectsWith(b.stat('/a/d/f'), 'EACCES');
    await rejectsWith(b.readdir('/a/d'), 'EACCES');
    await rejectsWith(b.readFile('/a/d/f'), 'EACCES');
    assert.throws(() => sync.stat('/a/d/f'), { code: 'EACCES' });
  });

  it('a directory renamed away and a link renamed into its place is refused at once', async () => {
    const { root, b } = await primed();
    fs.symlinkSync(path.join(outside, 'd'), path.join(root, 'staged'));
    await b.rename('/a/d', '/a/old');
    await b.rename('/staged', '/a/d');
    await rejectsWith(b.stat('/a/d/f'), 'EACCES');
    await rejectsWith(b.lstat('/a/d/f'), 'EACCES');
    assert.equal(text(await b.readFile('/a/old/f')), 'inside');
  });

  it('an alias removed through the backend no longer leads anywhere', async () => {
    const { root, b } = await primed();
    fs.symlinkSync(path.join(root, 'a'), path.join(root, 'alias'));
    assert.equal((await b.stat('/alias/d/f')).size, 6);
    await b.unlink('/alias');
    await rejectsWith(b.stat('/alias/d/f'), 'ENOENT');
    await rejectsWith(b.readdir('/alias/d'), 'ENOENT');
  });

  it('a directory swapped for a link behind the backend: opening calls refuse at once, path calls within the trust', async () => {
    const { root, b, sync } = await primed();
    fs.renameSync(path.join(root, 'a', 'd'), path.join(root, 'a', 'moved'));
    fs.symlinkSync(path.join(outside, 'd'), path.join(root, 'a', 'd'));
    // Calls that open verify their descriptor: no trust involved.
    await rejectsWith(b.readFile('/a/d/f'), 'EACCES');
    await rejectsWith(b.writeFile('/a/d/f', bytes('x')), 'EACCES');
    await rejectsWith(b.truncate('/a/d/f', 0), 'EACCES');
    assert.throws(() => sync.readFile('/a/d/f'), { code: 'EACCES' });
    assert.ok(b.open);
    await rejectsWith(b.open('/a/d/f', 'r'), 'EACCES');
    assert.equal(fs.readFileSync(path.join(outside, 'd', 'f'), 'utf8'), 'secret');
    // Path calls may act on the remembered resolution for at most TRUST_MS, then check again.
    await sleep(TRUST_MS + 100);
    await rejectsWith(b.stat('/a/d/f'), 'EACCES');
    await rejectsWith(b.readdir('/a/d'), 'EACCES');
    assert.throws(() => sync.stat('/a/d/f'), { code: 'EACCES' });
  });

  it('concurrent cold calls in one directory all get their answers', async () => {
    const root = path.join(tmp, `root-${++counter}`);
    fs.mkdirSync(path.join(root, 'x', 'y'), { recursive: true });
    for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(root, 'x', 'y', `f${i}`), String(i));
    fs.symlinkSync('y', path.join(root, 'x', 'via'));
    const b = nodeBackend(root);
    const sizes = await Promise.all(Array.from({ length: 50 }, (_, i) => b.stat(`/x/${i % 2 ? 'via' : 'y'}/f${i}`)));
    assert.deepEqual(sizes.map((s) => s.size), Array.from({ length: 50 }, (_, i) => String(i).length));
    const texts = await Promise.all(Array.from({ length: 50 }, (_, i) => b.readFile(`/x/via/f${i}`)));
    assert.deepEqual(texts.map(text), Array.from({ length: 50 }, (_, i) => String(i)));
  });
});

describe('nodeBackend sync face confinement', () => {
  it('refuses every way out as the async face does, naming virtual paths only', () => {
    const root = path.join(tmp, `root-${++counter}`);
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(root, 'inside'), 'inside');
    const secret = path.join(outside, 'd', 'f');
    fs.symlinkSync(path.join(outside, 'd'), path.join(root, 'out'));
    fs.symlinkSync(secret, path.join(root, 'outfile'));
    fs.symlinkSync(path.relative(path.join(root, 'sub'), secret), path.join(root, 'sub', 'up'));
    fs.symlinkSync('..', path.join(root, 'parent'));
    fs.symlinkSync('c2', path.join(root, 'c1'));
    fs.symlinkSync(secret, path.join(root, 'c2'));
    fs.symlinkSync(path.join(outside, 'not-yet'), path.join(root, 'dangling-out'));
    const sync = nodeBackend(root).sync!;
    const buffer = new Uint8Array(8);
    const attempts: [string, () => unknown][] = [
      ['readFile via dir link', () => sync.readFile('/out/f')],
      ['stat via dir link', () => sync.stat('/out/f')],
      ['lstat via dir link', () => sync.lstat('/out/f')],
      ['readdir dir link', () => sync.readdir('/out')],
      ['writeFile via dir link', () => sync.writeFile('/out/planted', bytes('x'))],
      ['mkdir via dir link', () => sync.mkdir('/out/newdir')],
      ['mkdir -p dir link', () => sync.mkdir('/out/a/b', { recursive: true })],
      ['unlink via dir link', () => sync.unlink('/out/f')],
      ['rename out of dir link', () => sync.rename('/out/f', '/stolen')],
      ['rename into dir link', () => sync.rename('/inside', '/out/planted')],
      ['symlink into dir link', () => sync.symlink('x', '/out/l')],
      ['link out of dir link', () => sync.link!('/out/f', '/stolen')],
      ['readFile file link', () => sync.readFile('/outfile')],
      ['read file link', () => sync.read!('/outfile', buffer, 0, 8, 0)],
      ['open file link', () => sync.open!('/outfile', 'r')],
      ['writeFile file link', () => sync.writeFile('/outfile', bytes('x'))],
      ['truncate file link', () => sync.truncate('/outfile', 0)],
      ['chmod file link', () => sync.chmod('/outfile', 0o600)],
      ['utimes file link', () => sync.utimes('/outfile', 1000, 1000)],
      ['chown file link', () => sync.chown!('/outfile', 1, 1)],
      ['statfs file link', () => sync.statfs!('/outfile')],
      ['copyFile from file link', () => sync.copyFile!('/outfile', '/stolen')],
      ['realpath file link', () => sync.realpath!('/outfile')],
      ['relative link up', () => sync.readFile('/sub/up')],
      ['.. link', () => sync.readdir('/parent')],
      ['chain', () => sync.readFile('/c1')],
      ['dangling out', () => sync.writeFile('/dangling-out', bytes('x'))],
      ['.. above the root', () => sync.stat('/../outside/d/f')],
    ];
    for (const [what, attempt] of attempts) {
      assert.throws(attempt, (err: Error & { code?: string; path?: string }) => {
        assert.equal(err.code, 'EACCES', `${what}: ${err.message}`);
        assert.ok(!String(err.message).includes(tmp) && !String(err.path).includes(tmp), `${what} reveals a disk path`);
        return true;
      }, what);
    }
    assert.equal(fs.readFileSync(secret, 'utf8'), 'secret');
    assert.deepEqual(fs.readdirSync(path.join(outside, 'd')), ['f']);
    assert.equal(sync.readlink('/outfile'), secret);
    assert.equal(text(sync.readFile('/inside')), 'inside');
  });
});
