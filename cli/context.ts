import type { CliDeps } from './deps';
import type { Output } from './output';
import type { Scope } from './scope';

/** What every command runs with. */
export interface CommandContext {
  deps: CliDeps;
  out: Output;
  scope: Scope;
}
