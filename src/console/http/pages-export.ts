/**
 * The export pages (pure): the form (the archive search's filters, and for
 * the roles that may, whether to include the messages), an export's
 * progress — a page that reloads itself every 2 seconds, no JavaScript, with
 * a <progress> element and "n of N messages" — and, once it is ready, the
 * download link. Every value from outside is escaped.
 */
import { ARCHIVE_METHODS, ARCHIVE_STATES, type RawSearch } from '../../archive/search.js';
import type { ExportJob } from './export-jobs.js';
import { e } from './layout.js';
import { SEARCH_FIELDS, select, when } from './pages-archive.js';

/** Seconds between reloads of a running export's page. */
export const REFRESH_SECONDS = 2;

const iso = (ms: number): string => when(new Date(ms).toISOString());

function mib(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KiB` : `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** Pure: a job's progress as one line of text. */
export function progressText(job: Pick<ExportJob, 'state' | 'content' | 'total' | 'done' | 'entries' | 'messages'>): string {
  if (job.state === 'done') return `${job.entries ?? 0} ${job.entries === 1 ? 'entry' : 'entries'}${job.content ? `, ${job.messages ?? 0} messages` : ', no message content'}: ready`;
  if (job.state === 'failed') return 'failed';
  if (job.total === undefined) return 'Selecting the entries\u2026';
  if (!job.content || job.total === 0) return 'Writing the metadata and evidence\u2026';
  return `${job.done} of ${job.total} messages`;
}

function jobLine(job: ExportJob): string {
  return `<li><a href="/export/${e(job.id)}">Export started ${e(iso(job.startedAt))}</a> \u2013 ${e(progressText(job))}</li>`;
}

export interface ExportFormView {
  readonly csrf: string;
  readonly raw: RawSearch;
  /** The role may export message content (auditor-content, admin). */
  readonly mayContent: boolean;
  /** The user's exports, newest first. */
  readonly jobs: readonly ExportJob[];
  readonly problem?: string | undefined;
}

export function exportFormPage(v: ExportFormView): { title: string; main: string } {
  const fields = SEARCH_FIELDS.map((f) => {
    const hintId = f.hint ? `h-${f.name}` : '';
    const value = typeof v.raw[f.name] === 'string' ? (v.raw[f.name] as string) : '';
    return `<div><label for="f-${f.name}">${e(f.label)}</label>${f.hint ? `<span class="hint" id="${hintId}">${e(f.hint)}</span>` : ''}<input class="field" type="text" id="f-${f.name}" name="${f.name}" maxlength="998" value="${e(value)}"${f.hint ? ` aria-describedby="${hintId}"` : ''}></div>`;
  }).join('');
  const content = v.mayContent
    ? // not ticked until chosen: the least an export needs is its metadata and evidence (minimum necessary)
      '<div class="check"><input type="checkbox" id="content" name="content" value="yes" aria-describedby="content-hint"><label for="content">Include the messages (EML files) and their subjects</label></div><p class="hint" id="content-hint">Without them the export holds metadata and evidence only, as <code>--no-content</code>.</p>'
    : '<p class="note">Your role exports metadata and evidence only: no message content and no subjects (as <code>--no-content</code>).</p>';
  const jobs = v.jobs.length ? `<h2>Your exports</h2><ul>${v.jobs.map(jobLine).join('')}</ul>` : '';
  return {
    title: 'Export',
    main: [
      '<h1>Export evidence</h1>',
      '<p>The entries the filters select, with their per-recipient evidence (JSON and CSV), the audit chain segment that covers them and its signed checkpoints, in one ZIP signed with the gateway key: the same file as <code>sealgate archive export</code>, checked offline with <code>sealgate archive verify-export</code>. The export is recorded in the audit log with your name.</p>',
      v.problem ? `<div class="alert" role="alert"><p>${e(v.problem)}</p></div>` : '',
      '<form method="post" action="/export" class="card">',
      `<input type="hidden" name="csrf" value="${e(v.csrf)}">`,
      '<fieldset class="filters"><legend>Filters (all optional: none exports every entry)</legend>',
      fields,
      select('method', 'Method', ARCHIVE_METHODS, v.raw.method),
      select('state', 'Recipient state', ARCHIVE_STATES, v.raw.state),
      '</fieldset>',
      content,
      '<button type="submit">Start the export</button>',
      '</form>',
      jobs,
    ].join(''),
  };
}

/** A job's page: progress while it runs (the caller makes it reload), the download link when done, the reason when it failed. */
export function exportJobPage(job: ExportJob, keepMs: number): { title: string; main: string } {
  const head = `<p><a href="/export">Back to the export form</a></p><h1>Export started ${e(iso(job.startedAt))}</h1>`;
  if (job.state === 'failed') {
    return { title: 'Export failed', main: `${head}<div class="alert" role="alert"><p>The export failed: ${e(job.problem ?? 'unknown reason')}</p></div><p><a href="/export">Start another export</a></p>` };
  }
  if (job.state === 'done') {
    const removeAt = iso((job.finishedAt ?? job.startedAt) + keepMs);
    return {
      title: 'Export ready',
      main: [
        head,
        '<section class="card" aria-labelledby="ready-h">',
        '<h2 id="ready-h">Ready</h2>',
        `<p role="status">${e(progressText(job))}.</p>`,
        '<dl class="meta">',
        `<dt>Size</dt><dd>${e(mib(job.bytes))} (${job.bytes} bytes)</dd>`,
        `<dt>Manifest SHA-256</dt><dd><code>${e(job.manifestSha256 ?? '')}</code></dd>`,
        `<dt>Available until</dt><dd>${e(removeAt)}, or until downloaded: the file is removed from the gateway after one download</dd>`,
        '</dl>',
        `<p><a class="button" href="/export/${e(job.id)}/download">Download the export (ZIP)</a></p>`,
        '<p class="hint">Check it with <code>sealgate archive verify-export FILE.zip</code>, or by hand (docs/archive.md, "Exporting evidence").</p>',
        '</section>',
      ].join(''),
    };
  }
  const determinate = job.content && job.total !== undefined && job.total > 0;
  const bar = determinate
    ? `<progress id="export-progress" max="${job.total ?? 0}" value="${job.done}" aria-describedby="export-status">${job.done} of ${job.total ?? 0}</progress>`
    : '<progress id="export-progress" aria-describedby="export-status"></progress>';
  return {
    title: 'Export running',
    main: [
      head,
      '<section class="card" aria-labelledby="progress-h">',
      '<h2 id="progress-h">Running</h2>',
      '<label for="export-progress">Messages written</label>',
      bar,
      `<p id="export-status" role="status">${e(progressText(job))}${job.bytes > 0 ? ` (${e(mib(job.bytes))} so far)` : ''}</p>`,
      `<p class="hint">This page reloads itself every ${REFRESH_SECONDS} seconds. You may leave it: the export goes on, and the export form links to it.</p>`,
      '</section>',
    ].join(''),
  };
}
