/**
 * Addresses as the kernel takes them (network byte order), and the
 * defaults LXC fills in: a class prefix for an IPv4 address written without
 * one, /64 for IPv6, the broadcast address of the subnet, random hex digits
 * for the `x`s of lxc.net.N.hwaddr.
 */
import { randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { Cidr } from '@lxkit/core';
import type { IPv4Address } from './keys.js';

export function ipv4Bytes(address: string): Buffer {
  if (!isIPv4(address)) throw new TypeError(`not an IPv4 address: ${address}`);
  return Buffer.from(address.split('.').map(Number));
}

export function ipv6Bytes(address: string): Buffer {
  if (!isIPv6(address)) throw new TypeError(`not an IPv6 address: ${address}`);
  let text = address;
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipv4Bytes(v4[1]!);
    text = text.slice(0, -v4[1]!.length) + `${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** LXC's prefix for an IPv4 address written without one: its class's (A /8, B /16, C /24). */
export function ipv4Prefix(cidr: Cidr): number {
  if (cidr.prefix !== undefined) return cidr.prefix;
  const first = Number(cidr.address.split('.')[0]);
  return first < 128 ? 8 : first < 192 ? 16 : 24;
}

export const ipv6Prefix = (cidr: Cidr): number => cidr.prefix ?? 64;

/** The configured broadcast address, else the subnet's (as LXC computes it). */
export function ipv4Broadcast(a: IPv4Address): Buffer {
  if (a.broadcast) return ipv4Bytes(a.broadcast);
  const prefix = ipv4Prefix(a);
  const host = prefix === 32 ? 0 : 0xffffffff >>> prefix;
  const b = Buffer.alloc(4);
  b.writeUInt32BE((ipv4Bytes(a.address).readUInt32BE(0) | host) >>> 0);
  return b;
}

/**
 * lxc.net.N.hwaddr with its `x`s replaced by random hex digits; the first
 * octet stays unicast (its lowest bit clear), as LXC keeps it.
 */
export function completeHwaddr(template: string): Buffer {
  const random = randomBytes(12);
  let n = 0;
  const octets = template.split(':').map((octet, i) =>
    [...octet]
      .map((c, j) => {
        if (c !== 'x' && c !== 'X') return c;
        const digit = random[n++]! & 0x0f;
        return (i === 0 && j === 1 ? digit & 0x0e : digit).toString(16);
      })
      .join(''),
  );
  return Buffer.from(octets.map((o) => parseInt(o, 16)));
}

/** A MAC address as text (aa:bb:...). */
export const formatHwaddr = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
