// Real servers for the network backends' tests and benchmarks: OpenSSH's sshd and Apache httpd with
// mod_dav, each started on a free loopback port from a config, keys and a data directory written into a
// temporary folder. Nothing here is a fake: the backends talk to the same programs a user runs.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const SSHD = '/usr/sbin/sshd';
export const APACHE = '/usr/sbin/apache2';
const APACHE_MODULES = '/usr/lib/apache2/modules';

/** Why the servers cannot run here, or undefined when they can. Under CI=true, missing servers fail. */
export function missingServers(): string | undefined {
  const missing: string[] = [];
  if (!existsSync(SSHD)) missing.push(`${SSHD} (Debian package openssh-server)`);
  if (!existsSync(APACHE)) missing.push(`${APACHE} (Debian package apache2)`);
  if (process.getuid?.() !== 0) missing.push('root (sshd accepts a key login for the running user only as root here)');
  if (missing.length === 0) return undefined;
  const reason = `not installed or not possible here: ${missing.join(', ')}; .ci/run installs them`;
  if (process.env.CI) throw new Error(`remote tests need ${reason}`);
  return reason;
}

/** A free TCP port on 127.0.0.1 (taken and released; the server binds it right after). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once something accepts connections on the port; rejects when `child` exits first. */
async function listening(port: number, child: ChildProcess, log: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}): ${await log()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`server did not listen on ${port}: ${await log()}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

/** Servers still running, killed when this process exits however it exits (a failed test, a Ctrl-C). */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
});

function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** A running server whose process can be killed and started again on the same port and data. */
export interface TestServer {
  readonly port: number;
  /** The directory the server serves (its root for the backend). */
  readonly data: string;
  /** The folder holding config, keys, logs and `data`. */
  readonly dir: string;
  /** Kills the server process at once (SIGKILL): connections drop mid-request. */
  kill(): Promise<void>;
  /** Starts it again with the same port, config and data. */
  start(): Promise<void>;
  /** Kills it and removes its folder. */
  stop(): Promise<void>;
}

export interface SshServer extends TestServer {
  readonly username: string;
  /** The client's private key (OpenSSH format), authorized by the server. */
  readonly privateKey: string;
  readonly keyFile: string;
  /** A key the server does not accept. */
  readonly otherKey: string;
}

function keygen(file: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
}

/** Starts OpenSSH's sshd serving SFTP (internal-sftp) to the running user with a key of its own. */
export async function startSshd(): Promise<SshServer> {
  const dir = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'cachefs-sshd-')));
  const data = path.join(dir, 'data');
  await fsp.mkdir(data);
  keygen(path.join(dir, 'host_key'));
  keygen(path.join(dir, 'client_key'));
  keygen(path.join(dir, 'other_key'));
  await fsp.copyFile(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
  await fsp.mkdir('/run/sshd', { recursive: true }); // sshd's privilege separation directory
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${path.join(dir, 'host_key')}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'MaxStartups 100',
    'MaxSessions 100',
    'Subsystem sftp internal-sftp',
    'LogLevel ERROR',
  ].join('\n');
  await fsp.writeFile(path.join(dir, 'sshd_config'), config + '\n');
  let child: ChildProcess | undefined;
  let stderr = '';
  const start = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) return; // already running
    stderr = '';
    child = track(spawn(SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] }));
    child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    await listening(port, child, async () => stderr);
  };
  await start();
  return {
    port, data, dir,
    username: os.userInfo().username,
    privateKey: await fsp.readFile(path.join(dir, 'client_key'), 'utf8'),
    keyFile: path.join(dir, 'client_key'),
    otherKey: await fsp.readFile(path.join(dir, 'other_key'), 'utf8'),
    // sshd forks a process per connection; killing the listener alone would leave them serving.
    kill: () => killTree(child),
    start,
    stop: async () => {
      await killTree(child);
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}

/** The pids of every descendant of `pid`, read from /proc (sshd's per-connection processes call setsid). */
async function descendantsOf(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const name of await fsp.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await fsp.readFile(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = parents.get(ppid) ?? [];
      list.push(Number(name));
      parents.set(ppid, list);
    } catch { /* exited meanwhile */ }
  }
  const found: number[] = [];
  const visit = (p: number): void => {
    for (const child of parents.get(p) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

/** SIGKILLs `child` and every process it forked: a crash of the whole server, connections and all. */
async function killTree(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  // Frozen first, so that it cannot fork a new worker between the listing and the kill.
  try { process.kill(child.pid!, 'SIGSTOP'); } catch { /* gone */ }
  const others = await descendantsOf(child.pid!);
  for (const pid of others) {
    try { process.kill(pid, 'SIGSTOP'); } catch { /* gone */ }
  }
  await stopChild(child);
  for (const pid of others) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}

export interface DavServer extends TestServer {
  readonly username: string;
  readonly password: string;
  /** `http://127.0.0.1:port/dav` */
  readonly url: string;
}

