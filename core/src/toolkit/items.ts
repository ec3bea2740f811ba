/** The items `lxkit config` prints: lxc.system.conf(5)'s in lxc-config's order, then lxkit's own. */
export const SYSTEM_CONFIG_ITEMS = [
  'lxc.default_config',
  'lxc.lxcpath',
  'lxc.bdev.lvm.vg',
  'lxc.bdev.lvm.thin_pool',
  'lxc.bdev.zfs.root',
  'lxc.cgroup.use',
  'lxc.cgroup.pattern',
  'lxkit.rcfile',
  'lxkit.plugins',
] as const;
export type SystemConfigItem = (typeof SYSTEM_CONFIG_ITEMS)[number];
