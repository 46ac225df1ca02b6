import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from './api-error';
import { FakeClusters } from './clusters';
import { FakeConnections } from './connections';
import { Faults } from './faults';
import { FakeJobs } from './jobs';
import { FakePipelines } from './pipelines';
import { FakeSecretScopes } from './secret-scopes';
import { Timeline } from './timeline';

export interface FakeTimings {
  runStartMs: number;
  cancelMs: number;
  continuousRestartMs: number;
  pipelineStopMs: number;
  pipelineStartMs: number;
  clusterRestartMs: number;
}

/** Small by default: tests wait tens of milliseconds, not the minutes Databricks takes. */
export const FAST_TIMINGS: FakeTimings = {
  runStartMs: 10,
  cancelMs: 20,
  continuousRestartMs: 30,
  pipelineStopMs: 40,
  pipelineStartMs: 10,
  clusterRestartMs: 30,
};

/** One request as the fake saw it. Secret values in bodies are replaced by '[value]'. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: unknown;
  status: number;
  /** 'none' without an Authorization header, 'rejected' with an unknown token. */
  auth: 'ok' | 'none' | 'rejected' | 'basic';
}

export interface FakeWorkspace {
  url: string;
  jobs: FakeJobs;
  pipelines: FakePipelines;
  clusters: FakeClusters;
  secrets: FakeSecretScopes;
  connections: FakeConnections;
  faults: Faults;
  requests: RecordedRequest[];
  /** Accept this bearer token (a PAT or a Google ID token) from now on. */
  acceptToken(token: string): void;
  /** Accept ID tokens that this function approves (e.g. a JWT with the right audience). */
  acceptTokensWhere(check: (token: string) => boolean): void;
  /** An OAuth M2M client the fake /oidc/v1/token endpoint knows. */
  addOAuthClient(clientId: string, secret: string, expiresInSeconds?: number): void;
  /** Access tokens the OAuth endpoint has issued. */
  issuedOAuthTokens(): number;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

/**
 * A local fake Databricks workspace on 127.0.0.1 (node:http, port 0) implementing the endpoints
 * the rotator uses, their state machines, bearer-token checks, the OAuth M2M token endpoint, and
 * injectable faults. It records requests but never logs, and never records a secret value.
 */
export async function startFakeWorkspace(
  options: { now?: () => number; timings?: Partial<FakeTimings> } = {},
): Promise<FakeWorkspace> {
  const timeline = new Timeline(options.now);
  const timings = { ...FAST_TIMINGS, ...options.timings };
  const jobs = new FakeJobs(timeline, timings);
  const pipelines = new FakePipelines(timeline, timings);
  const clusters = new FakeClusters(timeline, timings);
  const secrets = new FakeSecretScopes();
  const connections = new FakeConnections();
  const faults = new Faults();
  const requests: RecordedRequest[] = [];
  const tokens = new Set<string>();
  const tokenChecks: ((token: string) => boolean)[] = [];
  const oauthClients = new Map<string, { secret: string; expiresIn: number }>();
  let issued = 0;

  const route = (
    method: string,
    path: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
  ) => {
    const pipeline = /^\/api\/2\.0\/pipelines\/([^/]+)(\/stop|\/updates)?$/.exec(path);
    if (pipeline) {
      const id = decodeURIComponent(pipeline[1] ?? '');
      if (method === 'GET' && !pipeline[2]) return pipelines.get(id);
      if (method === 'POST' && pipeline[2] === '/stop') return pipelines.stop(id);
      if (method === 'POST' && pipeline[2] === '/updates') return pipelines.startUpdate(id, body);
    }
    const connection = /^\/api\/2\.1\/unity-catalog\/connections\/([^/]+)$/.exec(path);
    if (connection) {
      const name = decodeURIComponent(connection[1] ?? '');
      if (method === 'GET') return connections.get(name);
      if (method === 'PATCH') return connections.update(name, body);
    }
    const key = `${method} ${path}`;
    switch (key) {
      case 'POST /api/2.0/secrets/put':
        return secrets.put(body);
      case 'GET /api/2.2/jobs/get':
        return jobs.get(Number(query.get('job_id')));
      case 'GET /api/2.2/jobs/runs/list':
        return jobs.list(query);
      case 'POST /api/2.2/jobs/runs/cancel':
        return jobs.cancel(body);
      case 'POST /api/2.2/jobs/run-now':
        return jobs.runNow(body);
      case 'GET /api/2.1/clusters/get':
        return clusters.get(query);
      case 'POST /api/2.1/clusters/restart':
        return clusters.restart(body);
    }
    throw new ApiError(404, 'ENDPOINT_NOT_FOUND', `No API found for '${key}'`);
  };

  const oauthToken = (req: IncomingMessage, form: URLSearchParams) => {
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    const [clientId, secret] = Buffer.from(basic?.[1] ?? '', 'base64')
      .toString('utf8')
      .split(':');
    const client = oauthClients.get(clientId ?? '');
    if (!client || client.secret !== secret) {
      return {
        status: 401,
        body: { error: 'invalid_client', error_description: 'Client authentication failed' },
      };
    }
    if (form.get('grant_type') !== 'client_credentials' || form.get('scope') !== 'all-apis') {
      return { status: 400, body: { error: 'invalid_request' } };
    }
    const token = `dapi-oauth-${randomBytes(12).toString('hex')}`;
    tokens.add(token);
    issued++;
    return {
      status: 200,
      body: {
        access_token: token,
        token_type: 'Bearer',
        scope: 'all-apis',
        expires_in: client.expiresIn,
      },
    };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      auth: authState(req.headers.authorization, tokens, tokenChecks),
    };
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      requests.push(record);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };

