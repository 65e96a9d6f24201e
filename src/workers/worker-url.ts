/**
 * Where a worker thread's script is. Compiled (dist/…/x.js) it is the
 * sibling .js file. When the caller runs from its TypeScript source (the
 * test runner imports src/…/x.ts), Node cannot start a .ts worker, so the
 * compiled copy under dist/ is used: `npm test` builds first (pretest).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function workerUrl(importMetaUrl: string, basename: string): URL {
  const here = fileURLToPath(importMetaUrl);
  if (here.endsWith('.js')) return new URL(`./${basename}.js`, importMetaUrl);
  const at = here.lastIndexOf('/src/');
  const compiled = at >= 0 ? `${here.slice(0, at)}/dist/${here.slice(at + 5).replace(/[^/]*$/, '')}${basename}.js` : '';
  if (!compiled || !existsSync(compiled)) throw new Error(`worker script ${basename}.js not found: run "npm run build" first`);
  return pathToFileURL(compiled);
}
