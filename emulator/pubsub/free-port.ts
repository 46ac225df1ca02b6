import net from 'node:net';

/**
 * A port that was free a moment ago on 127.0.0.1. The Java emulator cannot bind port 0 and tell us
 * which port it got, so we ask the kernel for one and hand it over; the race window is tiny and a
 * lost race makes the emulator exit, which startPubSub reports.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}
