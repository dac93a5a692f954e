// The cache process of the crash test in faults.test.ts: writes in write-back mode with a journal while
// the server is down, prints "acked" once every write resolved, and waits to be killed.
import { CacheFS } from '../../src/index.js';
import { sftpBackend } from '../../src/backend/remote/sftp.js';
import { webdavBackend } from '../../src/backend/remote/webdav.js';
import * as path from 'node:path';

const config = JSON.parse(process.env.FAULT_CONFIG ?? '{}') as {
  kind: 'sftp' | 'webdav'; port: number; root: string; journal: string; payload: Record<string, string>;
  server: { data: string; username: string; privateKey?: string; password?: string };
};
// The default timeout: this process must load its backend and connect while the machine may be loaded.
const backend = config.kind === 'sftp'
  ? sftpBackend({ host: '127.0.0.1', port: config.port, username: config.server.username, privateKey: config.server.privateKey, root: path.join(config.server.data, config.root), timeout: 10_000 })
  : webdavBackend(`http://127.0.0.1:${config.port}/dav/${config.root}`, { username: config.server.username, password: config.server.password, timeout: 10_000 });
const cfs = new CacheFS(backend, { writeMode: 'write-back', journal: config.journal, flushInterval: 0 });
await cfs.ready();
for (const [p, data] of Object.entries(config.payload)) await cfs.writeFile(p, Buffer.from(data, 'base64'));
process.stdout.write('acked\n');
setInterval(() => undefined, 1000); // stay alive until killed
