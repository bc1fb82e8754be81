// A TCP proxy the test controls, between a server and its PostgreSQL: it passes bytes, drops every connection
// (and refuses new ones), or freezes (accepts, and neither forwards nor answers, as a stopped or partitioned
// database does), then restores.
import { connect, createServer, type Server, type Socket } from 'node:net';

/** What the proxy does with connections right now. */
export type FaultMode = 'pass' | 'drop' | 'freeze';

/** A running {@link startTcpFaultProxy}. */
export interface TcpFaultProxy {
  readonly port: number;
  readonly mode: FaultMode;
  /** `drop` resets every open connection at once; `freeze` pauses them all; `pass` resumes frozen ones. */
  setMode(mode: FaultMode): void;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
}

/** Starts a proxy on 127.0.0.1 (a free port) to `host:port`. */
export async function startTcpFaultProxy(target: { host: string; port: number }): Promise<TcpFaultProxy> {
  let mode: FaultMode = 'pass';
  const pairs = new Set<Pair>();

  const drop = (pair: Pair) => {
    pair.client.destroy();
    pair.upstream?.destroy();
    pairs.delete(pair);
  };
  const open = (pair: Pair) => {
    const upstream = connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on('error', () => drop(pair));
    upstream.on('close', () => drop(pair));
    pair.client.pipe(upstream);
    upstream.pipe(pair.client);
  };

  const server: Server = createServer((client) => {
    const pair: Pair = { client, upstream: undefined };
    client.on('error', () => drop(pair));
    client.on('close', () => drop(pair));
    if (mode === 'drop') {
      client.destroy();
      return;
    }
    pairs.add(pair);
    // Frozen: the connection is accepted, and nothing happens until the proxy passes again.
    if (mode === 'freeze') client.pause();
    else open(pair);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  return {
    port,
    get mode() {
      return mode;
    },
    setMode(next) {
      mode = next;
      for (const pair of [...pairs]) {
        if (next === 'drop') drop(pair);
        else if (next === 'freeze') {
          pair.client.pause();
          pair.upstream?.pause();
        } else if (pair.upstream === undefined) {
          pair.client.resume();
          open(pair);
        } else {
          pair.client.resume();
          pair.upstream.resume();
        }
      }
    },
    async close() {
      for (const pair of [...pairs]) drop(pair);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
