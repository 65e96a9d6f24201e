/**
 * The console's one stylesheet, served from our own origin
 * (/static/console.css?v=<hash>) so the CSP needs no 'unsafe-inline': the
 * portal's base (colours, focus rings, buttons, cards, phone-first layout)
 * and the console's own parts — navigation, search filters, data tables
 * that scroll inside their box on a phone instead of widening the page.
 */
import { createHash } from 'node:crypto';
import { buildStylesheet } from '../../portal/http/stylesheet.js';
import type { Stylesheet } from '../../portal/http/stylesheet.js';

const CONSOLE_CSS = `
.wrap { max-width: 72rem; }
nav.top ul { list-style: none; display: flex; flex-wrap: wrap; gap: 0.25rem 1.25rem; margin: 0; padding: 0; }
nav.top a { color: var(--on-accent); font-weight: 600; }
nav.top a[aria-current="page"] { text-decoration-thickness: 3px; }
.brand .wrap { flex-wrap: wrap; justify-content: space-between; }
.brand form.inline button { min-height: 2.25rem; padding: 0.25rem 0.875rem; font-size: 0.9375rem; background: var(--card); color: var(--text); border-color: var(--card); }
input[type="text"].field, input[type="password"].field, input[type="search"].field, select.field {
  display: block; width: 100%; max-width: 100%;
  font: inherit; font-size: 1rem; letter-spacing: normal;
  padding: 0.5rem 0.625rem; margin: 0 0 0.75rem 0;
  border: 2px solid #6b6b6b; border-radius: 0.375rem; background: #fff; color: var(--text);
}
input.field:focus-visible, select.field:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
input.code { font-size: 1.375rem; letter-spacing: 0.12em; max-width: 12rem; }
fieldset.filters { border: 0; margin: 0; padding: 0; display: grid; grid-template-columns: 1fr; gap: 0 1rem; }
fieldset.filters legend { font-weight: 700; margin: 0 0 0.5rem 0; padding: 0; }
@media (min-width: 40rem) { fieldset.filters { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
@media (min-width: 64rem) { fieldset.filters { grid-template-columns: repeat(4, minmax(0, 1fr)); } }
.alert p:last-child, .note p:last-child { margin-bottom: 0; }
.table-box { overflow-x: auto; margin: 0 0 1rem 0; border: 1px solid var(--line); border-radius: 0.375rem; background: var(--card); }
table.data { border-collapse: collapse; width: 100%; font-size: 0.9375rem; }
table.data caption { text-align: left; font-weight: 700; padding: 0.625rem 0.75rem; }
table.data th, table.data td { text-align: left; vertical-align: top; padding: 0.5rem 0.75rem; border-top: 1px solid var(--line); }
table.data thead th { background: var(--note-bg); white-space: nowrap; }
table.data td { overflow-wrap: anywhere; min-width: 8rem; }
.table-box:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
table.data td.id { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; white-space: nowrap; min-width: 0; }
.tag { display: inline-block; padding: 0 0.375rem; border: 1px solid var(--line); border-radius: 0.25rem; font-size: 0.875rem; margin: 0 0.25rem 0.25rem 0; }
.tag.phi { border-color: var(--error); color: var(--error); font-weight: 600; }
dl.meta { display: grid; grid-template-columns: 1fr; gap: 0 1rem; margin: 0 0 1rem 0; }
dl.meta dt { font-weight: 600; color: var(--muted); margin: 0.375rem 0 0 0; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; min-width: 0; }
@media (min-width: 40rem) { dl.meta { grid-template-columns: max-content 1fr; } dl.meta dt { margin: 0; } }
pre.content { white-space: pre-wrap; overflow-wrap: anywhere; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.875rem; margin: 0; max-height: none; }
.pager { display: flex; flex-wrap: wrap; gap: 1rem; margin: 0 0 1rem 0; }
progress { display: block; width: 100%; height: 1.5rem; margin: 0.25rem 0 0.5rem 0; accent-color: var(--accent); }
.check { display: flex; align-items: flex-start; gap: 0.5rem; margin: 0.5rem 0 0.25rem 0; }
.check input { width: 1.25rem; height: 1.25rem; margin: 0.125rem 0 0 0; flex: none; }
a.button { display: inline-block; padding: 0.625rem 1.25rem; border-radius: 0.375rem; background: var(--accent); color: var(--on-accent); font-weight: 600; text-decoration: none; }
a.button:focus-visible { outline: 3px solid var(--focus); outline-offset: 3px; }
td.actions { white-space: normal; }
td.actions form.inline { margin: 0 0.25rem 0.25rem 0; }
td.actions button { min-height: 2.25rem; padding: 0.25rem 0.75rem; font-size: 0.9375rem; }
code.uri { display: block; overflow-wrap: anywhere; word-break: break-all; }
input[type="date"].field { display: block; max-width: 100%; font: inherit; font-size: 1rem; padding: 0.5rem 0.625rem; margin: 0 0 0.75rem 0; border: 2px solid #6b6b6b; border-radius: 0.375rem; background: #fff; color: var(--text); }
input[type="date"].field:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
section.report svg.chart { display: block; width: 100%; height: auto; max-width: 36rem; margin: 0 0 1rem 0; }
section.report .table-box { max-height: 24rem; overflow-y: auto; }
section.report table.data thead th { white-space: normal; }
section.report table.data tbody th, section.report table.data tfoot th { white-space: nowrap; }
section.report table.data thead th + th { text-align: right; }
@media (min-width: 64rem) { section.report .figure { display: grid; grid-template-columns: minmax(0, 30rem) minmax(0, 1fr); gap: 1.5rem; align-items: start; } }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; min-width: 0; white-space: nowrap; }
`;

export function buildConsoleStylesheet(accentColour = '#1f4e79'): Stylesheet {
  const css = `${buildStylesheet(accentColour).css}${CONSOLE_CSS}`;
  return { css, version: createHash('sha256').update(css).digest('hex').slice(0, 12) };
}
