import { randomUUID } from 'node:crypto';
import { createClient as createSseClient } from 'graphql-sse';
import { SignJWT, type JWK } from 'jose';
import WebSocket from 'ws';
import { readFileSync } from 'node:fs';
import { importSigningKey } from '../../subgraphs/kit/keys.js';
import { PLATFORM_AUDIENCE, PLATFORM_ISSUER } from '../../subgraphs/kit/tokens.js';
import { COHORTS, ORGS, PARTNERS, USERS, caseIdFor } from '../../prisma/seed-data.js';
import type { RunningGateway } from '../../gateway/src/server.js';
import { connectWs, type StreamingClient, type WsResult } from '../support/graphql-ws.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { closedPort, gatewayInFront, post, type GraphQLAnswer } from './support.js';

/**
 * Hardening at the edge, against a production-mode platform: no schema hints in errors, platform
 * tokens checked against their owners (and SERVICE_UNAVAILABLE, not a guess, when the owner
 * cannot answer), and NUL characters refused before anything runs, on every transport.
 */
let t: TestPlatform;
const supergraphSdl = readFileSync('schema/supergraph.graphql', 'utf8');

beforeAll(async () => {
  t = await startTestPlatform({ production: true });
});
afterAll(async () => {
  await t?.close();
});

const bearer = async (user: Parameters<TestPlatform['tokenFor']>[0]) => ({ authorization: `Bearer ${await t.tokenFor(user)}` });
const codes = (answer: { errors?: Array<{ extensions?: Record<string, unknown> }> }): unknown[] => (answer.errors ?? []).map((e) => e.extensions?.['code']);
const messages = (answer: { errors?: Array<{ message: string }> }): string => (answer.errors ?? []).map((e) => e.message).join('\n');
/** The schema name a hint gives away, as a whole word anywhere in a message. */
const named = (hint: string): RegExp => new RegExp(`\\b${hint.replace(/"/g, '')}\\b`);

type Answer = { errors?: Array<{ message: string; extensions?: Record<string, unknown> }>; data?: unknown };

/** What a streaming client gets for a refused operation: an `error` (graphql-ws) or a `next` with errors (graphql-sse). */
function refusal(client: StreamingClient, query: string, variables?: Record<string, unknown>): Promise<Answer> {
  return new Promise((resolve) => {
    let unsubscribe: (() => void) | undefined;
    let answer: Answer | undefined;
    const finish = (value: Answer): void => {
      if (answer) return;
      answer = value;
      unsubscribe?.();
      resolve(value);
    };
    unsubscribe = client.subscribe({ query, variables }, {
      next: (value: WsResult) => finish(value as Answer),
      error: (error: unknown) => finish({ errors: error as Answer['errors'] }),
      complete: () => finish({}),
    });
    if (answer) unsubscribe();
  });
}

