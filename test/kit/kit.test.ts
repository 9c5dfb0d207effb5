import { Writable } from 'node:stream';
import { buildSchema, parse, validate } from 'graphql';
import { SignJWT } from 'jose';
import { aliasLimit, depthLimit } from '../../gateway/src/limits/rules.js';
import { DomainError, InputProblems } from '../../subgraphs/kit/errors.js';
import { matchPath } from '../../subgraphs/kit/http.js';
import { InvalidInternalIdentity, signInternalIdentity, verifyInternalIdentity, type Identity } from '../../subgraphs/kit/identity.js';
import { redactPhi } from '../../subgraphs/kit/logger.js';
import { createLogger } from '../../subgraphs/kit/logger.js';
import { MemoryPubSub, RedisPubSub, SlowConsumerError, type PubSub } from '../../subgraphs/kit/pubsub.js';

const SECRET = 'a-test-secret-that-is-long-enough-000';
const nurse: Identity = { kind: 'user', subject: 'u1', role: 'NURSE', organizationId: 'o1' };

describe('internal identity', () => {
  it('round-trips a signed identity', async () => {
    expect(await verifyInternalIdentity(await signInternalIdentity(nurse, SECRET), SECRET)).toEqual(nurse);
  });

  it('refuses a missing, foreign, tampered or expired identity', async () => {
    await expect(verifyInternalIdentity(undefined, SECRET)).rejects.toBeInstanceOf(InvalidInternalIdentity);
    await expect(verifyInternalIdentity(await signInternalIdentity(nurse, `${SECRET}x`), SECRET)).rejects.toBeInstanceOf(InvalidInternalIdentity);
    const [h, , s] = (await signInternalIdentity(nurse, SECRET)).split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ idt: { ...nurse, role: 'ADMIN' }, iss: 'caregraph-gateway', aud: 'caregraph-subgraph', exp: 9999999999 })).toString('base64url');
    await expect(verifyInternalIdentity(`${h}.${forgedPayload}.${s}`, SECRET)).rejects.toBeInstanceOf(InvalidInternalIdentity);
    const expired = await new SignJWT({ idt: nurse })
      .setProtectedHeader({ alg: 'HS256', typ: 'caregraph-identity+jwt' })
      .setIssuer('caregraph-gateway').setAudience('caregraph-subgraph')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 120)
      .sign(new TextEncoder().encode(SECRET));
    await expect(verifyInternalIdentity(expired, SECRET)).rejects.toBeInstanceOf(InvalidInternalIdentity);
  });

  it('refuses a well-signed but malformed identity', async () => {
    const odd = await new SignJWT({ idt: { kind: 'user', subject: 'u1', role: 'KING', organizationId: null } })
      .setProtectedHeader({ alg: 'HS256', typ: 'caregraph-identity+jwt' })
      .setIssuer('caregraph-gateway').setAudience('caregraph-subgraph').setExpirationTime('1m')
      .sign(new TextEncoder().encode(SECRET));
    await expect(verifyInternalIdentity(odd, SECRET)).rejects.toBeInstanceOf(InvalidInternalIdentity);
  });
});

describe('PHI redaction in logs', () => {
  it('replaces PHI keys at any depth and keeps the rest', () => {
    const redacted = redactPhi({ patientId: 'p1', patient: { name: 'Amara Testwell', birthDate: '1986-04-12', contact: [{ phone: '+1 555' }] }, text: 'I have chest pain' });
    expect(redacted).toEqual({ patientId: 'p1', patient: { name: '[REDACTED]', birthDate: '[REDACTED]', contact: [{ phone: '[REDACTED]' }] }, text: '[REDACTED]' });
  });

  it('never writes PHI through the kit logger', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
    const log = createLogger('test', 'info', sink);
    log.info({ patient: { givenName: 'Amara', mrn: 'MCN-10001' }, count: 2 }, 'patient read');
    expect(lines.join('')).not.toMatch(/Amara|MCN-10001/);
    expect(lines.join('')).toContain('"count":2');
    expect(createLogger('x', 'silent').level).toBe('silent');
  });
});

