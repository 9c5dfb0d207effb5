import { startTestPlatform, type TestPlatform } from '../support/platform.js';

/** The explorer as the gateway serves it: to browsers only, from this origin only, and off when configured so. */
let on: TestPlatform;
let off: TestPlatform;

beforeAll(async () => {
  [on, off] = await Promise.all([startTestPlatform(), startTestPlatform({ explorer: false })]);
});
afterAll(async () => {
  await Promise.all([on?.close(), off?.close()]);
});

const browserGet = (t: TestPlatform, path = '/graphql') => fetch(`${t.baseUrl}${path}`, { headers: { accept: 'text/html,application/xhtml+xml' } });

describe('the explorer', () => {
  it('serves a page that loads only from the gateway, with its assets and the persisted operations', async () => {
    const page = await browserGet(on);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    const html = await page.text();
    // Nothing but this origin: no CDN, no font host, no Apollo Sandbox.
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('/graphql/explorer/explorer.js');

    const script = await fetch(`${on.baseUrl}/graphql/explorer/explorer.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    const operations = (await (await fetch(`${on.baseUrl}/graphql/explorer/operations.json`)).json()) as { operations: Array<{ name: string; type: string; body: string }> };
    expect(operations.operations.map((o) => o.name)).toContain('PartnerCohortAnalytics');
    expect((await fetch(`${on.baseUrl}/graphql/explorer/..%2Fserver.ts`)).status).toBe(404);
  });

  it('leaves GraphQL requests alone: a GET with a query, and a POST, are answered as before', async () => {
    const get = await fetch(`${on.baseUrl}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json', 'apollo-require-preflight': 'true' } });
    expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
    // A subscription posted as plain HTTP is the client's mistake: 400 with where to go instead.
    const posted = await fetch(on.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await on.tokenFor('nurse')}` }, body: JSON.stringify({ query: 'subscription { queueUpdated { kind } }' }) });
    expect(posted.status).toBe(400);
    expect(((await posted.json()) as { errors: Array<{ extensions: { code: string } }> }).errors.map((e) => e.extensions.code)).toEqual(['BAD_USER_INPUT']);
  });

  it('is not served when turned off, nor in production', async () => {
    const page = await browserGet(off);
    expect(page.headers.get('content-type') ?? '').not.toMatch(/^text\/html/);
    expect((await fetch(`${off.baseUrl}/graphql/explorer/explorer.js`)).status).toBe(404);
  });
});
