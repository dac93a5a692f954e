// Real Redis servers for the tier tests (not a test file itself): each test file starts its own
// redis-server on a free loopback port, so tests never share state with each other or with whatever
// else uses the machine's Redis, and can kill and restart it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, createConnection } from 'node:net';

/** Why tier tests cannot run here, or undefined when they can. Under CI=true they must run. */
export function redisUnavailable(): string | undefined {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (found.error === undefined && found.status === 0) return undefined;
  const reason = 'redis-server is not installed (apt-get install -y redis-server)';
  if (process.env.CI === 'true') throw new Error(`tier tests must run under CI=true, but ${reason}`);
  console.log(`# skipping tier tests: ${reason}`);
  return reason;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Answers true once something on `port` replies +PONG to PING. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** A redis-server of our own: started empty, killed with SIGKILL, restarted empty on the same port. */
export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port, with nothing in it. */
  async restart(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
      stdio: 'ignore',
    });
    this.process = child;
    const deadline = Date.now() + 10_000;
    while (!(await pings(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on port ${this.port}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Kills the server at once, as a crash would (no shutdown, no save). */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.process = undefined;
  }

  stop(): Promise<void> {
    return this.kill();
  }
}

/** Redis's answers held back on one relayed connection until {@link AnswerHold.release}. */
export interface AnswerHold {
  /** Resolves once a connection matched (the command that matched went through to Redis). */
  readonly reached: Promise<void>;
  /** Lets the held answers through and stops holding. */
  release(): void;
}

interface RelayedConnection {
  /** What the client sent so far (the first 64 KiB), for holds that pick a connection by its past. */
  sent: Buffer;
  tail: Buffer;
  held: Buffer[] | undefined;
  toClient(chunk: Buffer): void;
}

interface PendingHold {
  marker: Buffer;
  matched(connection: RelayedConnection): void;
}

const SENT_KEPT = 64 * 1024;
const MARKER_MAX = 256;

/**
 * A TCP relay to a Redis server that the test can cut (every connection through it dropped, new ones
 * refused) and heal: one process loses Redis while the others keep it. It can also hold Redis's answers
 * on one connection (Redis still runs what it receives), pinning a client between "Redis ran it" and
 * "the client heard so" for as long as a test needs.
 */
export class CuttableRelay {
  private readonly sockets = new Set<import('node:net').Socket>();
  private readonly connections = new Set<RelayedConnection>();
  private readonly holds = new Set<PendingHold>();
  private cut = false;
  private constructor(
    private readonly server: import('node:net').Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<CuttableRelay> {
    let relay!: CuttableRelay;
    const server = createServer((client) => {
      if (relay.cut) {
        client.destroy();
        return;
      }
      const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
      const connection: RelayedConnection = {
        sent: Buffer.alloc(0),
        tail: Buffer.alloc(0),
        held: undefined,
        toClient: (chunk) => void client.write(chunk),
      };
      relay.connections.add(connection);
      for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
        relay.sockets.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          relay.sockets.delete(a);
          relay.connections.delete(connection);
          b.destroy();
        });
      }
      client.on('data', (chunk: Buffer) => {
        // The end of what came before too, in case a marker straddles two chunks.
        const window = Buffer.concat([connection.tail, chunk]);
        connection.tail = window.subarray(Math.max(0, window.length - MARKER_MAX));
        if (connection.sent.length < SENT_KEPT) connection.sent = Buffer.concat([connection.sent, chunk]).subarray(0, SENT_KEPT);
        for (const hold of relay.holds) {
          if (connection.held === undefined && window.includes(hold.marker)) hold.matched(connection);
        }
        upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => {
        if (connection.held !== undefined) connection.held.push(chunk);
        else connection.toClient(chunk);
      });
    });
    const port = await new Promise<number>((resolve) => {
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
    relay = new CuttableRelay(server, port);
    return relay;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  cutOff(): void {
    this.cut = true;
    for (const s of this.sockets) s.destroy();
  }

  heal(): void {
    this.cut = false;
  }

  /**
   * Holds Redis's answers on the connection that next sends a command containing `marker` (from that
   * command on), or with `alreadySent`, on an open connection that sent it before (at once).
   */
  holdAnswers(marker: string, alreadySent = false): AnswerHold {
    if (marker.length > MARKER_MAX) throw new Error(`a marker is at most ${MARKER_MAX} bytes`);
    let held: RelayedConnection | undefined;
    let reached!: () => void;
    const hold: PendingHold = {
      marker: Buffer.from(marker),
      matched: (connection) => {
        this.holds.delete(hold);
        held = connection;
        connection.held = [];
        reached();
      },
    };
    const promise = new Promise<void>((resolve) => (reached = resolve));
    const already = alreadySent ? [...this.connections].find((c) => c.held === undefined && c.sent.includes(hold.marker)) : undefined;
    if (already !== undefined) hold.matched(already);
    else this.holds.add(hold);
    return {
      reached: promise,
      release: () => {
        this.holds.delete(hold);
        const connection = held;
        held = undefined;
        if (connection?.held === undefined) return;
        const chunks = connection.held;
        connection.held = undefined;
        for (const chunk of chunks) connection.toClient(chunk);
      },
    };
  }

  close(): Promise<void> {
    this.cutOff();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
