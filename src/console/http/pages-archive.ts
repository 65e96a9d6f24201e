/**
 * The archive pages (pure): the search form and its results, an entry's
 * metadata, verdict and per-recipient evidence, the reason form for opening
 * content, and the content itself as escaped plain text. Subjects,
 * addresses and remote replies come from outside: each is escaped, and one
 * line values lose control and bidi characters.
 */
import { ARCHIVE_METHODS, ARCHIVE_STATES, type RawSearch, type SearchResult } from '../../archive/search.js';
import type { ShownEntry, ShownRecipient } from '../../archive/show.js';
import { sanitizeLine } from '../../portal/notification.js';
import { e, mayOpenContent, type Viewer } from './layout.js';

/** Longest reason for opening content (characters), as `archive show --reason`. */
export const MAX_REASON = 500;

/** The search form's fields: the query parameter, its label, a hint. */
export const SEARCH_FIELDS: readonly { readonly name: keyof RawSearch & string; readonly label: string; readonly hint?: string }[] = [
  { name: 'from', label: 'Sender', hint: 'an address, <> for none' },
  { name: 'to', label: 'Recipient' },
  { name: 'domain', label: 'Domain', hint: 'sender or recipient' },
  { name: 'subject', label: 'Subject words', hint: 'every word must be in it' },
  { name: 'since', label: 'Received since', hint: '2026-12-01, or 7d, 12h' },
  { name: 'until', label: 'Received before' },
  { name: 'category', label: 'DLP category', hint: 'e.g. SSN, MRN' },
  { name: 'queueId', label: 'Queue id' },
  { name: 'messageId', label: 'Message-ID' },
];

const line = (s: string, max = 998): string => e(sanitizeLine(s, max));
/** Pure: an ISO time as people read it in a table: "2026-12-05 10:02:16Z" (UTC, whole seconds). */
export const when = (iso: string): string => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

export function select(name: 'method' | 'state', label: string, options: readonly string[], value: string | undefined): string {
  const opts = ['<option value="">any</option>', ...options.map((o) => `<option value="${e(o)}"${o === value ? ' selected' : ''}>${e(o)}</option>`)].join('');
  return `<div><label for="f-${name}">${e(label)}</label><select class="field" id="f-${name}" name="${name}">${opts}</select></div>`;
}

/** The query string of a search (its filters, and `after` for the next page). */
export function searchQuery(raw: RawSearch, after?: string): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'string' && v !== '' && k !== 'after' && k !== 'limit' && k !== 'offset') params.set(k, v);
  if (after) params.set('after', after);
  const q = params.toString();
  return q ? `?${q}` : '';
}

function verdictTags(phi: boolean, categories: readonly string[]): string {
  return [phi ? '<span class="tag phi">PHI</span>' : '<span class="tag">no PHI</span>', ...categories.map((c) => `<span class="tag">${line(c, 64)}</span>`)].join('');
}

