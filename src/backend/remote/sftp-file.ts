import type { BackendFile } from '../backend.js';
import type { SftpConnection } from './sftp-connection.js';
import { readFully, writeAll } from './sftp-io.js';
import { toStats } from './sftp-protocol.js';
import type { SftpSession } from './sftp-session.js';

/**
 * A file held open on one session (the open face of the backend). If that session drops, the file is
 * opened again by its server path on a fresh one and the (idempotent, positional) request is sent again.
 */
export function openFile(conn: SftpConnection, path: string, real: string, flags: 'r' | 'r+', session: SftpSession, handle: Buffer): BackendFile {
  let current = { session, handle };
  const use = <T>(syscall: string, idempotent: boolean, body: (s: SftpSession, h: Buffer) => Promise<T>): Promise<T> =>
    conn.run(syscall, path, undefined, idempotent, async (s) => {
      if (current.session.dead) current = { session: s, handle: await s.open(real, flags) };
      return body(current.session, current.handle);
    });
  /** A change through the handle: what the backend remembers of the server is stale around it. */
  const changing = async (change: () => Promise<void>): Promise<void> => {
    conn.changed();
    try {
      await change();
    } finally {
      conn.changed();
    }
  };
  return {
    read: (into, offset, length, position) => use('read', true, (s, h) => readFully(s, h, into, offset, length, position)),
    write: async (data, offset, length, position) => {
      await use('write', true, (s, h) => changing(() => writeAll(s, h, data.subarray(offset, offset + length), position)));
      return length;
    },
    stat: () => use('fstat', true, async (s, h) => toStats(await s.fstat(h))),
    truncate: (length) => use('ftruncate', true, (s, h) => changing(() => s.fsetstat(h, { size: length }))),
    sync: () => use('fsync', true, async (s, h) => {
      if (s.has('fsync@openssh.com')) await s.fsync(h);
    }),
    close: async () => {
      if (!current.session.dead) await current.session.close(current.handle).catch(() => undefined);
    },
  };
}
