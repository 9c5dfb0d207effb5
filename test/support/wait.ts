/** Polls `read` until `ok` holds (the relay and consumers work on their own schedule), failing after `timeoutMs`. */
export async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What `subscribed` needs of the platform's pubsub. */
interface CountsSubscribers {
  subscribers(topic: string): Promise<number>;
}

/**
 * Opens a subscription (a client subscribing through the gateway) and resolves once one more
 * subscriber listens on `topic` in the subgraphs: an event published from then on reaches it.
 * What a fixed sleep after subscribing only hoped for.
 */
export async function subscribed<T>(pubsub: CountsSubscribers, topic: string, open: () => T): Promise<T> {
  const before = await pubsub.subscribers(topic);
  const subscription = open();
  await until(() => pubsub.subscribers(topic), (n) => n > before, `a subscriber on ${topic}`, 10_000);
  return subscription;
}
