import type { PassportFacts, PassportRecall, Verdict } from './passport-facts.js';
import { timelineOf } from './passport-timeline.js';
import { html, trusted, type Markup } from './html-template.js';

/** A reason code in words, for an officer who does not read enum names. */
const REASON_TITLES: Record<string, string> = {
  MALFORMED_CODE: 'Malformed code',
  UNKNOWN_COUNTRY: 'Unknown country',
  REGISTRY_UNAVAILABLE: 'Registry unavailable',
  NOT_REGISTERED: 'Not registered',
  ENTERPRISE_SUSPENDED: 'Maker suspended',
  ENTERPRISE_REVOKED: "Maker's registration revoked",
  MODEL_WITHDRAWN: 'Model withdrawn',
  OPEN_RECALL: 'Open recall',
  STOLEN: 'Reported stolen',
  SCRAPPED: 'Scrapped',
};

const VERDICT_GIST: Record<Verdict, string> = {
  ADMIT: 'Registered, and nothing stands against admitting it.',
  REFUSE: 'Do not admit: at least one blocking reason below.',
  UNKNOWN: 'Cannot be checked now: the registry that owns this code is unknown or did not answer.',
};

// On paper the sheet must hold: the first open recalls and the latest timeline entries (the page has all).
const PRINTED_RECALLS = 4;
const PRINTED_TIMELINE = 12;

// Longer inputs are shown cut: the page stays one sheet whatever was typed into the URL.
const SHOWN_CHARACTERS = 64;

/**
 * The passport page: one self-contained document (inline CSS, the QR code as inline SVG, no script),
 * readable on a phone and printed on one A4 sheet. Every value is escaped by the `html` template.
 */
export function passportPage(facts: PassportFacts, qr: { url: string; svg: string } | null, receiptSvg: string | null = null): string {
  const title = `${facts.verdict} · ${facts.display ?? 'malformed code'} · Robot passport`;
  const registry = facts.answeredBy ? `${facts.answeredBy.name} (${facts.answeredBy.country})` : null;
  return page(
    title,
    html`<header>
  <p class="kicker">Robot passport${registry ? html` · ${registry}` : ''}</p>
  <h1 class="code">${facts.display ?? shown(facts.input)}</h1>
</header>
${verdictBanner(facts)}
${facts.code ? '' : codeProblems(facts)}
${facts.code ? html`<div class="grid">
  ${robotFacts(facts)}
  ${qr ? html`<figure class="qr">${trusted(qr.svg.replace('<svg ', `<svg role="img" aria-label="QR code of the resolver link" `))}<figcaption>${qr.url}</figcaption></figure>` : ''}
</div>` : ''}
${facts.unit ? recallList(facts.recalls) : ''}
${receiptSection(facts, receiptSvg)}
${timeline(facts)}
<footer>
  <p>${answered(facts)}</p>
  <p>Public view, no sign-in. Customs, partner registries and analysts who sign in read the unit's full event history (owners, border crossings, repairs) through the API.</p>
</footer>`,
  );
}

/**
 * The signed receipt, folded away (a second QR code on screen would confuse a scanner aimed at the
 * label's, and paper has no room): opened, its QR code carries the receipt itself, for a customs
 * officer to keep and check offline (docs/receipts.md).
 */
