/**
 * Answer clients that half-close. Exim, when the server offers CHUNKING,
 * pipelines "BDAT n LAST", the data and QUIT, then shuts its side of the TCP
 * connection down (FIN) and waits for the replies. smtp-server writes a reply
 * only while the socket's readyState is 'open', and a half-closed socket is
 * 'writeOnly': the replies, including the 250 for the message, would be
 * dropped and Exim would defer every message. The listener sockets are
 * created with allowHalfOpen, and this makes such a socket still count as
 * open for writing (the one place smtp-server looks at readyState).
 */
import type { Socket } from 'node:net';

function readyStateGetter(socket: Socket): (() => string) | undefined {
  for (let proto: object | null = Object.getPrototypeOf(socket) as object | null; proto; proto = Object.getPrototypeOf(proto) as object | null) {
    const desc = Object.getOwnPropertyDescriptor(proto, 'readyState');
    if (desc?.get) return desc.get as () => string;
  }
  return undefined;
}

export function answerAfterHalfClose(socket: Socket): void {
  const original = readyStateGetter(socket);
  if (!original || Object.hasOwn(socket, 'readyState')) return;
  Object.defineProperty(socket, 'readyState', {
    configurable: true,
    get(this: Socket) {
      const state = original.call(this);
      return state === 'writeOnly' ? 'open' : state;
    },
  });
}
