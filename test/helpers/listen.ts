/** Starting and stopping the loopback HTTP(S) test servers. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on `ip` (port 0: any free one); gives the port and a close that also drops kept-alive connections. */
export async function listenOn(server: Server, ip: string, port = 0): Promise<{ port: number; close: () => Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ip, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
