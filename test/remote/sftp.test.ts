// sftpBackend against a real OpenSSH sshd started for this file: the Backend contract, confinement on
// the server, the open-file face, and credentials that must never leak into an error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { inspect } from 'node:util';
import type { Backend } from '../../src/backend/backend.js';
import { sftpBackend, type SftpBackendOptions } from '../../src/backend/remote/sftp.js';
import { backendContract, bytes, rejectsWith, text } from '../backend/contract.js';
import { missingServers, startSshd, type SshServer } from './servers.js';

const skip = missingServers();
if (skip) console.log(`# skipping the SFTP tests: ${skip}`);

describe('sftpBackend over OpenSSH', { skip }, () => {
  let server: SshServer;
  const opened: Backend[] = [];
  let counter = 0;

  before(async () => {
    server = await startSshd();
  });
  after(async () => {
    await Promise.all(opened.map((b) => b.close?.()));
    await server?.stop();
  });

  /** A fresh directory on the server and a backend rooted there. */
  const fresh = async (extra: Partial<SftpBackendOptions> = {}): Promise<{ b: Backend; dir: string }> => {
    const dir = path.join(server.data, `t${++counter}`);
    await fsp.mkdir(dir);
    const b = sftpBackend({
      host: '127.0.0.1', port: server.port, username: server.username, privateKey: server.privateKey,
      root: dir, connections: 2, timeout: 5000, ...extra,
    });
    opened.push(b);
    return { b, dir };
  };

  describe('contract', () => {
    backendContract(async () => (await fresh()).b, { timeResolutionMs: 1000 });
  });

  it('states a revalidation default of 5000 ms', async () => {
    assert.equal((await fresh()).b.defaultRevalidate, 5000);
  });

  it('refuses .. and server-side links that lead out of the root with EACCES', async () => {
    const { b, dir } = await fresh();
    await fsp.writeFile(path.join(server.data, 'secret'), 'outside');
    await fsp.symlink(path.join(server.data, 'secret'), path.join(dir, 'out-abs'));
    await fsp.symlink('../secret', path.join(dir, 'out-rel'));
    await fsp.symlink(server.data, path.join(dir, 'out-dir'));
    await fsp.mkdir(path.join(dir, 'in'));
    await fsp.writeFile(path.join(dir, 'in', 'f'), 'inside');
    await fsp.symlink('in/f', path.join(dir, 'ok-rel'));
    for (const p of ['/out-abs', '/out-rel']) {
      await rejectsWith(b.readFile(p), 'EACCES');
      await rejectsWith(b.stat(p), 'EACCES');
      await rejectsWith(b.writeFile(p, bytes('x')), 'EACCES');
    }
    await rejectsWith(b.readdir('/out-dir'), 'EACCES');
    await rejectsWith(b.readFile('/out-dir/secret'), 'EACCES');
    await rejectsWith(b.readFile('/../secret'), 'EACCES');
    await rejectsWith(b.stat('/in/../../secret'), 'EACCES');
    assert.equal(text(await b.readFile('/ok-rel')), 'inside');
    assert.equal(await fsp.readFile(path.join(server.data, 'secret'), 'utf8'), 'outside');
  });

  it('answers as Node does on the same tree (codes of the calls OpenSSH reports vaguely)', async () => {
    const { b, dir } = await fresh();
    await fsp.mkdir(path.join(dir, 'd'));
    await fsp.writeFile(path.join(dir, 'd', 'f'), 'x');
    const cases: [string, () => Promise<unknown>, () => Promise<unknown>][] = [
      ['rmdir non-empty', () => b.rmdir('/d'), () => fsp.rmdir(path.join(dir, 'd'))],
      ['unlink dir', () => b.unlink('/d'), () => fsp.unlink(path.join(dir, 'd'))],
      ['mkdir existing', () => b.mkdir('/d/f'), () => fsp.mkdir(path.join(dir, 'd', 'f'))],
      ['readdir file', () => b.readdir('/d/f'), () => fsp.readdir(path.join(dir, 'd', 'f'))],
      ['stat through file', () => b.stat('/d/f/x'), () => fsp.stat(path.join(dir, 'd', 'f', 'x'))],
      ['readFile dir', () => b.readFile('/d'), () => fsp.readFile(path.join(dir, 'd'))],
      ['rename dir onto file', () => b.rename('/d', '/d/f'), () => fsp.rename(path.join(dir, 'd'), path.join(dir, 'd', 'f'))],
      ['rename file onto its own directory', () => b.rename('/d/f', '/d'), () => fsp.rename(path.join(dir, 'd', 'f'), path.join(dir, 'd'))],
      ['rename into a missing directory below itself', () => b.rename('/d', '/d/n/x'), () => fsp.rename(path.join(dir, 'd'), path.join(dir, 'd', 'n', 'x'))],
    ];
    for (const [what, ours, node] of cases) {
      const expected = await node().then(() => 'ok', (e: { code: string }) => e.code);
      const actual = await ours().then(() => 'ok', (e: { code: string }) => e.code);
      assert.equal(actual, expected, what);
    }
  });

  it('keeps one remote handle open for positional reads and writes (the open face)', async () => {
    const { b } = await fresh();
    await b.writeFile('/f', bytes('0123456789'));
    assert.ok(b.open);
    const file = await b.open('/f', 'r+');
    const into = new Uint8Array(4);
    assert.equal(await file.read(into, 0, 4, 3), 4);
    assert.equal(text(into), '3456');
    assert.ok(file.write);
    assert.equal(await file.write(bytes('ab'), 0, 2, 8), 2);
    assert.equal((await file.stat()).size, 10);
    await b.rename('/f', '/g');
    assert.equal(await file.read(into, 0, 4, 7), 3); // the same open file, whatever happened to its path
    assert.equal(text(into.subarray(0, 3)), '7ab');
    await file.close();
    assert.equal(text(await b.readFile('/g')), '01234567ab');
    await rejectsWith(b.open('/nope', 'r'), 'ENOENT');
  });

  it('reads and writes files larger than one SFTP packet, byte for byte', async () => {
    const { b } = await fresh();
    const data = new Uint8Array(3 * 1024 * 1024 + 17);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 11)) & 0xff;
    await b.writeFile('/big', data);
    assert.deepEqual(Buffer.compare(Buffer.from(await b.readFile('/big')), Buffer.from(data)), 0);
    const slice = new Uint8Array(600_000);
    assert.ok(b.read);
    assert.equal(await b.read('/big', slice, 0, slice.length, 1_000_003), slice.length);
    assert.equal(Buffer.compare(Buffer.from(slice), Buffer.from(data.subarray(1_000_003, 1_600_003))), 0);
  });

  it('wrong credentials fail at the first call with EACCES naming the host, never the secret', async () => {
    const { b } = await fresh({ privateKey: server.otherKey });
    const err = await rejectsWith(b.stat('/'), 'EACCES');
    const shown = `${err.message} ${inspect(err, { depth: 5 })}`;
    assert.match(shown, new RegExp(`127\\.0\\.0\\.1:${server.port}`));
    const secretLine = server.otherKey.split('\n')[1]!;
    assert.ok(!shown.includes(secretLine), 'the key appears in the error');
    const withPassword = (await fresh({ privateKey: undefined, password: 'hunter2-secret' })).b;
    const err2 = await rejectsWith(withPassword.stat('/'), 'EACCES');
    assert.ok(!inspect(err2, { depth: 5 }).includes('hunter2-secret'));
  });

  it('an unreachable server fails with ECONNREFUSED within the timeout, naming the host', async () => {
    const { b } = await fresh({ port: 1, timeout: 1500 });
    const err = await rejectsWith(b.readFile('/x'), 'ECONNREFUSED');
    assert.match(`${err.message} ${String((err as { cause?: unknown }).cause)}`, /127\.0\.0\.1:1/);
  });
});
