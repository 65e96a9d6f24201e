/**
 * Install-time settings: npm must not warn about a project config key it does
 * not know (a new user sees that warning on every command), and sqlite3's
 * installer must still be told to compile from source, never to download a
 * prebuilt binary from GitHub (README, "Dependencies and why").
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The environment of a user's shell: no npm_config_* inherited from an npm that started the tests. */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

describe('install settings', () => {
  it('npm reads the project config without an "Unknown project config" warning', () => {
    const r = spawnSync('npm', ['pkg', 'get', 'name'], { cwd: root, env: userEnv(), encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('"sealgate"');
    expect(r.stderr).not.toMatch(/Unknown (project|env|user|cli) config/);
  });

  it('prebuild-install, as sqlite3 runs it inside this project, is told to build from source', () => {
    // sqlite3's install script runs in <project>/node_modules/sqlite3; prebuild-install looks for
    // .prebuild-installrc from there upwards, so the same layout is made inside the checkout
    const scratch = mkdtempSync(join(root, '.install-test-'));
    try {
      const pkgDir = join(scratch, 'node_modules', 'sqlite3');
      mkdirSync(pkgDir, { recursive: true });
      copyFileSync(join(root, 'node_modules/sqlite3/package.json'), join(pkgDir, 'package.json'));
      const script = `const rc = require(${JSON.stringify(join(root, 'node_modules/prebuild-install/rc.js'))}); console.log(JSON.stringify({ buildFromSource: rc(require('./package.json')).buildFromSource }))`;
      const r = spawnSync(process.execPath, ['-e', script], { cwd: pkgDir, env: userEnv(), encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ buildFromSource: true });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
