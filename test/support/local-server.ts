import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A vendor fake's HTTP server on a free loopback port: started, its URL, closed with its kept-alive connections. */
export class LocalServer {
  private server: Server | undefined;

  constructor(private readonly name: string) {}

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error(`${this.name} is not started`);
    return `http://127.0.0.1:${address.port}`;
  }

  async start(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<void> {
    this.server = createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    // Kept-alive client sockets would hold the server (and the test process) open.
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** A request's body as text. */
export function bodyOf(req: IncomingMessage): Promise<string> {
  return new Promise<string>((resolve) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => resolve(text));
  });
}

/** A vendor fake: its server started on a free port, its URL, closed; subclasses answer requests. */
export abstract class LocalFake {
  private readonly http: LocalServer;

  constructor(name: string) {
    this.http = new LocalServer(name);
  }

  get url(): string {
    return this.http.url;
  }

  async start(): Promise<this> {
    await this.http.start((req, res) => this.handle(req, res));
    return this;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}
