// The model test over the network stores: random sequences of file-system operations run against
// cachefs over a real sshd (sftpBackend) and a real Apache mod_dav (webdavBackend), in every write mode,
// and against the reference: Node's own fs.promises on a real temporary directory, no cache. Any
// difference in bytes, sizes, types or error codes is a bug.
//
// The operations, the reference and the comparison are test/fs-model.ts's, shared with test/model.test.ts.
// What that test adds is left out here: its mock timers (network clients run on real timers), and the
// comparison of modes and mtimes (these stores keep no modes (WebDAV) and whole-second times (SFTP)).
// MODEL_REMOTE_RUNS sets the runs per store and write mode; a failure prints FC_SEED/FC_PATH to replay it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chown, mkdir, rm, stat as statPath } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS, sftpBackend, webdavBackend } from '../../src/index.js';
import type { Backend } from '../../src/backend/backend.js';
import type { CacheFSOptions, WriteMode } from '../../src/options.js';
import { assertProperty } from '../seeds.js';
import {
  apply, applyCacheOnly, asFs, assertLimits, COMMON_OPS, COMMON_OPTIONS, rooted, SEED, seededDir, snapshot, writeTree, type Op,
} from '../fs-model.js';
import { missingServers, startApache, startSshd, type DavServer, type SshServer } from './servers.js';

/** Runs per network store and write mode (light: every operation is a round trip to a real server). */
const REMOTE_RUNS = Number(process.env.MODEL_REMOTE_RUNS ?? (process.env.CI ? 6 : 4));

const opArb: fc.Arbitrary<Op> = fc.oneof(...COMMON_OPS);

const optionsArb: fc.Arbitrary<CacheFSOptions> = fc.record({
  ...COMMON_OPTIONS,
  // In write-back mode, 1 and 5 ms make background flushes land at random moments between operations.
  flushInterval: fc.constantFrom(0, 1, 5),
});

/** A backend to run the model over, and a second one on the same store to check it after close. */
interface Store {
  backend: Backend;
  /** A backend over the same files (the first is closed with its cache). */
  reopen(): Backend;
  remove(): Promise<void>;
}

type Kind = 'sftp' | 'webdav';
let sshd: SshServer | undefined;
let httpd: DavServer | undefined;
let storeCounter = 0;

async function makeStore(kind: Kind, seed: Record<string, string>): Promise<Store> {
  const server = kind === 'sftp' ? sshd! : httpd!;
  const name = `model-${++storeCounter}`;
  const root = join(server.data, name);
  await mkdir(root);
  await writeTree(root, seed);
  if (kind === 'webdav') {
    // Apache writes as its own user: the seeded tree must be its.
    const { uid, gid } = await statPath(server.data);
    for (const p of ['', ...Object.keys(seed), '/d']) await chown(join(root, p), uid, gid);
  }
  const make = (): Backend => kind === 'sftp'
    ? sftpBackend({ host: '127.0.0.1', port: sshd!.port, username: sshd!.username, privateKey: sshd!.privateKey, root, connections: 2 })
    : webdavBackend(`${httpd!.url}/${name}`, { username: httpd!.username, password: httpd!.password });
  return { backend: make(), reopen: make, remove: () => rm(root, { recursive: true, force: true }) };
}

async function runModel(options: CacheFSOptions, kind: Kind, ops: Op[]): Promise<void> {
  const refRoot = await seededDir(SEED);
  const store = await makeStore(kind, SEED);
  const cfs = new CacheFS(store.backend, options);
  const reference = rooted(refRoot);
  const cached = asFs(cfs);
  try {
    for (const [i, op] of ops.entries()) {
      // No modes: WebDAV keeps none, and SFTP's are the server's umask's, not this process's.
      const expected = await apply(reference, op, false);
      if (expected === undefined) {
        await applyCacheOnly(cfs, op);
        continue;
      }
      const actual = await apply(cached, op, false);
      assert.deepEqual(actual, expected, `step ${i}: ${JSON.stringify(op)} with ${JSON.stringify(options)}`);
      assertLimits(cfs, options);
    }
    // Everything read back through the cache, then (after close flushed) the backend itself.
    assert.deepEqual(await snapshot(cached), await snapshot(reference), 'whole tree through the cache');
    await cfs.close();
    const verifier = new CacheFS(store.reopen(), { maxBytes: 0 });
    assert.deepEqual(await snapshot(asFs(verifier)), await snapshot(reference), 'whole backend after close');
    await verifier.close();
  } finally {
    await cfs.close().catch(() => undefined);
    await rm(refRoot, { recursive: true, force: true });
    await store.remove();
  }
}

// The network stores, on real servers: fewer, shorter runs (each operation is a round trip), but
// every write mode over each of them. MODEL_REMOTE_RUNS sets the runs per store and mode.
const remoteSkip = missingServers();
if (remoteSkip) console.log(`# skipping the model over SFTP and WebDAV: ${remoteSkip}`);
describe('the model over the network stores', { skip: remoteSkip }, () => {
  before(async () => {
    [sshd, httpd] = await Promise.all([startSshd(), startApache()]);
  });
  after(async () => {
    await Promise.all([sshd?.stop(), httpd?.stop()]);
  });
  for (const kind of ['sftp', 'webdav'] as const) {
    for (const writeMode of ['write-through', 'write-back', 'write-around'] as WriteMode[]) {
      test(`cachefs over ${kind} in ${writeMode} behaves like the bare backend over ${REMOTE_RUNS} sequences`, async () => {
        await assertProperty(
          fc.asyncProperty(optionsArb.map((o) => ({ ...o, writeMode })), fc.array(opArb, { minLength: 1, maxLength: 25 }), (options, ops) =>
            runModel(options, kind, ops)),
          { numRuns: REMOTE_RUNS, minRunsPerSeed: 1 },
        );
      });
    }
  }
});
