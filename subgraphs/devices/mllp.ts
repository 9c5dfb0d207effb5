import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { DevicesSettings } from '../kit/config.js';
import type { SubgraphDeps } from '../kit/context.js';
import { buildAck, CAREGRAPH_RECEIVER } from './hl7/ack.js';
import type { Hl7Issue } from './hl7/parse.js';
import { receiveHl7 } from './results.js';

/**
 * The MLLP listener labs connect to: frames are `VT message FS CR` over TCP (or TLS). A frame
 * may arrive in pieces across reads, and several in one read. A connection's messages are
 * stored as they arrive and their ACKs written in order, each only after `receiveHl7` has
 * stored its message (or refused it). What cannot be a message is answered AR with ERR and the connection stays open:
 * a frame cut short by the next start block, a frame over the size limit (discarded up to the
 * next start block), a storage failure (the sender sends it again). A connection idle past the
 * timeout is closed. Bytes between frames are ignored.
 */
const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;

export const DEFAULT_MAX_FRAME_BYTES = 1_048_576;
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

export interface MllpListener {
  host: string;
  port: number;
  close(): Promise<void>;
}

export const frame = (text: string): Buffer => Buffer.concat([Buffer.from([VT]), Buffer.from(text, 'utf8'), Buffer.from([FS, CR])]);

export async function startMllpListener(deps: SubgraphDeps, settings: NonNullable<DevicesSettings['mllp']>): Promise<MllpListener> {
  const maxFrame = settings.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const idle = settings.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const sockets = new Set<Socket>();
  const pending = new Set<Promise<void>>();
  const log = deps.log.child({ transport: 'mllp' });
  const refuse = (issue: Hl7Issue) => buildAck(null, 'AR', [issue], CAREGRAPH_RECEIVER);

  const serve = (socket: Socket) => {
    sockets.add(socket);
    socket.setTimeout(idle);
    socket.on('timeout', () => socket.end());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
    let buffer: Buffer = Buffer.alloc(0);
    let inFrame = false;
    let discarding = false;
    // Messages of one connection are stored as they arrive (pipelined: group commit takes several
    // at once), and their ACKs are written in arrival order, each once its own message is stored.
    let queue: Promise<void> = Promise.resolve();
    const reply = (work: () => Promise<string[]>) => {
      const acks = work();
      acks.catch(() => undefined);
      const step = queue.then(async () => {
        const written = await acks;
        if (!socket.destroyed) for (const ack of written) socket.write(frame(ack));
      });
      queue = step.catch(() => undefined);
      pending.add(queue);
      void queue.finally(() => pending.delete(queue));
    };
    const handle = (bytes: Buffer) => reply(async () => {
      try {
        const received = await receiveHl7(deps, { organizationId: settings.organizationId, transport: 'MLLP', text: bytes.toString('utf8') });
        return received.map((message) => message.ack);
      } catch (error) {
        log.error({ err: error }, 'an MLLP message could not be stored');
        return [refuse({ severity: 'error', code: '207', message: 'the message could not be stored; send it again' })];
      }
    });

    socket.on('data', (chunk: Buffer) => {
      buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
      for (;;) {
        if (!inFrame) {
          const start = buffer.indexOf(VT);
          if (start === -1) {
            buffer = Buffer.alloc(0);
            return;
          }
          buffer = buffer.subarray(start + 1);
          inFrame = true;
          discarding = false;
        }
        const end = buffer.indexOf(FS);
        const restart = buffer.indexOf(VT);
        if (restart !== -1 && (end === -1 || restart < end)) {
          // A new start block before this frame ended: the frame was cut short.
          if (!discarding) reply(async () => [refuse({ severity: 'error', code: '100', message: 'truncated frame: a start block came before the end block' })]);
          buffer = buffer.subarray(restart + 1);
          discarding = false;
          continue;
        }
        if (end === -1) {
          if (buffer.length > maxFrame && !discarding) {
            reply(async () => [refuse({ severity: 'error', code: '100', message: `frame over ${maxFrame} bytes; discarded` })]);
            discarding = true;
          }
          if (discarding) buffer = Buffer.alloc(0);
          return;
        }
        // FS must be followed by CR; wait for the next byte when it has not arrived yet.
        if (end + 1 >= buffer.length) return;
        const body = buffer.subarray(0, end);
        buffer = buffer.subarray(buffer[end + 1] === CR ? end + 2 : end + 1);
        inFrame = false;
        if (!discarding) handle(Buffer.from(body));
        discarding = false;
      }
    });
  };

  const server: Server = settings.tls ? createTlsServer({ key: settings.tls.key, cert: settings.tls.cert }, serve) : createServer(serve);
  const host = settings.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  log.info({ host, port, tls: Boolean(settings.tls) }, 'MLLP listener ready');
  return {
    host,
    port,
    async close() {
      // Nothing more is read; what was read finishes (stored, then acknowledged); then connections close.
      for (const socket of sockets) socket.pause();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        void Promise.allSettled([...pending]).then(() => {
          for (const socket of sockets) socket.destroy();
        });
      });
    },
  };
}
