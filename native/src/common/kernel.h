/*
 * System call numbers and flags newer than some C libraries' headers (x86-64
 * and the generic table agree on these). Include after <sys/syscall.h>,
 * <sched.h>, <sys/wait.h>, <sys/mount.h>, <fcntl.h>, <sys/ioctl.h> and <sys/prctl.h>, whose
 * definitions win.
 */
#ifndef LXKIT_KERNEL_H
#define LXKIT_KERNEL_H

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41) /* needs <sys/ioctl.h> */
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
/* <linux/pidfd.h> of Linux 6.11: a pidfd hands out its process's namespaces. */
#ifndef PIDFD_GET_CGROUP_NAMESPACE
#define PIDFD_GET_CGROUP_NAMESPACE _IO(0xFF, 1)
#define PIDFD_GET_IPC_NAMESPACE _IO(0xFF, 2)
#define PIDFD_GET_MNT_NAMESPACE _IO(0xFF, 3)
#define PIDFD_GET_NET_NAMESPACE _IO(0xFF, 4)
#define PIDFD_GET_PID_NAMESPACE _IO(0xFF, 5)
#define PIDFD_GET_TIME_NAMESPACE _IO(0xFF, 7)
#define PIDFD_GET_USER_NAMESPACE _IO(0xFF, 9)
#define PIDFD_GET_UTS_NAMESPACE _IO(0xFF, 10)
#endif

/* Core scheduling (prctl(2) PR_SCHED_CORE, Linux 5.14): glibc's <sys/prctl.h> may lack it. */
#ifndef PR_SCHED_CORE
#define PR_SCHED_CORE 62
#define PR_SCHED_CORE_GET 0
#define PR_SCHED_CORE_CREATE 1
#define PR_SCHED_CORE_SHARE_FROM 3
#define PR_SCHED_CORE_SCOPE_THREAD 0
#define PR_SCHED_CORE_SCOPE_THREAD_GROUP 1
#endif

#endif
