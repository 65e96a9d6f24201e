/**
 * Issue 18, part 6, on the real daemon: bombs sent over SMTP (nested zips,
 * 1,000-page PDFs, a large base64 part) followed by one small clean message.
 * The bombs are still handled safely (every one not fully scanned), the
 * clean message's verdict comes before the bombs are done (the order of the
 * MESSAGE_INSPECTED log lines, not elapsed time), and the thread that ran
 * the large message is replaced (INSPECTION_THREAD_RECYCLED).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';
import { dataPayload, queueIdOf, RawSmtp } from '../helpers/smtp-client.js';
import { until } from '../helpers/wait.js';
import { base64Bomb, cleanMessage, nestedZipBomb, pdfBomb } from '../fixtures/bombs.js';

let setup: TestSetup;
let gw: RunningGateway;

beforeAll(async () => {
  setup = await setupGateway({
    connectors: [{ name: 'loopback', kind: 'generic', allowIps: ['127.0.0.1/32'], senderDomains: ['example.com'], requireTls: false }],
    extra: { inspection: { enabled: true, threads: 1, smallMessageThreads: 1, burstThreads: 0, recycleSize: 4 * 1024 * 1024, threadMemory: 512 } },
  });
  gw = await startGateway(setup.configPath);
});

afterAll(async () => {
  await gw?.stop();
  await setup?.cleanup();
});

describe('bombs over SMTP, then a clean message', () => {
  it('the clean verdict comes before the bombs are done; every bomb is not fully scanned; the large one’s thread is replaced', async () => {
    const bombs = [nestedZipBomb(), pdfBomb(), base64Bomb(6 * 1024 * 1024), nestedZipBomb(), pdfBomb(), nestedZipBomb(), pdfBomb()];
    const { client } = await RawSmtp.connect(gw.port);
    await client.command('EHLO client.test');
    const send = async (bytes: Buffer): Promise<string> => {
      await client.command('MAIL FROM:<alice@example.com>');
      await client.command('RCPT TO:<bob@partner.test>');
      const id = queueIdOf(await client.data(dataPayload(bytes)));
      if (!id) throw new Error('message not accepted');
      return id;
    };
    const bombIds: string[] = [];
    for (const b of bombs) bombIds.push(await send(b));
    const cleanId = await send(cleanMessage());
    await client.quit();

    const inspected = (): { queueId: string; notFullyScanned: boolean }[] =>
      gw
        .logLines()
        .filter((l) => l.event === 'MESSAGE_INSPECTED')
        .map((l) => ({ queueId: String(l.queueId), notFullyScanned: l.notFullyScanned === true }));
    await until('every message inspected', () => inspected().length === bombs.length + 1, { timeoutMs: 300_000, context: () => gw.stdout.slice(-2000) });
    const order = inspected().map((l) => l.queueId);
    // before the last bomb (the old inspector took messages in arrival order, four at a time: the clean one came last)
    expect(order.indexOf(cleanId)).toBeLessThan(Math.max(...bombIds.map((id) => order.indexOf(id))));
    expect(inspected().find((l) => l.queueId === cleanId)?.notFullyScanned).toBe(false);
    expect(inspected().filter((l) => bombIds.includes(l.queueId)).every((l) => l.notFullyScanned)).toBe(true);
    expect(gw.logLines().some((l) => l.event === 'INSPECTION_THREAD_RECYCLED' && l.reason === 'large message')).toBe(true);
    expect(gw.logLines().some((l) => l.event === 'INSPECTION_FAILED')).toBe(false);
  });
});
