/*
 * The console's in-memory ring buffer (lxc.console.buffer.size): the last
 * `size` bytes of the console's output, kept by the monitor for
 * C_CONSOLE_LOG. As LXC's: a write larger than what is free pushes the
 * oldest bytes out; a read takes what is there from the oldest on (at most
 * `max`) and moves past it, so the next read gets only newer output; a
 * clear empties it.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "monitor.h"

static char *data;
static uint64_t size;
/* Offsets since the start (or the last clear): [first, end) is kept, end - first <= size. */
static uint64_t first, end;

int ring_init(uint64_t bytes)
{
	free(data);
	data = bytes ? malloc(bytes) : NULL;
	size = data ? bytes : 0;
	first = end = 0;
	return bytes && !data ? -1 : 0;
}

int ring_enabled(void)
{
	return size > 0;
}

void ring_write(const char *buf, size_t n)
{
	if (!size)
		return;
	/* Only the last `size` bytes of a larger chunk could be kept anyway. */
	if (n > size) {
		end += n - size;
		buf += n - size;
		n = size;
	}
	size_t at = (size_t)(end % size), part = size - at < n ? size - at : n;
	memcpy(data + at, buf, part);
	memcpy(data, buf + part, n - part);
	end += n;
	if (end - first > size)
		first = end - size;
}

void ring_clear(void)
{
	first = end = 0;
}

char *ring_take(uint64_t max, int clear, size_t *len)
{
	uint64_t n = size ? end - first : 0;
	if (max > 0 && max < n)
		n = max;
	char *out = malloc(n ? n : 1);
	if (!out)
		return NULL;
	size_t at = size ? (size_t)(first % size) : 0, part = size - at < n ? size - at : n;
	memcpy(out, data + at, part);
	memcpy(out + part, data, n - part);
	*len = n;
	if (clear)
		ring_clear();
	else
		first += n;
	return out;
}
