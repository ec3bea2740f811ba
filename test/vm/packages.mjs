/**
 * Debian packages the kernel-feature VM needs on the host, and why. Node
 * built-ins only (and no imports): `npm run setup` reads it before
 * node_modules exists.
 */
export const VM_PACKAGES = {
  'qemu-system-x86': 'boots the kernel-feature VM (test/vm)',
  'linux-image-cloud-amd64': "the VM's kernel: Debian's stock cloud kernel with device-mapper, 8021q, AppArmor, criu's needs",
  cpio: "packs the VM's initramfs",
  lvm2: 'LVM tools, copied into the VM',
  criu: 'criu, copied into the VM',
  nftables: "nft, copied into the VM (lxkit's criu plugin uses it)",
  tar: "GNU tar, copied into the VM (criu's tmpfs images)",
  apparmor: 'apparmor_parser, copied into the VM',
  iproute2: 'ip and bridge, copied into the VM',
  'busybox-static': "the VM's shell and utilities",
  'e2fsprogs': "mkfs.ext4 -d makes the VM's root disk",
};
