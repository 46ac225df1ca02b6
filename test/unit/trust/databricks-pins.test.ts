import { WorkspaceConfigSchema } from '../../../shared/databricks/workspace-config';
import { parseSettings } from '../../../shared/runtime/settings';
import {
  assertWorkspacePinned,
  credentialSecretName,
  workspaceOrigin,
} from '../../../shared/trust/databricks-pins';
import { TrustError } from '../../../shared/trust/trust-error';

const settings = parseSettings({
  GCP_PROJECT: 'rotator-prod',
  ROTATOR_PROJECTS: '123456789, shared-secrets',
  ROTATOR_DATABRICKS_HOSTS: 'https://adb-1.azuredatabricks.net,Dbc-2.cloud.databricks.com.',
  ROTATOR_DATABRICKS_CREDENTIAL_SECRETS: 'dbx-pat,projects/other/secrets/m2m',
});
const pins = settings.databricks;
const workspace = (host: string, auth: unknown) => WorkspaceConfigSchema.parse({ host, auth });

describe('Databricks targets pinned by the deployment', () => {
  it('reads the settings into origins and full secret names', () => {
    expect(pins).toEqual({
      hosts: ['https://adb-1.azuredatabricks.net', 'https://dbc-2.cloud.databricks.com'],
      credentialSecrets: ['projects/rotator-prod/secrets/dbx-pat', 'projects/other/secrets/m2m'],
    });
    expect(settings.scope.projects).toEqual(['rotator-prod', '123456789', 'shared-secrets']);
  });

  it('allows pinned hosts with pinned credential secrets, or keyless auth', () => {
    for (const w of [
      workspace('https://ADB-1.azuredatabricks.net/', { type: 'pat', tokenSecret: 'dbx-pat' }),
      workspace('https://dbc-2.cloud.databricks.com', {
        type: 'oauth-m2m',
        clientId: 'sp',
        clientSecretSecret: 'projects/other/secrets/m2m/versions/3',
      }),
      workspace('https://adb-1.azuredatabricks.net', { type: 'google-id' }),
    ]) {
      expect(() => assertWorkspacePinned(w, pins, 'rotator-prod')).not.toThrow();
    }
  });

  it.each([
    ['another host', workspace('https://attacker.example', { type: 'google-id' }), /attacker/],
    [
      'a look-alike host',
      workspace('https://adb-1.azuredatabricks.net.attacker.example', { type: 'google-id' }),
      /not one this deployment allows/,
    ],
    [
      'another port',
      workspace('https://adb-1.azuredatabricks.net:8443', { type: 'google-id' }),
      /not one this deployment allows/,
    ],
    [
      'another credential secret',
      workspace('https://adb-1.azuredatabricks.net', { type: 'pat', tokenSecret: 'orders-db' }),
      /projects\/rotator-prod\/secrets\/orders-db is not a Databricks credential secret/,
    ],
    [
      'the same id in another project',
      workspace('https://adb-1.azuredatabricks.net', {
        type: 'pat',
        tokenSecret: 'projects/attacker/secrets/dbx-pat',
      }),
      /not a Databricks credential secret/,
    ],
  ])('refuses %s', (_why, w, message) => {
    expect(() => assertWorkspacePinned(w, pins, 'rotator-prod')).toThrow(TrustError);
    expect(() => assertWorkspacePinned(w, pins, 'rotator-prod')).toThrow(message);
  });

  it('allows nothing when nothing is set', () => {
    const none = parseSettings({ GCP_PROJECT: 'rotator-prod' }).databricks;
    expect(none).toEqual({ hosts: [], credentialSecrets: [] });
    expect(() =>
      assertWorkspacePinned(
        workspace('https://adb-1.azuredatabricks.net', { type: 'google-id' }),
        none,
        'rotator-prod',
      ),
    ).toThrow(TrustError);
  });

  it('normalises hosts and secret references', () => {
    expect(workspaceOrigin('adb-1.net')).toBe('https://adb-1.net');
    expect(workspaceOrigin('HTTPS://Adb-1.NET./path')).toBe('https://adb-1.net');
    expect(credentialSecretName('x', 'p')).toBe('projects/p/secrets/x');
    expect(credentialSecretName('projects/q/secrets/x/versions/latest', 'p')).toBe(
      'projects/q/secrets/x',
    );
  });

  it('refuses malformed settings', () => {
    expect(() => parseSettings({ GCP_PROJECT: 'p-roject', ROTATOR_PROJECTS: 'a b' })).toThrow(
      /ROTATOR_PROJECTS/,
    );
  });
});
