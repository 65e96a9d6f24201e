/**
 * SIGHUP against a real daemon: delivery.enabled applies at once (the engine
 * stops, accepted mail stays queued, and starts again), and a key that only a
 * restart can apply (a listener's port) keeps its running value and is
 * reported by path in a warning and in the config:reloaded audit event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents, setupGateway, startGateway, type RunningGateway, type TestConfigOptions, type TestSetup } from '../helpers/gateway.js';
import { startDnsZone, type DnsZone } from '../helpers/dns-zone.js';
import { startMxServer, type MxServer } from '../helpers/mx-server.js';
import { sendMessage } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';

let setup: TestSetup;
let gw: RunningGateway;
let relay: MxServer;
let zone: DnsZone;

function options(deliveryEnabled: boolean, listenerPort: number): TestConfigOptions {
  return {
    listener: { port: listenerPort },
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: {
      // an empty zone: nothing is looked up outside loopback
      dns: { servers: [zone.server] },
      delivery: { enabled: deliveryEnabled, smarthost: { host: '127.0.0.14', port: relay.port, requirement: 'none' } },
    },
  };
}

async function reloadWith(o: TestConfigOptions): Promise<Record<string, unknown>> {
  const from = gw.logLines().length;
  await setup.writeConfig(o);
  gw.signal('SIGHUP');
  return (await gw.waitForEvent('CONFIG_RELOADED', 30_000, from)) as unknown as Record<string, unknown>;
}

beforeAll(async () => {
  relay = await startMxServer({ ip: '127.0.0.14', port: 0 });
  zone = await startDnsZone([]);
  setup = await setupGateway();
  await setup.writeConfig(options(true, 0));
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await relay?.close();
  await zone?.close();
  await setup?.cleanup();
});

describe('SIGHUP: apply or report every change', () => {
  it('delivery.enabled: false stops delivery; a listener port change is reported as needing a restart', async () => {
    const port = gw.port;
    const from = gw.logLines().length;
    const reloaded = await reloadWith(options(false, 1));
    expect(reloaded.restartNeeded).toEqual(['smtp.listeners[0].port']);
    expect(reloaded.applied).toEqual(['delivery.enabled']);
    const warning = await gw.waitForEvent('CONFIG_RESTART_NEEDED', 30_000, from);
    expect(warning).toMatchObject({ level: 40, paths: ['smtp.listeners[0].port'] });
    await gw.waitForEvent('DELIVERY_STOPPED', 30_000, from);
    const audited = (await auditEvents(setup.configPath)).filter((e) => e.type === 'config:reloaded');
    expect(audited.at(-1)?.data).toMatchObject({ trigger: 'SIGHUP', restartNeeded: ['smtp.listeners[0].port'] });

    // the listener keeps running on its port; mail is accepted and stays queued
    const id = await sendMessage(port, 'alice@example.com', ['bob@nowhere.test'], 'From: alice@example.com\r\nSubject: held by reload\r\n\r\nbody-reload-1\r\n');
    expect(id).toMatch(/^[0-9A-Z]{20}$/);
    // archived is the last step before delivery: from here a running engine would take it
    await until('the message archived', async () => (await auditEvents(setup.configPath)).some((e) => e.type === 'archive:record' && JSON.stringify(e.data).includes(id)));
    expect(gw.logLines().slice(from).filter((l) => l.event === 'DELIVERY_STARTED')).toEqual([]);

    // delivery.enabled: true starts the engine again and the queued message goes out
    const from2 = gw.logLines().length;
    const again = await reloadWith(options(true, 1));
    expect(again.applied).toEqual(['delivery.enabled']);
    expect(again.restartNeeded).toEqual(['smtp.listeners[0].port']);
    await gw.waitForEvent('DELIVERY_STARTED', 30_000, from2);
    await until('the queued message delivered', () => relay.received.some((m) => m.body.includes('body-reload-1')));
  });

  it('a reload without changes applies nothing and needs no restart', async () => {
    const from = gw.logLines().length;
    const reloaded = await reloadWith(options(true, 0));
    // the running port is still the start-time 0, so going back to 0 is no change at all
    expect(reloaded).toMatchObject({ applied: [], restartNeeded: [] });
    expect(gw.logLines().slice(from).filter((l) => l.event === 'CONFIG_RESTART_NEEDED')).toEqual([]);
  });
});