function receiptSection(facts: PassportFacts, svg: string | null): Markup | '' {
  // A malformed code names no robot: its receipt is in the JSON view only, as the label's QR code is absent.
  if (!facts.receipt || !facts.code) return '';
  const unknown = facts.verdict === 'UNKNOWN' ? html` An UNKNOWN receipt attests only that the facts could not be obtained.` : '';
  return html`<details class="receipt"><summary>Signed receipt of this verdict</summary>
  ${svg ? html`<figure class="receipt-qr">${trusted(svg.replace('<svg ', `<svg role="img" aria-label="QR code of the signed receipt" `))}</figure>` : html`<p>Too long for a QR code: take it from this page's JSON view.</p>`}
  <p class="hint">Signed by this registry; check it offline with <code>npm run receipt -- verify &lt;receipt&gt; --keys jwks.json</code> (keys at /.well-known/jwks.json).${unknown}</p>
  <p class="jws">${facts.receipt}</p>
</details>`;
}

/** A page for a request that got no facts (rate limit, bad input, outage), with what to do. */
export function refusalPage(status: number, message: string): string {
  return page(
    `Robot passport: ${status}`,
    html`<header><p class="kicker">Robot passport</p><h1>No answer (${status})</h1></header>
<section class="verdict verdict-unknown" role="status"><p class="word">NO ANSWER</p><p class="gist">${message}</p></section>`,
  );
}

function verdictBanner(facts: PassportFacts): Markup {
  const reasons = facts.reasons.map((r) => html`<li class="${r.severity.toLowerCase()}"><strong>${REASON_TITLES[r.code] ?? r.code}</strong>: ${r.message}</li>`);
  return html`<section class="verdict verdict-${facts.verdict.toLowerCase()}" role="status" aria-label="Verdict">
  <p class="word">${facts.verdict}</p>
  <p class="gist">${VERDICT_GIST[facts.verdict]}</p>
  ${reasons.length ? html`<ul class="reasons">${reasons}</ul>` : ''}
</section>`;
}

/** The code as normalised, one mark per offending character with its 1-based position beneath. */
function codeProblems(facts: PassportFacts): Markup {
  const normalised = facts.input.replace(/[\s-]+/g, '').replace(/[a-z]+/g, (s) => s.toUpperCase());
  const bad = new Set(facts.problems.map((p) => p.position).filter((p): p is number => p !== null));
  const characters: Markup[] = [];
  let index = 0;
  for (const ch of normalised) {
    if (characters.length >= SHOWN_CHARACTERS) break;
    const position = index + 1;
    characters.push(bad.has(position) ? html`<mark title="position ${position}">${visible(ch)}<sub>${position}</sub></mark>` : html`<span>${ch}</span>`);
    index += ch.length;
  }
  const more = [...normalised].length - characters.length;
  return html`<section class="problems">
  <h2>What is wrong with the code</h2>
  <p>As written: <code>${shown(facts.input)}</code></p>
  <p class="marked" aria-label="The code as read, offending characters marked">${characters}${more > 0 ? html`<span class="more">… ${more} more</span>` : ''}</p>
  <ol>${facts.problems.map((p) => html`<li>${p.message}</li>`)}</ol>
  <p class="hint">A code is 29 letters A-Z and digits: country (2), maker (4), model (6), serial (17). Spaces and hyphens are ignored.</p>
</section>`;
}

function robotFacts(facts: PassportFacts): Markup {
  const unit = facts.unit;
  if (!unit) {
    return html`<section class="facts"><h2>Robot</h2><p>No unit details: the code is not registered, or its registry could not answer (see the verdict).</p></section>`;
  }
  const model = unit.model;
  const maker = unit.enterprise;
  return html`<section class="facts">
  <h2>Robot</h2>
  <dl>
    <dt>Model</dt><dd>${model ? html`${model.name} <span class="muted">${model.display} · ${model.category}${model.status === 'ACTIVE' ? '' : html` · <strong>${model.status}</strong>`}</span>` : 'not available'}</dd>
    <dt>Maker</dt><dd>${maker ? html`${maker.name} <span class="muted">${maker.display}${maker.status === 'ACTIVE' ? '' : html` · <strong>${maker.status}</strong>`}</span>` : 'not available'}</dd>
    <dt>State</dt><dd><strong>${unit.state}</strong></dd>
    <dt>Serial</dt><dd><code>${unit.serial}</code></dd>
    <dt>Registered</dt><dd>${day(unit.registeredAt)}</dd>
  </dl>
</section>`;
}

function recallList(recalls: PassportRecall[]): Markup {
  const open = recalls.filter((r) => r.status === 'OPEN');
  if (!open.length) return html`<section class="recalls"><h2>Open recalls</h2><p>None on this unit.</p></section>`;
  return html`<section class="recalls">
  <h2>Open recalls</h2>
  <ul>${open.map((r) => html`<li><strong>${r.code}</strong> (opened ${day(r.openedAt)}): ${r.defect}. <span class="muted">Remedy: ${r.remedy}</span></li>`)}</ul>
  ${open.length > PRINTED_RECALLS ? html`<p class="print-only">… and ${open.length - PRINTED_RECALLS} more open recalls: scan the code for all of them.</p>` : ''}
</section>`;
}

function timeline(facts: PassportFacts): Markup {
  const entries = timelineOf(facts);
  if (!entries.length) return html``;
  return html`<section class="timeline">
  <h2>Lifecycle</h2>
  <ol>${entries.map((e) => html`<li><time datetime="${e.at}">${day(e.at)}</time> <strong>${e.event}</strong>${e.detail ? html` <span class="muted">${e.detail}</span>` : ''}</li>`)}</ol>
</section>`;
}

function answered(facts: PassportFacts): Markup {
  const at = instant(facts.checkedAt);
  if (!facts.code) return html`Checked ${at} by this gateway: a malformed code is refused without asking a registry.`;
  if (!facts.answeredBy) return html`Checked ${at}: no registry in this gateway's directory serves country ${facts.code.slice(0, 2)}.`;
  const who = html`<strong>${facts.answeredBy.name}</strong> (${facts.answeredBy.country})`;
  return facts.reasons.some((r) => r.code === 'REGISTRY_UNAVAILABLE')
    ? html`Asked ${who} at ${at}; it could not answer.`
    : html`Answered by ${who} at ${at}.`;
}

