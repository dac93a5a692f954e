// What a cold walk costs over a network store, in requests: cachefs must make no more of them than the
// bare client does for the same work (a stat, then a whole read), and a revalidated hit must confirm the
// identity the load recorded without reading the file again. Real servers; the backend calls are
// counted by a wrapper around the real backend, the HTTP requests by the latency relay.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { CacheFS } from '../../src/index.js';
import type { Backend, BackendStats } from '../../src/backend/backend.js';
import { sftpBackend } from '../../src/backend/remote/sftp.js';
import { webdavBackend } from '../../src/backend/remote/webdav.js';
import { startRelay, type Relay } from './relay.js';
import { missingServers, startApache, startSshd, type DavServer, type SshServer, type TestServer } from './servers.js';

const skip = missingServers();
if (skip) console.log(`# skipping the round-trip tests: ${skip}`);

const FILES = 12;
/** Long enough that a walk of a few files stays inside it on a loaded machine; waited out once. */
const REVALIDATE_MS = 1500;

/** Counts the calls the cache makes of `inner`, keeping its optional faces (readFileWithStats too). */
function counting(inner: Backend): { backend: Backend; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const count = (name: string): void => {
    calls.set(name, (calls.get(name) ?? 0) + 1);
  };
  const withStats = inner.readFileWithStats;
  const backend: Backend = {
    ...inner,
    stat: (p) => { count('stat'); return inner.stat(p); },
    lstat: (p) => { count('lstat'); return inner.lstat(p); },
    readFile: (p) => { count('readFile'); return inner.readFile(p); },
    realpath: (p) => { count('realpath'); return inner.realpath!(p); },
    read: (...a) => { count('read'); return inner.read!(...a); },
    ...(inner.open ? { open: (p: string, f: 'r' | 'r+') => { count('open'); return inner.open!(p, f); } } : {}),
  };
  assert.ok(withStats, `${inner.name} hands the identity with the bytes`);
  Object.defineProperty(backend, 'readFileWithStats', {
    value: (p: string) => { count('readFileWithStats'); return withStats(p); },
    enumerable: false,
  });
  return { backend, calls };
}

interface Kind {
  name: 'sftp' | 'webdav';
  start(): Promise<TestServer>;
  backend(server: TestServer, port: number, root: string): Backend;
  /** Gives what the test wrote on the server's disk to the server's own user. */
  own(server: TestServer, p: string): Promise<void>;
}

const kinds: Kind[] = [
  {
    name: 'sftp',
    start: startSshd,
    backend: (server, port, root) => {
      const s = server as SshServer;
      return sftpBackend({ host: '127.0.0.1', port, username: s.username, privateKey: s.privateKey, root: path.join(s.data, root), timeout: 20_000 });
    },
    own: async () => undefined,
  },
  {
    name: 'webdav',
    start: startApache,
    backend: (server, port, root) => {
      const s = server as DavServer;
      return webdavBackend(`http://127.0.0.1:${port}/dav/${root}`, { username: s.username, password: s.password, timeout: 20_000 });
    },
    own: async (server, p) => {
      const { uid, gid } = await fsp.stat(server.data);
      await fsp.chown(p, uid, gid);
    },
  },
];

for (const kind of kinds) {
  describe(`round trips over ${kind.name}`, { skip }, () => {
    let server: TestServer;
    let relay: Relay;
    const root = 'walk';
    const names = Array.from({ length: FILES }, (_, i) => `/d/f${i}.txt`);
    const old = new Date(Date.now() - 3_600_000);

    before(async () => {
      server = await kind.start();
      relay = await startRelay(server.port, 0);
      const dir = path.join(server.data, root);
      await fsp.mkdir(path.join(dir, 'd'), { recursive: true });
      for (const p of ['', 'd']) await kind.own(server, path.join(dir, p));
      for (const [i, name] of names.entries()) {
        const file = path.join(dir, name);
        await fsp.writeFile(file, `content of file ${i} `.repeat(i + 1));
        await fsp.utimes(file, old, old); // settled: its identity can vouch for its bytes
        await kind.own(server, file);
      }
    });
    after(async () => {
      await relay?.close();
      await server?.stop();
    });

    it('a cold walk makes one stat and one read per file, and a revalidated hit reads nothing again', async () => {
      const { backend, calls } = counting(kind.backend(server, relay.port, root));
      const cfs = new CacheFS(backend, { metadataCache: true, revalidate: REVALIDATE_MS });
      try {
        await cfs.stat('/d'); // the directory resolved once, as a walk's first call does
        calls.clear();
        relay.requests.clear();
        await Promise.all(names.map(async (name, i) => {
          await cfs.stat(name);
          assert.equal((await cfs.readFile(name, 'utf8')), `content of file ${i} `.repeat(i + 1));
        }));
        assert.deepEqual(Object.fromEntries(calls), { lstat: FILES, readFileWithStats: FILES }, 'backend calls of the cold walk');
        if (kind.name === 'webdav') {
          assert.deepEqual(Object.fromEntries(relay.requests), { PROPFIND: FILES, GET: FILES }, 'requests of the cold walk');
        }

        // Past the revalidation interval: each read confirms its identity with one stat and serves the
        // bytes it has. An identity that did not match the server's stat would reload every file.
        await new Promise((r) => setTimeout(r, REVALIDATE_MS + 50));
        calls.clear();
        relay.requests.clear();
        const before = cfs.stats().hits;
        for (const [i, name] of names.entries()) {
          assert.equal((await cfs.readFile(name, 'utf8')), `content of file ${i} `.repeat(i + 1));
        }
        assert.equal(cfs.stats().hits - before, FILES, 'every revalidated read is a hit');
        assert.deepEqual(Object.fromEntries(calls), { stat: FILES }, 'backend calls of the revalidation');
        if (kind.name === 'webdav') assert.deepEqual(Object.fromEntries(relay.requests), { PROPFIND: FILES }, 'requests of the revalidation');

        // A file changed behind the cache, to the same size: the identity differs, the file is read anew.
        const changed = path.join(server.data, root, names[0]!);
        const fresh = 'CONTENT OF FILE 0 ';
        await fsp.writeFile(changed, fresh);
        await fsp.utimes(changed, new Date(old.getTime() + 60_000), new Date(old.getTime() + 60_000));
        await kind.own(server, changed);
        await new Promise((r) => setTimeout(r, REVALIDATE_MS + 50));
        assert.equal(await cfs.readFile(names[0]!, 'utf8'), fresh);
      } finally {
        await cfs.close();
      }
    });

    it('the stats a whole read hands over are those a stat gives for the same version', async () => {
      const b = kind.backend(server, relay.port, root);
      try {
        const got = await b.readFileWithStats!(names[3]!);
        const st = await b.stat(names[3]!);
        const identity = (s: BackendStats | undefined): unknown => s && { size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino, mode: s.mode };
        assert.deepEqual(identity(got.stats), identity(st));
        assert.equal(got.data.byteLength, st.size);
        assert.equal({ ...b }.readFileWithStats, undefined, 'a spread wrapper does not copy it past its own readFile');
      } finally {
        await b.close?.();
      }
    });
  });
}
