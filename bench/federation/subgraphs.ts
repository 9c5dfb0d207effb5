/**
 * The benchmark's four subgraphs, written from workload/data.json as standard @apollo/subgraph
 * schemas, served from one process at /accounts, /inventory, /products and /reviews (also with
 * /graphql after them, the path CareGraph's gateway calls). PORT (default 4200).
 */
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { parse } from 'graphql';
import { listen } from '../../subgraphs/kit/http.js';
import { graphqlServer } from './graphql-http.js';
import { store, subgraphSdl, type Product, type SubgraphName } from './workload.js';

type Resolvers = GraphQLResolverMap<unknown>;

/** Inventory's own rows carry no price or weight, and its entity reads only the upc (data.json → inventory). */
interface InventoryProduct { upc: string; inStock: boolean | undefined; price: number | null; weight: number | null }

const resolvers: Record<SubgraphName, Resolvers> = {
  accounts: {
    Query: {
      me: () => store.users[0],
      user: (_: unknown, args: { id: string }) => store.user(args.id) ?? null,
      users: () => store.users,
    },
    User: { __resolveReference: (reference: { id: string }) => store.user(reference.id) },
  },
  products: {
    Query: { topProducts: (_: unknown, args: { first: number }) => store.topProducts(args.first) },
    Product: { __resolveReference: (reference: { upc: string }) => store.product(reference.upc) },
  },
  inventory: {
    Product: {
      __resolveReference: (reference: { upc: string }): InventoryProduct => ({ upc: reference.upc, inStock: store.stock(reference.upc)?.inStock, price: null, weight: null }),
      shippingEstimate: (product: InventoryProduct) => {
        if (product.price === null) return null;
        if (product.price > 1000) return 0;
        return product.weight === null ? null : Math.floor(product.weight / 2);
      },
    },
  },
  reviews: {
    Product: {
      __resolveReference: (reference: { upc: string }) => ({ upc: reference.upc }),
      reviews: (product: Pick<Product, 'upc'>) => store.reviewsOfProduct(product.upc),
    },
    Review: {
      __resolveReference: (reference: { id: string }) => store.review(reference.id),
      product: (review: { productUpc: string }) => ({ upc: review.productUpc }),
      author: () => ({ id: store.authorId, username: store.user(store.authorId)?.username }),
    },
    User: {
      __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
      reviews: () => store.reviewsOfUser(),
    },
  },
};

export function benchSubgraphsServer() {
  const schemas = Object.fromEntries(Object.entries(resolvers).map(([name, map]) => [
    `/${name}`,
    buildSubgraphSchema({ typeDefs: parse(subgraphSdl(name as SubgraphName)), resolvers: map }),
  ]));
  return graphqlServer(schemas);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const url = await listen(benchSubgraphsServer(), Number(process.env['PORT'] ?? 4200));
  process.stdout.write(`subgraphs ready at ${url}\n`);
}
