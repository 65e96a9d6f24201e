/**
 * Real peers (swaks, Postfix tools, openssl, sqlite3). A missing binary skips
 * the calling test on a developer machine but fails it under CI=true, where
 * .ci/run installs them: a skip there would hide a broken install.
 */
import { execFileSync } from 'node:child_process';

const found = new Map<string, boolean>();

export function haveTool(name: string): boolean {
  if (!found.has(name)) {
    let ok = true;
    try {
      execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    } catch {
      ok = false;
    }
    found.set(name, ok);
  }
  return found.get(name) ?? false;
}

/** Call at the start of a test that needs the tool: `requireTool(ctx, 'swaks')`. */
export function requireTool(ctx: { skip: (note?: string) => void }, name: string): void {
  if (haveTool(name)) return;
  if (process.env.CI === 'true') throw new Error(`${name} is not installed; .ci/run should have installed it`);
  ctx.skip(`${name} not installed`);
}
