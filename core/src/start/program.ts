/** A program lxkit runs on the host's side of a namespace it makes (usernsexec, unshare). */
import type { Logger } from '../log/logger.js';

export interface HostProgram {
  /** The program (found on `env`'s PATH) and its arguments. */
  readonly argv: readonly string[];
  /** Its environment (`NAME=value`) and working directory. */
  readonly env: readonly string[];
  readonly cwd: string;
  readonly log?: Logger;
}
