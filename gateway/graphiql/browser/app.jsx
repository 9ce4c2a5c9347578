// GraphiQL for the gateway's own page, bundled by scripts/build-graphiql.ts (esbuild) and served from
// /graphiql/. Runs in the browser: no Node APIs. Everything it needs (config, workers, fonts) comes from
// the gateway's origin; nothing loads from a CDN.
import { GraphiQL } from 'graphiql';
import { useGraphiQL } from '@graphiql/react';
import 'graphiql/style.css';
import './app.css';
import { createRoot } from 'react-dom/client';

/** Written into the page by gateway/graphiql/graphiql-page.ts. */
const config = JSON.parse(document.getElementById('graphiql-config').textContent);

// Monaco runs its language services in web workers; they are bundled next to the app, never fetched
// from esm.sh as GraphiQL's default setup would.
globalThis.MonacoEnvironment = {
  getWorker(_id, label) {
    return new Worker(config.workers[label] ?? config.workers.editor, { name: label });
  },
};

/** POSTs to the gateway with the headers editor's headers (a token goes there). */
async function fetcher(params, options) {
  const response = await fetch(config.endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...options?.headers },
    body: JSON.stringify(params),
  });
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 500)}` }] };
  }
}

function ExamplesIcon() {
  return (
    <svg viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
      <path d="M4 5h16M4 10h16M4 15h10M4 20h7" />
    </svg>
  );
}

/** The README's example queries: one click puts one in the query editor. */
function ExamplesPanel() {
  const queryEditor = useGraphiQL((state) => state.queryEditor);
  return (
    <div className="registry-examples">
      <div className="graphiql-doc-explorer-title">Examples</div>
      <p>
        The README's queries: click one to put it in the editor, then ▶. Without a token you are anonymous; for a
        role, paste a token into <b>Headers</b> below the query (<code>npm run -s token -- --role analyst | tail -1</code>),
        then re-fetch the schema (↻) to see that role's docs.
      </p>
      <ul>
        {config.examples.map((example) => (
          <li key={example.title}>
            <button type="button" onClick={() => queryEditor?.setValue(`# ${example.title}\n${example.query}\n`)}>
              {example.title}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

const examplesPlugin = { title: 'Examples', icon: ExamplesIcon, content: ExamplesPanel };
const first = config.examples[0];

createRoot(document.getElementById('graphiql')).render(
  <GraphiQL
    fetcher={fetcher}
    plugins={config.examples.length ? [examplesPlugin] : []}
    visiblePlugin={config.examples.length ? examplesPlugin : undefined}
    defaultQuery={first ? `# ${first.title}\n${first.query}\n` : '{ registries { country name home } }\n'}
    defaultHeaders={config.defaultHeaders}
    defaultEditorToolsVisibility="headers"
    // A token saved in localStorage would outlive the session on a shared customs PC.
    shouldPersistHeaders={false}
  />,
);
