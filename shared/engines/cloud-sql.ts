import type { Duplex } from 'node:stream';
import type { Connector, IpAddressTypes } from '@google-cloud/cloud-sql-connector';

/**
 * The seam to Cloud SQL: given an instance connection name (`project:region:instance`), the driver
 * options that reach it. Both pg and mysql2 accept a `stream` factory in place of host/port, which
 * is what the official connector hands out (an mTLS socket with an ephemeral certificate).
 * Engines take a provider as a dependency, so tests substitute a fake and never touch the network.
 */
export interface ConnectorDriverOptions {
  stream: () => Duplex;
}

export interface ConnectorOptionsProvider {
  optionsFor(instanceConnectionName: string): Promise<ConnectorDriverOptions>;
}

export const CLOUD_SQL_IP_TYPES = ['PUBLIC', 'PRIVATE', 'PSC'] as const;
export type CloudSqlIpType = (typeof CLOUD_SQL_IP_TYPES)[number];

export interface CloudSqlConnectorOptions {
  /** Which of the instance's addresses to dial; functions on a VPC connector use PRIVATE. */
  ipType?: CloudSqlIpType;
  /** Builds the connector; defaults to the official one with application default credentials. */
  createConnector?: () => Pick<Connector, 'getOptions'>;
}

/**
 * The production provider. The connector is created on first use only: most deployments never
 * name a Cloud SQL instance, and creating it sets up Google auth. One connector serves every
 * instance (it caches certificates per instance and refreshes them itself).
 */
export function createCloudSqlConnectorProvider(
  options: CloudSqlConnectorOptions = {},
): ConnectorOptionsProvider {
  // The connector package (and googleapis under it) is required on first use, not at import:
  // loading it costs a cold start every function pays, Cloud SQL or not.
  const connectorModule = () =>
    require('@google-cloud/cloud-sql-connector') as typeof import('@google-cloud/cloud-sql-connector');
  const ipType = (options.ipType ?? 'PUBLIC') as keyof typeof IpAddressTypes;
  const create = options.createConnector ?? (() => new (connectorModule().Connector)());
  let connector: Pick<Connector, 'getOptions'> | undefined;
  return {
    async optionsFor(instanceConnectionName) {
      connector ??= create();
      const driverOptions = await connector.getOptions({
        instanceConnectionName,
        ipType: ipType as IpAddressTypes,
      });
      return { stream: driverOptions.stream };
    },
  };
}