    const fault = faults.take(method, url.pathname);
    if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault?.status !== undefined) {
      const headers: Record<string, string> =
        fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
      return send(
        fault.status,
        { error_code: fault.errorCode ?? codeFor(fault.status), message: 'injected fault' },
        headers,
      );
    }

    if (url.pathname === '/oidc/v1/token' && method === 'POST') {
      record.auth = 'basic';
      const answer = oauthToken(req, new URLSearchParams(raw));
      return send(answer.status, answer.body);
    }
    if (record.auth !== 'ok') {
      return send(401, {
        error_code: 'UNAUTHENTICATED',
        message: 'Invalid or missing access token',
      });
    }

    let body: Record<string, unknown> = {};
    try {
      body = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
    } catch {
      return send(400, { error_code: 'MALFORMED_REQUEST', message: 'Malformed JSON' });
    }
    if (raw !== '') record.body = maskValues(url.pathname, body);
    timeline.advance();
    try {
      const answer = route(method, url.pathname, url.searchParams, body);
      return send(200, answer);
    } catch (err) {
      if (err instanceof ApiError)
        return send(err.status, { error_code: err.errorCode, message: err.message });
      return send(500, { error_code: 'INTERNAL_ERROR', message: 'fake failed' });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    jobs,
    pipelines,
    clusters,
    secrets,
    connections,
    faults,
    requests,
    acceptToken: (token) => tokens.add(token),
    acceptTokensWhere: (check) => tokenChecks.push(check),
    addOAuthClient: (clientId, secret, expiresIn = 3600) =>
      oauthClients.set(clientId, { secret, expiresIn }),
    issuedOAuthTokens: () => issued,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function authState(
  header: string | undefined,
  tokens: Set<string>,
  checks: ((token: string) => boolean)[],
): RecordedRequest['auth'] {
  const bearer = /^Bearer (.+)$/.exec(header ?? '');
  if (!bearer?.[1]) return 'none';
  const token = bearer[1];
  return tokens.has(token) || checks.some((check) => check(token)) ? 'ok' : 'rejected';
}

function codeFor(status: number): string {
  const codes: Record<number, string> = {
    400: 'INVALID_PARAMETER_VALUE',
    403: 'PERMISSION_DENIED',
    404: 'RESOURCE_DOES_NOT_EXIST',
    409: 'RESOURCE_CONFLICT',
    429: 'REQUEST_LIMIT_EXCEEDED',
    503: 'TEMPORARILY_UNAVAILABLE',
  };
  return codes[status] ?? 'INTERNAL_ERROR';
}

/** Bodies are recorded for assertions, secret values replaced. */
function maskValues(path: string, body: Record<string, unknown>): Record<string, unknown> {
  const masked = { ...body };
  for (const field of ['string_value', 'bytes_value']) {
    if (field in masked) masked[field] = '[value]';
  }
  if (
    path.includes('/unity-catalog/connections/') &&
    masked.options &&
    typeof masked.options === 'object'
  ) {
    masked.options = Object.fromEntries(Object.keys(masked.options).map((k) => [k, '[value]']));
  }
  return masked;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
