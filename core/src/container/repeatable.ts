/** Keys whose entries accumulate (setConfigItem appends to them; getConfigItem lists them). */
const REPEATABLE: readonly RegExp[] = [
  /^lxc\.(include|idmap|environment|group|apparmor\.raw|mount\.entry)$/,
  /^lxc\.cap\.(drop|keep)$/,
  /^lxc\.hook\.[a-z-]+$/,
  /^lxc\.init\.groups$/,
  /^lxc\.cgroup2?\.devices\.(allow|deny)$/,
  /^lxc\.net\.[0-9]+\.(ipv4\.address|ipv6\.address|veth\.ipv4\.route|veth\.ipv6\.route|veth\.vlan\.tagged\.id)$/,
];

export function isRepeatableKey(key: string): boolean {
  return REPEATABLE.some((r) => r.test(key));
}
