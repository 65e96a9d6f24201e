/**
 * Debian's headless Chromium (/usr/bin/chromium), driven by playwright-core
 * (which downloads no browser). Outside CI a missing Chromium skips the
 * suites that need it, with a note; in CI (.ci/run installs it) it never
 * skips. Name resolution is mapped so that only loopback is reachable:
 * `localhost` and 127.0.0.1, nothing else.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** The two screen sizes: every portal page is looked at on both. */
export const VIEWPORTS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desktop', width: 1280, height: 800 },
] as const;

/** Where the portal page screenshots go (a test artifact under reports/, not committed). */
export const PORTAL_SHOTS = join(process.cwd(), 'reports', 'screenshots', 'portal');

/** Run the suite: Chromium is here, or CI must fail loudly when it is not. */
export function chromiumWanted(file: string): boolean {
  const available = existsSync(CHROMIUM);
  if (!available && !process.env.CI) console.warn(`${file} skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
  return available || Boolean(process.env.CI);
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // no name resolves but localhost: nothing can leave loopback
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
    ],
  });
}

/**
 * Saves a full-page screenshot of `page` as `<dir>/<name>-<viewport>.png` (an artifact for a reader, not an
 * assertion). Chromium under load now and then answers "Unable to capture screenshot" for a page it has
 * drawn; that one error is asked again after the next animation frame, up to three times in all.
 */
export async function saveScreenshot(page: Page, dir: string, name: string, viewport: { name: string }): Promise<void> {
  const path = join(dir, `${name}-${viewport.name}.png`);
  for (let attempt = 1; ; attempt++) {
    try {
      await page.screenshot({ path, fullPage: true });
      return;
    } catch (error) {
      if (attempt >= 3 || !/Unable to capture screenshot/.test(String(error))) throw error;
      await page.evaluate('new Promise((done) => requestAnimationFrame(() => done(undefined)))');
    }
  }
}
