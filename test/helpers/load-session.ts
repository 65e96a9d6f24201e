/**
 * One SMTP session of a load test (the kill -9 durability, archive and
 * delivery crash tests, the two-node acceptance run): MAIL, RCPT and DATA on
 * one connection for each message `next()` gives, until it gives none or the
 * gateway dies under the session. A message is acknowledged only by a 250
 * carrying its queue id; a refused DATA leaves it unacknowledged and the
 * session goes on; a refused MAIL or RCPT, or a broken connection, ends it.
 */
import { dataPayload, queueIdOf, RawSmtp } from './smtp-client.js';

/** One message of a load: its envelope recipient and its text. */
export interface LoadItem {
  readonly rcpt: string;
  readonly message: string;
}

export async function loadSession<T extends LoadItem>(port: number, next: () => T | undefined, onAck: (item: T, queueId: string) => void, sender = 'alice@example.com'): Promise<void> {
  let c: RawSmtp;
  try {
    c = (await RawSmtp.connect(port)).client;
    await c.command('EHLO load.test');
  } catch {
    return;
  }
  for (;;) {
    const item = next();
    if (item === undefined) break;
    try {
      if ((await c.command(`MAIL FROM:<${sender}>`)).code !== 250) break;
      if ((await c.command(`RCPT TO:<${item.rcpt}>`)).code !== 250) break;
      const reply = await c.data(dataPayload(item.message));
      const id = queueIdOf(reply);
      if (reply.code === 250 && id) onAck(item, id);
    } catch {
      break; // the gateway died under us: this message was never acknowledged
    }
  }
  c.destroy();
}
