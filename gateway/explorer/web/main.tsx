import { useEditorContext, type GraphiQLPlugin } from '@graphiql/react';
import type { Fetcher, FetcherOpts, FetcherParams } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import 'graphiql/graphiql.css';
import { getOperationAST, parse, type ExecutionResult } from 'graphql';
import { createClient } from 'graphql-ws';
import { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';

/**
 * CareGraph's explorer: GraphiQL, bundled from npm packages and served by the gateway itself,
 * so it works with no network beyond the gateway — no CDN, no web fonts from elsewhere, no
 * telemetry. Queries and mutations go over HTTP, subscriptions over graphql-ws, both with the
 * headers typed in the header editor (a token, an API key). The persisted operations are listed
 * in a side panel.
 */

interface PersistedOperation {
  id: string;
  name: string;
  type: 'query' | 'mutation' | 'subscription';
  body: string;
}

const httpUrl = new URL('/graphql', window.location.href).toString();
const wsUrl = httpUrl.replace(/^http/, 'ws');

/**
 * The operation to run: the named one, else the document's only one. GraphiQL may pass the name
 * of the operation the editor held before (text replaced at once), which the server would refuse.
 */
function resolveOperation(params: FetcherParams): { params: FetcherParams; subscription: boolean } {
  try {
    const document = parse(params.query);
    const named = params.operationName ? getOperationAST(document, params.operationName) : null;
    const operation = named ?? getOperationAST(document);
    return { params: { ...params, operationName: operation?.name?.value ?? null }, subscription: operation?.operation === 'subscription' };
  } catch {
    // Not parseable here: let the server say what is wrong with it.
    return { params, subscription: false };
  }
}

/** Only the credential headers: the gateway reads `authorization` and `x-api-key` from connectionParams. */
const credentialsOf = (headers: Record<string, unknown> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(headers ?? {}).filter(([name, value]) => ['authorization', 'x-api-key'].includes(name.toLowerCase()) && typeof value === 'string')) as Record<string, string>;

/** One graphql-ws connection per subscription, opened with the editor's headers, closed when it ends. */
async function* subscribe(params: FetcherParams, headers: Record<string, string>): AsyncGenerator<ExecutionResult> {
  const client = createClient({ url: wsUrl, connectionParams: headers, retryAttempts: 0 });
  try {
    for await (const result of client.iterate({ query: params.query, variables: params.variables ?? undefined, operationName: params.operationName ?? undefined })) {
      yield result as ExecutionResult;
    }
  } finally {
    await client.dispose();
  }
}

async function post(params: FetcherParams, headers: Record<string, string>): Promise<ExecutionResult> {
  const response = await fetch(httpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...headers }, body: JSON.stringify(params) });
  return (await response.json()) as ExecutionResult;
}

const fetcher: Fetcher = (requested: FetcherParams, options?: FetcherOpts) => {
  const headers = (options?.headers ?? {}) as Record<string, string>;
  const { params, subscription } = resolveOperation(requested);
  return subscription ? subscribe(params, credentialsOf(headers)) : post(params, headers);
};

function PersistedOperations() {
  const [operations, setOperations] = useState<PersistedOperation[] | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const editors = useEditorContext({ nonNull: true });
  useEffect(() => {
    fetch('/graphql/explorer/operations.json')
      .then(async (response) => setOperations(((await response.json()) as { operations: PersistedOperation[] }).operations))
      .catch((error: unknown) => setFailure(String(error)));
  }, []);
  if (failure) return <p>Could not load the persisted operations: {failure}</p>;
  if (!operations) return <p>Loading…</p>;
  return (
    <div className="caregraph-operations">
      <p>Operations BI tools and partners call by id (the safelist). Click one to open it.</p>
      <ul style={{ listStyle: 'none', padding: 0 }}>
        {operations.map((operation) => (
          <li key={operation.id}>
            <button type="button" className="graphiql-un-styled" title={operation.id} onClick={() => editors.queryEditor?.setValue(operation.body)} style={{ padding: '4px 0', textAlign: 'left' }}>
              <code>{operation.type}</code> {operation.name}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

const persistedOperationsPlugin: GraphiQLPlugin = {
  title: 'Persisted operations',
  icon: () => (
    <svg viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true">
      <path d="M4 5h16M4 12h16M4 19h10" stroke="currentColor" strokeWidth="2" fill="none" />
    </svg>
  ),
  content: () => <PersistedOperations />,
};

const DEFAULT_QUERY = `# CareGraph explorer. Put a token in Headers below, e.g.
#   { "authorization": "Bearer <the output of: npm run -s token -- --role nurse>" }
# or a partner's or BI tool's { "x-api-key": "cgk_…" }, then run a query.
# Subscriptions stream here too.
query Me {
  me { id displayName roles }
}
`;

const root = document.getElementById('explorer');
if (root) {
  createRoot(root).render(
    <GraphiQL
      fetcher={fetcher}
      defaultQuery={DEFAULT_QUERY}
      defaultHeaders="{}"
      isHeadersEditorEnabled
      // Tokens typed in the header editor are not written to the browser's storage.
      shouldPersistHeaders={false}
      plugins={[persistedOperationsPlugin]}
    />,
  );
}