describe('errors in production give no schema hints', () => {
  const MISSPELLED: Array<{ what: string; body: Record<string, unknown>; hint: string }> = [
    { what: 'field', body: { query: '{ pateint(id: "x") { id } }' }, hint: '"patient"' },
    { what: 'required argument', body: { query: '{ cohort { name } }' }, hint: '"id"' },
    { what: 'required input field', body: { query: 'mutation { createPatient(input: { givenName: "A", familyName: "B", birthDate: "2000-01-01" }) { id } }' }, hint: '"mrn"' },
    { what: 'argument type', body: { query: 'query($x: Int) { invoices(status: $x) { id } }' }, hint: 'InvoiceStatus' },
    { what: 'type', body: { query: 'query($s: [InvoiceStats!]) { invoices(status: $s) { id } }' }, hint: '"InvoiceStatus"' },
    { what: 'argument', body: { query: '{ patient(idd: "x") { mrn } }' }, hint: '"id"' },
    { what: 'enum value (literal)', body: { query: '{ invoices(status: [OPNE]) { id } }' }, hint: '"OPEN"' },
    { what: 'enum value (variable)', body: { query: 'query($s: [InvoiceStatus!]) { invoices(status: $s) { id } }', variables: { s: ['OPNE'] } }, hint: '"OPEN"' },
    { what: 'input field (literal)', body: { query: 'mutation { createPatient(input: { mrnn: "1", givenName: "A", familyName: "B", birthDate: "2000-01-01" }) { id } }' }, hint: '"mrn"' },
    { what: 'input field (variable)', body: { query: 'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }', variables: { i: { mrnn: '1', givenName: 'A', familyName: 'B', birthDate: '2000-01-01' } } }, hint: '"mrn"' },
  ];

  it.each(MISSPELLED)('a misspelled $what, anonymous over HTTP', async ({ body, hint }) => {
    const answer = await post(t.graphqlUrl, body);
    expect(answer.status).toBe(400);
    expect(codes(answer.json).every((code) => code === 'GRAPHQL_VALIDATION_FAILED' || code === 'BAD_USER_INPUT')).toBe(true);
    expect(messages(answer.json)).not.toMatch(/did you mean/i);
    expect(messages(answer.json)).not.toMatch(named(hint));
  });

  it('introspection is off', async () => {
    const answer = await post(t.graphqlUrl, { query: '{ __schema { types { name } } }' });
    expect(codes(answer.json)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('outside production the same mistakes do get suggestions (the control)', async () => {
    const development = await gatewayInFront(t, supergraphSdl, { production: false });
    try {
      for (const { body, hint } of MISSPELLED) expect(messages((await post(`${development.url}/graphql`, body)).json)).toMatch(named(hint));
    } finally {
      await development.close();
    }
  });

  const SUBSCRIPTIONS: Array<{ what: string; query: string; variables?: Record<string, unknown>; hint: string }> = [
    { what: 'field', query: 'subscription { queueUpdatd { __typename } }', hint: '"queueUpdated"' },
    { what: 'input field', query: 'subscription { queueUpdated(filter: { urgncy: [HIGH] }) { __typename } }', hint: '"urgency"' },
    { what: 'enum value (variable)', query: 'subscription($f: QueueFilter) { queueUpdated(filter: $f) { __typename } }', variables: { f: { urgency: ['HIHG'] } }, hint: '"HIGH"' },
  ];

  it.each(SUBSCRIPTIONS)('a misspelled $what in a subscription, over WebSocket and SSE', async ({ query, variables, hint }) => {
    const ws = connectWs(t.graphqlUrl);
    const sse = createSseClient({ url: `${t.baseUrl}/graphql/stream`, retryAttempts: 0 });
    try {
      for (const client of [ws, sse as unknown as StreamingClient]) {
        const refused = await refusal(client, query, variables);
        expect(codes(refused).length).toBeGreaterThan(0);
        expect(messages(refused)).not.toMatch(/did you mean/i);
        expect(messages(refused)).not.toMatch(named(hint));
      }
    } finally {
      await ws.dispose();
      sse.dispose();
    }
  });
});

describe('platform tokens', () => {
  const signed = async (claims: { sub: string; role: string; org: string | null }, iat: number): Promise<string> => {
    const key = t.keys.signingKey as JWK & { kid: string };
    return new SignJWT({ role: claims.role, org: claims.org })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .setIssuer(PLATFORM_ISSUER)
      .setAudience(PLATFORM_AUDIENCE)
      .setSubject(claims.sub)
      .setIssuedAt(iat)
      .setExpirationTime(iat + 600)
      .sign(await importSigningKey(key));
  };
  const me = async (headers: Record<string, string>): Promise<GraphQLAnswer> => post(t.graphqlUrl, { query: '{ me { id } }' }, headers);

  it('issued more than a minute in the future: 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const nurse = { sub: USERS.nurse.id, role: 'NURSE', org: ORGS.clinicNorth.id };
    const ahead = await me({ authorization: `Bearer ${await signed(nurse, now + 120)}` });
    expect(ahead.status).toBe(401);
    expect(codes(ahead.json)).toEqual(['UNAUTHENTICATED']);
    // Clock skew within the allowance is fine.
    const skewed = await me({ authorization: `Bearer ${await signed(nurse, now + 30)}` });
    expect(skewed.json.data).toEqual({ me: { id: USERS.nurse.id } });
  });

  it('naming a user that does not exist, or not with that role there: 401', async () => {
    for (const user of [{ ...USERS.nurse, id: randomUUID() }, { ...USERS.nurse, role: 'ADMIN' as const }, { ...USERS.nurse, organizationId: ORGS.hospital.id }]) {
      const answer = await me(await bearer(user));
      expect(answer.status).toBe(401);
      expect(codes(answer.json)).toEqual(['UNAUTHENTICATED']);
    }
  });

  it('naming a deactivated user: 401 (asked of identity before its answer is cached)', async () => {
    await t.platform.database.prisma.user.update({ where: { id: USERS.pharmacist.id }, data: { deactivatedAt: new Date() } });
    try {
      const answer = await me(await bearer('pharmacist'));
      expect(answer.status).toBe(401);
      expect(codes(answer.json)).toEqual(['UNAUTHENTICATED']);
    } finally {
      await t.platform.database.prisma.user.update({ where: { id: USERS.pharmacist.id }, data: { deactivatedAt: null } });
    }
  });

  it('of a learner: asked of training; a learner it does not know is refused, a launched one accepted', async () => {
    const unknown = await post(t.graphqlUrl, { query: '{ caseSessions { id } }' }, await bearer({ ...USERS.learner, id: randomUUID() }));
    expect(unknown.status).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    const launchToken = await new SignJWT({ role: 'learner', name: 'Rae Synthetic', cohort_id: COHORTS.northwindA.id, case_id: caseIdFor('chest-pain-acs') })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(PARTNERS.northwind.launchIssuer)
      .setSubject(`lms-user-${randomUUID()}`)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(new TextEncoder().encode(PARTNERS.northwind.launchSecret));
    const launched = await post(t.graphqlUrl, { query: 'mutation($token: String!) { launchSession(token: $token) { accessToken } }', variables: { token: launchToken } });
    expect(launched.json.errors).toBeUndefined();
    const { accessToken } = launched.json.data?.['launchSession'] as { accessToken: string };
    const known = await post(t.graphqlUrl, { query: '{ caseSessions { id } }' }, { authorization: `Bearer ${accessToken}` });
    expect(known.status).toBe(200);
    expect(known.json.errors).toBeUndefined();
  });
});

describe('when identity cannot be asked', () => {
  let refused: RunningGateway;
  let silent: RunningGateway;
  let blackhole: FaultProxy;

  beforeAll(async () => {
    refused = await gatewayInFront(t, supergraphSdl, { subgraphUrls: { identity: `http://127.0.0.1:${await closedPort()}` } });
    const identityUrl = new URL(t.platform.subgraphs.find((s) => s.name === 'identity')!.url);
    blackhole = await startFaultProxy({ host: identityUrl.hostname, port: Number(identityUrl.port) });
    blackhole.blackhole();
    silent = await gatewayInFront(t, supergraphSdl, { subgraphUrls: { identity: blackhole.urlFor(identityUrl.href).replace(/\/$/, '') }, subgraphTimeoutMs: 300 });
  });
  afterAll(async () => {
    await refused?.close();
    await silent?.close();
    await blackhole?.close();
  });

  const expectUnavailable = (answer: GraphQLAnswer): void => {
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).not.toBeNull();
    expect(answer.json.errors?.[0]?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
  };

  it('a platform token or an API key is answered 503 SERVICE_UNAVAILABLE, neither let through nor called invalid', async () => {
    expectUnavailable(await post(`${refused.url}/graphql`, { query: '{ me { id } }' }, await bearer('clinician')));
    expectUnavailable(await post(`${refused.url}/graphql`, { query: '{ me { id } }' }, { 'x-api-key': 'cgk_whatever-it-is' }));
  });

  it('also when identity does not answer in time (the credential call has the subgraph timeout)', async () => {
    const started = Date.now();
    expectUnavailable(await post(`${silent.url}/graphql`, { query: '{ me { id } }' }, await bearer('billing')));
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('over SSE: 503; over WebSocket: the socket closes with 1013 (try again later)', async () => {
    const sse = await fetch(`${refused.url}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(await bearer('clinician')) },
      body: JSON.stringify({ query: 'subscription { queueUpdated { __typename } }' }),
    });
    expect(sse.status).toBe(503);
    const socket = new WebSocket(`${refused.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.once('open', async () => socket.send(JSON.stringify({ type: 'connection_init', payload: await bearer('clinician') })));
    const { code, reason } = await closed;
    expect(code).toBe(1013);
    expect(reason).toMatch(/^SERVICE_UNAVAILABLE/);
  });
});

describe('a NUL character in any string is BAD_USER_INPUT before anything runs', () => {
  const CREATE = 'mutation($i: CreatePatientInput!) { createPatient(input: $i) { id } }';
  const input = (mrn: string) => ({ mrn, givenName: 'Nul', familyName: 'Byte', birthDate: '1990-01-01' });
  const patients = () => t.platform.database.prisma.patient.count();
  const expectRefused = (answer: { errors?: Array<{ extensions?: Record<string, unknown> }>; data?: unknown }): void => {
    expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
    expect(answer.data ?? null).toBeNull();
  };

  it('over HTTP: in a variable, a string literal (escaped) or the text itself', async () => {
    const before = await patients();
    const admin = await bearer('admin');
    for (const body of [
      { query: CREATE, variables: { i: input('MCN-\u0000-1') } },
      { query: 'mutation { createPatient(input: { mrn: "MCN-\\u0000-2", givenName: "Nul", familyName: "Byte", birthDate: "1990-01-01" }) { id } }' },
      { query: '{ me { id } } # \u0000' },
      { query: CREATE, variables: { i: { ...input('MCN-NUL-3'), addressLine: ['nested', 'x\u0000'] } } },
    ]) {
      const answer = await post(t.graphqlUrl, body, admin);
      expect(answer.status).toBe(400);
      expectRefused(answer.json);
    }
    expect(await patients()).toBe(before);
  });

  it('over WebSocket and SSE: in a mutation’s variables and in a subscription’s', async () => {
    const before = await patients();
    const admin = await bearer('admin');
    const ws = connectWs(t.graphqlUrl, admin);
    const sse = createSseClient({ url: `${t.baseUrl}/graphql/stream`, headers: admin, retryAttempts: 0 });
    try {
      for (const client of [ws, sse as unknown as StreamingClient]) {
        expectRefused(await refusal(client, CREATE, { i: input('MCN-\u0000-4') }));
        expectRefused(await refusal(client, 'subscription($f: QueueFilter) { queueUpdated(filter: $f) { __typename } }', { f: { organizationId: `${ORGS.clinicNorth.id}\u0000` } }));
        expectRefused(await refusal(client, 'subscription { queueUpdated(filter: { organizationId: "x\\u0000" }) { __typename } }'));
      }
    } finally {
      await ws.dispose();
      sse.dispose();
    }
    expect(await patients()).toBe(before);
  });

  it('in a REST alias’s path or query parameter: 400', async () => {
    const partner = await bearer('partner');
    for (const path of ['/integrations/partner/sessions/abc%00def', `/integrations/partner/cases?cohort_id=${COHORTS.northwindA.id}%00`]) {
      const response = await fetch(`${t.baseUrl}${path}`, { headers: partner });
      expect(response.status).toBe(400);
      expect(codes((await response.json()) as never)).toEqual(['BAD_USER_INPUT']);
    }
  });
});
