import { invalid, notFound } from './api-error';

const KEY = /^[A-Za-z0-9_.-]{1,128}$/;
const MAX_VALUE_BYTES = 128 * 1024;

/** Secret scopes: secrets/put overwrites a key (string_value or bytes_value, exactly one). */
export class FakeSecretScopes {
  private readonly scopes = new Map<string, Map<string, string>>();

  addScope(name: string): void {
    this.scopes.set(name, new Map());
  }

  /** The stored value, for assertions (the API itself never returns one). */
  value(scope: string, key: string): string | undefined {
    return this.scopes.get(scope)?.get(key);
  }

  put(body: Record<string, unknown>) {
    const scope = this.scopes.get(String(body.scope));
    if (!scope) throw notFound(`Scope ${String(body.scope)}`);
    const key = String(body.key);
    if (!KEY.test(key)) throw invalid('Invalid secret key');
    const hasString = typeof body.string_value === 'string';
    const hasBytes = typeof body.bytes_value === 'string';
    if (hasString === hasBytes) throw invalid('Exactly one of string_value, bytes_value');
    const value = hasString
      ? String(body.string_value)
      : Buffer.from(String(body.bytes_value), 'base64').toString('utf8');
    if (Buffer.byteLength(value) > MAX_VALUE_BYTES) throw invalid('Secret value too large');
    scope.set(key, value);
    return {};
  }
}