export function searchPage(raw: RawSearch, outcome: { result: SearchResult } | { problem: string }): { title: string; main: string } {
  const fields = SEARCH_FIELDS.map((f) => {
    const hintId = f.hint ? `h-${f.name}` : '';
    return `<div><label for="f-${f.name}">${e(f.label)}</label>${f.hint ? `<span class="hint" id="${hintId}">${e(f.hint)}</span>` : ''}<input class="field" type="text" id="f-${f.name}" name="${f.name}" maxlength="998" value="${e(typeof raw[f.name] === 'string' ? (raw[f.name] as string) : '')}"${f.hint ? ` aria-describedby="${hintId}"` : ''}></div>`;
  }).join('');
  const form = [
    '<form method="get" action="/archive" class="card">',
    '<fieldset class="filters"><legend>Filters (all optional)</legend>',
    fields,
    select('method', 'Method', ARCHIVE_METHODS, raw.method),
    select('state', 'Recipient state', ARCHIVE_STATES, raw.state),
    '</fieldset>',
    '<button type="submit">Search</button>',
    '</form>',
  ].join('');
  let results: string;
  if ('problem' in outcome) {
    results = `<div class="alert" role="alert"><p>${e(outcome.problem)}</p></div>`;
  } else {
    const { result } = outcome;
    const rows = result.entries.map((entry) => {
      const rcpts = entry.recipients.map((r) => `${line(r.address, 320)} <span class="muted">${e(r.method ?? 'undecided')}, ${e(r.state)}</span>`).join('<br>');
      const more = entry.recipientCount > entry.recipients.length ? `<br><span class="muted">and ${entry.recipientCount - entry.recipients.length} more</span>` : '';
      const flags = `${entry.hold ? '<span class="tag">legal hold</span>' : ''}${entry.purged ? '<span class="tag">purged</span>' : ''}`;
      return `<tr><td class="id"><a href="/archive/${e(entry.id)}">${e(entry.id)}</a></td><td>${e(when(entry.receivedAt))}</td><td>${entry.sender ? line(entry.sender, 320) : '&lt;&gt;'}</td><td>${rcpts || '-'}${more}</td><td>${verdictTags(entry.phi, entry.categories)}${flags}</td><td>${entry.size}</td></tr>`;
    });
    const n = result.entries.length;
    const table = n
      ? `<div class="table-box" role="region" tabindex="0" aria-labelledby="results-caption"><table class="data"><caption id="results-caption">${n} ${n === 1 ? 'entry' : 'entries'}, newest first</caption><thead><tr><th scope="col">Entry</th><th scope="col">Received (UTC)</th><th scope="col">Sender</th><th scope="col">Recipients</th><th scope="col">Verdict</th><th scope="col">Bytes</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
      : '<p role="status">No archive entry matches.</p>';
    const next = result.next ? `<p class="pager"><a href="/archive${e(searchQuery(raw, result.next))}" rel="next">Next page (older entries)</a></p>` : '';
    results = `<h2>Results</h2>${table}${next}`;
  }
  return { title: 'Archive search', main: `<h1>Archive search</h1>${form}${results}` };
}

interface VerdictView {
  inspected?: boolean;
  phi?: boolean;
  phiRule?: string;
  notFullyScanned?: boolean;
  protection?: string;
  findings?: { category: string; count: number; confidence?: string }[];
  rules?: string[];
}

function verdictText(v: unknown): string {
  const verdict = (typeof v === 'object' && v !== null ? v : {}) as VerdictView;
  if (verdict.inspected === false) return 'not inspected';
  const parts = [verdict.phi ? `PHI${verdict.phiRule ? ` (${verdict.phiRule})` : ''}` : 'no PHI'];
  const findings = Array.isArray(verdict.findings) ? verdict.findings : [];
  if (findings.length) parts.push(findings.map((f) => `${f.category} \u00d7${f.count}${f.confidence ? ` (${f.confidence})` : ''}`).join(', '));
  if (verdict.protection) parts.push(`protection ${verdict.protection}`);
  if (Array.isArray(verdict.rules) && verdict.rules.length) parts.push(`rules ${verdict.rules.join(', ')}`);
  if (verdict.notFullyScanned) parts.push('not fully scanned');
  return parts.join('; ');
}

function tlsCell(r: ShownRecipient): string {
  if (!r.evidence) return 'no attempt';
  const t = r.tls;
  if (!t) return 'no TLS';
  const cert = t.verified ? 'certificate verified' : `certificate NOT verified${t.certError ? ` (${t.certError})` : ''}`;
  return `${t.version} ${t.cipher}, ${cert}${t.dane ? `, DANE ${t.dane}` : ''}`;
}

function replyCell(r: ShownRecipient): string {
  const ev = r.evidence;
  if (!ev) return '-';
  const reply = ev.reply as { code?: number; enhanced?: string; text?: string } | undefined;
  if (!reply) return '-';
  const text = reply.text ?? '';
  const enhanced = reply.enhanced && !text.startsWith(reply.enhanced) ? reply.enhanced : '';
  return [reply.code ?? '', enhanced, text].filter((x) => x !== '').join(' ') || '-';
}

function contentForm(id: string, viewer: Viewer, problem?: string): string {
  return [
    `<form method="post" action="/archive/${e(id)}/content" class="card">`,
    '<h2>Open the content</h2>',
    '<p>The original message is shown as plain text. Each opening is recorded in the audit log with your name and your reason.</p>',
    problem ? `<div class="alert" role="alert"><p>${e(problem)}</p></div>` : '',
    `<input type="hidden" name="csrf" value="${e(viewer.csrf)}">`,
    '<label for="reason">Reason for opening</label>',
    '<span class="hint" id="reason-hint">e.g. the ticket or request number; one line, up to 500 characters</span>',
    `<input class="field" type="text" id="reason" name="reason" maxlength="${MAX_REASON}" required aria-describedby="reason-hint"${problem ? ' aria-invalid="true"' : ''}>`,
    '<button type="submit">Open content</button>',
    '</form>',
  ].join('');
}

export function entryPage(entry: ShownEntry, viewer: Viewer): { title: string; main: string } {
  const meta: [string, string][] = [
    ['Entry', e(entry.id)],
    ['Origin', e(entry.origin)],
    ['Message-ID', entry.messageId ? line(`<${entry.messageId}>`) : '-'],
    ['Received', `${e(entry.receivedAt)} through connector ${line(entry.connector, 64)} from ${e(entry.clientIp)}${entry.tlsVersion ? ` over ${e(entry.tlsVersion)}` : ' without TLS'}${entry.authUser ? `, AUTH ${line(entry.authUser, 320)}` : ''}`],
    ['Archived', e(entry.archivedAt)],
    ['Sender', entry.sender ? line(entry.sender, 320) : '&lt;&gt;'],
    ['Subject', entry.subject !== null ? line(entry.subject) : `<span class="muted">(${e(entry.subjectNote ?? 'none')})</span>`],
    ['Size', `${entry.size} bytes`],
    ['SHA-256', `<code>${e(entry.contentSha256)}</code>`],
    ['Verdict', e(verdictText(entry.verdict))],
    ['Retained until', `${e(entry.retainUntil)}${entry.hold ? ' (legal hold)' : ''}`],
    ...(entry.purgedAt ? ([['Purged', `${e(entry.purgedAt)}: the key was destroyed; the content cannot be read`]] as [string, string][]) : []),
  ];
  const rows = entry.recipients.map((r) => {
    const ev = r.evidence;
    const via = ev?.mx ? `${line(ev.mx, 255)}${ev.ip ? ` [${e(ev.ip)}]` : ''}` : '-';
    const policy = ev ? [ev.mtaSts ? `MTA-STS ${ev.mtaSts}` : '', ev.tlsPolicy ? `policy ${ev.tlsPolicy}` : '', `required ${ev.requirement}`].filter(Boolean).join(', ') : '-';
    return [
      '<tr>',
      `<th scope="row">${line(r.address, 320)}${r.bcc ? ' <span class="muted">(bcc)</span>' : ''}</th>`,
      `<td>${e(r.method ?? 'undecided')}${r.requirement ? `<br><span class="muted">transport ${e(r.requirement)}</span>` : ''}${r.reasons.map((why) => `<br><span class="muted">${line(why)}</span>`).join('')}</td>`,
      `<td>${e(r.state)}<br><span class="muted">${r.attempts} ${r.attempts === 1 ? 'attempt' : 'attempts'}${r.finishedAt ? `, final ${e(when(r.finishedAt))}` : ''}</span></td>`,
      `<td>${via}${r.lastAttemptAt ? `<br><span class="muted">${e(when(r.lastAttemptAt))}</span>` : ''}</td>`,
      `<td>${e(tlsCell(r))}</td>`,
      `<td>${e(policy)}</td>`,
      `<td>${line(replyCell(r))}</td>`,
      `<td>${r.keyFingerprint ? `<code>${e(r.keyFingerprint)}</code>${r.keySource ? ` <span class="muted">(${e(r.keySource)})</span>` : ''}` : '-'}</td>`,
      '</tr>',
    ].join('');
  });
  const evidence = `<div class="table-box" role="region" tabindex="0" aria-labelledby="evidence-caption"><table class="data"><caption id="evidence-caption">Per-recipient evidence (${entry.recipients.length})</caption><thead><tr><th scope="col">Recipient</th><th scope="col">Method</th><th scope="col">State</th><th scope="col">Last attempt</th><th scope="col">TLS</th><th scope="col">Policy</th><th scope="col">Reply</th><th scope="col">Key</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
  const content = mayOpenContent(viewer.role) && !entry.purgedAt ? contentForm(entry.id, viewer) : '';
  return {
    title: `Entry ${entry.id}`,
    main: [
      '<p><a href="/archive">Back to the search</a></p>',
      `<h1>Archive entry <span class="id">${e(entry.id)}</span></h1>`,
      '<section class="card" aria-labelledby="meta-h"><h2 id="meta-h">Message</h2>',
      `<dl class="meta">${meta.map(([k, v]) => `<dt>${e(k)}</dt><dd>${v}</dd>`).join('')}</dl>`,
      '</section>',
      '<h2>Recipients</h2>',
      evidence,
      content,
    ].join(''),
  };
}

/** The reason form on a page of its own (a direct URL to /archive/ID/content). */
export function contentReasonPage(id: string, viewer: Viewer, problem?: string): { title: string; main: string } {
  return {
    title: `Open entry ${id}`,
    main: `<p><a href="/archive/${e(id)}">Back to the entry</a></p><h1>Open entry <span class="id">${e(id)}</span></h1>${contentForm(id, viewer, problem)}`,
  };
}

/**
 * Pure: message text made safe to look at: bidirectional overrides and
 * isolates (which could reorder what an auditor reads) and control
 * characters other than tab and line ends are shown as '?', as the CLI does.
 */
export function visibleText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '?');
}

/** The original message as escaped text; `shown` of `total` bytes when it was cut. */
export function contentPage(id: string, text: string, shown: number, total: number): { title: string; main: string } {
  const cut = shown < total ? `<p class="note" role="status">The first ${shown} of ${total} bytes are shown.</p>` : '';
  return {
    title: `Content of ${id}`,
    main: [
      `<p><a href="/archive/${e(id)}">Back to the entry</a></p>`,
      `<h1>Content of entry <span class="id">${e(id)}</span></h1>`,
      '<p class="muted">The original message (MIME) as plain text. This opening is in the audit log.</p>',
      cut,
      `<section class="card" aria-label="Original message"><pre class="content">${e(visibleText(text))}</pre></section>`,
    ].join(''),
  };
}
