/**
 * What the service's own small HTTP servers share (the metrics, the web page, the receiver): listening where the
 * configuration says, with one clear error naming the variables when it cannot; the address it listens on; closing.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCodes, SyncError, errorMessage } from './errors.js';

/** Listens on host:port; a port taken or a host not ours is an E_USAGE error saying what to set (`variables`). */
export async function listenOn(
  server: Server,
  where: { port: number; host: string },
  what: string,
  variables: string,
): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(where.port, where.host, () => resolve());
    });
  } catch (err) {
    throw new SyncError(
      ErrorCodes.USAGE,
      `${what} cannot listen on ${where.host}:${where.port} (${errorMessage(err)}): set ${variables}`,
      { cause: err },
    );
  }
}

/** http://host:port of a listening server (an IPv6 address in brackets). */
export function serverUrl(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** Stops listening and closes every connection, idle or not: these servers hold nothing worth waiting for. */
export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}
