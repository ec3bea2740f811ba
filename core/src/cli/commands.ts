/**
 * The CLI's commands: name, one-line summary, LXC tool it stands in for, and
 * the module that implements it. Only the module of the command being run is
 * loaded, which keeps `lxkit help` and small commands fast.
 *
 * The `aliases/` folder holds one `lxc-<command>` link per entry with an
 * `lxc` name; a test keeps the two in step.
 */
import type { Command } from 'commander';

export interface CommandModule {
  /**
   * Adds the command's arguments, options and action to `cmd`. `program` is
   * how log lines name it (`lxkit-config`, or `lxc-config` through an alias).
   */
  define(cmd: Command, program: string): void;
}

export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  /** The LXC tool this command replaces (`lxc-config`), when there is one. */
  readonly lxc?: string;
  /** Not listed in help: lxkit runs it itself. */
  readonly hidden?: boolean;
  load(): Promise<CommandModule>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'create',
    summary: 'create a container (from a template)',
    lxc: 'lxc-create',
    load: () => import('./commands/create.js'),
  },
  {
    name: 'start',
    summary: 'start a container (in the background; in the foreground with -F)',
    lxc: 'lxc-start',
    load: () => import('./commands/start.js'),
  },
  {
    name: 'stop',
    summary: 'stop a container (halt, reboot or kill)',
    lxc: 'lxc-stop',
    load: () => import('./commands/stop.js'),
  },
  {
    name: 'wait',
    summary: 'wait for a container to reach a state',
    lxc: 'lxc-wait',
    load: () => import('./commands/wait.js'),
  },
  {
    name: 'info',
    summary: "show a container's state, pid, addresses and config items",
    lxc: 'lxc-info',
    load: () => import('./commands/info.js'),
  },
  {
    name: 'freeze',
    summary: "freeze a container's processes (cgroup freezer)",
    lxc: 'lxc-freeze',
    load: () => import('./commands/freeze.js').then((m) => ({ define: m.defineFreeze })),
  },
  {
    name: 'unfreeze',
    summary: 'thaw a frozen container',
    lxc: 'lxc-unfreeze',
    load: () => import('./commands/freeze.js').then((m) => ({ define: m.defineUnfreeze })),
  },
  {
    name: 'cgroup',
    summary: "read or write a cgroup file of a running container",
    lxc: 'lxc-cgroup',
    load: () => import('./commands/cgroup.js'),
  },
  {
    name: 'cgmanager',
    summary: 'serve the cgmanager D-Bus API (cgroup delegation) in the foreground',
    load: () => import('./commands/cgmanager.js'),
  },
  {
    name: 'net',
    summary: "start, stop or show the host's bridge service (lxcbr0, dnsmasq, NAT), as LXC's lxc-net",
    load: () => import('./commands/net.js'),
  },
  {
    name: 'monitor',
    summary: 'print the state changes of containers as they happen',
    lxc: 'lxc-monitor',
    load: () => import('./commands/monitor.js'),
  },
  {
    name: 'attach',
    summary: 'run a program inside a running container',
    lxc: 'lxc-attach',
    load: () => import('./commands/attach.js'),
  },
  {
    name: 'console',
    summary: "use a running container's tty or console",
    lxc: 'lxc-console',
    load: () => import('./commands/console.js'),
  },
  {
    name: 'execute',
    summary: 'run a command in an application container',
    lxc: 'lxc-execute',
    load: () => import('./commands/execute.js'),
  },
  {
    name: 'autostart',
    summary: 'start, stop or list the containers with lxc.start.auto, in order',
    lxc: 'lxc-autostart',
    load: () => import('./commands/autostart.js'),
  },
  {
    name: 'ls',
    summary: 'list containers',
    lxc: 'lxc-ls',
    load: () => import('./commands/ls.js'),
  },
  {
    name: 'destroy',
    summary: 'destroy a container',
    lxc: 'lxc-destroy',
    load: () => import('./commands/destroy.js'),
  },
  {
    name: 'copy',
    summary: 'copy a container, or make a snapshot clone of it',
    lxc: 'lxc-copy',
    load: () => import('./commands/copy.js'),
  },
  {
    name: 'snapshot',
    summary: "take, list, restore or destroy a container's snapshots",
    lxc: 'lxc-snapshot',
    load: () => import('./commands/snapshot.js'),
  },
  {
    name: 'checkpoint',
    summary: 'checkpoint a running container to disk, or restore it (criu)',
    lxc: 'lxc-checkpoint',
    load: () => import('./commands/checkpoint.js'),
  },
  {
    name: 'checkconfig',
    summary: 'check the kernel and host for the features containers need',
    lxc: 'lxc-checkconfig',
    load: () => import('./commands/checkconfig.js'),
  },
  {
    name: 'config',
    summary: 'print toolkit settings (lxc-config), or validate container config files',
    lxc: 'lxc-config',
    load: () => import('./commands/config.js'),
  },
  {
    name: '__stopped',
    summary: "a daemon's stop work, run by its monitor when the init has exited",
    hidden: true,
    load: () => import('./commands/stopped.js'),
  },
  {
    name: 'usernsexec',
    summary: 'run a command as root in a new user namespace with given id maps',
    lxc: 'lxc-usernsexec',
    load: () => import('./commands/usernsexec.js'),
  },
  {
    name: 'device',
    summary: 'hand a host device node or network interface to a running container, or take it back',
    lxc: 'lxc-device',
    load: () => import('./commands/device.js'),
  },
  {
    name: 'top',
    summary: "the active containers' CPU, block I/O and memory use, refreshed",
    lxc: 'lxc-top',
    load: () => import('./commands/top.js'),
  },
  {
    name: 'unshare',
    summary: 'run a command in new namespaces of the host',
    lxc: 'lxc-unshare',
    load: () => import('./commands/unshare.js'),
  },
  {
    name: 'update-config',
    summary: 'rewrite a container config from LXC 1.x/2.x keys to current keys',
    lxc: 'lxc-update-config',
    load: () => import('./commands/update-config.js'),
  },
];
