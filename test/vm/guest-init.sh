#!/bin/sh
# PID 1 of the kernel-feature VM: the system the tests expect (a pure
# unified cgroup hierarchy with every controller enabled, AppArmor's
# securityfs, the modules of /lxkit-vm/modules, loopback up), then the guest
# runner, then power off. The shell stays PID 1 so that orphans (daemonized
# container monitors) are reaped.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8
say() { echo "lxkit-vm: $*"; }
off() { sync; mount -o remount,ro / 2>/dev/null; poweroff -f; }

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t securityfs securityfs /sys/kernel/security
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,gid=5,mode=0620 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue
for d in /run /tmp /var/tmp /var/cache; do mount -t tmpfs -o mode=1777 tmpfs "$d"; done
hostname lxkit-vm
ip link set lo up

while read -r m params; do
  loaded=$(basename "$m" .ko | tr - _)
  [ -d "/sys/module/$loaded" ] && continue # the initramfs loaded it
  # shellcheck disable=SC2086
  insmod "$m" $params || say "insmod $m failed"
done < /lxkit-vm/modules

# Every controller the kernel has, in the root's subtree.
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || say "cannot enable the $c controller"
done

# The project at its host path (a fresh clone may live under /tmp, a tmpfs here).
project=$(cat /lxkit-vm/project-path)
mkdir -p "$project" && mount --bind /lxkit-vm/project "$project" || { say "cannot bind the project at $project"; off; }
say "up: kernel $(uname -r), cgroup controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control), lsm: $(cat /sys/kernel/security/lsm)"
node "$project/test/vm/guest.mjs" /dev/vdb
say "guest runner exited with $?"
off
