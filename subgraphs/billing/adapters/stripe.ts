import Stripe from 'stripe';
import type { StripeSettings } from '../../kit/config.js';
import { DomainError, ErrorCode } from '../../kit/errors.js';

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

/** Raised when billing needs Stripe and it is not configured: payments are unavailable (which setting is missing is logged, not told). */
export class StripeNotConfigured extends DomainError {
  constructor(readonly setting: string) {
    super(ErrorCode.SERVICE_UNAVAILABLE, 'Payments are not available right now');
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

/**
 * Awaits a call to Stripe, naming Stripe's own failures in the platform's vocabulary: not
 * reachable, or failing on its side, is SERVICE_UNAVAILABLE (retryable; the idempotency key
 * makes the retry safe). Refusals (4xx) are left for the caller to judge.
 */
export async function atStripe<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof Stripe.errors.StripeConnectionError || error instanceof Stripe.errors.StripeAPIError) {
      throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'Stripe is unavailable right now; try again shortly');
    }
    throw error;
  }
}
