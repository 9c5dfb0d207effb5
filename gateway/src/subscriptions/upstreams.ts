import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { INTERNAL_IDENTITY_HEADER, type Identity } from '../../../subgraphs/kit/identity.js';
import type { IdentitySigner } from '../runtime/signer.js';

export interface UpstreamLease {
  client: Client;
  release(): void;
}

/**
 * graphql-ws clients to the subgraphs, one per (identity scope, subgraph), shared by every
 * upstream subscription of that scope. A subgraph learns who is calling once per socket, at
 * `connection_init`, so a socket can only be shared by subscriptions with the same identity;
 * sharing it across clients of that identity keeps the number of upstream sockets at the
 * number of distinct callers, not the number of client connections.
 */
export class UpstreamPool {
  private readonly clients = new Map<string, { client: Client; leases: number }>();

  constructor(
    private readonly subgraphUrl: (name: string) => string,
    private readonly signer: IdentitySigner,
    /** How long a subgraph may take to acknowledge a connection (the subgraph timeout); 0: no limit. */
    private readonly ackTimeoutMs = 0,
  ) {}

  acquire(scope: string, identity: Identity, subgraph: string): UpstreamLease {
    const key = `${subgraph}\u0000${scope}`;
    let entry = this.clients.get(key);
    if (!entry) {
      const { signer } = this;
      entry = {
        leases: 0,
        client: createClient({
          url: `${this.subgraphUrl(subgraph).replace(/^http/, 'ws')}/graphql`,
          webSocketImpl: WebSocket,
          // Connect on the first subscription, close when the last one ends: no idle sockets.
          lazy: true,
          lazyCloseTimeout: 0,
          // A subgraph that accepts the socket and never acknowledges fails the subscription instead of hanging it.
          connectionAckWaitTimeout: this.ackTimeoutMs,
          // A lost upstream ends the client's streams with an error; the client decides to resubscribe.
          retryAttempts: 0,
          // Signed at each (re)connect: the subgraph verifies it once, at connection_init.
          connectionParams: async () => ({ [INTERNAL_IDENTITY_HEADER]: await signer.sign(identity) }),
        }),
      };
      this.clients.set(key, entry);
    }
    const leased = entry;
    leased.leases += 1;
    let released = false;
    return {
      client: leased.client,
      release: () => {
        if (released) return;
        released = true;
        leased.leases -= 1;
        if (leased.leases > 0) return;
        if (this.clients.get(key) === leased) this.clients.delete(key);
        void leased.client.dispose();
      },
    };
  }

  async closeAll(): Promise<void> {
    const entries = [...this.clients.values()];
    this.clients.clear();
    await Promise.allSettled(entries.map((entry) => entry.client.dispose()));
  }
}
