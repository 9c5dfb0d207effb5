import { buildSchema, operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { computeResponse } from '@apollo/gateway/dist/resultShaping.js';
import { parse } from 'graphql';
import { compileResponseShape } from '../../gateway/src/executor/shape-response.js';
import { EXPECTED_RESPONSE, QUERY, supergraphAt } from '../../bench/federation/workload.js';

/**
 * The executor's compiled response shaping must give exactly what @apollo/gateway's
 * `computeResponse` gives — data, and errors with their messages and paths — for every kind of
 * selection and every kind of bad subgraph data. Each case runs both on copies of one input.
 */
const schema: Schema = buildSchema(`
  type Query {
    me: User
    users: [User!]!
    strictUser: User!
    search(term: String): [SearchResult]
    node(id: ID!): Node
    count: Int
    status: Status
    tags: [String!]
  }
  interface Node { id: ID! }
  type User implements Node { id: ID! name: String! age: Int nickname: String friends: [User] status: Status! score: Float }
  type Clinic implements Node { id: ID! name: String! beds: Int! }
  union SearchResult = User | Clinic
  enum Status { ACTIVE SUSPENDED }
`);

type Json = Record<string, unknown>;

function both(query: string, input: Json | null, variables: Json = {}): { compiled: unknown; apollo: unknown } {
  const operation = operationFromDocument(schema, parse(query), { validate: true });
  const shape = compileResponseShape(operation);
  if (!shape) throw new Error('expected a compilable operation');
  const render = (result: { data: unknown; errors: Array<{ message: string; path?: ReadonlyArray<string | number> | undefined; extensions?: unknown }> }) =>
    JSON.stringify({ data: result.data, errors: result.errors.map((error) => ({ message: error.message, path: error.path, code: (error.extensions as Json | undefined)?.['code'] })) });
  return {
    compiled: render(shape.shape(structuredClone(input), variables)),
    apollo: render(computeResponse({ operation, variables, input: structuredClone(input) as Json, introspectionHandling: () => null }) as never),
  };
}

const cases: Array<{ name: string; query: string; input: Json | null; variables?: Json }> = [
  {
    name: 'aliases, field order and __typename',
    query: '{ me { __typename who: name id kind: __typename age } count }',
    input: { count: 3, me: { age: 40, name: 'Ada', id: 'u1', __typename: 'User', who: 'Ada', kind: 'User' } },
  },
  {
    name: '@skip and @include with variables and literals',
    query: 'query ($withAge: Boolean!, $skipName: Boolean = false) { me { id age @include(if: $withAge) name @skip(if: $skipName) nickname @skip(if: true) } }',
    input: { me: { id: 'u1', age: 40, name: 'Ada', nickname: 'A' } },
    variables: { withAge: false },
  },
  {
    name: 'a variable default applies when the variable is not given',
    query: 'query ($skipName: Boolean = true) { me { id name @skip(if: $skipName) } }',
    input: { me: { id: 'u1', name: 'Ada' } },
  },
  {
    name: 'type conditions on a union and an interface, with and without __typename',
    query: '{ search(term: "a") { __typename ... on User { id name } ... on Clinic { id beds } ... on Node { id } } node(id: "c1") { id ... on Clinic { name } } }',
    input: { search: [{ __typename: 'User', id: 'u1', name: 'Ada' }, { __typename: 'Clinic', id: 'c1', beds: 12 }, null], node: { id: 'c1', name: 'North', __typename: 'Clinic' } },
  },
  {
    name: 'a field selected twice and through fragments merges into one',
    query: '{ me { id friends { id } ... on User { friends { name } } friends { id status } } }',
    input: { me: { id: 'u1', friends: [{ id: 'u2', name: 'Bo', status: 'ACTIVE' }, null] } },
  },
  {
    name: 'null in a non-null field bubbles to the nearest nullable parent',
    query: '{ me { id name friends { id name } } }',
    input: { me: { id: 'u1', name: 'Ada', friends: [{ id: 'u2', name: null }, { id: 'u3', name: 'Cy' }] } },
  },
  {
    name: 'null in a non-null list element nulls the whole non-null list and the data',
    query: '{ users { id } }',
    input: { users: [{ id: 'u1' }, null] },
  },
  {
    name: 'a non-null root field missing nulls the data',
    query: '{ strictUser { id } count }',
    input: { count: 1 },
  },
  {
    name: 'invalid leaf values: string for Int, fraction for Int, unknown enum, object for String',
    query: '{ me { id age status score nickname } count tags status }',
    input: { me: { id: 'u1', age: 'forty', status: 'GONE', score: 2, nickname: { x: 1 } }, count: 1.5, tags: ['a', 7], status: 'ACTIVE' },
  },
  {
    name: 'an unknown __typename is an error at that object',
    query: '{ me { id name } search { ... on User { id } } }',
    input: { me: { __typename: 'Robot', id: 'r1', name: 'R' }, search: [{ __typename: 'User', id: 'u1' }] },
  },
  {
    name: 'a list where an object belongs',
    query: '{ me { id } count }',
    input: { me: [{ id: 'u1' }], count: 2 },
  },
  {
    name: 'an empty answer',
    query: '{ me { id } }',
    input: null,
  },
];

describe('compiled response shaping gives what @apollo/gateway computeResponse gives', () => {
  it.each(cases)('$name', ({ query, input, variables }) => {
    const { compiled, apollo } = both(query, input, variables);
    expect(compiled).toEqual(apollo);
  });

  it('refuses impossible input (an object where a list belongs) with the same assertion', () => {
    const operation = operationFromDocument(schema, parse('{ users { id } }'));
    const input = { users: { id: 'u1' } };
    const failure = (run: () => unknown): string | undefined => {
      try {
        run();
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
    };
    const apollo = failure(() => computeResponse({ operation, variables: {}, input: structuredClone(input), introspectionHandling: () => null }));
    expect(apollo).toMatch(/Invalid non-list value/);
    // The executor turns the refusal into an error of the operation, not a crash.
    expect(failure(() => compileResponseShape(operation)?.shape(structuredClone(input), {}))).toBe(apollo);
  });

  it('on the federation benchmark answer (87 KB) gives byte-identical JSON', () => {
    const operation = operationFromDocument(Supergraph.build(supergraphAt('http://localhost')).apiSchema(), parse(QUERY));
    const data = (JSON.parse(EXPECTED_RESPONSE) as { data: Json }).data;
    const shaped = compileResponseShape(operation)?.shape(structuredClone(data), {});
    expect(shaped?.errors).toEqual([]);
    expect(JSON.stringify({ data: shaped?.data })).toBe(EXPECTED_RESPONSE);
    const apollo = computeResponse({ operation, variables: {}, input: structuredClone(data), introspectionHandling: () => null });
    expect(JSON.stringify(shaped?.data)).toBe(JSON.stringify(apollo.data));
  });

  it('leaves operations that select schema introspection to Apollo (no shape)', () => {
    expect(compileResponseShape(operationFromDocument(schema, parse('{ __schema { queryType { name } } me { id } }')))).toBeUndefined();
    expect(compileResponseShape(operationFromDocument(schema, parse('{ __typename me { id } }')))).toBeDefined();
  });
});
