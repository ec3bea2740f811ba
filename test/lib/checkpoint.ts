/** What the checkpoint tests share (test/e2e/checkpoint*.test.ts). */
import { lxkitIn, type Scratch } from './harness.js';

/** No console or tty ptys: what criu can carry. */
export const PTYLESS = 'lxc.console.path = none\nlxc.tty.max = 0\n';
/** ...with a network namespace of its own with only its loopback. */
export const CARRIED = `${PTYLESS}lxc.net.0.type = empty\n`;

export const attach = (s: Scratch, name: string, script: string) => lxkitIn(s, 'attach', '-n', name, '--', '/bin/sh', '-c', script);

/**
 * The container's processes as `ps` inside shows them, but ps, grep and the
 * shell's sleep (a new one each tick), and a process without a command line
 * (`[sh]`: the counting shell's child between its fork and its exec, or
 * exited and not yet reaped).
 */
export const processes = async (s: Scratch, name: string) => (await attach(s, name, 'ps -o pid,args | grep -v " ps\\| grep\\|sleep\\|\\[.*\\]$"')).stdout;

export const state = async (s: Scratch, name: string) => (await lxkitIn(s, 'info', '-n', name, '-s')).stdout.replace(/^State:\s*/, '').trim();
