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

describe('a subgraph that refuses a value', () => {
  it('passes its error on with its code and the subgraph name, per field of the fetch', async () => {
    answerStatus = 400;
    const answer = await source().process(fetchOf({}, 'query Q__products__0{product(upc:"1"){name}}'));
    expect(answer.errors).toEqual([{ message: 'that date is not a calendar date', path: ['product'], extensions: { code: 'BAD_USER_INPUT', serviceName: 'products' } }]);
  });
});
