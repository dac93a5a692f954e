// A latency relay: a TCP proxy on loopback that holds every chunk for half the round trip in each
// direction, in order, so that a server on this machine answers as one across a network would.
import * as net from 'node:net';

export interface Relay {
  readonly port: number;
  /** The round trip the relay adds, in ms (half each way). */
  roundTripMs: number;
  /** Drops every connection through the relay (a network cut); new connections are accepted. */
  cut(): void;
  /**
   * HTTP requests seen going to the server, by method (`PROPFIND`, `GET`, …): what a client asked, for
   * tests that count round trips. Meaningless for SSH (encrypted). Only a chunk's start is looked at (a
   * client without pipelining writes each request anew), so file content in a body is not counted.
   */
  readonly requests: Map<string, number>;
  /** Resolves once `bytes` more bytes have gone from the server to its clients. */
  afterDownstream(bytes: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a relay on a free loopback port forwarding to `127.0.0.1:targetPort`. */
export async function startRelay(targetPort: number, roundTripMs: number): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  let downstream = 0;
  const waiters: { at: number; resolve(): void }[] = [];
  const countDown = (n: number): void => {
    downstream += n;
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (downstream >= waiters[i]!.at) waiters.splice(i, 1)[0]!.resolve();
    }
  };
  const relay: Relay = {
    afterDownstream: (bytes) => new Promise<void>((resolve) => waiters.push({ at: downstream + bytes, resolve })),
    port: 0,
    requests: new Map(),
    roundTripMs,
    cut() {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    close: () => new Promise<void>((resolve) => {
      relay.cut();
      server.close(() => resolve());
    }),
  };
  /** Counts the request a chunk begins with, if it begins with one (the client waits for each answer). */
  const countRequest = (chunk: Buffer): void => {
    const method = /^([A-Z]{3,9}) \S+ HTTP\/1\.[01]\r\n/.exec(chunk.subarray(0, 256).toString('latin1'))?.[1];
    if (method !== undefined) relay.requests.set(method, (relay.requests.get(method) ?? 0) + 1);
  };
  const pipe = (from: net.Socket, to: net.Socket, down: boolean): void => {
    // Chunks leave in arrival order, each no earlier than arrival + one way.
    let lastDue = 0;
    from.on('data', (chunk: Buffer) => {
      if (down) countDown(chunk.length);
      else countRequest(chunk);
      const oneWay = relay.roundTripMs / 2;
      if (oneWay <= 0) {
        to.write(chunk);
        return;
      }
      const due = Math.max(performance.now() + oneWay, lastDue);
      lastDue = due;
      setTimeout(() => { if (!to.destroyed) to.write(chunk); }, Math.max(0, due - performance.now()));
    });
    from.on('end', () => setTimeout(() => to.end(), relay.roundTripMs / 2));
    from.on('error', () => to.destroy());
    from.on('close', () => setTimeout(() => to.destroy(), relay.roundTripMs / 2));
  };
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect(targetPort, '127.0.0.1');
    upstream.setNoDelay(true);
    sockets.add(client);
    sockets.add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    pipe(client, upstream, false);
    pipe(upstream, client, true);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (relay as { port: number }).port = (server.address() as net.AddressInfo).port;
  return relay;
}

/** A TCP server that accepts connections and never answers (a hung server, or a black hole). */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
