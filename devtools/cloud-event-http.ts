import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudEvent, type CloudEventV1, HTTP } from 'cloudevents';

/**
 * POST a CloudEvent to a functions-framework server the way Eventarc does (binary content mode:
 * `ce-*` headers and the data as the JSON body) or in structured mode
 * (`application/cloudevents+json`, the whole event as the body). The wire form is the CloudEvents
 * SDK's own HTTP binding (the one functions-framework reads with), not a hand-written copy.
 * `strict: false`: the event is sent as given, so a test can post one the function must refuse;
 * the SDK still fills a missing `id` or `time`, as every real sender must. A null `data` is an
 * event without data: an empty body, as the HTTP binding sends it.
 */
export async function postCloudEvent(
  url: string,
  event: Record<string, unknown>,
  mode: 'binary' | 'structured' = 'binary',
): Promise<{ status: number; body: string }> {
  const { data, ...attributes } = event;
  const ce = new CloudEvent((data == null ? attributes : event) as CloudEventV1<unknown>, false);
  const message = mode === 'structured' ? HTTP.structured(ce) : HTTP.binary(ce);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(message.headers)) headers[k] = String(v);
  const res = await fetch(url, {
    method: 'POST',
    headers,
    ...(message.body === undefined ? {} : { body: String(message.body) }),
  });
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
