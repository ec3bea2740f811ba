/**
 * lxc.arch and lxc-attach -a: the architecture names LXC accepts and the
 * personality(2) each stands for (confile.c lxc_config_parse_arch). A module
 * of its own, without imports: attach (the client part) needs it too.
 */

/** The names, the 32-bit ones (up to x86) first. */
export const ARCH_NAMES = [
  'arm', 'armel', 'armhf', 'armv7l', 'athlon', 'i386', 'i486', 'i586', 'i686', 'linux32', 'mips', 'mipsel',
  'ppc', 'powerpc', 'x86', 'aarch64', 'amd64', 'arm64', 'linux64', 'mips64', 'mips64el', 'ppc64', 'ppc64el',
  'ppc64le', 'powerpc64', 's390x', 'x86_64',
] as const;

/** personality(2) values. */
const PER_LINUX = 0;
const PER_LINUX32 = 0x0008;

/** The personality lxc.arch (or lxc-attach -a) `name` stands for, as LXC maps it; undefined for a name LXC does not know. */
export function archPersonality(name: string): number | undefined {
  const i = (ARCH_NAMES as readonly string[]).indexOf(name);
  if (i < 0) return undefined;
  return i <= ARCH_NAMES.indexOf('x86') ? PER_LINUX32 : PER_LINUX;
}

