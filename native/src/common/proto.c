/* Encoding and decoding of lxkit's frames and records; see proto.h. */
#include "proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *d = realloc(b->data, cap);
		if (!d)
			abort(); /* out of memory in a small helper: nothing sensible to do */
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* Little endian on the wire, whatever the host (x86 and arm64 are both LE anyway). */
void buf_u16(struct buf *b, uint16_t v)
{
	uint8_t x[2] = { v & 0xff, v >> 8 };
	buf_put(b, x, 2);
}

void buf_u32(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
	buf_put(b, x, 4);
}

void buf_i64(struct buf *b, int64_t v)
{
	uint64_t u = (uint64_t)v;
	uint8_t x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (u >> (8 * i)) & 0xff;
	buf_put(b, x, 8);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int64_t get_i64(const uint8_t *p)
{
	uint64_t u = 0;
	for (int i = 7; i >= 0; i--)
		u = u << 8 | p[i];
	return (int64_t)u;
}

void rec_put(struct buf *b, const int64_t *ints, uint32_t nints, const char *const *strs, const uint32_t *lens,
	     uint32_t nstrs)
{
	buf_u32(b, nints);
	for (uint32_t i = 0; i < nints; i++)
		buf_i64(b, ints[i]);
	buf_u32(b, nstrs);
	for (uint32_t i = 0; i < nstrs; i++) {
		const char *s = strs[i] ? strs[i] : "";
		uint32_t n = lens ? lens[i] : (uint32_t)strlen(s);
		buf_u32(b, n);
		buf_put(b, s, n);
		buf_put(b, "", 1);
	}
}

long rec_get(const uint8_t *p, size_t n, struct record *r)
{
	size_t at = 0;
	if (n < 4)
		return -1;
	r->nints = get_u32(p);
	at = 4;
	if (r->nints > REC_MAX_INTS || n - at < (size_t)r->nints * 8)
		return -1;
	for (uint32_t i = 0; i < r->nints; i++, at += 8)
		r->ints[i] = get_i64(p + at);
	if (n - at < 4)
		return -1;
	r->nstrs = get_u32(p + at);
	at += 4;
	if (r->nstrs > REC_MAX_STRS)
		return -1;
	for (uint32_t i = 0; i < r->nstrs; i++) {
		if (n - at < 4)
			return -1;
		uint32_t len = get_u32(p + at);
		at += 4;
		if (n - at < (size_t)len + 1 || p[at + len] != 0)
			return -1;
		r->strs[i] = (const char *)p + at;
		r->lens[i] = len;
		at += len + 1;
	}
	return (long)at;
}

void frame_begin(struct buf *b, uint16_t type)
{
	buf_init(b);
	buf_u32(b, 0); /* patched by frame_end */
	buf_u16(b, type);
	buf_u16(b, 0);
}

void frame_end(struct buf *b)
{
	uint32_t n = (uint32_t)(b->len - 4);
	b->data[0] = n & 0xff;
	b->data[1] = (n >> 8) & 0xff;
	b->data[2] = (n >> 16) & 0xff;
	b->data[3] = n >> 24;
}

static int read_full(int fd, void *p, size_t n)
{
	uint8_t *q = p;
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, q + got, n - got);
		if (r == 0)
			return got == 0 ? 0 : -1;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return 1;
}

long frame_read(int fd, uint16_t *type, uint8_t **out)
{
	uint8_t hdr[8];
	int r = read_full(fd, hdr, sizeof(hdr));
	if (r <= 0)
		return r;
	uint32_t n = get_u32(hdr);
	if (n < 4 || n > FRAME_MAX) {
		errno = EPROTO;
		return -1;
	}
	*type = (uint16_t)(hdr[4] | hdr[5] << 8);
	size_t len = n - 4;
	uint8_t *p = malloc(len ? len : 1);
	if (!p)
		return -1;
	if (len && read_full(fd, p, len) != 1) {
		free(p);
		errno = errno ? errno : EPROTO;
		return -1;
	}
	*out = p;
	return (long)len;
}

int record_read(int fd, uint16_t *type, uint8_t **payload, struct record *r)
{
	*payload = NULL;
	long n = frame_read(fd, type, payload);
	if (n < 0 || (n == 0 && !*payload))
		return -1;
	return rec_get(*payload, (size_t)n, r) >= 0 ? 1 : 0;
}

int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;
	while (n > 0) {
		ssize_t w = write(fd, q, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		q += w;
		n -= (size_t)w;
	}
	return 0;
}

int send_record(int fd, uint16_t type, const int64_t *ints, uint32_t nints, const char *const *strs, uint32_t nstrs)
{
	struct buf b;
	frame_begin(&b, type);
	rec_put(&b, ints, nints, strs, NULL, nstrs);
	frame_end(&b);
	int ret = write_all(fd, b.data, b.len);
	buf_free(&b);
	return ret;
}
