/* lxkit-attach relay: a command socket in another network namespace (relay.c). */
#ifndef LXKIT_ATTACH_RELAY_H
#define LXKIT_ATTACH_RELAY_H

/* Serves one AR_RELAY request on fd 3; the helper's exit status. */
int relay(void);

#endif
