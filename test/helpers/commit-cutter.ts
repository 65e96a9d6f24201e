/**
 * A loopback TCP proxy in front of a PostgreSQL server that can lose one
 * COMMIT's answer: once armed with a marker, the next client packet that
 * carries both the marker and a COMMIT is passed on to the server (which
 * runs it and commits), and the client's side of that connection is then
 * cut, so the client never hears the answer. Every other byte is passed on
 * unchanged, both ways. The marker is text of the transaction's last query
 * (PostgresDatabase sends the work deferred to the commit, e.g. the audit
 * rows, with the COMMIT in one simple query).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface CommitCutter {
  readonly port: number;
  /** Cut the next connection whose packet carries `marker` and a COMMIT; resolves once one was cut. */
  cutNextCommit(marker: string): Promise<void>;
  readonly cuts: number;
  close(): Promise<void>;
}

export async function startCommitCutter(target: { host: string; port: number }): Promise<CommitCutter> {
  const sockets = new Set<Socket>();
  let armed: { marker: Buffer; done: () => void } | undefined;
  let cuts = 0;
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: target.host, port: target.port });
    sockets.add(client);
    sockets.add(upstream);
    const forget = (): void => {
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.on('close', () => {
      upstream.end();
      forget();
    });
    upstream.on('close', () => {
      client.destroy();
      forget();
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('data', (chunk: Buffer) => {
      const cut = armed;
      if (cut && chunk.includes(cut.marker) && chunk.includes('COMMIT')) {
        armed = undefined;
        cuts++;
        // the server gets the whole query and then the end of the stream: it commits, and its answer goes nowhere
        upstream.end(chunk);
        client.destroy();
        cut.done();
        return;
      }
      upstream.write(chunk);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the commit cutter has no port');
  return {
    port: address.port,
    get cuts() {
      return cuts;
    },
    cutNextCommit: (marker) => new Promise<void>((resolve) => {
      armed = { marker: Buffer.from(marker), done: resolve };
    }),
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
