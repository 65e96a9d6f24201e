/**
 * Export jobs over the console's real HTTPS server with an injected clock:
 * a finished export (here one that failed: an empty archive selects
 * nothing) stays on its page until 4 hours after it finished, then the
 * sweep removes it; an export's page is its owner's only; the export pages
 * need a signed-in user and the form's CSRF token.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EXPORT_LIMITS } from '../../src/console/http/export-jobs.js';
import { until } from '../helpers/wait.js';
import { csrfOf, PASSWORD, startConsoleWebTest, type Client, type ConsoleWebTest } from './console-web-helper.js';

let t: ConsoleWebTest;
let cora: Client;
let ann: Client;
let coraSecret: Buffer;

beforeAll(async () => {
  t = await startConsoleWebTest({ signInsPerMinute: 1000 });
  coraSecret = await t.addUser('cora', 'auditor-content');
  const annSecret = await t.addUser('ann', 'auditor');
  cora = t.client();
  expect((await cora.signIn('cora', PASSWORD, t.code(coraSecret))).status).toBe(303);
  ann = t.client();
  expect((await ann.signIn('ann', PASSWORD, t.code(annSecret))).status).toBe(303);
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe('export jobs', () => {
  it('without a session the export pages lead to sign-in; a POST needs the CSRF token', async () => {
    const anon = t.client();
    expect((await anon.get('/export')).headers.location).toBe('/sign-in');
    expect((await anon.post('/export', { csrf: 'x' })).headers.location).toBe('/sign-in');
    expect((await cora.post('/export', { csrf: 'forged' })).status).toBe(403);
  });

  it('a finished export stays on its page for 4 hours, for its owner only, then the sweep removes it', async () => {
    const form = await cora.get('/export');
    const started = await cora.post('/export', { csrf: csrfOf(form.body) });
    expect(started.status).toBe(303);
    const path = String(started.headers.location);
    const page = await until('the export finished', async () => {
      const p = await cora.get(path);
      return p.body.includes('http-equiv="refresh"') ? undefined : p;
    });
    // an empty archive: nothing to export
    expect(page.body).toContain('no archive entry matches the search');
    expect((await ann.get(path)).status).toBe(404);
    expect((await cora.get('/export')).body).toContain(`href="${path}"`);
    // hours later the session is over: the same user signs in again and finds the export
    t.clock += DEFAULT_EXPORT_LIMITS.keepMs - 60_000;
    const later = t.client();
    expect((await later.signIn('cora', PASSWORD, t.code(coraSecret))).status).toBe(303);
    expect((await later.get(path)).status).toBe(200);
    t.clock += 60_000;
    // the export form sweeps
    expect((await later.get('/export')).body).not.toContain(`href="${path}"`);
    expect((await later.get(path)).status).toBe(404);
    expect(await readdir(join(t.dir, 'exports'))).toEqual([]);
  }, 30_000);
});
