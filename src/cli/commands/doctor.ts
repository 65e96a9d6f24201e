/**
 * `sealgate doctor [--json]`: the config, certificates and keys, file
 * permissions, listeners, free disk, the resolver and the DNS of the
 * organisation's sending domains, one line each with the fix for every
 * problem (docs/deployment.md). Exit 0 only when nothing failed.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { createResolver } from '../../delivery/dns.js';
import { gatewayHostname } from '../../runtime/stores.js';
import { loadTrustedCas } from '../../delivery/engine.js';
import { doctorExitCode, fail, formatChecklist, type DoctorCheck } from '../../doctor/check.js';
import { runDoctor } from '../../doctor/doctor.js';
import { CliExit, loadForCommand } from '../context.js';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the config, certificates, keys, permissions, listeners, disk and DNS; one line per check with the fix; exit 1 when any failed')
    .option('--json', 'the checks as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      let checks: DoctorCheck[];
      try {
        const loaded = loadForCommand(cmd);
        const config = loaded.config;
        checks = await runDoctor({
          config,
          configSource: loaded.path ?? 'the embedded default',
          hostname: gatewayHostname(config),
          resolver: createResolver({ servers: config.dns.servers }),
          trustedCas: await loadTrustedCas(config.tls.trustedCaFiles.map((f) => resolve(f))),
          now: Date.now(),
        });
      } catch (err) {
        checks = [fail('config', (err as Error).message.replace(/\s*\n\s*/g, ' '), 'correct the file (sealgate config check shows every problem), then run doctor again')];
      }
      const code = doctorExitCode(checks);
      process.stdout.write(opts.json ? `${JSON.stringify({ ok: code === 0, checks })}\n` : formatChecklist(checks));
      if (code !== 0) throw new CliExit(code, `${checks.filter((c) => c.status === 'fail').length} check(s) failed`);
    });
}
