/**
 * lxkit's error type and the exhaustive record of its stable codes.
 *
 * Scripts and tests match on `code`, never on message text, so a code once
 * published keeps its meaning. System-call failures keep Node's own shape
 * (`code: 'ENOENT'`, `errno`, `syscall`, `path`) and are raised by the native
 * layer; everything lxkit itself decides is an `LxkitError` with an `LXKIT_*`
 * code.
 */

/** Every code lxkit raises, with what it means. */
export const ERROR_CODES = {
  LXKIT_USAGE: 'the command line is wrong',
  LXKIT_CONFIG_INVALID: 'a container config has invalid keys or values',
  LXKIT_CONFIG_READ: 'a container config file cannot be read or written',
  LXKIT_TOOLKIT_CONFIG_INVALID: 'the toolkit configuration (rcfile) is invalid',
  LXKIT_PLUGIN_NOT_FOUND: 'a configured plugin cannot be resolved',
  LXKIT_PLUGIN_LOAD_FAILED: 'a plugin module failed to load or does not export a plugin',
  LXKIT_PLUGIN_OPTIONS_INVALID: 'the options given to a plugin do not match its schema',
  LXKIT_PLUGIN_INCOMPATIBLE: 'a plugin needs another lxkit version',
  LXKIT_PLUGIN_DEPENDENCY: 'a plugin depends on a plugin that is not enabled',
  LXKIT_PLUGIN_DUPLICATE: 'two enabled plugins have the same name',
  LXKIT_PLUGIN_APPLY_FAILED: "a plugin's apply() threw",
  LXKIT_HOOK_FAILED: 'a tap on a lifecycle hook threw',
  LXKIT_PROBE_FAILED: 'a kernel feature probe could not run',
  LXKIT_NATIVE_MISSING: 'a native helper has not been built (run npm run setup)',
  LXKIT_CONTAINER_NAME_INVALID: 'a container name is missing or not allowed',
  LXKIT_CONTAINER_EXISTS: 'a container of that name already exists',
  LXKIT_CONTAINER_NOT_FOUND: 'no container of that name exists in the lxcpath',
  LXKIT_CONTAINER_BUSY: 'the container is running or another lxkit command holds it',
  LXKIT_CONTAINER_NOT_RUNNING: 'the container is not running',
  LXKIT_NO_CONSOLE_BUFFER: 'the console log was asked of a container started without lxc.console.buffer.size',
  LXKIT_CONTAINER_HAS_SNAPSHOTS: 'the container has snapshots, and the destroy was not asked to take them',
  LXKIT_CONTAINER_HAS_CLONES: "snapshot clones are built on the container's root filesystem",
  LXKIT_STOP_FAILED: 'the container could not be stopped',
  LXKIT_TEMPLATE_UNKNOWN: 'no enabled plugin provides the requested template',
  LXKIT_TEMPLATE_FAILED: 'a template failed to create the container',
  LXKIT_ROOTFS_MISSING: "the container's root filesystem does not exist",
  LXKIT_UNSUPPORTED: 'the configuration asks for something no enabled plugin provides',
  LXKIT_START_FAILED: 'the container could not be started',
  LXKIT_MONITOR_LOST: "the container's monitor exited unexpectedly",
  LXKIT_HOOK_SCRIPT_FAILED: 'a site hook script (lxc.hook.*) failed',
  LXKIT_COMMAND_FAILED: 'a program lxkit ran for an operation failed',
  LXKIT_CGROUP_FAILED: "a container's cgroup could not be made, set, read or removed",
  LXKIT_SECCOMP_FAILED: 'a seccomp policy could not be compiled',
  LXKIT_APPARMOR_FAILED: 'an AppArmor profile could not be compiled, loaded or applied',
  LXKIT_NETWORK_FAILED: "a container's network device could not be made or configured",
  LXKIT_CHECKPOINT_FAILED: 'a container could not be checkpointed or restored',
  LXKIT_NET_SETTINGS_INVALID: "the host bridge service's settings (/etc/default/lxc, /etc/default/lxc-net) are invalid",
  LXKIT_NET_SERVICE_FAILED: 'the host bridge service (bridge, firewall rules, dnsmasq) could not be started or stopped',
  LXKIT_NET_SERVICE_STATE: 'the host bridge service is already running, or is not running',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where an error happened, in the terms a user can act on. */
export interface ErrorDetails {
  cause?: unknown;
  /** Config or script file the error is about. */
  file?: string;
  line?: number;
  key?: string;
  container?: string;
  plugin?: string;
  hook?: string;
  /** Node-style system error fields, when a syscall is behind the failure. */
  errno?: number;
  syscall?: string;
  path?: string;
}

export class LxkitError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  readonly line?: number;
  readonly key?: string;
  readonly container?: string;
  readonly plugin?: string;
  readonly hook?: string;
  readonly errno?: number;
  readonly syscall?: string;
  readonly path?: string;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    const { cause, ...where } = details;
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    // Only defined fields are set, so that util.inspect output stays readable.
    for (const [k, v] of Object.entries(where)) {
      if (v !== undefined) (this as Record<string, unknown>)[k] = v;
    }
  }
}
// On the prototype, not each instance, so that inspect output stays short.
Object.defineProperty(LxkitError.prototype, 'name', { value: 'LxkitError' });

export function isLxkitError(err: unknown, code?: ErrorCode): err is LxkitError {
  return err instanceof LxkitError && (code === undefined || err.code === code);
}

/** The message of anything thrown, for composing "while doing X: <cause>" messages. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
