/**
 * The two scripts of the portal's passkey pages, both served from our own
 * origin (no CDN) with a content version in the URL, so they can be cached
 * for a year:
 *
 *   /static/simplewebauthn-browser.js?v=…  @simplewebauthn/browser's own UMD
 *       bundle, read from node_modules at start, unchanged (MIT licence);
 *   /static/passkey.js?v=…  our glue: an ES module that imports the bundle
 *       (which sets globalThis.SimpleWebAuthnBrowser), finds the one
 *       element with data-passkey="register" or "login", and drives the
 *       ceremony: options → the browser's passkey dialog → verify.
 *
 * A page loads only /static/passkey.js (`<script type="module">`). The glue
 * takes everything from the element's data-* attributes (URLs, the CSRF
 * token, the wording from strings.ts): no inline script, no event handler
 * attributes, and it writes only textContent and `hidden`. It is plain
 * JavaScript in a string because the project compiles without the DOM
 * library; test/portal/passkey-browser.test.ts runs it in Chromium.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SealgateError } from '../../errors.js';

export interface StaticScript {
  readonly body: string;
  /** Short content hash: the URL's `v`. */
  readonly version: string;
  /** `/static/<name>.js?v=<version>` */
  readonly href: string;
}

export interface PasskeyScripts {
  readonly library: StaticScript;
  readonly glue: StaticScript;
}

const versionOf = (body: string) => createHash('sha256').update(body).digest('hex').slice(0, 12);

function staticScript(name: string, body: string): StaticScript {
  const version = versionOf(body);
  return { body, version, href: `/static/${name}.js?v=${version}` };
}

/** Pure: the glue module, importing the library at `libraryHref`. */
export function passkeyGlue(libraryHref: string): string {
  return `// Sealgate secure portal: passkey set-up and sign-in (docs/portal.md, "Passkeys").
import ${JSON.stringify(libraryHref)};

class ServerError extends Error {}

const lib = globalThis.SimpleWebAuthnBrowser;
const root = document.querySelector('[data-passkey]');
if (root && lib) setUp(root);

function show(el, text) {
  if (!el) return;
  el.textContent = text;
  el.hidden = text === '';
}

async function post(url, csrf, body, fallback) {
  let res;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch {
    throw new ServerError(fallback);
  }
  let data = {};
  try {
    data = await res.json();
  } catch {
    data = {};
  }
  if (!res.ok) throw new ServerError(data && typeof data.error === 'string' ? data.error : fallback);
  return data;
}

function setUp(root) {
  const d = root.dataset;
  const register = d.passkey === 'register';
  const start = root.querySelector('[data-passkey-start]');
  const ready = root.querySelector('[data-passkey-ready]');
  const status = root.querySelector('[data-passkey-status]');
  const error = root.querySelector('[data-passkey-error]');
  const done = root.querySelector('[data-passkey-done]');
  const nojs = root.querySelector('[data-passkey-nojs]');
  if (!start) return;
  if (!lib.browserSupportsWebAuthn()) {
    // the set-up page says why; the sign-in block simply stays hidden
    if (nojs) nojs.textContent = d.msgUnsupported || '';
    return;
  }
  if (nojs) nojs.hidden = true;
  if (ready) ready.hidden = false;
  root.hidden = false;
  start.addEventListener('click', async () => {
    start.disabled = true;
    show(error, '');
    show(status, d.msgWorking || '');
    try {
      const options = await post(d.options, d.csrf, {}, d.msgFailed);
      if (register) {
        const answer = await lib.startRegistration({ optionsJSON: options });
        await post(d.verify, d.csrf, answer, d.msgFailed);
        show(status, '');
        if (ready) ready.hidden = true;
        if (done) {
          done.hidden = false;
          done.focus();
        }
        return;
      }
      const answer = await lib.startAuthentication({ optionsJSON: options });
      const result = await post(d.verify, d.csrf, answer, d.msgFailed);
      show(status, d.msgSignedIn || '');
      const next = result && typeof result.redirect === 'string' && /^\\/m\\/[A-Za-z0-9_-]{43}$/.test(result.redirect) ? result.redirect : d.next;
      window.location.assign(next);
      return;
    } catch (err) {
      const name = err && err.name;
      show(status, '');
      show(
        error,
        err instanceof ServerError
          ? err.message
          : name === 'NotAllowedError' || name === 'AbortError'
            ? d.msgCancelled
            : name === 'InvalidStateError' && d.msgExists
              ? d.msgExists
              : d.msgFailed,
      );
    }
    start.disabled = false;
  });
}
`;
}

/** Where @simplewebauthn/browser's UMD bundle is installed. */
export function libraryBundlePath(): string {
  const require = createRequire(import.meta.url);
  // the package exports only its entry points: its CommonJS entry is <package>/script/index.js
  return join(dirname(require.resolve('@simplewebauthn/browser')), '..', 'dist', 'bundle', 'index.umd.min.js');
}

/** Reads the library bundle and builds the glue; a missing bundle is a start-up error (the package is a dependency). */
export async function loadPasskeyScripts(path = libraryBundlePath()): Promise<PasskeyScripts> {
  let bundle: string;
  try {
    bundle = await readFile(path, 'utf8');
  } catch (err) {
    throw new SealgateError('SG_CONFIG_INVALID', {
      message: `portal: cannot read the passkey script ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}): reinstall the dependencies (npm ci)`,
      cause: err,
    });
  }
  const library = staticScript('simplewebauthn-browser', bundle);
  return { library, glue: staticScript('passkey', passkeyGlue(library.href)) };
}
