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
