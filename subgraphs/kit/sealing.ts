import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Secrets the platform holds for users at outside services (a wearable's OAuth tokens) are
 * sealed at rest with AES-256-GCM: a database dump, a replica or a backup holds nothing usable
 * without the sealing keys, which live in configuration only. Each sealed value names its key,
 * so keys rotate: the newest seals, every configured one still opens, and `needsReseal` tells
 * which values to seal again before an old key is retired. The value is bound to where it is
 * kept (the row and the column, as associated data): copied to another row it does not open.
 */
export interface SealingKey {
  id: string;
  /** 32 bytes. */
  key: Buffer;
}

const FORMAT = 'v1';

export class SealedValueError extends Error {}

export class Sealer {
  private readonly current: SealingKey;
  private readonly byId: Map<string, SealingKey>;

  /** `keys` newest first: the first seals. */
  constructor(keys: readonly SealingKey[]) {
    const [current] = keys;
    if (!current) throw new Error('sealing needs at least one key');
    for (const key of keys) {
      if (key.key.length !== 32) throw new Error(`sealing key ${key.id} must be 32 bytes`);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(key.id)) throw new Error('a sealing key id is 1–32 letters, digits, - or _');
    }
    this.current = current;
    this.byId = new Map(keys.map((key) => [key.id, key]));
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  /** `v1.<key id>.<iv>.<ciphertext>.<tag>` (base64url); `place` is what it is bound to. */
  seal(plaintext: string, place: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(place, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, this.current.id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  open(sealed: string, place: string): string {
    const [format, keyId, iv, ciphertext, tag] = sealed.split('.');
    if (format !== FORMAT || !keyId || iv === undefined || ciphertext === undefined || tag === undefined) throw new SealedValueError('not a sealed value');
    const key = this.byId.get(keyId);
    if (!key) throw new SealedValueError(`sealed with key ${keyId}, which is not configured`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(place, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SealedValueError('sealed value does not open (altered, or bound elsewhere)');
    }
  }

  /** Sealed with a key other than the newest: seal it again before that key is retired. */
  needsReseal(sealed: string): boolean {
    return sealed.split('.')[1] !== this.current.id;
  }
}

/**
 * SEALING_KEYS: `id:base64key,id:base64key`, newest first (each key 32 bytes). Without it
 * (local use), one key derived from the platform's internal secret, which is itself kept in
 * DATA_DIR; production must configure its own.
 */
export function sealingKeysFrom(env: NodeJS.ProcessEnv, internalSecret: string, production: boolean): SealingKey[] {
  const raw = env['SEALING_KEYS'];
  if (!raw) {
    if (production) throw new Error('SEALING_KEYS is required in production (id:base64 32-byte key, newest first)');
    return [{ id: 'local', key: createHmac('sha256', internalSecret).update('caregraph/sealing/v1').digest() }];
  }
  return raw.split(',').map((entry, index) => {
    const [id, key] = entry.trim().split(':');
    if (!id || !key) throw new Error(`SEALING_KEYS entry ${index + 1} is not id:base64key`);
    return { id, key: Buffer.from(key, 'base64') };
  });
}
