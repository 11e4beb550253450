/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_proto.c - the host side of the wire protocol (host/src/proto.c)
 * against docs/protocol.md.
 *
 * Independent references: published CRC-32/ISO-HDLC check values (the same
 * as Python's zlib.crc32), and whole wire frames produced by
 * tests/proto_ref.py (zlib + a COBS written from the document). The rest
 * checks behaviour: round trips of every size class, every status code,
 * corrupted, truncated, oversized frames and noise, with resynchronisation
 * on the next frame each time, and the response/sequence checks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../host/src/proto.h"

static uint64_t rng_next(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* encode into a fresh buffer; NULL on failure */
static uint8_t *enc(uint8_t op, uint8_t seq, uint8_t st, const uint8_t *p,
		    size_t len, size_t *wlen)
{
	qa_proto_frame f = { op, seq, st, len, p };
	size_t cap = qa_proto_wire_max(len);
	uint8_t *w = malloc(cap);

	if (!w)
		return NULL;
	if (qa_proto_encode(&f, w, cap, wlen) != QA_OK) {
		free(w);
		return NULL;
	}
	return w;
}

/* Feed bytes in chunks of `chunk` (0 = all at once) and record the events;
 * frames are copied out. Returns the number of events (up to max). */
typedef struct got_ev {
	qa_proto_event ev;
	uint8_t op, seq, status;
	size_t len;
	uint8_t *payload;
} got_ev;

static size_t feed(qa_proto_dec *d, const uint8_t *buf, size_t n,
		   size_t chunk, got_ev *out, size_t max)
{
	size_t at = 0, k = 0;

	while (at < n) {
		size_t part = chunk ? (n - at < chunk ? n - at : chunk) : n - at;
		size_t off = 0;
		while (off < part) {
			size_t used = 0;
			qa_proto_frame f;
			qa_proto_event ev = qa_proto_dec_push(
				d, buf + at + off, part - off, &used, &f);
			off += used;
			if (ev == QA_PEV_NONE)
				continue;
			if (k < max) {
				out[k].ev = ev;
				out[k].payload = NULL;
				if (ev == QA_PEV_FRAME) {
					out[k].op = f.op;
					out[k].seq = f.seq;
					out[k].status = f.status;
					out[k].len = f.len;
					out[k].payload = malloc(f.len + 1);
					if (out[k].payload && f.len)
						memcpy(out[k].payload, f.payload,
						       f.len);
				}
			}
			k++;
		}
		at += part;
	}
	return k;
}

static void free_events(got_ev *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].payload);
}

static int same_frame(const got_ev *e, uint8_t op, uint8_t seq, uint8_t st,
		      const uint8_t *p, size_t len)
{
	return e->ev == QA_PEV_FRAME && e->op == op && e->seq == seq &&
	       e->status == st && e->len == len && e->payload &&
	       (len == 0 || memcmp(e->payload, p, len) == 0);
}

static int hexcmp(const uint8_t *got, size_t n, const char *hex)
{
	size_t i = 0;
	const char *s = hex;

	while (*s) {
		unsigned v;
		if (*s == ' ') {
			s++;
			continue;
		}
		if (sscanf(s, "%2x", &v) != 1 || i >= n || got[i] != v)
			return 0;
		i++;
		s += 2;
	}
	return i == n;
}

