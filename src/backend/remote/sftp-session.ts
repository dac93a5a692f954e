import type { Attributes, ConnectConfig, FileEntry, OpenMode, SFTPWrapper } from 'ssh2';
import { FsError } from '../../errors.js';
import { asNetworkFailure, NetworkFailure, type Attempt } from './calls.js';
import { SftpStatus } from './sftp-protocol.js';

type Ssh2 = typeof import('ssh2');
let ssh2Loading: Promise<Ssh2> | undefined;

/**
 * ssh2 is an optional peer dependency, loaded at the first SFTP connection: installing cachefs then
 * builds nothing (ssh2's install script compiles a native binding, and npm warns about it), and only
 * programs that use `sftpBackend` need `npm install ssh2`.
 */
function loadSsh2(): Promise<Ssh2> {
  return (ssh2Loading ??= import('ssh2').then(
    (m) => ((m as { default?: Ssh2 }).default ?? m) as Ssh2,
    (err: unknown) => {
      ssh2Loading = undefined;
      throw Object.assign(new Error('cachefs: sftpBackend needs the ssh2 package: run `npm install ssh2`', { cause: err }), {
        code: 'ERR_CACHEFS_MISSING_DEPENDENCY',
      });
    },
  ));
}

/**
 * One SSH connection with its SFTP channel, every request as a promise. A request on a connection that
 * broke rejects with a {@link NetworkFailure}; a status the server sent rejects with an {@link SftpStatus}.
 */
export class SftpSession {
  inflight = 0;
  dead = false;

  constructor(private readonly client: InstanceType<Ssh2['Client']>, private readonly sftp: SFTPWrapper) {
    const die = (): void => { this.dead = true; };
    client.on('close', die);
    client.on('end', die);
    client.on('error', die);
    sftp.on('close', die);
  }

  /** Whether the server offers an SFTP extension (`posix-rename@openssh.com`, `copy-data`, …). */
  has(extension: string): boolean {
    return (this.sftp as unknown as { _extensions: Record<string, string> })._extensions?.[extension] !== undefined;
  }

  destroy(): void {
    this.dead = true;
    this.client.destroy();
  }

