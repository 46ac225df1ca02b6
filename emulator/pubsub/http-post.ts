import http from 'node:http';
import https from 'node:https';

export interface PostOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * One POST, one connection. Written on node:http rather than fetch because undici keeps idle
 * keep-alive sockets in a global pool: a test's HTTP server would then wait on them in close(), and
 * jest would report open handles. `agent: false` closes the socket when the exchange is over.
 * Resolves with the status for any HTTP answer; rejects on network errors, timeout or abort.
 */
export function postJson(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: PostOptions,
): Promise<number> {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve, reject) => {
    const req = transport.request(
      target,
      {
        method: 'POST',
        agent: false,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal: options.signal,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs, () => {
      req.destroy(
        new Error(
          `POST ${target.origin}${target.pathname} timed out after ${options.timeoutMs} ms`,
        ),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}