static void test_crc(check_ctx *c)
{
	static const struct {
		const char *s;
		size_t n;
		uint32_t crc;
	} v[] = {
		{ "123456789", 9, 0xCBF43926u },
		{ "", 0, 0x00000000u },
		{ "a", 1, 0xE8B7BE43u },
		{ "abc", 3, 0x352441C2u },
		{ "The quick brown fox jumps over the lazy dog", 43, 0x414FA339u },
	};
	char name[64];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint32_t got = qa_crc32(0, v[i].s, v[i].n);
		snprintf(name, sizeof name, "crc32_vector_%zu", i);
		check(c, got == v[i].crc, name, "\"%s\": got %08x want %08x",
		      v[i].s, (unsigned)got, (unsigned)v[i].crc);
	}
	uint8_t z[32], ff[32];
	memset(z, 0, sizeof z);
	memset(ff, 0xFF, sizeof ff);
	check(c, qa_crc32(0, z, 32) == 0x190A55ADu, "crc32_32_zero_bytes",
	      "got %08x", (unsigned)qa_crc32(0, z, 32));
	check(c, qa_crc32(0, ff, 32) == 0xFF6CAB0Bu, "crc32_32_ff_bytes",
	      "got %08x", (unsigned)qa_crc32(0, ff, 32));
	uint32_t part = qa_crc32(qa_crc32(0, "12345", 5), "6789", 4);
	check(c, part == 0xCBF43926u, "crc32_chained", "got %08x",
	      (unsigned)part);
}

