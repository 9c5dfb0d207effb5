import Stripe from 'stripe';
import type { StripeSettings } from '../../kit/config.js';

/**
 * Billing's one door to Stripe. The SDK is built from the settings the process was given
 * (tests: a local fake) or from the environment: STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and
 * STRIPE_API_HOST / STRIPE_API_PORT / STRIPE_API_PROTOCOL for a non-default API base.
 */

export function stripeSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): StripeSettings {
  const port = env['STRIPE_API_PORT'];
  const protocol = env['STRIPE_API_PROTOCOL'];
  if (protocol && protocol !== 'http' && protocol !== 'https') throw new Error('STRIPE_API_PROTOCOL must be http or https');
  if (port && !/^\d+$/.test(port)) throw new Error('STRIPE_API_PORT must be a port number');
  return {
    secretKey: env['STRIPE_SECRET_KEY'] || undefined,
    webhookSecret: env['STRIPE_WEBHOOK_SECRET'] || undefined,
    host: env['STRIPE_API_HOST'] || undefined,
    port: port ? Number(port) : undefined,
    protocol: protocol ? (protocol as 'http' | 'https') : undefined,
  };
}

/** Raised when billing needs Stripe and it is not configured; masked to clients, logged. */
export class StripeNotConfigured extends Error {
  constructor(what: string) {
    super(`Stripe is not configured: set ${what}`);
  }
}

/** Stripe's default tolerance: a signed payload older than five minutes is refused (replays). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const clients = new Map<string, Stripe>();

/** One SDK client per configuration (the SDK keeps connections alive; do not build one per request). */
export function stripeClient(settings: StripeSettings): Stripe {
  if (!settings.secretKey) throw new StripeNotConfigured('STRIPE_SECRET_KEY');
  const cacheKey = JSON.stringify([settings.secretKey, settings.host, settings.port, settings.protocol]);
  let client = clients.get(cacheKey);
  if (!client) {
    client = new Stripe(settings.secretKey, {
      host: settings.host,
      port: settings.port,
      protocol: settings.protocol,
      // Retried with the same idempotency key, so a retry never creates a second object.
      maxNetworkRetries: 2,
      timeout: 20_000,
      telemetry: false,
    });
    clients.set(cacheKey, client);
  }
  return client;
}

/**
 * Verifies a webhook's signature over the raw body (HMAC with the endpoint secret, timestamp
 * within the tolerance) and parses it. Throws Stripe's signature error when it does not verify.
 */
export function verifyWebhook(settings: StripeSettings, rawBody: Buffer, signature: string): Stripe.Event {
  if (!settings.webhookSecret) throw new StripeNotConfigured('STRIPE_WEBHOOK_SECRET');
  // Verification needs no API key; a placeholder client keeps this usable on a verify-only process.
  const verifier = settings.secretKey ? stripeClient(settings) : new Stripe('sk_verify_only');
  return verifier.webhooks.constructEvent(rawBody, signature, settings.webhookSecret, WEBHOOK_TOLERANCE_SECONDS);
}

export const isSignatureError = (error: unknown): boolean => error instanceof Stripe.errors.StripeSignatureVerificationError;

/** Stripe's answer to a request it understood and refused (4xx), as opposed to a network failure. */
export function isStripeRefusal(error: unknown): error is InstanceType<typeof Stripe.errors.StripeError> {
  return error instanceof Stripe.errors.StripeError && typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500;
}
