// rename(2)'s answer over the network stores, compared with Node on a real directory for every pair of
// paths drawn from a small tree: files, directories, missing names, names below a file and below a
// missing directory. Neither SFTP nor WebDAV says which check failed, so the backends work the code out
// from the tree; the kernel's order matters (both parents are walked before the source's own name is
// looked up: renaming a missing `/b` to `/d/e/f` with `/d/e` a file is ENOTDIR, not ENOENT).
// After each rename the server's directory must hold what Node's does.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Backend } from '../../src/backend/backend.js';
import { sftpBackend } from '../../src/backend/remote/sftp.js';
import { webdavBackend } from '../../src/backend/remote/webdav.js';
import { missingServers, startApache, startSshd, type DavServer, type SshServer } from './servers.js';

/** The tree each pair starts from: `/d/e` is a file, so `/d/e/f` lies below a file. */
const TREE: Record<string, string | null> = { '/a': 'alpha', '/d': null, '/d/a': 'delta-a', '/d/e': 'e', '/x': null };
const NAMES = ['/a', '/b', '/d', '/d/a', '/d/e', '/d/e/f', '/x', '/q/f', '/b/x', '/a/f'];
const PAIRS = NAMES.flatMap((from) => NAMES.map((to) => [from, to] as const));

/** Writes TREE below `root` once per pair, as `<root>/p<i>/…`. */
async function seed(root: string): Promise<void> {
  for (const i of PAIRS.keys()) {
    for (const [p, content] of Object.entries(TREE)) {
      const at = path.join(root, `p${i}`, p);
      await fsp.mkdir(content === null ? at : path.dirname(at), { recursive: true });
      if (content !== null) await fsp.writeFile(at, content);
    }
  }
}

/** Every entry below `dir`: `<dir>` for directories, the text of files. */
async function tree(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of (await fsp.readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = `${prefix}/${entry.name}`;
    if (entry.isDirectory()) Object.assign(out, { [p]: '<dir>' }, await tree(path.join(dir, entry.name), p));
    else out[p] = await fsp.readFile(path.join(dir, entry.name), 'utf8');
  }
  return out;
}

const code = (p: Promise<unknown>): Promise<string> => p.then(() => 'ok', (e: { code?: string }) => e.code ?? String(e));

const skip = missingServers();
if (skip) console.log(`# skipping rename's codes over SFTP and WebDAV: ${skip}`);

describe("rename's error codes over the network stores are Node's", { skip }, () => {
  let sshd: SshServer;
  let httpd: DavServer;
  const references: string[] = [];
  const opened: Backend[] = [];

  before(async () => {
    [sshd, httpd] = await Promise.all([startSshd(), startApache()]);
  });
  after(async () => {
    await Promise.all(opened.map((b) => b.close?.()));
    await Promise.all([sshd?.stop(), httpd?.stop()]);
    await Promise.all(references.map((r) => fsp.rm(r, { recursive: true, force: true })));
  });

  const stores: [string, () => Promise<{ backend: Backend; root: string }>][] = [
    ['sftp', async () => {
      const root = path.join(sshd.data, 'rename');
      await seed(root);
      const backend = sftpBackend({ host: '127.0.0.1', port: sshd.port, username: sshd.username, privateKey: sshd.privateKey, root, connections: 2 });
      return { backend, root };
    }],
    ['webdav', async () => {
      const root = path.join(httpd.data, 'rename');
      await seed(root);
      // Apache writes as its own user: the seeded tree must be its.
      const { uid, gid } = await fsp.stat(httpd.data);
      const own = async (p: string): Promise<void> => {
        await fsp.chown(p, uid, gid);
        if ((await fsp.stat(p)).isDirectory()) for (const name of await fsp.readdir(p)) await own(path.join(p, name));
      };
      await own(root);
      return { backend: webdavBackend(`${httpd.url}/rename`, { username: httpd.username, password: httpd.password }), root };
    }],
  ];

  for (const [kind, open] of stores) {
    it(`over ${kind}, for ${PAIRS.length} pairs of paths`, async () => {
      const { backend, root } = await open();
      opened.push(backend);
      const reference = await fsp.mkdtemp(path.join(os.tmpdir(), 'cachefs-rename-'));
      references.push(reference);
      await seed(reference);
      const wrong: string[] = [];
      for (const [i, [from, to]] of PAIRS.entries()) {
        const expected = await code(fsp.rename(path.join(reference, `p${i}`, from), path.join(reference, `p${i}`, to)));
        const actual = await code(backend.rename(`/p${i}${from}`, `/p${i}${to}`));
        if (actual !== expected) wrong.push(`rename('${from}', '${to}'): ${actual}, Node ${expected}`);
        assert.deepEqual(await tree(path.join(root, `p${i}`)), await tree(path.join(reference, `p${i}`)), `the tree after rename('${from}', '${to}')`);
      }
      assert.deepEqual(wrong, []);
    });
  }
});
