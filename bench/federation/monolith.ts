/**
 * The ceiling: one process executing the same query over the same data, no federation. Its
 * schema is the supergraph's API schema; resolvers follow data.json's rules (shippingEstimate
 * is null, as the inventory subgraph answers). Served at /graphql; PORT (default 4300).
 */
import { Supergraph } from '@apollo/federation-internals';
import type { GraphQLFieldResolver, GraphQLObjectType } from 'graphql';
import { listen } from '../../subgraphs/kit/http.js';
import { graphqlServer } from './graphql-http.js';
import { store, supergraphAt, type Product, type Review } from './workload.js';

export function monolithServer() {
  const schema = Supergraph.build(supergraphAt('http://unused')).apiSchema().toGraphQLJSSchema();
  const resolve = (typeName: string, fields: Record<string, GraphQLFieldResolver<never, unknown, never>>) => {
    const type = schema.getType(typeName) as GraphQLObjectType;
    for (const [name, resolver] of Object.entries(fields)) {
      const field = type.getFields()[name];
      if (!field) throw new Error(`${typeName}.${name} is not in the schema`);
      field.resolve = resolver as GraphQLFieldResolver<unknown, unknown>;
    }
  };
  resolve('Query', {
    me: () => store.users[0],
    user: (_: unknown, args: { id: string }) => store.user(args.id) ?? null,
    users: () => store.users,
    topProducts: (_: unknown, args: { first: number }) => store.topProducts(args.first),
  });
  resolve('User', { reviews: () => store.reviewsOfUser() });
  resolve('Product', {
    inStock: (product: Product) => store.stock(product.upc)?.inStock ?? null,
    shippingEstimate: () => null,
    reviews: (product: Product) => store.reviewsOfProduct(product.upc),
  });
  resolve('Review', {
    product: (review: Review) => store.product(review.productUpc),
    author: () => store.user(store.authorId),
  });
  return graphqlServer({ '/': schema });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const url = await listen(monolithServer(), Number(process.env['PORT'] ?? 4300));
  process.stdout.write(`monolith ready at ${url}/graphql\n`);
}
