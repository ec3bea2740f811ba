/**
 * The bridge's firewall rules: DHCP and DNS from the bridge to dnsmasq
 * accepted, traffic to and from the bridge forwarded, and LXC_NETWORK (and
 * with LXC_IPV6_NAT, LXC_IPV6_NETWORK) masqueraded when it leaves for
 * another network.
 *
 * nftables: in tables named `lxc` (inet, ip, ip6), LXC's names, so that
 * either tool's stop removes the other's rules; replaced as a whole in one
 * transaction. iptables (LXC_USE_NFT=false, or no working nft): the same
 * rules one by one, as LXC's lxc-net writes them then.
 */
import { runTool, type Logger } from '@lxkit/core';
import type { NetServiceSettings, Subnet } from './settings.js';

export type FirewallKind = 'nftables' | 'iptables';

const TABLES = ['inet lxc', 'ip lxc', 'ip6 lxc'] as const;

const cidr = (s: Subnet) => `${s.address}/${s.prefix}`;
const failed = (what: string) => ({ what, code: 'LXKIT_NET_SERVICE_FAILED' as const });

/** nftables when asked for and nft can read the ruleset (LXC's test), else iptables. */
export async function firewallKind(settings: NetServiceSettings): Promise<FirewallKind> {
  if (!settings.useNft) return 'iptables';
  try {
    await runTool('nft', ['list', 'tables'], failed('listing the nftables tables'));
    return 'nftables';
  } catch {
    return 'iptables';
  }
}

/** The nftables ruleset, replacing any `lxc` tables of an earlier start. */
export function nftRuleset(s: NetServiceSettings, existing: readonly string[]): string {
  const br = JSON.stringify(s.bridge);
  const net = cidr(s.network);
  const lines = existing.map((t) => `delete table ${t}`);
  lines.push(
    'table inet lxc {',
    '  chain input {',
    '    type filter hook input priority filter;',
    `    iifname ${br} meta l4proto { tcp, udp } th dport { 53, 67 } accept`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter;',
    `    iifname ${br} accept`,
    `    oifname ${br} accept`,
    '  }',
    '}',
    'table ip lxc {',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat;',
    `    ip saddr ${net} ip daddr != ${net} counter masquerade`,
    '  }',
    '}',
  );
  if (s.ipv6?.nat) {
    const net6 = cidr(s.ipv6.network);
    lines.push('table ip6 lxc {', '  chain postrouting {', '    type nat hook postrouting priority srcnat;', `    ip6 saddr ${net6} ip6 daddr != ${net6} counter masquerade`, '  }', '}');
  }
  return lines.join('\n') + '\n';
}

/** The `lxc` tables there are now. */
export async function nftTables(): Promise<string[]> {
  const out = await runTool('nft', ['list', 'tables'], failed('listing the nftables tables'));
  const have = new Set(out.split('\n').map((l) => l.trim().replace(/^table /, '')));
  return TABLES.filter((t) => have.has(t));
}

/** iptables rules: the tool, the table, the chain, whether it goes first (-I) or last (-A), the match and target. */
type IptablesRule = readonly [tool: 'iptables' | 'ip6tables', table: string, chain: string, first: boolean, spec: readonly string[]];

export function iptablesRules(s: NetServiceSettings): IptablesRule[] {
  const br = s.bridge;
  const net = cidr(s.network);
  const rules: IptablesRule[] = [];
  for (const port of ['67', '53']) for (const proto of ['udp', 'tcp']) rules.push(['iptables', 'filter', 'INPUT', true, ['-i', br, '-p', proto, '--dport', port, '-j', 'ACCEPT']]);
  rules.push(['iptables', 'filter', 'FORWARD', true, ['-i', br, '-j', 'ACCEPT']], ['iptables', 'filter', 'FORWARD', true, ['-o', br, '-j', 'ACCEPT']]);
  rules.push(['iptables', 'nat', 'POSTROUTING', false, ['-s', net, '!', '-d', net, '-j', 'MASQUERADE']]);
  // Clients that drop DHCP answers with a partial checksum (offloaded on a veth) get a full one.
  rules.push(['iptables', 'mangle', 'POSTROUTING', false, ['-o', br, '-p', 'udp', '-m', 'udp', '--dport', '68', '-j', 'CHECKSUM', '--checksum-fill']]);
  if (s.ipv6?.nat) {
    const net6 = cidr(s.ipv6.network);
    rules.push(['ip6tables', 'nat', 'POSTROUTING', false, ['-s', net6, '!', '-d', net6, '-j', 'MASQUERADE']]);
  }
  return rules;
}

const iptablesArgs = (r: IptablesRule, op: '-I' | '-A' | '-D' | '-C') => ['-w', '-t', r[1], op, r[2], ...r[4]];

/** Writes the rules; what the kind of firewall calls them, for the report. */
export async function addFirewall(s: NetServiceSettings, kind: FirewallKind, log: Logger): Promise<string> {
  if (kind === 'nftables') {
    const ruleset = nftRuleset(s, await nftTables());
    log.debug(`nft -f -:\n${ruleset}`);
    await runTool('nft', ['-f', '-'], { ...failed('writing the nftables tables of the bridge'), input: ruleset });
    return `nftables tables ${TABLES.filter((t) => t !== 'ip6 lxc' || s.ipv6?.nat).join(', ')}`;
  }
  const rules = iptablesRules(s);
  for (const r of rules) await runTool(r[0], iptablesArgs(r, r[3] ? '-I' : '-A'), failed(`adding a rule for the bridge ${s.bridge}`));
  return `${rules.length} iptables rules`;
}

/** Removes the rules, whichever start wrote them; rules already gone are no error. */
export async function removeFirewall(s: NetServiceSettings, kind: FirewallKind, log: Logger): Promise<void> {
  if (kind === 'nftables') {
    const tables = await nftTables();
    if (tables.length > 0) await runTool('nft', ['-f', '-'], { ...failed('deleting the nftables tables of the bridge'), input: tables.map((t) => `delete table ${t}\n`).join('') });
    return;
  }
  for (const r of iptablesRules(s)) {
    // -C first: a rule that is not there is what stop wants, not a failure.
    const there = await runTool(r[0], iptablesArgs(r, '-C'), failed('checking a rule')).then(
      () => true,
      () => false,
    );
    if (there) await runTool(r[0], iptablesArgs(r, '-D'), failed(`deleting a rule of the bridge ${s.bridge}`));
    else log.debug(`${r[0]} -t ${r[1]} ${r[2]} ${r[4].join(' ')}: not there`);
  }
}
