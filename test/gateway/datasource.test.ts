import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { SubgraphDataSource } from '../../gateway/src/datasource.js';
import type { GatewayContext } from '../../gateway/src/context.js';
import { GatewayMetrics } from '../../gateway/src/metrics.js';
import { createLogger } from '../../subgraphs/kit/logger.js';

/**
 * The subgraph data source: identical query fetches of one operation go out once (each reader
 * gets its own copy of the answer); other operations, and mutations, always go out.
 */
let server: Server;
let url: string;
const received: Array<{ body: string; identity: string | undefined }> = [];
const pool = new Agent();
let answerStatus = 200;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), identity: req.headers['x-caregraph-identity'] as string | undefined });
      // Answered a little later, so fetches issued together are in flight together.
      const asked = JSON.parse(received[received.length - 1]?.body ?? '{}') as { variables?: { representations?: Array<{ upc: string }> } };
      const representations = asked.variables?.representations;
      if (representations?.[0]?.upc === 'entity-test') {
        // Entities in the order asked; the one with upc "missing" is null with an error at its index.
        const entities = representations.map((r, i) => (i === 0 ? null : { upc: r.upc, name: `Product ${r.upc}`, tags: [r.upc] }));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: { _entities: entities }, errors: [{ message: 'no such product', path: ['_entities', 0, 'name'], extensions: { code: 'NOT_FOUND' } }] }));
        return;
      }
      setTimeout(() => {
        res.writeHead(answerStatus, { 'content-type': 'application/json' });
        res.end(answerStatus === 200 ? JSON.stringify({ data: { product: { upc: '1', name: 'Table' } } }) : JSON.stringify({ errors: [{ message: 'that date is not a calendar date', extensions: { code: 'BAD_USER_INPUT' } }] }));
      }, 20);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  await pool.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  received.length = 0;
  answerStatus = 200;
});

const source = () => new SubgraphDataSource('products', url, new GatewayMetrics(), 5_000, pool);
const context = (): GatewayContext => ({ identity: { kind: 'anonymous' }, internalIdentity: async () => 'signed-identity', requestId: 'datasource-test-01', log: createLogger('datasource-test') });
const fetchOf = (operation: object, query: string, variables: Record<string, unknown> = {}) => ({
  kind: 'incoming operation', request: { query, variables }, context: context(), incomingRequestContext: operation,
}) as unknown as GraphQLDataSourceProcessOptions<GatewayContext>;
const QUERY = 'query P__products__1($representations:[_Any!]!){_entities(representations:$representations){...on Product{name}}}';
const representations = { representations: [{ __typename: 'Product', upc: '1' }] };

describe('identical query fetches of one operation', () => {
  it('go over the network once; each caller gets its own copy of the answer', async () => {
    const operation = {};
    const products = source();
    const [first, second] = await Promise.all([products.process(fetchOf(operation, QUERY, representations)), products.process(fetchOf(operation, QUERY, representations))]);
    expect(received).toHaveLength(1);
    expect(received[0]?.identity).toBe('signed-identity');
    expect(first).toEqual({ data: { product: { upc: '1', name: 'Table' } } });
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
  });

  it('are the same read whatever the planner named them (Operation__subgraph__N)', async () => {
    const operation = {};
    const products = source();
    await Promise.all([
      products.process(fetchOf(operation, QUERY, representations)),
      products.process(fetchOf(operation, QUERY.replace('P__products__1', 'P__products__4'), representations)),
    ]);
    expect(received).toHaveLength(1);
  });

  it('to two subgraphs are two reads, even with the same text', async () => {
    const operation = {};
    const inventory = new SubgraphDataSource('inventory', url, new GatewayMetrics(), 5_000, pool);
    await Promise.all([source().process(fetchOf(operation, QUERY, representations)), inventory.process(fetchOf(operation, QUERY, representations))]);
    expect(received).toHaveLength(2);
  });

  it('with other variables, or in another operation, go out on their own', async () => {
    const operation = {};
    const products = source();
    await Promise.all([
      products.process(fetchOf(operation, QUERY, representations)),
      products.process(fetchOf(operation, QUERY, { representations: [{ __typename: 'Product', upc: '2' }] })),
      products.process(fetchOf({}, QUERY, representations)),
    ]);
    expect(received).toHaveLength(3);
  });

  it('are never mutations: two identical writes are two writes', async () => {
    const operation = {};
    const products = source();
    const mutation = 'mutation M__products__0{restock(upc:"1"){upc}}';
    await Promise.all([products.process(fetchOf(operation, mutation)), products.process(fetchOf(operation, mutation))]);
    expect(received).toHaveLength(2);
  });
});

describe('an entity fetch that names the same entity more than once', () => {
  it('sends each representation once and answers every place, each with its own copy, errors at every place', async () => {
    const reps = ['entity-test', '1', '2', '1', 'entity-test', '1'].map((upc) => ({ __typename: 'Product', upc }));
    const answer = await source().process(fetchOf({}, QUERY, { representations: reps }));
    expect(received).toHaveLength(1);
    expect((JSON.parse(received[0]?.body ?? '{}') as { variables: { representations: unknown[] } }).variables.representations).toEqual(['entity-test', '1', '2'].map((upc) => ({ __typename: 'Product', upc })));
    const entities = (answer.data as { _entities: Array<{ upc: string; tags: string[] } | null> })._entities;
    expect(entities.map((e) => e?.upc ?? null)).toEqual([null, '1', '2', '1', null, '1']);
    expect(entities[1]).toEqual(entities[3]);
    expect(entities[1]).not.toBe(entities[3]);
    expect(entities[1]?.tags).not.toBe(entities[5]?.tags);
    expect(answer.errors?.map((e) => e.path)).toEqual([['_entities', 0, 'name'], ['_entities', 4, 'name']]);
  });
});

describe('a subgraph that refuses a value', () => {
  it('passes its error on with its code and the subgraph name, per field of the fetch', async () => {
    answerStatus = 400;
    const answer = await source().process(fetchOf({}, 'query Q__products__0{product(upc:"1"){name}}'));
    expect(answer.errors).toEqual([{ message: 'that date is not a calendar date', path: ['product'], extensions: { code: 'BAD_USER_INPUT', serviceName: 'products' } }]);
  });
});
