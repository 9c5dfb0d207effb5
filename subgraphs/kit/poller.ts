import type { Logger } from './logger.js';

/** Polls a loop until stopped; `wake()` runs it at once (after a commit, say). */
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly step: () => Promise<number>,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  wake(): void {
    if (this.stopped || this.running) return;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delay: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.drain().finally(() => {
        this.running = undefined;
        if (!this.stopped) this.schedule(this.intervalMs);
      });
    }, delay);
  }

  private async drain(): Promise<void> {
    try {
      // Keep going while there is a backlog; pause once a pass finds nothing.
      while (!this.stopped && (await this.step()) > 0);
    } catch (error) {
      this.log.error({ err: error, poller: this.name }, 'poller step failed');
    }
  }
}

/** How long to wait before attempt `attempt + 1` of background work: `baseMs`, doubling each time, at most `capMs`. */
export function doublingDelayMs(baseMs: number, attempt: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
}
