import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK, type CryptoKey } from 'jose';
import { parseJson } from './config.js';

/**
 * The platform's token keys and the internal identity secret.
 *
 * Production passes them in the environment (AUTH_SIGNING_KEY, AUTH_PUBLIC_KEYS,
 * INTERNAL_IDENTITY_SECRET). For local use they are generated once into DATA_DIR, so the
 * gateway, separately started subgraphs and `npm run token` agree without any setup.
 */
export interface PlatformKeys {
  /** Private JWK (ES256) used to sign platform tokens; absent on a verify-only gateway. */
  signingKey?: JWK & { kid: string };
  /** Public JWKs accepted for platform tokens (current and rotated-out keys); published at /.well-known/jwks.json. */
  publicKeys: Array<JWK & { kid: string }>;
  internalIdentitySecret: string;
}

export const PLATFORM_ALG = 'ES256';

function publicPart(jwk: JWK & { kid: string }): JWK & { kid: string } {
  const { d: _private, ...rest } = jwk;
  return { ...rest, alg: PLATFORM_ALG, use: 'sig' };
}

export async function generatePlatformKeys(): Promise<Required<PlatformKeys>> {
  const { privateKey } = await generateKeyPair(PLATFORM_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const signingKey = { ...jwk, kid: `cg-${randomBytes(6).toString('hex')}`, alg: PLATFORM_ALG };
  return { signingKey, publicKeys: [publicPart(signingKey)], internalIdentitySecret: randomBytes(32).toString('base64url') };
}

export interface LoadKeysOptions {
  /** Generate local keys when DATA_DIR has none (servers); false for tools that must use the server's (`npm run token`). */
  create?: boolean;
}

export async function loadPlatformKeys(env: NodeJS.ProcessEnv, dataDir: string, options: LoadKeysOptions = {}): Promise<PlatformKeys> {
  const fromEnvSigning = env['AUTH_SIGNING_KEY'] ? parseJson<JWK & { kid: string }>('AUTH_SIGNING_KEY', env['AUTH_SIGNING_KEY']) : undefined;
  const fromEnvPublic = env['AUTH_PUBLIC_KEYS'] ? parseJson<{ keys: Array<JWK & { kid: string }> }>('AUTH_PUBLIC_KEYS', env['AUTH_PUBLIC_KEYS']).keys : undefined;
  const fromEnvSecret = env['INTERNAL_IDENTITY_SECRET'];
  if (fromEnvSecret && (fromEnvSigning || fromEnvPublic)) {
    const publicKeys = [...(fromEnvSigning ? [publicPart(fromEnvSigning)] : []), ...(fromEnvPublic ?? [])];
    return { signingKey: fromEnvSigning, publicKeys, internalIdentitySecret: fromEnvSecret };
  }
  if (env['NODE_ENV'] === 'production') {
    throw new Error('production requires INTERNAL_IDENTITY_SECRET and AUTH_SIGNING_KEY or AUTH_PUBLIC_KEYS');
  }
  const file = `${dataDir}/dev-keys.json`;
  if (!existsSync(file)) {
    if (options.create === false) throw new Error(`no platform keys in ${file}: start the platform first (npm start), or set DATA_DIR to the server's`);
    await createKeyFile(file);
  }
  const stored = parseJson<Required<PlatformKeys>>(file, readFileSync(file, 'utf8'));
  return { ...stored, internalIdentitySecret: fromEnvSecret || stored.internalIdentitySecret };
}

/**
 * Writes new keys to `file` unless another process got there first: the keys go to a private
 * temporary file that is then linked into place, which fails if the file exists. Two processes
 * starting at once thus agree on one set of keys instead of overwriting each other's.
 */
async function createKeyFile(file: string): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, JSON.stringify(await generatePlatformKeys(), null, 2), { mode: 0o600 });
  try {
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
}

export async function importSigningKey(jwk: JWK): Promise<CryptoKey> {
  const key = await importJWK(jwk, PLATFORM_ALG);
  if (key instanceof Uint8Array) throw new Error('AUTH_SIGNING_KEY must be an asymmetric key');
  return key;
}