describe('input problems', () => {
  it('reports every problem at once with BAD_USER_INPUT', () => {
    const problems = new InputProblems();
    problems.add('input.a', 'is required');
    problems.check(false, 'input.b', 'is too long');
    problems.check(true, 'input.c', 'never');
    try {
      problems.throwIfAny();
      throw new Error('expected a throw');
    } catch (error) {
      expect(error).toBeInstanceOf(DomainError);
      const e = error as DomainError;
      expect(e.code).toBe('BAD_USER_INPUT');
      expect(e.httpStatus).toBe(400);
      expect(e.toJSON().extensions['problems']).toEqual([{ field: 'input.a', message: 'is required' }, { field: 'input.b', message: 'is too long' }]);
    }
  });
});

describe('path patterns', () => {
  it('matches parameters and nothing else', () => {
    expect(matchPath('/integrations/partner/cohorts/:id/analytics', '/integrations/partner/cohorts/c%2F1/analytics')).toEqual({ id: 'c/1' });
    expect(matchPath('/webhooks/stripe', '/webhooks/stripe')).toEqual({});
    expect(matchPath('/webhooks/stripe', '/webhooks/stripe/x')).toBeNull();
    expect(matchPath('/a/:id', '/a/')).toBeNull();
  });
});

describe('operation limits', () => {
  const schema = buildSchema('type Query { node: Node } type Node { id: ID, child: Node }');
  const reasons = (query: string, depth = 3, aliases = 2): unknown[] =>
    validate(schema, parse(query), [depthLimit(depth), aliasLimit(aliases)]).map((e) => e.extensions['reason']);

  it('allows up to the limit and refuses beyond it', () => {
    expect(reasons('{ node { child { id } } }')).toEqual([]);
    expect(reasons('{ node { child { child { id } } } }')).toEqual(['QUERY_TOO_DEEP']);
    expect(reasons('{ a: node { id } b: node { id } }')).toEqual([]);
    expect(reasons('{ a: node { id } b: node { id } c: node { id } }')).toEqual(['TOO_MANY_ALIASES']);
  });

  it('survives fragment cycles (reported by graphql itself)', () => {
    const errors = validate(schema, parse('{ node { ...A } } fragment A on Node { child { ...B } } fragment B on Node { child { ...A } }'), [depthLimit(3)]);
    expect(errors).toEqual([]);
  });
});

const pubsubs: Array<[string, () => PubSub]> = [['memory', () => new MemoryPubSub()]];
if (process.env['REDIS_URL']) {
  pubsubs.push(['redis', () => new RedisPubSub(process.env['REDIS_URL'] as string, `kit-test:${process.pid}:${Date.now()}:`, createLogger('t', 'silent'))]);
}

describe.each(pubsubs)('%s pubsub', (_name, make) => {
  it('delivers in order to every subscriber, and stops on return()', async () => {
    const pubsub = make();
    try {
      const a = pubsub.subscribe<{ n: number }>('topic');
      const b = pubsub.subscribe<{ n: number }>('topic');
      if (pubsub instanceof RedisPubSub) await pubsub.ready('topic');
      // A publish straight after start waits for the connection rather than being dropped.
      for (let n = 1; n <= 3; n++) expect(await pubsub.publish('topic', { n })).toBe(true);
      const take = async (it: AsyncIterableIterator<{ n: number }>): Promise<number[]> => {
        const out: number[] = [];
        for (let i = 0; i < 3; i++) out.push(((await it.next()).value as { n: number }).n);
        return out;
      };
      expect(await take(a)).toEqual([1, 2, 3]);
      expect(await take(b)).toEqual([1, 2, 3]);
      await a.return?.();
      expect(await a.next()).toEqual({ value: undefined, done: true });
      await b.return?.();
    } finally {
      await pubsub.close();
    }
  });

  it('ends a consumer that falls too far behind instead of buffering without bound', async () => {
    const pubsub = make();
    try {
      const slow = pubsub.subscribe<number>('flood', { bufferLimit: 5 });
      if (pubsub instanceof RedisPubSub) await pubsub.ready('flood');
      for (let n = 0; n < 10; n++) expect(await pubsub.publish('flood', n)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const seen: number[] = [];
      await expect(
        (async () => {
          for (;;) {
            const next = await slow.next();
            if (next.done) return;
            seen.push(next.value);
          }
        })(),
      ).rejects.toBeInstanceOf(SlowConsumerError);
      expect(seen).toEqual([0, 1, 2, 3, 4]);
    } finally {
      await pubsub.close();
    }
  });
});
