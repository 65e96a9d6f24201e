/** `sealgate config check`: validate and print the effective config, secrets redacted. */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { redactConfig } from '../../config/load.js';
import { connectorRanges } from '../../config/presets.js';
import { loadForCommand } from '../context.js';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('inspect the configuration');
  config
    .command('check')
    .description('validate the config and print the effective values (defaults filled in, secrets redacted); exit 2 when invalid')
    .action((_opts: unknown, cmd: Command) => {
      const loaded = loadForCommand(cmd);
      // the preset ranges files are read at start and reload: a bad one must fail here too, not only there
      for (const c of loaded.config.connectors) connectorRanges(c);
      const origin = loaded.source === 'file' ? loaded.path : 'embedded default (no config file found)';
      process.stdout.write(`# config OK: ${origin}\n${stringify(redactConfig(loaded.config))}`);
    });
}
