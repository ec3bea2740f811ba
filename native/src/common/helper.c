#include "helper.h"

#include <errno.h>
#include <fcntl.h>

void helper_report(int err, const char *syscall, const char *path)
{
	int64_t ints[4] = { 0, 0, err, 0 };
	const char *strs[4] = { syscall, path ? path : "", "", "" };
	(void)!send_record(CONTROL_FD, M_RESULT, ints, 4, strs, 4);
}

int helper_request(uint16_t type, uint32_t min_ints, uint32_t min_strs, struct record *r)
{
	fcntl(CONTROL_FD, F_SETFD, FD_CLOEXEC);
	uint16_t got;
	uint8_t *payload = NULL;
	long n = frame_read(CONTROL_FD, &got, &payload);
	if (n < 0 || got != type || rec_get(payload, (size_t)n, r) < 0 || r->nints < min_ints || r->nstrs < min_strs) {
		helper_report(EPROTO, "read", "(request)");
		return -1;
	}
	return 0;
}