  /**
   * Requests issued in one tick leave in one socket write: corked at the first, uncorked on the next
   * tick. ssh2 writes every SFTP packet on its own, and with many calls in flight the system calls,
   * not the network, were the cost.
   */
  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket?.uncork();
  };
  private get socket(): { cork(): void; uncork(): void } | undefined {
    return (this.client as unknown as { _sock?: { cork(): void; uncork(): void } })._sock;
  }

  private call<T>(start: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
    if (this.dead) return Promise.reject(new NetworkFailure('ECONNRESET', 'the connection was closed'));
    if (!this.corked) {
      const socket = this.socket;
      if (socket) {
        socket.cork();
        this.corked = true;
        process.nextTick(this.uncork);
      }
    }
    this.inflight++;
    return new Promise<T>((resolve, reject) => {
      const done = (err: Error | null | undefined, value?: T): void => {
        this.inflight--;
        if (!err) return resolve(value as T);
        const status = (err as { code?: unknown }).code;
        if (typeof status === 'number' && status !== 0 && !this.dead) reject(new SftpStatus(status, err.message));
        else reject(asNetworkFailure(err));
      };
      try {
        start(done);
      } catch (err) {
        // ssh2 throws synchronously when the channel is gone; anything else is a bug to surface as it is.
        this.inflight--;
        reject(this.dead ? asNetworkFailure(err) : err);
      }
    });
  }

  lstat(p: string): Promise<Attributes> { return this.call((cb) => this.sftp.lstat(p, cb)); }
  stat(p: string): Promise<Attributes> { return this.call((cb) => this.sftp.stat(p, cb)); }
  fstat(h: Buffer): Promise<Attributes> { return this.call((cb) => this.sftp.fstat(h, cb)); }
  realpath(p: string): Promise<string> { return this.call((cb) => this.sftp.realpath(p, cb)); }
  readlink(p: string): Promise<string> { return this.call((cb) => this.sftp.readlink(p, cb)); }
  symlink(target: string, p: string): Promise<void> { return this.call((cb) => this.sftp.symlink(target, p, (e) => cb(e))); }
  open(p: string, flags: OpenMode, mode?: number): Promise<Buffer> {
    return this.call((cb) => this.sftp.open(p, flags, mode === undefined ? {} : { mode }, cb));
  }
  close(h: Buffer): Promise<void> { return this.call((cb) => this.sftp.close(h, (e) => cb(e))); }
  read(h: Buffer, into: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.call((cb) => this.sftp.read(h, asBuffer(into), offset, length, position, (e, n) => cb(e, n)));
  }
  write(h: Buffer, data: Uint8Array, offset: number, length: number, position: number): Promise<void> {
    return this.call((cb) => this.sftp.write(h, asBuffer(data), offset, length, position, (e) => cb(e)));
  }
  setstat(p: string, attrs: Partial<Attributes>): Promise<void> { return this.call((cb) => this.sftp.setstat(p, attrs as Attributes, (e) => cb(e))); }
  fsetstat(h: Buffer, attrs: Partial<Attributes>): Promise<void> { return this.call((cb) => this.sftp.fsetstat(h, attrs as Attributes, (e) => cb(e))); }
  lsetstat(p: string, attrs: Partial<Attributes>): Promise<void> {
    return this.call((cb) => this.sftp.ext_openssh_lsetstat(p, attrs as Attributes, (e) => cb(e)));
  }
  mkdir(p: string, mode?: number): Promise<void> { return this.call((cb) => this.sftp.mkdir(p, mode === undefined ? {} : { mode }, (e) => cb(e))); }
  rmdir(p: string): Promise<void> { return this.call((cb) => this.sftp.rmdir(p, (e) => cb(e))); }
  unlink(p: string): Promise<void> { return this.call((cb) => this.sftp.unlink(p, (e) => cb(e))); }
  /** POSIX rename (replacing the target) where the server offers it; plain SFTP rename refuses to replace. */
  rename(from: string, to: string): Promise<void> {
    if (this.has('posix-rename@openssh.com')) return this.call((cb) => this.sftp.ext_openssh_rename(from, to, (e) => cb(e)));
    return this.call((cb) => this.sftp.rename(from, to, (e) => cb(e)));
  }
  hardlink(from: string, to: string): Promise<void> { return this.call((cb) => this.sftp.ext_openssh_hardlink(from, to, (e) => cb(e))); }
  fsync(h: Buffer): Promise<void> { return this.call((cb) => this.sftp.ext_openssh_fsync(h, (e) => cb(e))); }
  statvfs(p: string): Promise<{ bsize: number; frsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number }> {
    return this.call((cb) => this.sftp.ext_openssh_statvfs(p, cb as never));
  }
  copyData(src: Buffer, dst: Buffer): Promise<void> {
    return this.call((cb) => (this.sftp as unknown as {
      ext_copy_data(s: Buffer, so: number, len: number, d: Buffer, dof: number, cb: (e?: Error) => void): void;
    }).ext_copy_data(src, 0, 0, dst, 0, (e) => cb(e)));
  }
  readdir(p: string): Promise<FileEntry[]> { return this.call((cb) => this.sftp.readdir(p, cb)); }
}

/** The same memory as a Buffer (ssh2 insists on Buffers; no copy). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A small pool of SSH connections, each with one SFTP channel. Requests are pipelined on a channel;
 * the pool spreads calls over up to `size` connections (opened as load needs them) so that one large
 * transfer does not queue every small call behind it, and a dropped connection is replaced on next use.
 */
export class SessionPool {
  private readonly slots: (Promise<SftpSession> | undefined)[];
  private readonly ready: (SftpSession | undefined)[];
  private closed = false;

  constructor(private readonly config: ConnectConfig, size: number, private readonly where: string) {
    this.slots = new Array(size).fill(undefined);
    this.ready = new Array(size).fill(undefined);
  }

