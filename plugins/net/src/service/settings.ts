/**
 * The host bridge service's settings: LXC's lxc-net variables, with LXC's
 * defaults, from the files LXC's lxc-net reads — /etc/default/lxc, which on
 * Debian includes /etc/default/lxc-net at its end — so that one set of files
 * configures both. Every value is checked before anything is made; a bad one
 * names the file, the line and the variable.
 */
import { existsSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { LxkitError, type Logger } from '@lxkit/core';
import { readShellVariables, type ShellVariables } from './shell-vars.js';

/** Where LXC's lxc-net reads its settings on Debian (distrosysconfdir). */
export const DEFAULT_SETTINGS_FILES = ['/etc/default/lxc', '/etc/default/lxc-net'] as const;

/** LXC's own defaults, the values of a host with no settings files. */
const DEFAULTS: Readonly<Record<string, string>> = {
  USE_LXC_BRIDGE: 'true',
  LXC_BRIDGE: 'lxcbr0',
  LXC_BRIDGE_MAC: '00:16:3e:00:00:00',
  LXC_ADDR: '10.0.3.1',
  LXC_NETMASK: '255.255.255.0',
  LXC_NETWORK: '10.0.3.0/24',
  LXC_DHCP_RANGE: '10.0.3.2,10.0.3.254',
  LXC_DHCP_MAX: '253',
  LXC_DHCP_CONFILE: '',
  LXC_DHCP_PING: 'true',
  LXC_DOMAIN: '',
  LXC_USE_NFT: 'true',
  LXC_IPV6_ADDR: '',
  LXC_IPV6_MASK: '',
  LXC_IPV6_NETWORK: '',
  LXC_IPV6_NAT: 'false',
};

export interface Subnet {
  readonly address: string;
  readonly prefix: number;
}

export interface NetServiceSettings {
  /** USE_LXC_BRIDGE: without it, start and stop do nothing. */
  readonly enabled: boolean;
  readonly bridge: string;
  readonly bridgeMac: string;
  /** LXC_ADDR with LXC_NETMASK's length. */
  readonly address: Subnet;
  /** LXC_NETWORK: what is masqueraded. */
  readonly network: Subnet;
  /** LXC_DHCP_RANGE, as dnsmasq's --dhcp-range takes it. */
  readonly dhcpRange: string;
  readonly dhcpMax: number;
  /** LXC_DHCP_CONFILE: dnsmasq reads this instead of nothing. */
  readonly dhcpConfFile?: string;
  readonly dhcpPing: boolean;
  /** LXC_DOMAIN: dnsmasq answers for it alone. */
  readonly domain?: string;
  /** LXC_USE_NFT: nftables rules (else iptables). */
  readonly useNft: boolean;
  /** LXC_IPV6_*: all three set, or none. */
  readonly ipv6?: { readonly address: Subnet; readonly network: Subnet; readonly nat: boolean };
  /** The files read, in order (includes after the file that names them). */
  readonly files: readonly string[];
}

class Reader {
  constructor(readonly vars: ShellVariables) {}

  raw(name: string): string {
    return this.vars.get(name)?.value ?? DEFAULTS[name]!;
  }

  fail(name: string, reason: string): never {
    const at = this.vars.get(name);
    const value = this.raw(name);
    const where = at ? `${at.file}:${at.line}: ` : '';
    throw new LxkitError('LXKIT_NET_SETTINGS_INVALID', `${where}${name}="${value}": ${reason}`, {
      key: name,
      ...(at ? { file: at.file, line: at.line } : {}),
    });
  }

  bool(name: string): boolean {
    const v = this.raw(name);
    if (v !== 'true' && v !== 'false') this.fail(name, 'neither true nor false');
    return v === 'true';
  }

  ipv4(name: string): string {
    const v = this.raw(name);
    if (!isIPv4(v)) this.fail(name, 'not an IPv4 address');
    return v;
  }

  cidr(name: string, family: 4 | 6): Subnet {
    const v = this.raw(name);
    const [address, prefix, extra] = v.split('/');
    const max = family === 4 ? 32 : 128;
    const valid = family === 4 ? isIPv4 : isIPv6;
    if (extra !== undefined || !address || !valid(address) || !prefix || !/^\d+$/.test(prefix) || Number(prefix) > max) {
      this.fail(name, `not an IPv${family} network ADDRESS/PREFIX`);
    }
    return { address, prefix: Number(prefix) };
  }
}

const ipv4Bits = (address: string) => address.split('.').map((octet) => Number(octet).toString(2).padStart(8, '0')).join('');
const inSubnet = (address: string, net: Subnet) => ipv4Bits(address).slice(0, net.prefix) === ipv4Bits(net.address).slice(0, net.prefix);

/** LXC_NETMASK as a prefix length; a mask whose ones are not contiguous has none. */
function maskLength(mask: string): number | undefined {
  if (!isIPv4(mask)) return undefined;
  const bits = ipv4Bits(mask);
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined;
}

/** Linux's rule for a network interface name (dev_valid_name), and no quote for the firewall rules. */
const validIfname = (name: string) => name.length > 0 && name.length < 16 && name !== '.' && name !== '..' && !/[/:\s"'\\]/.test(name);

/** Checks every variable and builds the settings. */
export function settingsFrom(vars: ShellVariables, files: readonly string[], log?: Logger): NetServiceSettings {
  const r = new Reader(vars);
  const enabled = r.bool('USE_LXC_BRIDGE');
  const bridge = r.raw('LXC_BRIDGE');
  if (!validIfname(bridge)) r.fail('LXC_BRIDGE', 'not a network interface name (1 to 15 characters, no /, :, quotes or spaces)');
  const bridgeMac = r.raw('LXC_BRIDGE_MAC').toLowerCase();
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(bridgeMac)) r.fail('LXC_BRIDGE_MAC', 'not a MAC address (xx:xx:xx:xx:xx:xx)');
  if (parseInt(bridgeMac.slice(0, 2), 16) & 1) r.fail('LXC_BRIDGE_MAC', 'a multicast address (the first byte is odd)');
  const addr = r.ipv4('LXC_ADDR');
  const prefix = maskLength(r.raw('LXC_NETMASK'));
  if (prefix === undefined) r.fail('LXC_NETMASK', 'not a netmask (contiguous ones, as 255.255.255.0)');
  const network = r.cidr('LXC_NETWORK', 4);
  if (!inSubnet(addr, network)) log?.warn(`LXC_ADDR ${addr} is outside LXC_NETWORK ${network.address}/${network.prefix}: the containers' traffic is masqueraded from LXC_NETWORK only`);
  const dhcpRange = r.raw('LXC_DHCP_RANGE');
  if (!dhcpRange || /\s/.test(dhcpRange)) r.fail('LXC_DHCP_RANGE', "not a dnsmasq range (START,END[,…] with no spaces)");
  const maxText = r.raw('LXC_DHCP_MAX');
  if (!/^[1-9]\d*$/.test(maxText)) r.fail('LXC_DHCP_MAX', 'not a positive whole number');
  const dhcpConfFile = r.raw('LXC_DHCP_CONFILE');
  if (dhcpConfFile && !existsSync(dhcpConfFile)) r.fail('LXC_DHCP_CONFILE', 'no such file');
  const domain = r.raw('LXC_DOMAIN');
  if (domain && !/^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?$/.test(domain)) r.fail('LXC_DOMAIN', 'not a domain name');

  const v6 = ['LXC_IPV6_ADDR', 'LXC_IPV6_MASK', 'LXC_IPV6_NETWORK'].filter((k) => r.raw(k) !== '');
  let ipv6: NetServiceSettings['ipv6'];
  if (v6.length === 3) {
    const address = r.raw('LXC_IPV6_ADDR');
    if (!isIPv6(address)) r.fail('LXC_IPV6_ADDR', 'not an IPv6 address');
    const mask = r.raw('LXC_IPV6_MASK');
    if (!/^\d+$/.test(mask) || Number(mask) > 128) r.fail('LXC_IPV6_MASK', 'not a prefix length (0 to 128)');
    ipv6 = { address: { address, prefix: Number(mask) }, network: r.cidr('LXC_IPV6_NETWORK', 6), nat: r.bool('LXC_IPV6_NAT') };
  } else if (v6.length > 0) {
    // LXC's script leaves IPv6 off then, silently: a half-set IPv6 is a mistake worth naming.
    const missing = ['LXC_IPV6_ADDR', 'LXC_IPV6_MASK', 'LXC_IPV6_NETWORK'].filter((k) => !v6.includes(k));
    r.fail(v6[0]!, `IPv6 needs LXC_IPV6_ADDR, LXC_IPV6_MASK and LXC_IPV6_NETWORK; ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set`);
  }
  return {
    enabled,
    bridge,
    bridgeMac,
    address: { address: addr, prefix: prefix! },
    network,
    dhcpRange,
    dhcpMax: Number(maxText),
    ...(dhcpConfFile ? { dhcpConfFile } : {}),
    dhcpPing: r.bool('LXC_DHCP_PING'),
    ...(domain ? { domain } : {}),
    useNft: r.bool('LXC_USE_NFT'),
    ...(ipv6 ? { ipv6 } : {}),
    files,
  };
}

/**
 * The settings from `file` (and what it includes), or from LXC's files:
 * /etc/default/lxc, else /etc/default/lxc-net when there is no
 * /etc/default/lxc; LXC's defaults for what none sets.
 */
export function readNetServiceSettings(log: Logger, file?: string): NetServiceSettings {
  const vars: ShellVariables = new Map();
  const read = new Set<string>();
  const first = file ?? DEFAULT_SETTINGS_FILES.find((f) => existsSync(f));
  if (first) readShellVariables(first, vars, log, true, read);
  return settingsFrom(vars, [...read], log);
}
