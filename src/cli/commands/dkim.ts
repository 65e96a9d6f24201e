/**
 * `sealgate dkim keygen DOMAIN --selector S --out FILE`: a DKIM signing key
 * and the DNS TXT record that publishes it (docs/dkim.md). Needs no config.
 */
import type { Command } from 'commander';
import { dkimDomain, dkimSelector } from '../../dkim/config-schema.js';
import { zoneLine } from '../../dkim/dns-record.js';
import { dkimKeygen, RSA_BITS, type KeygenAlgorithm } from '../../dkim/keygen.js';
import { CliExit, EXIT_FAILURE, EXIT_USAGE } from '../context.js';

interface KeygenOptions {
  selector: string;
  out: string;
  algorithm: string;
  bits?: string;
  json?: boolean;
}

export function registerDkim(program: Command): void {
  const dkim = program.command('dkim').description('DKIM signing keys (docs/dkim.md)');
  dkim
    .command('keygen')
    .description('write a new DKIM private key (mode 0600, never overwriting) and print the DNS TXT record to publish')
    .argument('<domain>', 'signing domain (d=), e.g. example.org')
    .requiredOption('--selector <selector>', 'selector (s=): the record goes at <selector>._domainkey.<domain>')
    .requiredOption('--out <file>', 'file for the private key (must not exist)')
    .option('--algorithm <algorithm>', 'rsa (rsa-sha256, read by every receiver) or ed25519 (ed25519-sha256, RFC 8463; add it beside an RSA key)', 'rsa')
    .option('--bits <bits>', `RSA key size: ${RSA_BITS.join(', ')} (default 2048)`)
    .option('--json', 'print the file, algorithm and record as JSON')
    .action(async (domainArg: string, opts: KeygenOptions) => {
      const domain = dkimDomain.safeParse(domainArg);
      if (!domain.success) throw new CliExit(EXIT_USAGE, `domain "${domainArg}": ${domain.error.issues[0]?.message ?? 'invalid'}`);
      const selector = dkimSelector.safeParse(opts.selector);
      if (!selector.success) throw new CliExit(EXIT_USAGE, `--selector "${opts.selector}": ${selector.error.issues[0]?.message ?? 'invalid'}`);
      if (opts.algorithm !== 'rsa' && opts.algorithm !== 'ed25519') throw new CliExit(EXIT_USAGE, `--algorithm "${opts.algorithm}": expected rsa or ed25519`);
      const algorithm: KeygenAlgorithm = opts.algorithm;
      if (algorithm === 'ed25519' && opts.bits !== undefined) throw new CliExit(EXIT_USAGE, '--bits applies to RSA keys only (an Ed25519 key has a fixed size)');
      const bits = opts.bits === undefined ? 2048 : Number(opts.bits);
      if (!(RSA_BITS as readonly number[]).includes(bits)) throw new CliExit(EXIT_USAGE, `--bits "${opts.bits ?? ''}": expected one of ${RSA_BITS.join(', ')} (2048 recommended)`);
      let result;
      try {
        result = await dkimKeygen({ domain: domain.data, selector: selector.data, file: opts.out, algorithm, bits });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') throw new CliExit(EXIT_USAGE, `${opts.out} exists already; keys are never overwritten: choose another --out (and a new --selector to rotate keys)`);
        throw new CliExit(EXIT_FAILURE, `cannot write ${opts.out}: ${code ?? (err as Error).message}`);
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ keyFile: result.file, algorithm: result.algorithm, bits: result.bits, domain: domain.data, selector: selector.data, record: result.record })}\n`);
        return;
      }
      const kind = result.algorithm === 'rsa' ? `RSA ${result.bits}-bit` : 'Ed25519';
      process.stdout.write(
        [
          `wrote ${result.file} (${kind} private key, mode 0600)`,
          'publish this DNS TXT record:',
          `name: ${result.record.name}`,
          `value: ${result.record.value}`,
          `zone file: ${zoneLine(result.record)}`,
          `then add to the config under dkim.keys: { domain: ${domain.data}, selector: ${selector.data}, keyFile: ${result.file} }`,
          '',
        ].join('\n'),
      );
    });
}
