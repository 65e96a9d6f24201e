/**
 * `sealgate init DIR`: a starter installation in DIR — sealgate.yaml with
 * absolute paths, a development CA and server certificate, a master key and
 * the data directory. Refuses to overwrite an existing config.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfigText } from '../../config/load.js';
import { loadOrCreateMasterKey } from '../../crypto/keyring.js';
import { ensureDevCertificates } from '../../tls/dev-certs.js';
import { CliExit, EXIT_USAGE } from '../context.js';

export function starterConfig(dir: string, hostname: string): string {
  return `# Sealgate configuration, created by "sealgate init".
# Every key is documented in config/sealgate.example.yaml of the Sealgate
# distribution. Check changes with: sealgate -c ${join(dir, 'sealgate.yaml')} config check
dataDir: ${JSON.stringify(join(dir, 'data'))}
hostname: ${JSON.stringify(hostname)}
log:
  level: info
smtp:
  listeners:
    - name: relay
      host: 127.0.0.1
      port: 2525
      tls: starttls
      # development certificate made by init: replace with a CA-issued chain
      # whose name matches the smart host name your M365 connector uses
      certFile: ${JSON.stringify(join(dir, 'certs', 'server.crt'))}
      keyFile: ${JSON.stringify(join(dir, 'certs', 'server.key'))}
connectors:
  - name: loopback
    kind: generic
    allowIps: ["127.0.0.0/8", "::1/128"]
    senderDomains: ["example.com"]
    requireTls: true
  # Exchange Online outbound connector (docs/m365.md); without allowIps the
  # published Microsoft 365 ranges apply (config/ranges/m365.yaml):
  # - name: m365
  #   kind: m365
  #   senderDomains: ["example-hospital.org"]
  #   clientCertNames: ["*.mail.protection.outlook.com"]
keys:
  masterKeyFile: ${JSON.stringify(join(dir, 'keys', 'master.key'))}
`;
}

export function registerInit(program: Command): void {
  program
    .command('init <dir>')
    .description('create a starter config, development CA and certificate, and master key in DIR')
    .option('--hostname <name>', 'name for the greeting and the certificate', osHostname())
    .action(async (dirArg: string, opts: { hostname: string }) => {
      const dir = resolve(dirArg);
      const configFile = join(dir, 'sealgate.yaml');
      if (existsSync(configFile)) throw new CliExit(EXIT_USAGE, `${configFile} already exists: remove it first or choose another directory`);
      await mkdir(join(dir, 'data'), { recursive: true, mode: 0o700 });
      const text = starterConfig(dir, opts.hostname);
      parseConfigText(text, configFile); // never write a config we would refuse
      const certs = await ensureDevCertificates({
        certFile: join(dir, 'certs', 'server.crt'),
        keyFile: join(dir, 'certs', 'server.key'),
        caDir: join(dir, 'certs'),
        hostnames: [...new Set([opts.hostname.toLowerCase(), 'localhost'])],
        ipAddresses: ['127.0.0.1', '::1'],
      });
      const key = await loadOrCreateMasterKey(join(dir, 'keys', 'master.key'), { create: true });
      await writeFile(configFile, text, { mode: 0o600, flag: 'wx' });
      process.stdout.write(
        [
          `created ${configFile}`,
          `created development CA ${certs.caCertFile} (trust it in test clients only)`,
          `created certificate ${join(dir, 'certs', 'server.crt')}`,
          `created master key ${join(dir, 'keys', 'master.key')} (key id ${key.id}); back it up: without it the spool cannot be read`,
          `start with: sealgate -c ${configFile} start`,
          '',
        ].join('\n'),
      );
    });
}
