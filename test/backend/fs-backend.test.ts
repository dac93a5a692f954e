import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Volume } from 'memfs';
import { fsBackend } from '../../src/backend/fs-backend.js';
import { fsBackend as exported } from '../../src/index.js';
import { backendContract, bytes, rejectsWith, text } from './contract.js';
import { asyncFace, facesContract, nodeFsFace, runScript } from './faces.js';

let tmp: string;
let counter = 0;
before(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cachefs-fsb-')));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const freshDir = (): string => {
  const dir = path.join(tmp, `root-${++counter}`);
  fs.mkdirSync(dir);
  return dir;
};

describe('fsBackend over node:fs', () => {
  backendContract(async () => fsBackend(fs, freshDir()));
  facesContract(async () => fsBackend(fs, freshDir()), { linux: true });

  it('is exported from the package entry point', () => {
    assert.equal(exported, fsBackend);
  });

  it('maps virtual paths below its root and names them in errors, never the disk path', async () => {
    const root = freshDir();
    const b = fsBackend(fs, root);
    await b.mkdir('/d');
    await b.writeFile('/d/f', bytes('x'));
    assert.equal(fs.readFileSync(path.join(root, 'd', 'f'), 'utf8'), 'x');
    const err = await rejectsWith(b.readFile('/d/missing'), 'ENOENT');
    assert.equal(err.path, '/d/missing');
    assert.ok(!err.message.includes(root), err.message);
    const renamed = await rejectsWith(b.rename('/d/f', '/nope/g'), 'ENOENT');
    assert.equal(renamed.path, '/d/f');
    assert.equal(renamed.dest, '/nope/g');
    assert.equal(await b.realpath!('/d/f'), '/d/f');
    assert.throws(() => b.sync!.readFile('/d/missing'), { code: 'ENOENT', path: '/d/missing' });
  });
});

describe('fsBackend over a memfs Volume', () => {
  // The Linux contract is node:fs's; memfs answers as memfs does, which the backend passes on (below).
  facesContract(async () => fsBackend(new Volume() as never), { linux: false });

  it('answers what the Volume itself answers, call for call', async () => {
    const viaBackend = fsBackend(new Volume() as never);
    const direct = nodeFsFace('/', new Volume() as never);
    const expected = await runScript(direct);
    assert.ok(expected.some((line) => line.endsWith(': ok')), 'the script ran');
    assert.deepEqual(await runScript(asyncFace(viaBackend)), expected);
  });

  it('reads, writes and lists a Volume, below a root', async () => {
    const vol = Volume.fromJSON({ '/srv/site/index.html': '<h1>hi</h1>', '/srv/other': 'x' });
    const b = fsBackend(vol as never, '/srv/site');
    assert.equal(text(await b.readFile('/index.html')), '<h1>hi</h1>');
    await b.writeFile('/new.txt', bytes('new'));
    assert.equal(String(vol.readFileSync('/srv/site/new.txt')), 'new');
    assert.deepEqual((await b.readdir('/')).map((e) => e.name).sort(), ['index.html', 'new.txt']);
    await rejectsWith(b.readFile('/other'), 'ENOENT');
    assert.equal(text(b.sync!.readFile('/new.txt')), 'new');
  });
});
