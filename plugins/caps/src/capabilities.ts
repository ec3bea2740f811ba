/** Linux capability names as lxc.cap.* spells them (capabilities(7) without CAP_, lower case), by number. */
export const CAPABILITIES = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap',
  'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner',
  'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice',
  'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease', 'audit_write', 'audit_control', 'setfcap',
  'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf',
  'checkpoint_restore',
] as const;

/** The highest capability the running kernel knows (a number may name one newer than this list). */
export function lastCap(read: () => string | undefined): number {
  const text = read();
  const n = text === undefined ? NaN : Number(text.trim());
  return Number.isInteger(n) ? n : CAPABILITIES.length - 1;
}