function page(title: string, body: Markup): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${html`${title}`}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

const shown = (text: string) => ([...text].length > SHOWN_CHARACTERS ? `${[...text].slice(0, SHOWN_CHARACTERS).join('')}…` : text);
const day = (iso: string) => iso.slice(0, 10);
const instant = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
/** Invisible or combining characters are named, so the mark shows what is there. */
const visible = (ch: string) => (/^[\p{L}\p{N}\p{P}\p{S}]$/u.test(ch) ? ch : `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c1c1c;background:#f4f4f1}
main{max-width:48rem;margin:0 auto;padding:1rem}
h1,h2{margin:0}
h1{font-size:1.35rem}
h2{font-size:1rem;margin-bottom:.4rem;text-transform:uppercase;letter-spacing:.04em;color:#555}
section,figure{background:#fff;border:1px solid #ddd;border-radius:.5rem;padding:.8rem 1rem;margin:0 0 .8rem}
.kicker{margin:0 0 .2rem;color:#555;font-size:.9rem}
header{margin-bottom:.8rem}
.code,code{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;overflow-wrap:anywhere}
.verdict{border-width:3px}
.verdict .word{margin:0;font-size:2.2rem;font-weight:800;letter-spacing:.06em}
.verdict .gist{margin:.2rem 0 .4rem}
.verdict-admit{border-color:#1b7f3b;background:#e7f5ec}.verdict-admit .word{color:#1b7f3b}
.verdict-refuse{border-color:#b3261e;background:#fbe9e7}.verdict-refuse .word{color:#b3261e}
.verdict-unknown{border-color:#8a5a00;background:#fff4dc}.verdict-unknown .word{color:#7a4f00}
.reasons{margin:0;padding-left:1.2rem}
.grid{display:grid;gap:0 .8rem;grid-template-columns:1fr}
@media (min-width:40rem){.grid{grid-template-columns:1fr 12rem}}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem .8rem;margin:0}
dt{color:#555}dd{margin:0}
.muted{color:#555;font-size:.9em}
.qr{text-align:center}
.qr svg{width:100%;max-width:12rem;height:auto}
.qr figcaption{font-size:.75rem;overflow-wrap:anywhere;color:#555}
.receipt{margin:.8rem 0}.receipt-qr{text-align:center}.receipt-qr svg{width:100%;max-width:20rem;height:auto}.receipt .jws{font:.7rem ui-monospace,monospace;overflow-wrap:anywhere;color:#555}
.marked{font:1.2rem ui-monospace,"DejaVu Sans Mono",monospace;overflow-wrap:anywhere;line-height:2.2}
.marked mark{background:#b3261e;color:#fff;padding:0 .1em;border-radius:.2em;position:relative}
.marked sub{font-size:.6em;margin-left:.1em}
.hint{color:#555;font-size:.9rem}
.print-only{display:none}
.timeline ol{margin:0;padding-left:1.2rem}
time{font-variant-numeric:tabular-nums;color:#555}
footer{font-size:.85rem;color:#444}
@page{size:A4;margin:10mm 12mm}
@media print{
body{background:#fff;font-size:9.5pt;line-height:1.3}
main{max-width:none;padding:0}
header{margin-bottom:2mm}
h1{font-size:13pt}
h2{font-size:8.5pt;margin-bottom:1mm}
p,ul,ol{margin-top:0;margin-bottom:1mm}
section,figure{border-radius:0;padding:2mm 3mm;margin-bottom:2mm;break-inside:avoid}
.verdict,.marked mark{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.verdict .word{font-size:18pt}
.grid{grid-template-columns:1fr 42mm}
.qr svg{max-width:40mm}
.timeline ol{columns:2;column-gap:6mm;font-size:8.5pt;padding-left:4mm}
.timeline .muted{display:none}
.timeline li:nth-last-child(n+${PRINTED_TIMELINE + 1}){display:none}
/* Registry text has no length bound worth trusting: each item is cut to a few lines on paper. */
.recalls li{font-size:9pt;max-height:3.9em;overflow:hidden;list-style-position:inside}
dd{max-height:2.6em;overflow:hidden}
.recalls li:nth-child(n+${PRINTED_RECALLS + 1}){display:none}
.print-only{display:block;margin:1mm 0 0;font-size:8.5pt}
.receipt{display:none}
footer{font-size:8pt}
footer p{margin:0 0 1mm}
}
`;
