// webdavBackend against a real Apache httpd with mod_dav_fs started for this file: the Backend contract
// (with what WebDAV cannot do refused as API.md 1.3 §5 says), ranged reads, ETags, credentials.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { inspect } from 'node:util';
import type { Backend } from '../../src/backend/backend.js';
import { webdavBackend, type WebdavBackendOptions } from '../../src/backend/remote/webdav.js';
import { backendContract, bytes, rejectsWith, text } from '../backend/contract.js';
import { missingServers, startApache, type DavServer } from './servers.js';

const skip = missingServers();
if (skip) console.log(`# skipping the WebDAV tests: ${skip}`);

describe('webdavBackend over Apache mod_dav', { skip }, () => {
  let server: DavServer;
  const opened: Backend[] = [];
  let counter = 0;

  before(async () => {
    server = await startApache();
  });
  after(async () => {
    await Promise.all(opened.map((b) => b.close?.()));
    await server?.stop();
  });

  /** A fresh directory on the server and a backend rooted there. */
  const fresh = async (extra: Partial<WebdavBackendOptions> = {}, url?: string): Promise<{ b: Backend; dir: string }> => {
    const name = `t${++counter}`;
    const dir = path.join(server.data, name);
    await fsp.mkdir(dir);
    await fsp.chown(dir, (await fsp.stat(server.data)).uid, (await fsp.stat(server.data)).gid);
    const b = webdavBackend(url ?? `${server.url}/${name}`, { username: server.username, password: server.password, timeout: 5000, ...extra });
    opened.push(b);
    return { b, dir };
  };

  describe('contract', () => {
    backendContract(async () => (await fresh()).b, { noLinks: true, noModes: true });
  });

  it('states a revalidation default of 5000 ms', async () => {
    assert.equal((await fresh()).b.defaultRevalidate, 5000);
  });

  it('refuses .. above the root with EACCES', async () => {
    const { b } = await fresh();
    await rejectsWith(b.readFile('/../t1/x'), 'EACCES');
    await rejectsWith(b.stat('/a/../../x'), 'EACCES');
  });

  it('the ETag changes the identity when the content changes within the same second', async () => {
    const { b } = await fresh();
    await b.writeFile('/f', bytes('aaaa'));
    const first = await b.stat('/f');
    await b.writeFile('/f', bytes('bbbb'));
    const second = await b.stat('/f');
    assert.equal(first.size, second.size);
    assert.notEqual(first.ino, second.ino, 'same size, same second: only the ETag tells them apart');
  });

  it('ranged reads return exactly the bytes asked for', async () => {
    const { b } = await fresh();
    const data = new Uint8Array(1_000_003);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 9)) & 0xff;
    await b.writeFile('/big', data);
    assert.ok(b.read);
    const into = new Uint8Array(70_000);
    assert.equal(await b.read('/big', into, 0, 70_000, 900_000), 70_000);
    assert.equal(Buffer.compare(Buffer.from(into), Buffer.from(data.subarray(900_000, 970_000))), 0);
    assert.equal(await b.read('/big', into, 0, 70_000, 990_000), 10_003);
    assert.equal(Buffer.compare(Buffer.from(into.subarray(0, 10_003)), Buffer.from(data.subarray(990_000))), 0);
    assert.equal(await b.read('/big', into, 0, 10, 1_000_003), 0);
    assert.equal(Buffer.compare(Buffer.from(await b.readFile('/big')), Buffer.from(data)), 0);
  });

  it('answers as Node does on the same tree', async () => {
    const { b, dir } = await fresh();
    await b.mkdir('/d');
    await b.writeFile('/d/f', bytes('x'));
    const cases: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
      ['rmdir non-empty', () => b.rmdir('/d'), () => fsp.rmdir(path.join(dir, 'd'))],
      ['unlink dir', () => b.unlink('/d'), () => fsp.unlink(path.join(dir, 'd'))],
      ['mkdir existing', () => b.mkdir('/d/f'), () => fsp.mkdir(path.join(dir, 'd', 'f'))],
      ['readdir file', () => b.readdir('/d/f'), () => fsp.readdir(path.join(dir, 'd', 'f'))],
      ['stat through file', () => b.stat('/d/f/x'), () => fsp.stat(path.join(dir, 'd', 'f', 'x'))],
      ['readFile dir', () => b.readFile('/d'), () => fsp.readFile(path.join(dir, 'd'))],
      ['write through file', () => b.writeFile('/d/f/x', bytes('y')), () => fsp.writeFile(path.join(dir, 'd', 'f', 'x'), 'y')],
      ['rename dir onto file', () => b.rename('/d', '/d/f'), () => fsp.rename(path.join(dir, 'd'), path.join(dir, 'd', 'f'))],
      ['rename file onto its own directory', () => b.rename('/d/f', '/d'), () => fsp.rename(path.join(dir, 'd', 'f'), path.join(dir, 'd'))],
      ['rename into a missing directory below itself', () => b.rename('/d', '/d/n/x'), () => fsp.rename(path.join(dir, 'd'), path.join(dir, 'd', 'n', 'x'))],
    ];
    for (const [what, ours, node] of cases) {
      const expected = await node().then(() => 'ok', (e: { code: string }) => e.code);
      const actual = await ours().then(() => 'ok', (e: { code: string }) => e.code);
      assert.equal(actual, expected, what);
    }
    assert.equal(text(await b.readFile('/d/f')), 'x');
  });

  it('wrong credentials fail at the first call with EACCES naming the host, never the secret', async () => {
    const { b } = await fresh({ password: 'hunter2-secret' });
    const err = await rejectsWith(b.stat('/'), 'EACCES');
    const shown = `${err.message} ${inspect(err, { depth: 5 })}`;
    assert.match(shown, new RegExp(`127\\.0\\.0\\.1:${server.port}`));
    assert.ok(!shown.includes('hunter2-secret'));
  });

  it('an unreachable server fails with ECONNREFUSED within the timeout, naming the host', async () => {
    const b = webdavBackend('http://127.0.0.1:1/dav', { username: 'u', password: 'secret-pw', timeout: 1500 });
    opened.push(b);
    const err = await rejectsWith(b.readFile('/x'), 'ECONNREFUSED');
    const shown = `${err.message} ${String((err as { cause?: unknown }).cause)}`;
    assert.match(shown, /127\.0\.0\.1:1/);
    assert.ok(!inspect(err, { depth: 5 }).includes('secret-pw'));
  });
});

// Every `cachefs serve` worker and every program importing cachefs loaded the WebDAV client with the
// package, though most never reach a WebDAV server: about a third of a worker's start-up CPU.
it("the 'webdav' package is loaded by a WebDAV backend's first call, not by importing cachefs", async () => {
  const { execFile } = await import('node:child_process');
  const { pathToFileURL, fileURLToPath } = await import('node:url');
  const index = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/index.js')).href;
  // A resolve hook that refuses 'webdav': the import must still work, the first call must meet the refusal.
  const hook = `export async function resolve(s, c, next) { if (s === 'webdav') throw new Error('webdav loaded here'); return next(s, c); }`;
  const script = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    const { webdavBackend } = await import(${JSON.stringify(index)});
    console.log('imported');
    const backend = webdavBackend('http://127.0.0.1:9/dav', { timeout: 5000 });
    console.log('created');
    await backend.stat('/x').then(() => console.log('answered'), (err) => console.log('first call: ' + err.message));`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
  assert.deepEqual(out.trim().split('\n'), ['imported', 'created', 'first call: webdav loaded here']);
});
