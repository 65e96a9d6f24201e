/**
 * Debian's headless Chromium (/usr/bin/chromium), driven by playwright-core
 * (which downloads no browser). Outside CI a missing Chromium skips the
 * suites that need it, with a note; in CI (.ci/run installs it) it never
 * skips. Name resolution is mapped so that only loopback is reachable:
 * `localhost` and 127.0.0.1, nothing else.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

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