  /** A live session, connecting one if none is free. Rejects with a NetworkFailure or an EACCES FsError. */
  acquire(attempt: Attempt): Promise<SftpSession> {
    if (this.closed) return Promise.reject(new FsError('EBADF', 'sftp', undefined, undefined, 'the backend was closed'));
    let best = -1;
    let emptySlot = -1;
    for (let i = 0; i < this.slots.length; i++) {
      const session = this.ready[i];
      if (session && session.dead) {
        this.slots[i] = undefined;
        this.ready[i] = undefined;
      }
      if (this.slots[i] === undefined) {
        if (emptySlot < 0) emptySlot = i;
        continue;
      }
      if (this.ready[i] && (best < 0 || this.ready[i]!.inflight < this.ready[best]!.inflight)) best = i;
    }
    if (best >= 0 && (this.ready[best]!.inflight === 0 || emptySlot < 0)) return Promise.resolve(this.ready[best]!);
    if (emptySlot >= 0) return this.open(emptySlot, attempt);
    // Every slot is still connecting: wait for any of them.
    return Promise.any(this.slots as Promise<SftpSession>[]).catch((err: AggregateError) => Promise.reject(err.errors[0]));
  }

  private open(slot: number, attempt: Attempt): Promise<SftpSession> {
    const connecting = connect(this.config, Math.max(1, Math.min(attempt.remaining(), this.config.readyTimeout ?? Infinity)), this.where);
    this.slots[slot] = connecting;
    connecting.then(
      (session) => {
        if (this.closed) session.destroy();
        else if (this.slots[slot] === connecting) this.ready[slot] = session;
      },
      () => {
        if (this.slots[slot] === connecting) this.slots[slot] = undefined;
      },
    );
    return connecting;
  }

  /** Drops a session that hung or broke, so the next call connects afresh. */
  discard(session: SftpSession): void {
    session.destroy();
    const i = this.ready.indexOf(session);
    if (i >= 0) {
      this.ready[i] = undefined;
      this.slots[i] = undefined;
    }
  }

  close(): void {
    this.closed = true;
    for (const session of this.ready) session?.destroy();
    for (const pending of this.slots) pending?.then((s) => s.destroy(), () => undefined);
    this.slots.fill(undefined);
    this.ready.fill(undefined);
  }
}

async function connect(config: ConnectConfig, readyTimeout: number, where: string): Promise<SftpSession> {
  const { Client } = await loadSsh2();
  return new Promise<SftpSession>((resolve, reject) => {
    const client = new Client();
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      client.on('error', () => undefined); // a destroyed client still reports the lost connection
      client.destroy();
      const level = (err as { level?: unknown } | null)?.level;
      if (level === 'client-authentication') {
        // The message names the server and the user, never the key, passphrase or password.
        reject(new FsError('EACCES', 'connect', undefined, undefined, `permission denied by ${where}: authentication failed`));
      } else if (level === 'client-timeout') {
        reject(new NetworkFailure('ETIMEDOUT', `no SSH handshake within ${readyTimeout} ms`));
      } else if ((err as { code?: unknown } | null)?.code === undefined && err instanceof Error && /passphrase|private key|parse/i.test(err.message)) {
        reject(new FsError('EINVAL', 'connect', undefined, undefined, `the SSH key for ${where} could not be used: ${err.message.replace(/[^ -~]/g, '')}`));
      } else {
        reject(asNetworkFailure(err));
      }
    };
    client.once('error', fail);
    client.once('close', () => fail(new NetworkFailure('ECONNRESET', 'the connection closed during the handshake')));
    client.once('ready', () => {
      client.sftp((err, sftp) => {
        if (err) return fail(err);
        settled = true;
        client.removeListener('error', fail);
        client.on('error', () => undefined); // later errors end the session (SftpSession marks it dead)
        resolve(new SftpSession(client, sftp));
      });
    });
    try {
      client.connect({ ...config, readyTimeout });
    } catch (err) {
      fail(err);
    }
  });
}
