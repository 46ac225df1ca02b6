import { PermanentError } from '../errors';

/**
 * A request the deployment refuses on trust grounds: a secret outside its scope, a secret or login
 * its admin secret does not serve, a Databricks host or credential secret it does not pin.
 * Permanent (one ERROR line, acknowledged): retrying cannot make an untrusted request trusted.
 * Messages name secrets, logins and hosts, never a value.
 */
export class TrustError extends PermanentError {
  constructor(message: string) {
    super(message);
    this.name = 'TrustError';
  }
}
