import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Google's two ID-token mints, on 127.0.0.1, so google-auth-library's real code paths run without
 * Google:
 * - the metadata server's identity endpoint (Compute client; point GCE_METADATA_HOST here);
 * - IAM Credentials generateIdToken (Impersonated; pass this URL as its `endpoint`).
 * Tokens are unsigned JWTs whose `exp` follows the injected clock.
 */
export interface FakeGoogle {
  /** host:port, for GCE_METADATA_HOST. */
  metadataHost: string;
  /** http://host:port, for Impersonated's endpoint. */
  iamEndpoint: string;
  minted: { via: 'metadata' | 'iam'; audience: string; email?: string; includeEmail?: boolean }[];
  close(): Promise<void>;
}

export const RUNTIME_SA = 'runtime@demo-project.iam.gserviceaccount.com';

export function mintJwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}.${Buffer.from('unsigned').toString('base64url')}`;
}

/** The claims of a JWT, for a fake workspace's token check. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

export async function startFakeGoogle(options: {
  now: () => number;
  lifetimeSeconds?: number;
  /** Bearer token the IAM endpoint requires of the impersonating (source) identity. */
  sourceToken?: string;
}): Promise<FakeGoogle> {
  const lifetime = options.lifetimeSeconds ?? 3600;
  const minted: FakeGoogle['minted'] = [];
  let serial = 0;
  const token = (audience: string, email: string | undefined) => {
    const iat = Math.floor(options.now() / 1000);
    return mintJwt({
      iss: 'https://accounts.google.com',
      aud: audience,
      sub: '1234567890',
      ...(email ? { email, email_verified: true } : {}),
      iat,
      exp: iat + lifetime,
      jti: String(serial++),
    });
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const idPath = '/computeMetadata/v1/instance/service-accounts/default/identity';
    if (req.method === 'GET' && url.pathname === idPath) {
      if (req.headers['metadata-flavor'] !== 'Google') return void res.writeHead(403).end();
      const audience = url.searchParams.get('audience') ?? '';
      minted.push({ via: 'metadata', audience, email: RUNTIME_SA });
      res.writeHead(200, { 'metadata-flavor': 'Google', 'content-type': 'application/text' });
      return void res.end(token(audience, RUNTIME_SA));
    }
    const iam = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateIdToken$/.exec(url.pathname);
    if (req.method === 'POST' && iam) {
      if (options.sourceToken && req.headers.authorization !== `Bearer ${options.sourceToken}`) {
        return void res.writeHead(401, { 'content-type': 'application/json' }).end('{}');
      }
      const body = JSON.parse(await readAll(req)) as { audience: string; includeEmail?: boolean };
      const email = decodeURIComponent(iam[1] ?? '');
      minted.push({ via: 'iam', audience: body.audience, email, includeEmail: body.includeEmail });
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(
        JSON.stringify({ token: token(body.audience, body.includeEmail ? email : undefined) }),
      );
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    metadataHost: `127.0.0.1:${port}`,
    iamEndpoint: `http://127.0.0.1:${port}`,
    minted,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
