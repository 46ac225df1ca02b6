import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * POST a CloudEvent to a functions-framework server the way Eventarc does (binary content mode:
 * `ce-*` headers and the data as the JSON body) or in structured mode
 * (`application/cloudevents+json`, the whole event as the body).
 */
export async function postCloudEvent(
  url: string,
  event: Record<string, unknown>,
  mode: 'binary' | 'structured' = 'binary',
): Promise<{ status: number; body: string }> {
  let headers: Record<string, string>;
  let body: string;
  if (mode === 'structured') {
    headers = { 'content-type': 'application/cloudevents+json' };
    body = JSON.stringify(event);
  } else {
    const { data, datacontenttype, ...attrs } = event;
    headers = { 'content-type': String(datacontenttype ?? 'application/json') };
    for (const [k, v] of Object.entries(attrs)) headers[`ce-${k}`] = String(v);
    body = JSON.stringify(data ?? {});
  }
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, body: await res.text() };
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

export async function close(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * Everything the process writes to stdout while `fn` runs, as lines; production functions log
 * there (Cloud Logging reads stdout), so this is how e2e tests read the logs.
 */
export function captureStdout(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  let partial = '';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    partial += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  return {
    lines,
    restore: () => {
      process.stdout.write = original;
    },
  };
}
