/**
 * The portal's one stylesheet, served from our own origin
 * (/static/portal.css?v=<hash>), so the CSP needs no 'unsafe-inline'. Built
 * once per server from the branding colour; text on the accent colour is
 * black or white by WCAG contrast (textColourOn). Works from a 320 px phone
 * to a desktop; visible focus rings; a print layout without the buttons.
 */
import { createHash } from 'node:crypto';
import { textColourOn } from '../notification.js';

export interface Stylesheet {
  readonly css: string;
  /** Short content hash, the URL's version: the file can be cached for long. */
  readonly version: string;
}

export function buildStylesheet(accentColour: string): Stylesheet {
  const accent = /^#[0-9a-f]{6}$/i.test(accentColour) ? accentColour.toLowerCase() : '#1f4e79';
  const onAccent = textColourOn(accent);
  const css = `
:root {
  --accent: ${accent};
  --on-accent: ${onAccent};
  --text: #1a1a1a;
  --muted: #4a4a4a;
  --line: #c8c8c8;
  --page: #f3f4f6;
  --card: #ffffff;
  --focus: #1a1a1a;
  --error: #a4161a;
  --error-bg: #fdecec;
  --note-bg: #eef3f8;
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  background: var(--page);
  color: var(--text);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 1rem;
  line-height: 1.5;
  overflow-wrap: break-word;
}
a { color: #0b4f8a; }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -10000px; top: 0; }
.skip:focus { left: 0.5rem; top: 0.5rem; z-index: 10; background: var(--card); padding: 0.5rem 0.75rem; }
.brand { background: var(--accent); color: var(--on-accent); }
.brand .wrap { display: flex; align-items: center; gap: 0.75rem; padding-top: 0.875rem; padding-bottom: 0.875rem; }
.brand img { display: block; height: 2.5rem; width: auto; max-width: 40%; }
.brand .org { font-size: 1.25rem; font-weight: 700; color: var(--on-accent); }
.wrap { width: 100%; max-width: 52rem; margin: 0 auto; padding-left: 1rem; padding-right: 1rem; }
main.wrap { padding-top: 1.25rem; padding-bottom: 1.5rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 0.5rem; padding: 1.25rem; margin: 0 0 1rem 0; }
.narrow { max-width: 34rem; margin-left: auto; margin-right: auto; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 1rem 0; }
h2 { font-size: 1.15rem; line-height: 1.3; margin: 0 0 0.75rem 0; }
p { margin: 0 0 0.875rem 0; }
.muted { color: var(--muted); font-size: 0.9375rem; }
form { margin: 0 0 0.875rem 0; }
form.inline { display: inline-block; margin: 0; }
label { display: block; font-weight: 600; margin: 0 0 0.25rem 0; }
.hint { display: block; color: var(--muted); font-size: 0.9375rem; margin: 0 0 0.5rem 0; }
input[type="text"] {
  display: block; width: 100%; max-width: 16rem;
  font: inherit; font-size: 1.375rem; letter-spacing: 0.12em;
  padding: 0.5rem 0.75rem; margin: 0 0 0.875rem 0;
  border: 2px solid #6b6b6b; border-radius: 0.375rem; background: #fff; color: var(--text);
}
textarea {
  display: block; width: 100%; box-sizing: border-box; min-height: 8rem; resize: vertical;
  font: inherit; padding: 0.5rem 0.75rem; margin: 0 0 0.875rem 0;
  border: 2px solid #6b6b6b; border-radius: 0.375rem; background: #fff; color: var(--text);
}
textarea:focus-visible, input[type="file"]:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
input[type="file"] { display: block; max-width: 100%; margin: 0 0 1rem 0; font: inherit; }
ul.thread { list-style: none; margin: 0; padding: 0; }
ul.thread li { border-top: 1px solid #d0d0d0; padding: 0.75rem 0 0 0; }
ul.thread li:first-child { border-top: 0; padding-top: 0; }
input[type="text"][aria-invalid="true"] { border-color: var(--error); }
input[type="text"]:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
button {
  font: inherit; font-weight: 600; cursor: pointer;
  min-height: 2.75rem; padding: 0.5rem 1.25rem;
  border-radius: 0.375rem; border: 2px solid var(--accent);
  background: var(--accent); color: var(--on-accent);
}
button:hover { filter: brightness(0.92); }
button:focus-visible { outline: 3px solid var(--focus); outline-offset: 3px; }
button.secondary { background: #fff; color: var(--text); border-color: #6b6b6b; }
button.small { min-height: 2.25rem; padding: 0.25rem 0.875rem; font-size: 0.9375rem; }
.alert { border-left: 0.3rem solid var(--error); background: var(--error-bg); color: var(--text); padding: 0.75rem 1rem; margin: 0 0 1rem 0; border-radius: 0.25rem; }
.note { border-left: 0.3rem solid var(--accent); background: var(--note-bg); padding: 0.75rem 1rem; margin: 0 0 1rem 0; border-radius: 0.25rem; }
.note form { margin: 0.5rem 0 0 0; }
.bar { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 0.5rem 1rem; margin: 0 0 1rem 0; }
.bar .who { color: var(--muted); font-size: 0.9375rem; overflow-wrap: anywhere; }
.actions { display: flex; flex-wrap: wrap; gap: 0.5rem; }
.subject { font-size: 1.375rem; overflow-wrap: anywhere; }
dl.headers { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 0.75rem; margin: 0 0 1rem 0; font-size: 0.9375rem; }
dl.headers dt { font-weight: 600; color: var(--muted); }
dl.headers dd { margin: 0; overflow-wrap: anywhere; min-width: 0; }
.message-body { border-top: 1px solid var(--line); padding-top: 1rem; overflow-x: auto; overflow-wrap: anywhere; }
.message-body img { max-width: 100%; height: auto; }
.message-body a:not([href]) { color: inherit; text-decoration: none; }
.message-body table { max-width: 100%; border-collapse: collapse; }
.message-body td, .message-body th { vertical-align: top; }
.message-body blockquote { margin: 0 0 0.875rem 0; padding-left: 0.75rem; border-left: 3px solid var(--line); color: var(--muted); }
.message-body pre, pre.message-text { white-space: pre-wrap; overflow-wrap: anywhere; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.9375rem; margin: 0; }
.sg-image { display: inline-block; color: var(--muted); border: 1px dashed var(--line); padding: 0 0.25rem; font-size: 0.875rem; }
ul.files { list-style: none; margin: 0; padding: 0; }
ul.files li { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 0.5rem 1rem; padding: 0.625rem 0; border-top: 1px solid var(--line); }
ul.files li:first-child { border-top: 0; }
ul.files .file { min-width: 0; overflow-wrap: anywhere; }
ul.files .name { font-weight: 600; display: block; }
.foot { color: var(--muted); font-size: 0.875rem; padding-top: 0.5rem; padding-bottom: 2rem; }
.foot p { margin: 0 0 0.5rem 0; }
[hidden] { display: none !important; }
.passkey-signin { margin: 0 0 0.875rem 0; }
.passkey-signin .or { margin: 1rem 0 0.5rem 0; color: var(--muted); font-size: 0.9375rem; }
.passkey-signin:not([hidden]) ~ form button { background: #fff; color: var(--text); border-color: #6b6b6b; }
.passkey [data-passkey-ready] { margin: 0 0 1rem 0; }
.passkey [role="status"], .passkey-signin [role="status"] { margin: 0.75rem 0 0 0; }
.passkey .alert, .passkey-signin .alert { margin: 0.75rem 0 0 0; }
.passkey .done p { margin: 0; }
.passkey .done:focus { outline: none; }
.passkey-offer h2 { font-size: 1.05rem; margin: 0 0 0.25rem 0; }
.passkey-offer p { margin: 0; }
.print-only { display: none; }
@media (min-width: 40rem) {
  .card { padding: 1.5rem 1.75rem; }
  h1 { font-size: 1.75rem; }
}
@media print {
  body { background: #fff; font-size: 11pt; }
  .brand { background: #fff; color: #000; border-bottom: 2px solid #000; }
  .brand .org { color: #000; }
  .card { border: 0; padding: 0; }
  .no-print, form, button, .skip { display: none !important; }
  .print-only { display: block; }
  a { color: #000; }
  .message-body { overflow: visible; }
}
`.trimStart();
  const version = createHash('sha256').update(css).digest('hex').slice(0, 12);
  return { css, version };
}
