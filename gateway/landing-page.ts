/**
 * A self-contained query page for browsers: no CDN, no external script, so it works behind a customs
 * firewall. Apollo's default landing page loads from a CDN and is disabled.
 */
export function landingPage(examples: { title: string; query: string }[]): string {
  const options = examples
    .map((e, i) => `<option value="${i}">${escapeHtml(e.title)}</option>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Robot identity registry</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;display:flex;flex-direction:column;height:100vh}
header{padding:.6rem 1rem;background:#123;color:#fff;display:flex;gap:1rem;align-items:center}
main{flex:1;display:flex;min-height:0}textarea,pre{flex:1;margin:0;padding:1rem;font:13px/1.4 ui-monospace,monospace;border:0;overflow:auto}
textarea{border-right:1px solid #ccc;resize:none}pre{background:#f6f8fa}
button{padding:.3rem 1rem}#token{flex:0 1 22rem;padding:.3rem;font:12px ui-monospace,monospace}
</style></head><body>
<header><strong>Robot identity registry</strong><select id="ex">${options}</select><button id="run">Run ▶</button>
<span>POST /graphql (Ctrl+Enter)</span>
<input id="token" type="password" autocomplete="off" placeholder="token (npm run token) or API key; empty = anonymous"></header>
<main><textarea id="q" spellcheck="false"></textarea><pre id="out"></pre></main>
<script>
const examples = ${JSON.stringify(examples).replace(/</g, '\\u003c')};
const q = document.getElementById('q'), out = document.getElementById('out'), ex = document.getElementById('ex');
// Kept for this tab only: a token in localStorage would outlive the session on a shared customs PC.
const token = document.getElementById('token');
token.value = sessionStorage.getItem('token') ?? '';
token.onchange = () => sessionStorage.setItem('token', token.value.trim());
function authorization() {
  const value = token.value.trim();
  if (!value) return {};
  if (/^(Bearer|ApiKey) /i.test(value)) return { authorization: value };
  return { authorization: (value.startsWith('rrk_') ? 'ApiKey ' : 'Bearer ') + value };
}
ex.onchange = () => { q.value = examples[ex.value].query; };
q.value = examples.length ? examples[0].query : '{ registries { country name home } }';
async function run() {
  out.textContent = '…';
  const res = await fetch(location.pathname.endsWith('/graphql') ? location.pathname : '/graphql',
    { method: 'POST', headers: { 'content-type': 'application/json', ...authorization() }, body: JSON.stringify({ query: q.value }) });
  out.textContent = JSON.stringify(await res.json(), null, 2);
}
document.getElementById('run').onclick = run;
q.onkeydown = (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) run(); };
</script></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
