/**
 * Who may use the admin endpoints (`/_cachefs/*`) and, when enabled, PUT and DELETE: without a token,
 * clients on the loopback interface only; with a token, only requests carrying
 * `Authorization: Bearer <token>`, wherever they come from.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Decides whether a request comes from this machine. Injectable so tests can play a remote client. */
export type LocalClientPredicate = (req: IncomingMessage) => boolean;

/** True for a client on 127.0.0.0/8 or ::1 (IPv4-mapped forms included). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') && /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** The default {@link LocalClientPredicate}: the socket's peer address is a loopback address. */
export const isLoopbackClient: LocalClientPredicate = (req) => isLoopbackAddress(req.socket.remoteAddress);

/** The verdict on a request: allowed, or the status and a reason to answer with. */
export type AccessVerdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };

const ALLOWED: AccessVerdict = { ok: true };

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * Builds the access check. With `token`, the bearer token is compared in constant time (over digests,
 * so the token's length does not leak either).
 */
export function createAccessCheck(token: string | undefined, isLocalClient: LocalClientPredicate = isLoopbackClient): (req: IncomingMessage) => AccessVerdict {
  if (token === undefined) {
    return (req) =>
      isLocalClient(req)
        ? ALLOWED
        : { ok: false, status: 403, reason: 'admin endpoints answer loopback clients only (start the server with --admin-token to allow others)' };
  }
  const expected = digest(token);
  return (req) => {
    const header = req.headers.authorization;
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) return { ok: false, status: 401, reason: 'this server wants Authorization: Bearer <admin token>' };
    return timingSafeEqual(digest(match[1]!), expected) ? ALLOWED : { ok: false, status: 401, reason: 'wrong admin token' };
  };
}
