import { RemoteCalls, type Attempt } from './calls.js';
import { explainStatus } from './sftp-errors.js';
import { ReadHandles } from './sftp-io.js';
import { SftpPaths } from './sftp-paths.js';
import { SftpStatus } from './sftp-protocol.js';
import type { SessionPool, SftpSession } from './sftp-session.js';

/**
 * What every call of the SFTP backend goes through: a session from the pool, the call's deadline and
 * retries ({@link RemoteCalls}), the root resolved at the first call, the server's statuses mapped to
 * Node's codes, and, around a change, the answers and handles that the change may have made stale.
 */
export class SftpConnection {
  readonly readHandles = new ReadHandles();

  constructor(readonly calls: RemoteCalls, readonly pool: SessionPool, readonly paths: SftpPaths) {}

  /** Runs one call: a session from the pool, the call's deadline, retries of network failures. */
  run<T>(syscall: string, path: string, dest: string | undefined, idempotent: boolean,
    body: (s: SftpSession, sent: () => void) => Promise<T>): Promise<T> {
    return this.calls.run(syscall, path, dest, idempotent, async (attempt: Attempt, sent) => {
      const session = await this.pool.acquire(attempt);
      attempt.onAbort(() => this.pool.discard(session)); // a call that hung: its connection is suspect
      try {
        await this.paths.resolveRoot(session);
        return await body(session, sent);
      } catch (err) {
        if (err instanceof SftpStatus) throw await explainStatus(this.paths, session, err, syscall, path, dest);
        throw err;
      }
    });
  }

  /** {@link run} for a call that changes the server: the attribute answers are dropped around it. */
  runChange<T>(syscall: string, path: string, dest: string | undefined, idempotent: boolean,
    body: (s: SftpSession, sent: () => void) => Promise<T>): Promise<T> {
    return this.run(syscall, path, dest, idempotent, async (s, sent) => {
      this.changed();
      try {
        return await body(s, sent);
      } finally {
        this.changed();
      }
    });
  }

  /** Called before and after every change made through this backend. */
  changed(): void {
    this.paths.changed();
    this.readHandles.drop();
  }

  /** {@link changed}, and the directory resolutions dropped too (a call that may remove or replace one). */
  forget(): void {
    this.paths.forgetDirectories();
    this.changed();
  }

  close(): void {
    this.readHandles.close();
    this.pool.close();
  }
}