/** Starts Apache httpd with mod_dav_fs serving `data` at /dav behind Basic authentication. */
export async function startApache(): Promise<DavServer> {
  const dir = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'cachefs-httpd-')));
  const data = path.join(dir, 'data');
  await fsp.mkdir(data);
  await fsp.chmod(dir, 0o755);
  const username = 'cachefs';
  const password = `pw-${createHash('sha1').update(String(Math.random())).digest('hex').slice(0, 12)}`;
  const sha = createHash('sha1').update(password).digest('base64');
  await fsp.writeFile(path.join(dir, 'htpasswd'), `${username}:{SHA}${sha}\n`);
  const port = await freePort();
  const modules = ['mpm_event', 'authn_core', 'authn_file', 'authz_core', 'authz_user', 'auth_basic', 'dav', 'dav_fs', 'alias'];
  const config = [
    `ServerRoot ${dir}`,
    `DefaultRuntimeDir ${dir}`,
    `Listen 127.0.0.1:${port}`,
    'ServerName 127.0.0.1',
    `PidFile ${path.join(dir, 'httpd.pid')}`,
    `ErrorLog ${path.join(dir, 'error.log')}`,
    'LogLevel warn',
    ...modules.map((m) => `LoadModule ${m}_module ${APACHE_MODULES}/mod_${m}.so`),
    'User www-data',
    'Group www-data',
    'KeepAlive On',
    'MaxKeepAliveRequests 0',
    'KeepAliveTimeout 30',
    'StartServers 1',
    'ServerLimit 2',
    'ThreadsPerChild 32',
    'MaxRequestWorkers 64',
    `DavLockDB ${path.join(dir, 'davlock')}`,
    `DocumentRoot ${data}`,
    `Alias /dav ${data}`,
    `<Directory ${data}>`,
    '  Dav On',
    '  AuthType Basic',
    '  AuthName cachefs',
    `  AuthUserFile ${path.join(dir, 'htpasswd')}`,
    '  Require valid-user',
    '  Options None',
    '  AllowOverride None',
    '</Directory>',
  ].join('\n');
  await fsp.writeFile(path.join(dir, 'httpd.conf'), config + '\n');
  // Apache serves (and writes) as www-data: the data and the lock database must be theirs.
  const owner = spawnSync('id', ['-u', 'www-data'], { encoding: 'utf8' });
  const uid = Number(owner.stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'www-data'], { encoding: 'utf8' }).stdout.trim());
  await fsp.chown(data, uid, gid);
  await fsp.chown(dir, uid, gid);
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) return; // already running
    await fsp.rm(path.join(dir, 'httpd.pid'), { force: true });
    child = track(spawn(APACHE, ['-f', path.join(dir, 'httpd.conf'), '-DFOREGROUND'], { stdio: 'ignore' }));
    await listening(port, child, async () => fsp.readFile(path.join(dir, 'error.log'), 'utf8').catch(() => ''));
  };
  await start();
  const killGroup = (): Promise<void> => killTree(child);
  return {
    port, data, dir, username, password,
    url: `http://127.0.0.1:${port}/dav`,
    kill: killGroup,
    start,
    stop: async () => {
      await killGroup();
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}
