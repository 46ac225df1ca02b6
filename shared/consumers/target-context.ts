import type { Clock } from '../clock';
import type { DatabricksClient } from '../databricks/client';
import type { Logger } from '../logging/logger';
import type { Redactor } from '../logging/redactor';

/** How long a pipeline target waits for the stopped pipeline to reach IDLE, polling how often. */
export interface PipelineWait {
  maxWaitMs: number;
  pollMs: number;
}

export const DEFAULT_PIPELINE_WAIT: PipelineWait = { maxWaitMs: 5 * 60_000, pollMs: 5_000 };

/** What applying one target needs. */
export interface TargetContext {
  client: DatabricksClient;
  rotationId: string;
  /** The new version's payload, read by version number on first use; registered for redaction. */
  payload(): Promise<string>;
  redactor: Redactor;
  logger: Logger;
  clock: Clock;
  pipelineWait: PipelineWait;
  /** Ids of targets that an earlier delivery of this same rotation attempted and failed. */
  retried: ReadonlySet<string>;
}

/** A target that was applied (done) or deliberately left alone (skipped), and why. */
export interface Applied {
  status: 'done' | 'skipped';
  reason: string;
}
