/**
 * `sealgate connectors refresh [--out FILE]`: resolves _spf.google.com and its
 * _netblocks* includes through dns.servers and writes the Workspace ranges
 * file (docs/connectors.md, "Refreshing the data files"). The file is written
 * whole or not at all (temporary file, then rename), so a failed lookup
 * never leaves a connector with half the ranges.
 */
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { createResolver } from '../../delivery/dns.js';
import { formatRangesFile } from '../../config/presets.js';
import { collectSpfRanges } from '../../config/spf-ranges.js';
import { CliExit, EXIT_FAILURE, loadForCommand } from '../context.js';

export const WORKSPACE_SPF_ROOT = '_spf.google.com';

export function registerConnectors(program: Command): void {
  const connectors = program.command('connectors').description('connector presets (docs/connectors.md)');
  connectors
    .command('refresh')
    .description(`resolve ${WORKSPACE_SPF_ROOT} and its _netblocks* includes (through dns.servers) and write the Google Workspace ranges file`)
    .option('--out <file>', 'write the ranges file here (default: standard output)')
    .action(async (opts: { out?: string }, cmd: Command) => {
      const { config } = loadForCommand(cmd);
      const resolver = createResolver({ servers: config.dns.servers });
      let found;
      try {
        found = await collectSpfRanges(WORKSPACE_SPF_ROOT, (name) => resolver.txt(name));
      } catch (err) {
        throw new CliExit(EXIT_FAILURE, `cannot read Google's ranges: ${(err as Error).message}; check dns.servers, nothing was written`);
      }
      const text = formatRangesFile({
        provider: 'workspace',
        source: `dns:${found.names.join(', ')}; https://support.google.com/a/answer/60764`,
        retrieved: new Date().toISOString().slice(0, 10),
        ranges: found.ranges,
      });
      if (opts.out === undefined) {
        process.stdout.write(text);
        return;
      }
      const tmp = `${opts.out}.${randomBytes(4).toString('hex')}.tmp`;
      try {
        await writeFile(tmp, text, { mode: 0o644 });
        await rename(tmp, opts.out);
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        throw new CliExit(EXIT_FAILURE, `cannot write ${opts.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      process.stdout.write(`wrote ${opts.out}: ${found.ranges.length} ranges from ${found.names.join(', ')}; point the workspace connector's rangesFile at it and reload (kill -HUP)\n`);
    });
}
