/**
 * Tap stages: where a tap runs among the taps of one hook (tapable's `stage`
 * option; lower runs first). Use these names rather than numbers, so that
 * orderings stay meaningful when plugins from different authors meet.
 */

/** Before everything: the core's own readers and preparers. */
export const STAGE_FIRST = -10_000;
/** mount: lxc.mount.auto's cgroup mounts (cgroup plugin), after proc and sys, before fstab and entries (LXC's order). */
export const STAGE_AUTO_CGROUP = -9_000;
/** mount: lxc.mount.fstab and lxc.mount.entry. */
export const STAGE_MOUNT_ENTRIES = -8_000;
/** mount: right after them, before the site mount scripts (LXC mounts its nesting helpers there, lxc.apparmor.allow_nesting). */
export const STAGE_AFTER_MOUNT_ENTRIES = -7_000;
/** Early work other taps rely on. */
export const STAGE_EARLY = -1_000;
/** The default stage of a tap. */
export const STAGE_DEFAULT = 0;
/** Site hook scripts (lxc.hook.*) run after plugin taps of the same hook, as LXC runs them after its own work. */
export const STAGE_SITE_HOOKS = 500;
/** Late work that wants to see what other taps did. */
export const STAGE_LATE = 1_000;

/*
 * The `start` hook's last ops, in the order LXC applies them right before
 * exec of init: the LSM label, then no_new_privs, then capabilities, and the
 * seccomp filter last of all because it may forbid the calls the others need.
 */
export const STAGE_LSM = 8_000;
export const STAGE_NO_NEW_PRIVS = 8_100;
export const STAGE_CAPS = 8_200;
export const STAGE_SECCOMP = 8_300;

/** After everything. */
export const STAGE_LAST = 10_000;
