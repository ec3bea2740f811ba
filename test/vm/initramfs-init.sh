#!/bin/busybox sh
# The kernel-feature VM's initramfs: load the virtio drivers, mount the root
# disk (made by image.mjs) and hand over to its init. Any failure powers the
# VM off at once; the host then reports the console output.
bb=/bin/busybox
fail() { echo "lxkit-vm: initramfs: $*"; $bb poweroff -f; }
$bb mount -t proc proc /proc
$bb mount -t devtmpfs dev /dev
while read -r m; do $bb insmod "$m" || fail "insmod $m failed"; done < /modules
i=0
while [ ! -b /dev/vda ]; do
  i=$((i + 1)); [ $i -gt 100 ] && fail "no root disk (/dev/vda)"
  $bb usleep 50000
done
$bb mount -t ext4 /dev/vda /newroot || fail "cannot mount the root disk"
$bb umount /proc
$bb mount --move /dev /newroot/dev
exec $bb switch_root /newroot /lxkit-vm/init