/* frames from tests/proto_ref.py (zlib.crc32 + its own COBS) */
static void test_known_frames(check_ctx *c)
{
	/* bank 0, 3 words, then X[i][k] in lane i of word k */
	static const uint8_t load_x[15] = { 0, 3, 0, 1, 4, 0, 0, 0xFE, 5, 0, 0,
					    3, 0xFA, 0, 0 };
	static const uint8_t run[13] = { 0, 0, 1, 0, 1, 0, 3, 0, 2, 2, 1,
					 0x80, 0x7F };
	static const uint8_t res[4] = { 0x0A, 0x02, 0x00, 0xEF };
	static const uint8_t four[4] = { 0, 1, 2, 3 };
	static const struct {
		const char *name;
		uint8_t op, seq, st;
		const uint8_t *p;
		size_t len;
		const char *hex;
	} v[] = {
		{ "known_nop_seq0", 0x00, 0x00, 0x00, NULL, 0,
		  "00 01 01 01 01 01 05 1d f7 22 c6" },
		{ "known_reset", 0x41, 0x00, 0x00, NULL, 0,
		  "00 02 41 01 01 01 05 e4 86 b1 a3" },
		{ "known_load_more", 0x40, 0x11, 0x00, NULL, 0,
		  "00 03 40 11 01 01 05 ae 9f 74 76" },
		{ "known_ident", 0x01, 0x01, 0x00, NULL, 0,
		  "00 03 01 01 01 01 05 c8 b9 fe 43" },
		{ "known_load_x", 0x02, 0x02, 0x00, load_x, sizeof load_x,
		  "00 03 02 02 02 0f 01 02 03 03 01 04 01 03 fe 05 01 03 03 fa "
		  "01 05 24 b2 0f 32" },
		{ "known_run", 0x05, 0x05, 0x00, run, sizeof run,
		  "00 03 05 05 02 0d 01 01 02 01 02 01 02 03 0a 02 02 01 80 7f "
		  "0e e4 6e 46" },
		{ "known_run_response", 0x85, 0x05, 0x00, res, sizeof res,
		  "00 03 85 05 02 04 03 0a 02 06 ef 3f d6 36 45" },
		{ "known_more_flag", 0x85, 0x42, 0x80, four, sizeof four,
		  "00 05 85 42 80 04 01 08 01 02 03 d5 65 09 18" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t n = 0;
		uint8_t *w = enc(v[i].op, v[i].seq, v[i].st, v[i].p, v[i].len,
				 &n);
		check(c, w && hexcmp(w, n, v[i].hex), v[i].name,
		      "encoding differs from tests/proto_ref.py");
		free(w);
	}
}

static void fill(uint8_t *p, size_t n, int kind, uint64_t *rng)
{
	for (size_t i = 0; i < n; i++) {
		switch (kind) {
		case 0: p[i] = 0; break;                          /* all zero */
		case 1: p[i] = 0xFF; break;                       /* no zero */
		case 2: p[i] = (uint8_t)(1 + rng_next(rng) % 255); break;
		case 3: p[i] = (uint8_t)rng_next(rng); break;     /* random */
		default: p[i] = (i % 254 == 253) ? 0 : (uint8_t)(i | 1); break;
		}
	}
}

static void test_round_trips(check_ctx *c)
{
	static const size_t sizes[] = { 0, 1, 2, 244, 245, 246, 253, 254, 255,
					499, 500, 508, 1024, 4096, 65535 };
	static const char *const kinds[] = { "zeros", "ff", "nonzero",
					     "random", "zero_every_254" };
	uint64_t rng = 0x1234567ULL;
	qa_proto_dec *d = NULL;
	char name[96];

	if (qa_proto_dec_new(&d, QA_PROTO_PAYLOAD_LIMIT) != QA_OK) {
		check(c, 0, "round_trip_decoder", "cannot create a decoder");
		return;
	}
	uint8_t *p = malloc(QA_PROTO_PAYLOAD_LIMIT);
	for (size_t s = 0; p && s < sizeof sizes / sizeof sizes[0]; s++) {
		for (int k = 0; k < 5; k++) {
			size_t len = sizes[s], n = 0;
			fill(p, len, k, &rng);
			uint8_t *w = enc(0x85, (uint8_t)(s * 5 + k), 0x00, p,
					 len, &n);
			int ok = w != NULL && n <= qa_proto_wire_max(len);
			for (size_t i = 1; ok && i < n; i++)
				ok = w[i] != 0; /* the marker is unique */
			/* whole, byte by byte, and in odd chunks */
			static const size_t chunks[] = { 0, 1, 7, 255 };
			for (size_t ch = 0; ok && ch < 4; ch++) {
				got_ev e[2];
				size_t ne = feed(d, w, n, chunks[ch], e, 2);
				ok = ne == 1 &&
				     same_frame(&e[0], 0x85,
						(uint8_t)(s * 5 + k), 0, p, len);
				free_events(e, ne < 2 ? ne : 2);
			}
			snprintf(name, sizeof name, "round_trip_%zu_%s",
				 len, kinds[k]);
			check(c, ok, name, "frame did not survive encode/decode");
			free(w);
		}
	}
	free(p);
	qa_proto_dec_free(d);
}

static void test_efficiency(check_ctx *c)
{
	static const size_t lens[] = { 256, 1024, 4096 };
	uint8_t *p = malloc(4096);
	if (!p)
		return;
	memset(p, 0x7E, 4096); /* the worst case: no zero anywhere */
	for (size_t i = 0; i < 3; i++) {
		size_t n = 0;
		uint8_t *w = enc(QA_POP_LOAD_MORE, 0x11, 0x22, p, lens[i], &n);
		char name[64];
		snprintf(name, sizeof name, "efficiency_%zu_worst_case",
			 lens[i]);
		/* the bound of docs/protocol.md and the >= 95% target */
		check(c, w && n <= qa_proto_wire_max(lens[i]) &&
				 100 * lens[i] >= 95 * n,
		      name, "%zu payload bytes took %zu wire bytes", lens[i],
		      n);
		free(w);
	}
	check(c, qa_proto_wire_max(1024) == 1039 &&
			 qa_proto_wire_max(4096) == 4123 &&
			 qa_proto_wire_max(0) == 11,
	      "wire_max_formula", "1024 -> %zu, 4096 -> %zu, 0 -> %zu",
	      qa_proto_wire_max(1024), qa_proto_wire_max(4096),
	      qa_proto_wire_max(0));
	free(p);
}

static void test_status_codes(check_ctx *c)
{
	qa_proto_dec *d = NULL;
	char name[64];
	if (qa_proto_dec_new(&d, 64) != QA_OK)
		return;
	for (unsigned s = 0; s < QA_PST_COUNT; s++) {
		for (unsigned more = 0; more < 2; more++) {
			uint8_t exp = (uint8_t)(0x40 + s);
			uint8_t st = (uint8_t)(s | (more ? QA_PROTO_MORE : 0));
			size_t n = 0;
			uint8_t *w = enc((uint8_t)(QA_POP_RUN | QA_PROTO_RSP),
					 (uint8_t)s, st, &exp, 1, &n);
			got_ev e[2];
			size_t ne = w ? feed(d, w, n, 0, e, 2) : 0;
			int ok = ne == 1 &&
				 same_frame(&e[0], 0x85, (uint8_t)s, st, &exp, 1);
			snprintf(name, sizeof name, "status_%s%s",
				 qa_proto_status_name(s), more ? "_more" : "");
			check(c, ok && strcmp(qa_proto_status_name(st),
					      qa_proto_status_name(s)) == 0,
			      name, "status byte %02x not carried", st);
			free_events(e, ne < 2 ? ne : 2);
			free(w);
		}
	}
	int names_ok = 1, resend_ok = 1;
	for (unsigned s = 0; s < QA_PST_COUNT; s++) {
		if (strcmp(qa_proto_status_name(s), "?") == 0)
			names_ok = 0;
		for (unsigned t = 0; t < s; t++)
			if (strcmp(qa_proto_status_name(s),
				   qa_proto_status_name(t)) == 0)
				names_ok = 0;
		int want = s >= QA_PST_BAD_CRC && s <= QA_PST_SEQUENCE;
		if (qa_proto_status_resend(s) != want)
			resend_ok = 0;
	}
	check(c, names_ok && strcmp(qa_proto_status_name(0x0C), "?") == 0,
	      "status_names_distinct", "a status name is missing or repeated");
	check(c, resend_ok, "status_resend_classes",
	      "transmission errors (0x01-0x06) must be the resend class");
	check(c, strcmp(qa_proto_op_name(QA_POP_LOAD_MORE), "LOAD_MORE") == 0 &&
			 strcmp(qa_proto_op_name(0x85), "RUN") == 0 &&
			 strcmp(qa_proto_op_name(0x8B), "NET_RUN") == 0 &&
			 strcmp(qa_proto_op_name(0x0C), "?") == 0 &&
			 strcmp(qa_proto_op_name(0x42), "?") == 0,
	      "op_names", "opcode names wrong");
	qa_proto_dec_free(d);
}

/* a short good frame used to prove resynchronisation */
static uint8_t *good_frame(size_t *n)
{
	static const uint8_t p[5] = { 'g', 'o', 0, 'o', 'd' };
	return enc(0x81, 0x5A, 0x00, p, sizeof p, n);
}

static int is_good(const got_ev *e)
{
	static const uint8_t p[5] = { 'g', 'o', 0, 'o', 'd' };
	return same_frame(e, 0x81, 0x5A, 0x00, p, sizeof p);
}

static void test_corruption(check_ctx *c)
{
	qa_proto_dec *d = NULL;
	if (qa_proto_dec_new(&d, 1024) != QA_OK)
		return;
	uint8_t p[40];
	for (size_t i = 0; i < sizeof p; i++)
		p[i] = (uint8_t)(i * 37 + 1);
	p[10] = 0;
	size_t n = 0, gn = 0;
	uint8_t *w = enc(0x02, 0x07, 0, p, sizeof p, &n);
	uint8_t *g = good_frame(&gn);
	uint8_t *buf = malloc(n + gn);
	unsigned accepted = 0, same = 0, lost_next = 0, flips = 0;
	if (!w || !g || !buf)
		goto out;
	/* every single-bit error after the marker */
	for (size_t i = 1; i < n; i++) {
		for (int b = 0; b < 8; b++) {
			memcpy(buf, w, n);
			memcpy(buf + n, g, gn);
			buf[i] ^= (uint8_t)(1u << b);
			got_ev e[4];
			size_t ne = feed(d, buf, n + gn, 0, e, 4);
			int good_seen = 0;
			for (size_t k = 0; k < ne && k < 4; k++) {
				/* raising the code byte of the last group
				 * announces bytes past the body's end, which
				 * the decoder never reads: same content */
				if (same_frame(&e[k], 0x02, 0x07, 0, p,
					       sizeof p))
					same++;
				else if (e[k].ev == QA_PEV_FRAME &&
					 !is_good(&e[k]))
					accepted++;
				if (is_good(&e[k]))
					good_seen = 1;
			}
			if (!good_seen)
				lost_next++;
			free_events(e, ne < 4 ? ne : 4);
			qa_proto_dec_flush(d);
			flips++;
		}
	}
	check(c, flips > 0 && accepted == 0 && same <= 7,
	      "bad_crc_no_bit_flip_accepted_with_other_content",
	      "%u of %u corrupted frames were accepted (%u decoded unchanged)",
	      accepted, flips, same);
	check(c, lost_next == 0, "bad_crc_next_frame_survives",
	      "the good frame after a corrupted one was lost %u times",
	      lost_next);

	/* a CRC byte off by one bit: exactly a BAD_CRC event */
	memcpy(buf, w, n);
	buf[n - 1] ^= 0x10;
	if (buf[n - 1] == 0)
		buf[n - 1] = 0x10;
	{
		got_ev e[3];
		memcpy(buf + n, g, gn);
		size_t ne = feed(d, buf, n + gn, 0, e, 3);
		check(c, ne == 2 && e[0].ev == QA_PEV_BAD_CRC && is_good(&e[1]),
		      "bad_crc_event_then_good_frame", "%zu events", ne);
		free_events(e, ne < 3 ? ne : 3);
	}
out:
	free(buf);
	free(w);
	free(g);
	qa_proto_dec_free(d);
}

static void test_truncation(check_ctx *c)
{
	qa_proto_dec *d = NULL;
	if (qa_proto_dec_new(&d, 1024) != QA_OK)
		return;
	uint8_t p[300];
	uint64_t rng = 99;
	fill(p, sizeof p, 3, &rng);
	size_t n = 0, gn = 0;
	uint8_t *w = enc(0x03, 0x09, 0, p, sizeof p, &n);
	uint8_t *g = good_frame(&gn);
	uint8_t *buf = malloc(n + gn);
	unsigned bad = 0;
	if (!w || !g || !buf)
		goto out;
	for (size_t k = 1; k < n; k++) {
		memcpy(buf, w, k);
		memcpy(buf + k, g, gn);
		got_ev e[3];
		size_t ne = feed(d, buf, k + gn, 0, e, 3);
		/* a lone marker is not a frame; anything more is truncated */
		int ok = (k == 1) ? (ne == 1 && is_good(&e[0]))
				  : (ne == 2 && e[0].ev == QA_PEV_TRUNCATED &&
				     is_good(&e[1]));
		if (!ok)
			bad++;
		free_events(e, ne < 3 ? ne : 3);
	}
	check(c, bad == 0, "truncated_every_length_then_good_frame",
	      "%u of %zu cut points went wrong", bad, n - 1);

	/* a partial frame when the line goes quiet: flush reports it */
	size_t used = 0;
	qa_proto_event ev = qa_proto_dec_push(d, w, n / 2, &used, NULL);
	qa_proto_event fl = qa_proto_dec_flush(d);
	qa_proto_event fl2 = qa_proto_dec_flush(d);
	check(c, ev == QA_PEV_NONE && used == n / 2 &&
			 fl == QA_PEV_TRUNCATED && fl2 == QA_PEV_NONE,
	      "truncated_flush", "push %d flush %d then %d", ev, fl, fl2);
	qa_proto_dec_stats st;
	qa_proto_dec_get_stats(d, &st);
	check(c, st.truncated == n - 1 && st.frames == n - 1,
	      "truncated_stats", "truncated %llu frames %llu",
	      (unsigned long long)st.truncated, (unsigned long long)st.frames);
out:
	free(buf);
	free(w);
	free(g);
	qa_proto_dec_free(d);
}

static void test_oversize(check_ctx *c)
{
	qa_proto_dec *d = NULL;
	if (qa_proto_dec_new(&d, 64) != QA_OK)
		return;
	uint8_t p[65];
	memset(p, 0x55, sizeof p);
	size_t n = 0, n64 = 0, gn = 0;
	uint8_t *w = enc(0x08, 0x01, 0, p, 65, &n);
	uint8_t *w64 = enc(0x08, 0x02, 0, p, 64, &n64);
	uint8_t *g = good_frame(&gn);
	uint8_t *buf = malloc(n + n64 + gn);
	if (w && w64 && g && buf) {
		memcpy(buf, w, n);
		memcpy(buf + n, w64, n64);
		memcpy(buf + n + n64, g, gn);
		got_ev e[4];
		size_t ne = feed(d, buf, n + n64 + gn, 3, e, 4);
		check(c, ne == 3 && e[0].ev == QA_PEV_BAD_LENGTH &&
				 same_frame(&e[1], 0x08, 0x02, 0, p, 64) &&
				 is_good(&e[2]),
		      "oversized_frame_rejected_then_resync",
		      "%zu events, first %d", ne, ne ? (int)e[0].ev : -1);
		free_events(e, ne < 4 ? ne : 4);
	}
	/* the encoder's own limits */
	uint8_t out[16];
	size_t olen = 0;
	qa_proto_frame big = { 0x08, 0, 0, QA_PROTO_PAYLOAD_LIMIT + 1, p };
	qa_proto_frame nop = { 0x00, 0, 0, 0, NULL };
	int r1 = qa_proto_encode(&big, out, sizeof out, &olen);
	int r2 = qa_proto_encode(&nop, out, 10, &olen);
	int r3 = qa_proto_encode(&nop, out, 11, &olen);
	check(c, r1 == QA_ERR_RANGE && r2 == QA_ERR_INVALID && r3 == QA_OK &&
			 olen == 11,
	      "encoder_limits", "65536: %d, short buffer: %d, exact: %d (%zu)",
	      r1, r2, r3, olen);
	qa_proto_dec *bad = NULL;
	check(c, qa_proto_dec_new(&bad, 0) == QA_ERR_INVALID && !bad &&
			 qa_proto_dec_new(&bad, 65536) == QA_ERR_INVALID,
	      "decoder_limits", "bad maximum payload accepted");
	free(buf);
	free(w);
	free(w64);
	free(g);
	qa_proto_dec_free(d);
}

static void test_garbage(check_ctx *c)
{
	qa_proto_dec *d = NULL;
	if (qa_proto_dec_new(&d, 1024) != QA_OK)
		return;
	uint64_t rng = 0xC0FFEE;
	size_t gn = 0;
	uint8_t *g = good_frame(&gn);
	uint8_t *buf = malloc(64 * (gn + 200));
	unsigned runs_ok = 0;
	if (!g || !buf)
		goto out;
	for (int with_zeros = 0; with_zeros < 2; with_zeros++) {
		size_t n = 0, frames = 32;
		for (size_t f = 0; f < frames; f++) {
			size_t junk = rng_next(&rng) % 200;
			for (size_t i = 0; i < junk; i++) {
				uint8_t b = (uint8_t)rng_next(&rng);
				if (!with_zeros && b == 0)
					b = 0x5A;
				buf[n++] = b;
			}
			memcpy(buf + n, g, gn);
			n += gn;
		}
		got_ev e[200];
		size_t ne = feed(d, buf, n, 13, e, 200);
		size_t good = 0, other_frames = 0;
		for (size_t k = 0; k < ne && k < 200; k++) {
			if (is_good(&e[k]))
				good++;
			else if (e[k].ev == QA_PEV_FRAME)
				other_frames++;
		}
		if (good == frames && other_frames == 0 &&
		    (with_zeros || ne == frames))
			runs_ok++;
		check(c, good == frames && other_frames == 0 &&
				 (with_zeros || ne == frames),
		      with_zeros ? "garbage_with_zeros_between_frames"
				 : "garbage_without_zeros_between_frames",
		      "%zu of %zu frames found, %zu false frames, %zu events",
		      good, frames, other_frames, ne);
		free_events(e, ne < 200 ? ne : 200);
	}
	qa_proto_dec_stats st;
	qa_proto_dec_get_stats(d, &st);
	check(c, st.skipped > 0, "garbage_counted", "no skipped bytes counted");
out:
	(void)runs_ok;
	free(buf);
	free(g);
	qa_proto_dec_free(d);
}

static void test_sequence(check_ctx *c)
{
	uint8_t exp = 0x12;
	qa_proto_frame ok = { 0x85, 0x11, 0x00, 0, NULL };
	qa_proto_frame cmd = { 0x05, 0x11, 0x00, 0, NULL };
	qa_proto_frame err = { 0x85, 0x13, QA_PST_SEQUENCE, 1, &exp };
	check(c, qa_proto_check_response(&ok, 0x05, 0x11) == QA_PM_MATCH,
	      "sequence_match", "response not matched");
	check(c, qa_proto_check_response(&ok, 0x05, 0x12) == QA_PM_WRONG_SEQ,
	      "sequence_mismatch", "wrong sequence number not caught");
	check(c, qa_proto_check_response(&ok, 0x06, 0x11) == QA_PM_WRONG_OP,
	      "sequence_wrong_op", "wrong opcode not caught");
	check(c, qa_proto_check_response(&cmd, 0x05, 0x11) ==
			 QA_PM_NOT_RESPONSE,
	      "sequence_not_a_response", "a command taken for a response");
	check(c, qa_proto_expected_seq(&err) == 0x12 &&
			 qa_proto_expected_seq(&ok) == -1 &&
			 qa_proto_status_resend(err.status),
	      "sequence_expected_in_error", "expected seq %d",
	      qa_proto_expected_seq(&err));
}

static void test_link_info(check_ctx *c)
{
	uint8_t id[QA_PROTO_IDENT_LEN] = { 'Q', 'A', 1, 4, 4, 8, 32 };
	static const uint8_t link[16] = { 1, 7, 0x00, 0x04, 0x00, 0x10, 0, 0,
					  0x00, 0x1B, 0xB7, 0x00, 0x00, 0x53,
					  0x07, 0x00 };
	memcpy(id + QA_PROTO_IDENT_CORE_LEN, link, sizeof link);
	qa_proto_link_info li;
	int rc = qa_proto_parse_link_info(id, sizeof id, &li);
	check(c, rc == QA_OK && li.version == 1 && li.max_frames == 7 &&
			 li.max_payload == 1024 && li.rx_buffer == 4096 &&
			 li.baud == 12000000 && li.timeout_cycles == 480000,
	      "link_info_parse", "rc %d: v%u frames %u payload %u buf %u baud %u "
	      "timeout %u", rc, li.version, li.max_frames, li.max_payload,
	      (unsigned)li.rx_buffer, (unsigned)li.baud,
	      (unsigned)li.timeout_cycles);
	id[20] = 2;
	int r_ver = qa_proto_parse_link_info(id, sizeof id, &li);
	id[20] = 1;
	id[26] = 0; /* rx_buffer 0 < max_payload */
	id[25] = 0;
	int r_buf = qa_proto_parse_link_info(id, sizeof id, &li);
	int r_len = qa_proto_parse_link_info(id, 20, &li);
	check(c, r_ver == QA_ERR_UNSUPPORTED && r_buf == QA_ERR_DEVICE &&
			 r_len == QA_ERR_DEVICE,
	      "link_info_rejects", "version %d, buffer %d, short %d", r_ver,
	      r_buf, r_len);
}

int main(int argc, char **argv)
{
	check_ctx c = { 0, 0, argc > 1 && strcmp(argv[1], "-q") == 0 };
	(void)argv;
	test_crc(&c);
	test_known_frames(&c);
	test_round_trips(&c);
	test_efficiency(&c);
	test_status_codes(&c);
	test_corruption(&c);
	test_truncation(&c);
	test_oversize(&c);
	test_garbage(&c);
	test_sequence(&c);
	test_link_info(&c);
	return check_summary(&c);
}
