/*
 * Confinement applied right before a program runs in a container — the
 * container's init (monitor/child.c) and an attached program
 * (attach/attach.c) get the same: the capability bounding set, the
 * inheritable and ambient sets, an AppArmor label, a seccomp filter.
 * JavaScript computes them (plugins/caps, plugins/apparmor,
 * plugins/seccomp); these functions only apply them.
 */
#ifndef LXKIT_CONFINE_H
#define LXKIT_CONFINE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Drops every capability not in `bounding` from the bounding set (up to the
 * kernel's last), then sets the inheritable set and the ambient set (each
 * within the permitted set). The effective and permitted sets the program
 * runs with follow from exec's rules. On failure: -1, errno set, *what
 * names the call.
 */
int confine_caps(uint64_t bounding, uint64_t inheritable, uint64_t ambient, const char **what);

/* Changes to AppArmor label `label` (changeprofile), through attr/apparmor/current or attr/current. */
int confine_label(const char *label, const char **what);

/* Installs a classic BPF seccomp filter (`len` bytes of struct sock_filter). */
/* Installs a BPF program; with `listener`, asks for a notification listener and returns its fd there. */
int confine_seccomp(const void *prog, size_t len, int *listener, const char **what);

#endif
