/**
 * Shared pieces of the CLI tests: temporary directories, a real server on an ephemeral port, HTTP
 * requests (through node:http, and raw over a socket for targets that clients would normalize), and the
 * `cachefs` executable as a child process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import type { CacheFS } from '../../src/fs/cachefs.js';
import { createCacheServer, type CacheServer, type CacheServerOptions } from '../../src/server/serve.js';

/** The repository root (this file runs from dist/test/cli/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = join(ROOT, 'bin', 'cachefs.js');

export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'cachefs-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface Running {
  server: CacheServer;
  port: number;
  base: string;
}

/** Starts `createCacheServer(cfs, options)` on 127.0.0.1, port 0. */
export async function startServer(cfs: CacheFS, options: CacheServerOptions = {}): Promise<Running> {
  const server = createCacheServer(cfs, options);
  const { port } = await server.listen(0, '127.0.0.1');
  return { server, port, base: `http://127.0.0.1:${port}` };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One request through node:http (no keep-alive), the whole body collected. */
export function fetchPath(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Sends `GET <target> HTTP/1.1` byte for byte over a socket (so `..`, `%2e` and backslashes reach the
 * server as written) and returns the status line's code and the raw answer.
 */
export function rawGet(port: number, target: string): Promise<{ status: number; text: string }> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!match) reject(new Error(`not an HTTP answer: ${text.slice(0, 80)}`));
      else resolvePromise({ status: Number(match[1]), text });
    });
    socket.on('error', reject);
  });
}

export interface CliChild {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or 128 + signal number style name) when the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Children still running: a test that failed half-way must not leave a server behind. */
const live = new Set<ChildProcessWithoutNullStreams>();
after(() => {
  for (const child of live) child.kill('SIGKILL');
});

/** Runs `node bin/cachefs.js ...args` with its output collected. */
export function runCli(args: string[], env: Record<string, string> = {}): CliChild {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'pipe' });
  live.add(child);
  child.on('exit', () => live.delete(child));
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) => {
    child.on('exit', (code, signal) => resolvePromise({ code, signal }));
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/**
 * How long a CLI child may take to say what we wait for before the test fails as hung. Only a hang guard:
 * `serve --workers 3` starts four Node processes, and at CI's load (10-20 on 2 cores) that took 20-80 s.
 */
export const CLI_HANG_GUARD_MS = 180_000;

/** Waits until `predicate(text)` holds for the child's stdout or stderr ({@link CLI_HANG_GUARD_MS} fails the test). */
export function waitForOutput(cli: CliChild, predicate: (stdout: string, stderr: string) => boolean, what: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const check = (): void => {
      if (predicate(cli.stdout(), cli.stderr())) {
        cleanup();
        resolvePromise();
      }
    };
    const onExit = (): void => {
      cleanup();
      reject(new Error(`the cachefs process exited before ${what}; stdout: ${cli.stdout()} stderr: ${cli.stderr()}`));
    };
    const guard = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${what}; stdout: ${cli.stdout()} stderr: ${cli.stderr()}`));
    }, CLI_HANG_GUARD_MS);
    const cleanup = (): void => {
      clearTimeout(guard);
      cli.child.stdout.off('data', check);
      cli.child.stderr.off('data', check);
      cli.child.off('exit', onExit);
    };
    cli.child.stdout.on('data', check);
    cli.child.stderr.on('data', check);
    cli.child.on('exit', onExit);
    check();
  });
}

/** Starts `cachefs serve DIR --port 0 ...flags` and resolves with the URL it prints first. */
export async function serveCli(dir: string, flags: string[] = [], env: Record<string, string> = {}): Promise<CliChild & { base: string; port: number }> {
  const cli = runCli(['serve', dir, '--port', '0', ...flags], env);
  await waitForOutput(cli, (out) => /cachefs serve: http:\/\/[^\s]+\//.test(out), 'the server URL');
  const base = /cachefs serve: (http:\/\/[^\s]+)\//.exec(cli.stdout())![1]!;
  return { ...cli, base, port: Number(new URL(base).port) };
}
