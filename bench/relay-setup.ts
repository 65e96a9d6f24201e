/**
 * The gateway every end-to-end bench part runs (relay, latency, backlog,
 * stages): one cleartext listener for smtp-source, a connector for
 * example.com senders, DNS from the bench's zone, delivery to the sink's
 * port with the same concurrency as the Postfix it is compared with (20
 * attempts to the one destination: Postfix's
 * default_destination_concurrency_limit in run.ts and latency.ts; this was
 * 10 per domain until 2026-12-06), and the archive on unless
 * BENCH_ARCHIVE=off.
 */
import { setupGateway, type TestSetup } from '../test/helpers/gateway.js';

export function relayGatewaySetup(dnsServer: string, sinkPort: number, delivery: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<TestSetup> {
  return setupGateway({
    listeners: [{ name: 'relay', host: '127.0.0.1', port: 0, tls: 'none' }],
    connectors: [{ name: 'bench', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      log: { level: 'info', pretty: false },
      dns: { servers: [dnsServer] },
      delivery: { port: sinkPort, defaultRequirement: 'may', concurrency: 20, perDomainConcurrency: 20, ...delivery },
      // BENCH_ARCHIVE=off: the same run without the archive stage, to see what archiving costs end to end
      archive: { enabled: process.env.BENCH_ARCHIVE !== 'off' },
      ...extra,
    },
  });
}
