/* A terminal proxied to a pty master, for lxkit's attach and console helpers. */
#ifndef LXKIT_PTYPROXY_H
#define LXKIT_PTYPROXY_H

/*
 * Copies stdin to `master` and `master` to stdout, with stdin in raw mode
 * when it is a terminal (its size passed on, SIGWINCH included), until the
 * master hangs up, the process of `pidfd` exits (-1: none), or, when
 * `escape` >= 0, the user types escape then 'q' (escape twice sends it
 * once). The output also goes to `log` when it is >= 0 (lxc-attach -L).
 * `master` may be a socket instead, its other end a monitor proxying the
 * console: the terminal's size then goes as C_WINSIZE to `sizes` (the
 * monitor's command socket; -1: sizes go to `master` itself).
 * Returns 1 when the user left with the escape, else 0.
 */
int pty_proxy(int master, int pidfd, int escape, int log, int sizes);

#endif
