import net, { type Socket } from 'node:net';

/**
 * A TCP proxy for fault tests: put it between the platform and PostgreSQL/Redis/a subgraph, then cut or
 * black-hole the link on demand.
 *
 * Choice for blackhole -> pass: connections that were black-holed are destroyed when pass() is called. Their
 * bytes were swallowed, so the protocol streams on both sides are out of sync and could never be trusted again;
 * dropping them makes clients reconnect, and every NEW connection is proxied normally.
 */
export interface FaultProxy {
  /** host:port the clients should connect to */
  readonly host: string;
  readonly port: number;
  /** Same URL with host/port replaced by the proxy's, e.g. postgresql://user@127.0.0.1:<proxyport>/db. */
  urlFor(targetUrl: string): string;
  /** Forward bytes both ways (the default). Destroys connections that were black-holed (see above). */
  pass(): void;
  /** Destroy every open connection (RST where possible) and refuse new ones (accept and immediately reset). */
  cut(): void;
  /** Keep accepting and keep existing connections open, but forward nothing either way (bytes are swallowed). */
  blackhole(): void;
  readonly mode: 'pass' | 'cut' | 'blackhole';
  /** Number of currently open client connections. */
  readonly connections: number;
  close(): Promise<void>;
}

type Mode = FaultProxy['mode'];
/** One client connection; `upstream` is absent for connections accepted while black-holed (nothing reaches the target). */
interface Link {
  client: Socket;
  upstream?: Socket;
  held: boolean;
}

const ignore = (): void => {};

/** RST rather than FIN, so peers see an abrupt failure as on a dropped link; a still-connecting socket is just dropped. */
function reset(socket: Socket | undefined): void {
  if (!socket || socket.destroyed) return;
  if (socket.connecting) socket.destroy();
  else socket.resetAndDestroy();
}

/** Stop forwarding and read-and-discard everything, so peers' writes succeed but nothing ever answers. */
function hold(link: Link): void {
  link.held = true;
  for (const [from, to] of [[link.client, link.upstream], [link.upstream, link.client]] as const) {
    if (!from) continue;
    if (to) from.unpipe(to);
    from.on('data', ignore);
    from.resume();
  }
}

export async function startFaultProxy(
  target: { host: string; port: number },
  options: { host?: string; port?: number } = {},
): Promise<FaultProxy> {
  let mode: Mode = 'pass';
  const links = new Set<Link>();

  const server = net.createServer((client) => {
    client.on('error', ignore); // ECONNRESET etc. are expected in fault tests; 'close' does the cleanup
    if (mode === 'cut') {
      reset(client);
      return;
    }
    const link: Link = { client, held: false };
    links.add(link);
    client.on('close', () => {
      links.delete(link);
      link.upstream?.destroy();
    });
    if (mode === 'blackhole') {
      hold(link);
      return;
    }
    const upstream = net.connect({ host: target.host, port: target.port });
    link.upstream = upstream;
    upstream.on('error', ignore);
    // A target that closes or fails ends the client too (pipe already forwards a clean FIN), unless partitioned.
    upstream.on('close', (hadError) => {
      if (hadError && !link.held) reset(client);
    });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.on('error', ignore); // after listen, a server error must not crash the test process

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('fault proxy: expected a TCP address');
  const { address: host, port } = address;
  let closing: Promise<void> | undefined;

  return {
    host,
    port,
    urlFor(targetUrl: string): string {
      const url = new URL(targetUrl);
      url.hostname = host.includes(':') ? `[${host}]` : host;
      url.port = String(port);
      return url.toString();
    },
    pass(): void {
      mode = 'pass';
      for (const link of links) {
        if (!link.held) continue;
        link.client.destroy();
        link.upstream?.destroy();
      }
    },
    cut(): void {
      mode = 'cut';
      for (const link of links) {
        reset(link.client);
        reset(link.upstream);
      }
    },
    blackhole(): void {
      mode = 'blackhole';
      for (const link of links) if (!link.held) hold(link);
    },
    get mode(): Mode {
      return mode;
    },
    get connections(): number {
      return links.size;
    },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        mode = 'cut'; // anything accepted before the listener stops is reset at once
        server.close(() => resolve());
        for (const link of links) {
          link.client.destroy();
          link.upstream?.destroy();
        }
      });
      return closing;
    },
  };
}
