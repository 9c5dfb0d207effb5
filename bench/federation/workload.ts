/**
 * The public graphql-gateways-benchmark workload (MIT, The Guild; see workload/README.md), as
 * typed data: users, products, inventory and reviews, the query, the expected response, and
 * the supergraph with its subgraph URLs pointed wherever the bench serves them.
 */
import { readFileSync } from 'node:fs';

const WORKLOAD_DIR = new URL('./workload/', import.meta.url);
const read = (file: string): string => readFileSync(new URL(file, WORKLOAD_DIR), 'utf8');

export interface User { id: string; name: string; username: string; birthday: number }
export interface Product { upc: string; name: string; price: number; weight: number }
export interface Stock { upc: string; inStock: boolean }
export interface Review { id: string; body: string; productUpc: string }

interface WorkloadData {
  accounts: { users: User[] };
  products: { products: Product[] };
  inventory: { inventory: Stock[] };
  reviews: { reviews: Review[] };
}

const data = JSON.parse(read('data.json')) as WorkloadData;

export const SUBGRAPH_NAMES = ['accounts', 'inventory', 'products', 'reviews'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** Lookups with the benchmark's rules (data.json → relations): every review's author is user 1, every user wrote reviews 1 and 2. */
export const store = {
  users: data.accounts.users,
  products: data.products.products,
  user: (id: string): User | undefined => data.accounts.users.find((user) => user.id === id),
  product: (upc: string): Product | undefined => data.products.products.find((product) => product.upc === upc),
  stock: (upc: string): Stock | undefined => data.inventory.inventory.find((row) => row.upc === upc),
  review: (id: string): Review | undefined => data.reviews.reviews.find((review) => review.id === id),
  topProducts: (first: number): Product[] => (first < 0 ? data.products.products : data.products.products.slice(0, first)),
  reviewsOfUser: (): Review[] => data.reviews.reviews.filter((review) => review.id === '1' || review.id === '2'),
  reviewsOfProduct: (upc: string): Review[] => data.reviews.reviews.filter((review) => review.productUpc === upc),
  authorId: '1',
};

export const subgraphSdl = (name: SubgraphName): string => read(`subgraphs/${name}.graphql`);
export const QUERY = read('query.graphql');
export const REQUEST_BODY = read('request-body.json');
export const EXPECTED_RESPONSE = read('expected-response.json');

/** The committed supergraph with each subgraph at `${base}/${name}`. */
export function supergraphAt(base: string): string {
  return read('supergraph.graphql').replace(/url: "http:\/\/0\.0\.0\.0:4200\/(\w+)"/g, (_, name: string) => `url: "${base}/${name}"`);
}
