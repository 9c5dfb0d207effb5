import { Sealer, SealedValueError, sealingKeysFrom } from '../../subgraphs/kit/sealing.js';

/** Secrets sealed at rest: AES-256-GCM, bound to where they are kept, keys rotating. */
const K1 = { id: 'k1', key: Buffer.alloc(32, 1) };
const K2 = { id: 'k2', key: Buffer.alloc(32, 2) };
const PLACE = 'devices.WearableConnection:c-1:refresh';

describe('Sealer', () => {
  it('seals to a value naming its key that reveals nothing, and opens it where it was sealed', () => {
    const sealer = new Sealer([K1]);
    const sealed = sealer.seal('1//refresh-token-secret', PLACE);
    expect(sealed).toMatch(/^v1\.k1\.[\w-]{16}\.[\w-]+\.[\w-]{22}$/);
    expect(sealed).not.toContain('refresh-token-secret');
    expect(sealer.seal('1//refresh-token-secret', PLACE)).not.toBe(sealed);
    expect(sealer.open(sealed, PLACE)).toBe('1//refresh-token-secret');
  });

  it('refuses a value altered by one character, moved to another place, or sealed with a key it does not have', () => {
    const sealer = new Sealer([K1]);
    const sealed = sealer.seal('token', PLACE);
    const parts = sealed.split('.');
    const ciphertext = parts[3] ?? '';
    parts[3] = `${ciphertext[0] === 'A' ? 'B' : 'A'}${ciphertext.slice(1)}`;
    expect(() => sealer.open(parts.join('.'), PLACE)).toThrow(SealedValueError);
    expect(() => sealer.open(sealed, 'devices.WearableConnection:c-2:refresh')).toThrow('does not open');
    expect(() => new Sealer([K2]).open(sealed, PLACE)).toThrow('not configured');
    expect(() => sealer.open('plain-token', PLACE)).toThrow('not a sealed value');
  });

  it('rotates: the newest key seals, older ones still open, and say they need sealing again', () => {
    const old = new Sealer([K1]).seal('token', PLACE);
    const rotated = new Sealer([K2, K1]);
    expect(rotated.open(old, PLACE)).toBe('token');
    expect(rotated.needsReseal(old)).toBe(true);
    const again = rotated.seal(rotated.open(old, PLACE), PLACE);
    expect(again.startsWith('v1.k2.')).toBe(true);
    expect(rotated.needsReseal(again)).toBe(false);
  });

  it('takes only 32-byte keys with plain ids', () => {
    expect(() => new Sealer([])).toThrow('at least one key');
    expect(() => new Sealer([{ id: 'short', key: Buffer.alloc(16) }])).toThrow('32 bytes');
    expect(() => new Sealer([{ id: 'no.dots', key: Buffer.alloc(32) }])).toThrow('key id');
  });
});

describe('sealingKeysFrom', () => {
  it('reads SEALING_KEYS newest first; derives a local key without it; production must configure its own', () => {
    const keys = sealingKeysFrom({ SEALING_KEYS: `k2:${K2.key.toString('base64')}, k1:${K1.key.toString('base64')}` }, 'secret', true);
    expect(keys.map((key) => key.id)).toEqual(['k2', 'k1']);
    expect(keys[0]?.key.equals(K2.key)).toBe(true);
    const local = sealingKeysFrom({}, 'secret', false);
    expect(local).toHaveLength(1);
    expect(local[0]?.key).toHaveLength(32);
    expect(sealingKeysFrom({}, 'secret', false)[0]?.key.equals(local[0]?.key ?? Buffer.alloc(0))).toBe(true);
    expect(sealingKeysFrom({}, 'another', false)[0]?.key.equals(local[0]?.key ?? Buffer.alloc(0))).toBe(false);
    expect(() => sealingKeysFrom({}, 'secret', true)).toThrow('SEALING_KEYS is required in production');
    expect(() => sealingKeysFrom({ SEALING_KEYS: 'nokey' }, 'secret', false)).toThrow('entry 1');
  });
});
