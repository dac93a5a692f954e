/**
 * `sftp://user@host[:port]/path`, `webdav://[user@]host[:port]/path` and `webdavs://…` wherever the CLI
 * takes a directory. Secrets never come from the command line (a URL with a password is refused, and
 * its text is never echoed): they come from the environment or the SSH agent.
 *
 * - SFTP: `CACHEFS_SFTP_KEY` (a private key file), `CACHEFS_SFTP_PASSPHRASE` (its passphrase),
 *   `CACHEFS_SFTP_PASSWORD`, else the agent at `SSH_AUTH_SOCK`.
 * - WebDAV: `CACHEFS_WEBDAV_PASSWORD` for the URL's user.
 */
import { readFileSync } from 'node:fs';
import type { Backend } from '../backend/backend.js';
import { sftpBackend } from '../backend/remote/sftp.js';
import { webdavBackend } from '../backend/remote/webdav.js';

/** A bad remote location; the message never repeats a secret. */
export class RemoteUrlError extends Error {
  readonly code = 'ERR_CACHEFS_USAGE';
}

/** Whether `target` names a network store rather than a local directory. */
export function isRemoteUrl(target: string): boolean {
  return /^(sftp|webdavs?):\/\//i.test(target);
}

/** The backend for a network store's URL (see the module's comment for the forms and the secrets). */
export function remoteBackend(target: string, env: NodeJS.ProcessEnv = process.env): Backend {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new RemoteUrlError('serve: not a valid sftp:// or webdav:// URL');
  }
  if (url.password !== '') {
    throw new RemoteUrlError(`serve: ${url.protocol}// URLs take no password on the command line; set it in the environment (CACHEFS_SFTP_PASSWORD, CACHEFS_WEBDAV_PASSWORD) or use a key`);
  }
  const path = decodeURIComponent(url.pathname) || '/';
  const user = decodeURIComponent(url.username);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url.protocol === 'sftp:') {
    if (user === '') throw new RemoteUrlError('serve: an sftp:// URL names its user: sftp://user@host[:port]/path');
    let privateKey: Buffer | undefined;
    if (env.CACHEFS_SFTP_KEY) {
      try {
        privateKey = readFileSync(env.CACHEFS_SFTP_KEY);
      } catch (err) {
        throw new RemoteUrlError(`serve: cannot read the key file named by CACHEFS_SFTP_KEY: ${(err as { code?: string }).code ?? 'error'}`);
      }
    }
    const password = env.CACHEFS_SFTP_PASSWORD || undefined;
    const agent = env.SSH_AUTH_SOCK || undefined;
    if (!privateKey && !password && !agent) {
      throw new RemoteUrlError('serve: no SSH credentials: set CACHEFS_SFTP_KEY (a key file), CACHEFS_SFTP_PASSWORD, or run an SSH agent');
    }
    return sftpBackend({
      host, port: url.port ? Number(url.port) : 22, username: user, root: path,
      ...(privateKey ? { privateKey } : {}),
      ...(env.CACHEFS_SFTP_PASSPHRASE ? { passphrase: env.CACHEFS_SFTP_PASSPHRASE } : {}),
      ...(password ? { password } : {}),
      ...(agent ? { agent } : {}),
    });
  }
  const scheme = url.protocol === 'webdavs:' ? 'https' : 'http';
  const http = `${scheme}://${url.host}${url.pathname}`;
  return webdavBackend(http, {
    ...(user !== '' ? { username: user } : {}),
    ...(env.CACHEFS_WEBDAV_PASSWORD ? { password: env.CACHEFS_WEBDAV_PASSWORD } : {}),
  });
}
