/**
 * A lean GraphQL-over-HTTP server for the benchmark's subgraphs and monolith: POST JSON
 * `{query, variables, operationName}` to a path, graphql-js executes it against that path's
 * schema. Each distinct query text is parsed and validated once (as a production server's
 * document cache does), so the subgraphs spend their time executing, not the gateway's budget.
 */
import { createServer, type Server } from 'node:http';
import { execute, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';

interface Body { query?: unknown; variables?: unknown; operationName?: unknown }

export function graphqlServer(schemas: Record<string, GraphQLSchema>): Server {
  const documents = new Map<string, { document: DocumentNode } | { errors: string[] }>();
  const documentOf = (schema: GraphQLSchema, path: string, query: string) => {
    const key = `${path}\n${query}`;
    let cached = documents.get(key);
    if (!cached) {
      try {
        const document = parse(query);
        const errors = validate(schema, document);
        cached = errors.length > 0 ? { errors: errors.map((e) => e.message) } : { document };
      } catch (error) {
        cached = { errors: [(error as Error).message] };
      }
      if (documents.size < 1_000) documents.set(key, cached);
    }
    return cached;
  };
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]?.replace(/\/graphql$/, '') || '/';
    if (req.method === 'GET' && path === '/health') return void res.end('OK');
    const schema = schemas[path];
    if (!schema || req.method !== 'POST') {
      res.statusCode = 404;
      return void res.end();
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const answer = (status: number, result: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(result));
        };
        let body: Body;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body;
        } catch {
          return answer(400, { errors: [{ message: 'the body is not JSON' }] });
        }
        if (typeof body.query !== 'string') return answer(400, { errors: [{ message: 'no query' }] });
        const parsed = documentOf(schema, path, body.query);
        if ('errors' in parsed) return answer(400, { errors: parsed.errors.map((message) => ({ message })) });
        const result = await execute({
          schema,
          document: parsed.document,
          variableValues: (body.variables ?? undefined) as Record<string, unknown> | undefined,
          operationName: typeof body.operationName === 'string' ? body.operationName : undefined,
        });
        answer(200, result);
      })();
    });
  });
}
