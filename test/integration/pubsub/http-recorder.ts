import http from 'node:http';

export interface RecordedRequest {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpRecorder {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A local HTTP endpoint that records every request and answers with `status(request)`. */
export async function startHttpRecorder(
  status: (request: RecordedRequest, index: number) => number,
): Promise<HttpRecorder> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const recorded = { url: req.url ?? '', headers: req.headers, body };
      requests.push(recorded);
      res.statusCode = status(recorded, requests.length - 1);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
