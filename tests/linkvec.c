/* SPDX-License-Identifier: Apache-2.0 */
/*
 * linkvec.c - test vectors and checks for the chip-level link test
 * (tests/test_link.sh, tests/tb_chip.v).
 *
 *   linkvec script CASE CFG > SCRIPT   write the stimulus for tb_chip
 *   linkvec check  CASE CFG OUT.hex    check what the chip sent back
 *
 * CFG is "ROWS,COLS,ACC_W,XB_DEPTH,WB_DEPTH,PG_MAX,CLK_HZ,BAUD,MAX_PAYLOAD,
 * RXBUF_BYTES,RXQ_DEPTH,TIMEOUT_CYCLES", the chip's parameters. Both modes
 * run the same deterministic case, which lists the frames to send (encoded
 * with host/src/proto.c, the host's codec) and, for each, the response the
 * chip must give: status, sequence number, the expected sequence number of
 * error responses, and payloads - IDENT byte for byte from the parameters,
 * RUN results from the golden model (qa_ref_gemm), counters. The check
 * decodes the chip's bytes with the same codec and walks the list; it prints
 * PASS/FAIL per expected response and "N passed, N failed".
 *
 * Cases: gemm (GEMMs over multi-frame loads and results), errors (every
 * status code, noise, timeouts, a wrong baud rate, RESET), overflow (a host
 * that ignores its window, then go-back-N recovery), basic (a short
 * session for the slower line rates).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../host/src/proto.h"
#include "qarray.h"

typedef struct cfg {
	unsigned rows, cols, acc_w, xb, wb, pg;
	uint32_t clk, baud;
	unsigned maxp, rxbuf, rxq;
	unsigned nl_max; /* the core's table layers (optional 13th field; 16) */
	uint32_t timeout;
} cfg;

/* the core command stream the link was written for (docs/architecture.md):
 * qa_link knows its command sizes, so a new version must fail this test */
#define CORE_VERSION 2
#define CORE_NL_MAX 16

/* script steps (tests/tb_chip.v) */
enum { S_BYTE = 0, S_IDLE = 1, S_BARRIER = 2, S_BADSTOP = 3, S_RATE = 4 };
#define BARRIER_BITS 400

/* kinds of expected responses */
enum {
	K_PLAIN,    /* status (+ expected seq), optional exact payload */
	K_COUNTERS, /* OK, 20 bytes, macs / saturated / status fields */
	K_PARTIAL,  /* any number (0..) of OK frames of this command (cut off) */
	K_GROUP1,   /* window overrun: OKs, then OVERFLOW, then OVERFLOW/SEQUENCE */
	K_GROUP2    /* the resend of that group: SEQUENCE for accepted, then OK */
};

typedef struct expect {
	char name[96];
	int kind;
	uint8_t op, seq, st;
	int exp_seq;       /* for errors: the expected seq in the payload, -1: any */
	uint8_t *payload;  /* expected payload (NULL: only the length is checked) */
	size_t len;
	int check_len;
	int noise;         /* error responses of noise may come before this one */
	uint32_t macs, sat, status; /* K_COUNTERS */
} expect;

typedef struct sess {
	const cfg *c;
	FILE *out;          /* script, or NULL when checking */
	expect *ex;
	size_t nex, cap;
	unsigned win_frames;
	size_t win_bytes;
	uint8_t seq;        /* the sequence number the chip expects next */
	int allow_truncated;
	const char *raw_expect; /* hex wire bytes that must appear verbatim */
	int oom;
} sess;

static uint64_t rng_next(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void step(sess *s, int kind, unsigned long v)
{
	if (s->out)
		fprintf(s->out, "%d %lx\n", kind, v);
}

static void barrier(sess *s)
{
	step(s, S_BARRIER, BARRIER_BITS);
	s->win_frames = 0;
	s->win_bytes = 0;
}

/* the host's window (docs/protocol.md, section 2), kept conservatively:
 * everything sent since the last barrier counts as unanswered */
static void window(sess *s, size_t len)
{
	if (s->win_frames + 1 > s->c->rxq - 1 ||
	    s->win_bytes + len > s->c->rxbuf)
		barrier(s);
	s->win_frames++;
	s->win_bytes += len;
}

enum { M_GOOD, M_BADCRC, M_TRUNC, M_LINEERR, M_NOWINDOW };

/* send one frame; mode M_TRUNC sends only `arg` wire bytes, M_LINEERR sends
 * wire byte `arg` with a bad stop bit, M_NOWINDOW skips the window */
static void send_frame(sess *s, uint8_t op, uint8_t seq, const uint8_t *p,
		       size_t len, int mode, size_t arg)
{
	qa_proto_frame f = { op, seq, 0, len, p };
	size_t cap = qa_proto_wire_max(len), n = 0;
	uint8_t *w = malloc(cap);
	if (!w || qa_proto_encode(&f, w, cap, &n) != QA_OK) {
		s->oom = 1;
		free(w);
		return;
	}
	if (mode != M_NOWINDOW)
		window(s, len);
	if (mode == M_BADCRC) {
		w[n - 1] ^= 0x21; /* the last CRC byte (never becomes 0) */
		if (w[n - 1] == 0)
			w[n - 1] = 0x21;
	}
	size_t end = (mode == M_TRUNC && arg < n) ? arg : n;
	for (size_t i = 0; i < end; i++)
		step(s, (mode == M_LINEERR && i == arg) ? S_BADSTOP : S_BYTE,
		     w[i]);
	free(w);
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static expect *want(sess *s, uint8_t op, uint8_t seq, uint8_t st,
		    const char *fmt, ...)
{
	if (s->nex == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		expect *e = realloc(s->ex, cap * sizeof *e);
		if (!e) {
			s->oom = 1;
			return NULL;
		}
		s->ex = e;
		s->cap = cap;
	}
	expect *e = &s->ex[s->nex++];
	memset(e, 0, sizeof *e);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->name, sizeof e->name, fmt, ap);
	va_end(ap);
	e->kind = K_PLAIN;
	e->op = op;
	e->seq = seq;
	e->st = st;
	e->exp_seq = -1;
	return e;
}

/* a command the chip accepts: send it, expect OK */
static expect *cmd_ok(sess *s, uint8_t op, const uint8_t *p, size_t len,
		      const char *name)
{
	uint8_t seq = s->seq++;
	send_frame(s, op, seq, p, len, M_GOOD, 0);
	return want(s, op, seq, QA_PST_OK, "%s", name);
}

/* a command accepted but rejected: the expected seq moves on */
static void cmd_reject(sess *s, uint8_t op, const uint8_t *p, size_t len,
		       uint8_t st, const char *name)
{
	uint8_t seq = s->seq++;
	send_frame(s, op, seq, p, len, M_GOOD, 0);
	expect *e = want(s, op, seq, st, "%s", name);
	if (e)
		e->exp_seq = s->seq;
}

/* a frame the chip must drop (transmission error): the seq does not move */
static expect *frame_dropped(sess *s, uint8_t op, const uint8_t *p,
			     size_t len, int mode, size_t arg, uint8_t st,
			     const char *name)
{
	send_frame(s, op, s->seq, p, len, mode, arg);
	expect *e = want(s, op, s->seq, st, "%s", name);
	if (e)
		e->exp_seq = s->seq;
	return e;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* RESET acts at once and drops what is still queued, so a host that wants
 * its earlier answers waits for them first (abort = 0) */
static void reset_x(sess *s, uint8_t seq, int abort, const char *name)
{
	if (!abort)
		barrier(s);
	step(s, S_BYTE, 0x00);
	send_frame(s, QA_POP_RESET, seq, NULL, 0, M_GOOD, 0);
	want(s, QA_POP_RESET, seq, QA_PST_OK, "%s", name);
	s->seq = (uint8_t)(seq + 1);
	barrier(s);
}

static void reset(sess *s, uint8_t seq, const char *name)
{
	reset_x(s, seq, 0, name);
}

static void ident(sess *s, const char *name)
{
	const cfg *c = s->c;
	uint8_t *id = malloc(QA_PROTO_IDENT_LEN);
	expect *e = cmd_ok(s, QA_POP_IDENT, NULL, 0, name);
	if (!id || !e) {
		free(id);
		s->oom = 1;
		return;
	}
	unsigned kmax = c->xb < c->wb ? c->xb : c->wb;
	memset(id, 0, QA_PROTO_IDENT_LEN);
	id[0] = 'Q';
	id[1] = 'A';
	id[2] = CORE_VERSION;
	id[3] = (uint8_t)c->rows;
	id[4] = (uint8_t)c->cols;
	id[5] = 8;
	id[6] = (uint8_t)c->acc_w;
	id[7] = (uint8_t)c->nl_max;
	put16(id + 8, c->xb);
	put16(id + 10, c->wb);
	put16(id + 12, c->pg);
	put16(id + 14, kmax);
	put32(id + 16, c->clk);
	id[20] = QA_PROTO_VERSION;
	id[21] = (uint8_t)(c->rxq - 1);
	put16(id + 22, c->maxp);
	put32(id + 24, c->rxbuf);
	put32(id + 28, c->baud);
	put32(id + 32, c->timeout);
	e->payload = id;
	e->len = QA_PROTO_IDENT_LEN;
	e->check_len = 1;
}

/* a load over as many frames as it needs: the first carries the argument
 * bytes and as much data as fits, LOAD_MORE frames the rest; chunk (0 = as
 * much as a frame holds) limits the data bytes per frame */
static void load_args(sess *s, uint8_t op, const uint8_t *args, size_t nargs,
		      const uint8_t *data, size_t n, size_t chunk, int mode,
		      const char *name)
{
	size_t maxp = s->c->maxp, at = 0;
	if (chunk == 0 || chunk > maxp)
		chunk = maxp;
	uint8_t *p = malloc(maxp);
	if (!p) {
		s->oom = 1;
		return;
	}
	memcpy(p, args, nargs);
	size_t first = n < maxp - nargs ? n : maxp - nargs;
	if (first > chunk)
		first = chunk;
	if (first)
		memcpy(p + nargs, data, first);
	at = first;
	unsigned part = 0;
	uint8_t seq = s->seq++;
	send_frame(s, op, seq, p, nargs + first, mode, 0);
	expect *e = want(s, op, seq, QA_PST_OK, "%s_frame%u", name, part++);
	if (e && mode == M_NOWINDOW)
		e->kind = K_GROUP1;
	while (at < n) {
		size_t len = n - at < chunk ? n - at : chunk;
		seq = s->seq++;
		send_frame(s, QA_POP_LOAD_MORE, seq, data + at, len, mode, 0);
		e = want(s, QA_POP_LOAD_MORE, seq, QA_PST_OK, "%s_frame%u",
			 name, part++);
		if (e && mode == M_NOWINDOW)
			e->kind = K_GROUP1;
		at += len;
	}
	free(p);
}

/* LOAD_X / LOAD_W / LOAD_P: bank (1), count (2) */
static void load(sess *s, uint8_t op, unsigned bank, unsigned count,
		 const uint8_t *data, size_t n, int mode, const char *name)
{
	uint8_t a[3] = { (uint8_t)bank, (uint8_t)count, (uint8_t)(count >> 8) };
	load_args(s, op, a, sizeof a, data, n, 0, mode, name);
}

/* ---- GEMMs ----------------------------------------------------------------------- */

typedef struct gemm {
	size_t m, k, n;
	int8_t *x, *w, *y;
	int32_t *bias;
	uint8_t *shift;
	qa_round round;
	int lo, hi;
	uint64_t sat;
} gemm;

static int gemm_make(gemm *g, size_t m, size_t k, size_t n, uint64_t seed,
		     qa_round round, int lo, int hi)
{
	memset(g, 0, sizeof *g);
	g->m = m;
	g->k = k;
	g->n = n;
	g->round = round;
	g->lo = lo;
	g->hi = hi;
	g->x = malloc(m * k);
	g->w = malloc(k * n);
	g->y = malloc(m * n);
	g->bias = malloc(n * sizeof *g->bias);
	g->shift = malloc(n);
	if (!g->x || !g->w || !g->y || !g->bias || !g->shift)
		return QA_ERR_NOMEM;
	uint64_t r = seed;
	for (size_t i = 0; i < m * k; i++)
		g->x[i] = (int8_t)(rng_next(&r) & 0xff);
	for (size_t i = 0; i < k * n; i++)
		g->w[i] = (int8_t)(rng_next(&r) & 0xff);
	for (size_t j = 0; j < n; j++) {
		g->bias[j] = (int32_t)(rng_next(&r) % 20001) - 10000;
		g->shift[j] = (uint8_t)(5 + rng_next(&r) % 6);
	}
	qa_gemm_desc d = { m, k, n, g->x, g->w, g->bias, g->shift, round,
			   lo, hi };
	return qa_ref_gemm(&d, g->y, &g->sat);
}

static void gemm_free(gemm *g)
{
	free(g->x);
	free(g->w);
	free(g->y);
	free(g->bias);
	free(g->shift);
}

/* Load X, W and the parameters of g into the banks and RUN it in one RUN
 * (the shape must fit the buffers); expect the results in the core's order. */
static void run_gemm(sess *s, const gemm *g, unsigned xbank, unsigned wbank,
		     int load_w, int xmode, const char *name)
{
	const cfg *c = s->c;
	size_t R = c->rows, C = c->cols;
	size_t rg = (g->m + R - 1) / R, cg = (g->n + C - 1) / C;
	size_t nx = rg * g->k * R, nw = cg * g->k * C, np = cg * C * 5;
	uint8_t *bx = calloc(nx, 1), *bw = calloc(nw, 1), *bp = calloc(np, 1);
	uint8_t *res = malloc(g->m * g->n);
	char nm[80];
	if (!bx || !bw || !bp || !res) {
		s->oom = 1;
		goto out;
	}
	for (size_t r = 0; r < rg; r++)
		for (size_t kk = 0; kk < g->k; kk++)
			for (size_t i = 0; i < R; i++) {
				size_t row = r * R + i;
				bx[(r * g->k + kk) * R + i] =
					row < g->m ? (uint8_t)g->x[row * g->k + kk]
						   : 0;
			}
	for (size_t cc = 0; cc < cg; cc++) {
		for (size_t kk = 0; kk < g->k; kk++)
			for (size_t j = 0; j < C; j++) {
				size_t col = cc * C + j;
				bw[(cc * g->k + kk) * C + j] =
					col < g->n ? (uint8_t)g->w[kk * g->n + col]
						   : 0;
			}
		for (size_t j = 0; j < C; j++) {
			size_t col = cc * C + j;
			if (col < g->n) {
				put32(bp + (cc * C + j) * 5, (uint32_t)g->bias[col]);
				bp[(cc * C + j) * 5 + 4] = g->shift[col];
			}
		}
	}
	snprintf(nm, sizeof nm, "%s_load_x", name);
	load(s, QA_POP_LOAD_X, xbank, (unsigned)(rg * g->k), bx, nx, xmode, nm);
	if (xmode == M_NOWINDOW)
		goto out; /* the caller takes it from here */
	if (load_w) {
		snprintf(nm, sizeof nm, "%s_load_w", name);
		load(s, QA_POP_LOAD_W, wbank, (unsigned)(cg * g->k), bw, nw,
		     M_GOOD, nm);
		snprintf(nm, sizeof nm, "%s_load_p", name);
		load(s, QA_POP_LOAD_P, wbank, (unsigned)cg, bp, np, M_GOOD, nm);
	}
	/* RUN */
	uint8_t a[QA_PROTO_RUN_ARGS];
	a[0] = (uint8_t)xbank;
	a[1] = (uint8_t)wbank;
	put16(a + 2, (unsigned)rg);
	put16(a + 4, (unsigned)cg);
	put16(a + 6, (unsigned)g->k);
	a[8] = (uint8_t)(g->m - (rg - 1) * R);
	a[9] = (uint8_t)(g->n - (cg - 1) * C);
	a[10] = (uint8_t)g->round;
	a[11] = (uint8_t)(int8_t)g->lo;
	a[12] = (uint8_t)(int8_t)g->hi;
	size_t at = 0;
	for (size_t r = 0; r < rg; r++)
		for (size_t cc = 0; cc < cg; cc++)
			for (size_t i = 0; i < R && r * R + i < g->m; i++)
				for (size_t j = 0; j < C && cc * C + j < g->n; j++)
					res[at++] = (uint8_t)g->y[(r * R + i) * g->n +
								  cc * C + j];
	snprintf(nm, sizeof nm, "%s_run_%zux%zux%zu_results", name, g->m, g->k,
		 g->n);
	expect *e = cmd_ok(s, QA_POP_RUN, a, sizeof a, nm);
	if (e) {
		e->payload = res;
		e->len = at;
		e->check_len = 1;
		res = NULL;
	}
out:
	free(bx);
	free(bw);
	free(bp);
	free(res);
}

static void counters_st(sess *s, uint32_t macs, uint32_t sat,
			uint32_t status, const char *name)
{
	expect *e = cmd_ok(s, QA_POP_COUNTERS, NULL, 0, name);
	if (e) {
		e->kind = K_COUNTERS;
		e->macs = macs;
		e->sat = sat;
		e->status = status;
	}
}

static void counters(sess *s, uint32_t macs, uint32_t sat, const char *name)
{
	counters_st(s, macs, sat, 0, name);
}

/* ---- cases ----------------------------------------------------------------------- */

static void case_gemm(sess *s)
{
	gemm g1, g2;
	reset(s, 0x37, "reset");
	ident(s, "ident");
	cmd_ok(s, QA_POP_CLEAR, NULL, 0, "clear");
	/* 12x20x11 on the array: loads and results both span several frames
	 * when max_payload is small */
	if (gemm_make(&g1, 12, 20, 11, 11, QA_ROUND_HALF_UP, -128, 127) ||
	    gemm_make(&g2, 12, 20, 11, 11, QA_ROUND_HALF_EVEN, 0, 127)) {
		s->oom = 1;
		return;
	}
	run_gemm(s, &g1, 0, 0, 1, M_GOOD, "gemm1");
	counters(s, (uint32_t)(g1.m * g1.k * g1.n), (uint32_t)g1.sat,
		 "gemm1_counters");
	/* the same operands again with relu and ties-to-even: a RUN without
	 * reloading W, straight after the counters */
	uint8_t a[QA_PROTO_RUN_ARGS] = { 0, 0, 3, 0, 3, 0, 20, 0, 4, 3,
					 QA_ROUND_HALF_EVEN, 0, 127 };
	size_t at = 0;
	uint8_t *res = malloc(g2.m * g2.n);
	if (res) {
		for (size_t r = 0; r < 3; r++)
			for (size_t cc = 0; cc < 3; cc++)
				for (size_t i = 0; i < 4 && r * 4 + i < 12; i++)
					for (size_t j = 0; j < 4 && cc * 4 + j < 11; j++)
						res[at++] = (uint8_t)
							g2.y[(r * 4 + i) * 11 + cc * 4 + j];
		expect *e = cmd_ok(s, QA_POP_RUN, a, sizeof a,
				   "gemm2_relu_half_even_results");
		if (e) {
			e->payload = res;
			e->len = at;
			e->check_len = 1;
		} else {
			free(res);
		}
	}
	counters(s, (uint32_t)(2 * g1.m * g1.k * g1.n),
		 (uint32_t)(g1.sat + g2.sat), "gemm2_counters");
	gemm_free(&g1);
	gemm_free(&g2);
}

static void case_errors(sess *s)
{
	const cfg *c = s->c;
	uint64_t r = 77;
	uint8_t buf[300];
	expect *e;

	reset(s, 0x00, "reset");

	/* BAD_CRC, then the same frame again */
	frame_dropped(s, QA_POP_NOP, NULL, 0, M_BADCRC, 0, QA_PST_BAD_CRC,
		      "bad_crc");
	cmd_ok(s, QA_POP_NOP, NULL, 0, "bad_crc_resend_ok");

	/* a frame that stops half way times out; then it works */
	frame_dropped(s, QA_POP_IDENT, NULL, 0, M_TRUNC, 6, QA_PST_TIMEOUT,
		      "truncated_times_out");
	step(s, S_IDLE, c->timeout / ((c->clk + c->baud / 2) / c->baud) + 100);
	ident(s, "after_timeout_ident");

	/* noise without zero bytes costs nothing */
	barrier(s);
	for (int i = 0; i < 100; i++)
		step(s, S_BYTE, 1 + rng_next(&r) % 255);
	cmd_ok(s, QA_POP_NOP, NULL, 0, "garbage_no_zeros_then_ok");

	/* noise with zero bytes: error responses of its own, then ours */
	barrier(s);
	for (int i = 0; i < 100; i++)
		step(s, S_BYTE, rng_next(&r) % 256);
	e = cmd_ok(s, QA_POP_NOP, NULL, 0, "garbage_with_zeros_then_ok");
	if (e)
		e->noise = 1;

	/* sequence numbers */
	send_frame(s, QA_POP_NOP, (uint8_t)(s->seq + 5), NULL, 0, M_GOOD, 0);
	e = want(s, QA_POP_NOP, (uint8_t)(s->seq + 5), QA_PST_SEQUENCE,
		 "sequence_mismatch");
	if (e)
		e->exp_seq = s->seq;
	cmd_ok(s, QA_POP_NOP, NULL, 0, "sequence_resume_ok");

	/* accepted but rejected */
	cmd_reject(s, 0x33, NULL, 0, QA_PST_UNKNOWN_OPCODE, "unknown_opcode_0x33");
	cmd_reject(s, 0x0C, buf, 4, QA_PST_UNKNOWN_OPCODE, "unknown_opcode_0x0c");
	cmd_reject(s, 0x42, NULL, 0, QA_PST_UNKNOWN_OPCODE, "unknown_opcode_0x42");
	memset(buf, 0, sizeof buf);
	cmd_reject(s, QA_POP_IDENT, buf, 1, QA_PST_BAD_SIZE, "bad_size_ident");
	cmd_reject(s, QA_POP_CLEAR, buf, 2, QA_PST_BAD_SIZE, "bad_size_clear");
	cmd_reject(s, QA_POP_RUN, buf, 12, QA_PST_BAD_SIZE, "bad_size_run_12");
	cmd_reject(s, QA_POP_LOAD_X, buf, 2, QA_PST_BAD_SIZE, "bad_size_load_2");
	cmd_reject(s, QA_POP_LOAD_WA, buf, 3, QA_PST_BAD_SIZE, "bad_size_load_wa_3");
	cmd_reject(s, QA_POP_NET_LOAD, NULL, 0, QA_PST_BAD_SIZE,
		   "bad_size_net_load_0");
	cmd_reject(s, QA_POP_NET_RUN, buf, 3, QA_PST_BAD_SIZE, "bad_size_net_run_3");
	cmd_reject(s, QA_POP_RESET, buf, 1, QA_PST_BAD_SIZE,
		   "bad_size_reset_with_payload_is_no_reset");
	/* a load with more data than it announces */
	buf[0] = 0;
	put16(buf + 1, 2);
	cmd_reject(s, QA_POP_LOAD_W, buf, 3 + 2 * c->cols + 1, QA_PST_BAD_SIZE,
		   "bad_size_load_too_much_data");

	/* RUN arguments the core refuses: the link forwards the RUN and answers
	 * BAD_ARG on the core's verdict */
	uint8_t run[QA_PROTO_RUN_ARGS] = { 0, 0, 1, 0, 1, 0, 4, 0, 1, 1, 1,
					   0x80, 0x7F };
	uint8_t bad[QA_PROTO_RUN_ARGS];
	memcpy(bad, run, sizeof bad);
	put16(bad + 6, 0);
	cmd_reject(s, QA_POP_RUN, bad, sizeof bad, QA_PST_BAD_ARG, "bad_arg_run_k0");
	memcpy(bad, run, sizeof bad);
	put16(bad + 2, 2);
	put16(bad + 6, c->xb);
	cmd_reject(s, QA_POP_RUN, bad, sizeof bad, QA_PST_BAD_ARG,
		   "bad_arg_run_rg_k_beyond_x_buffer");
	memcpy(bad, run, sizeof bad);
	bad[1] = 1; /* W bank 1: parameter groups PG_MAX.. */
	put16(bad + 4, c->pg + 1);
	put16(bad + 6, 1);
	cmd_reject(s, QA_POP_RUN, bad, sizeof bad, QA_PST_BAD_ARG,
		   "bad_arg_run_cg_beyond_parameters");
	memcpy(bad, run, sizeof bad);
	bad[1] = 1; /* W bank 1, cg*k past the end of the W memory */
	put16(bad + 4, c->pg);
	put16(bad + 6, c->wb / c->pg + 1);
	cmd_reject(s, QA_POP_RUN, bad, sizeof bad, QA_PST_BAD_ARG,
		   "bad_arg_run_cg_k_beyond_w_memory");
	memcpy(bad, run, sizeof bad);
	bad[8] = (uint8_t)(c->rows + 1);
	cmd_reject(s, QA_POP_RUN, bad, sizeof bad, QA_PST_BAD_ARG,
		   "bad_arg_run_last_rows");
	memcpy(bad, run, sizeof bad);
	bad[11] = 5;
	bad[12] = 4;
	cmd_reject(s, QA_POP_RUN, bad, sizeof bad, QA_PST_BAD_ARG,
		   "bad_arg_run_lo_above_hi");
	memcpy(bad, run, sizeof bad);
	bad[10] = 4;
	cmd_reject(s, QA_POP_RUN, bad, sizeof bad, QA_PST_BAD_ARG,
		   "bad_arg_run_round_4");
	/* NET_RUN with no table, and after a table too long to keep */
	uint8_t nr[QA_PROTO_NET_RUN_ARGS] = { 0, 1, 0, 1 };
	cmd_reject(s, QA_POP_NET_RUN, nr, sizeof nr, QA_PST_BAD_ARG,
		   "bad_arg_net_run_no_table");
	/* the core refused them, so its status word has bit 2, as on the raw
	 * command stream; nothing ran */
	counters_st(s, 0, 0, 4, "bad_arg_sets_core_status");
	cmd_ok(s, QA_POP_CLEAR, NULL, 0, "bad_arg_clear");
	{
		size_t n = (CORE_NL_MAX + 1) * QA_PROTO_LAYER_BYTES;
		uint8_t *tb = calloc(n, 1);
		uint8_t nl = CORE_NL_MAX + 1;
		if (tb) {
			for (size_t i = 0; i < n; i += QA_PROTO_LAYER_BYTES) {
				tb[i + 4] = 1; /* cg */
				tb[i + 6] = 1; /* k */
				tb[i + 8] = 1; /* last_cols */
			}
			load_args(s, QA_POP_NET_LOAD, &nl, 1, tb, n, 0, M_GOOD,
				  "net_load_too_many_layers");
			free(tb);
		}
	}
	cmd_reject(s, QA_POP_NET_RUN, nr, sizeof nr, QA_PST_BAD_ARG,
		   "bad_arg_net_run_table_too_long");
	/* bit 1: the table was too long for the core; bit 2: refused NET_RUN */
	counters_st(s, 0, 0, 6, "table_too_long_core_status");
	cmd_ok(s, QA_POP_CLEAR, NULL, 0, "table_too_long_clear");

	/* a load past a memory's end reaches the core, which flags it in its
	 * status word (bit 1) as on the raw command stream */
	memset(buf, 0x11, sizeof buf);
	put16(buf, 2 * c->pg - 1);
	put16(buf + 2, 2);
	cmd_ok(s, QA_POP_LOAD_PA, buf, 4 + 2 * 5 * c->cols,
	       "load_pa_past_the_end_forwarded");
	counters_st(s, 0, 0, 2, "load_past_end_sets_core_status");
	cmd_ok(s, QA_POP_CLEAR, NULL, 0, "load_past_end_clear");

	/* LOAD_MORE without a load */
	cmd_reject(s, QA_POP_LOAD_MORE, buf, 5, QA_PST_NO_LOAD, "no_load");

	/* an unfinished load: only LOAD_MORE may follow */
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)rng_next(&r);
	buf[0] = 0;
	put16(buf + 1, 8);
	cmd_ok(s, QA_POP_LOAD_X, buf, 3 + 10, "busy_load_first_part");
	cmd_reject(s, QA_POP_IDENT, NULL, 0, QA_PST_BUSY, "busy_ident_refused");
	cmd_reject(s, QA_POP_LOAD_MORE, buf, 8 * c->rows - 10 + 1,
		   QA_PST_BAD_SIZE, "busy_load_more_too_long");
	cmd_ok(s, QA_POP_LOAD_MORE, buf, 8 * c->rows - 10, "busy_load_rest");
	ident(s, "busy_over_ident");

	/* frame-level length errors */
	frame_dropped(s, QA_POP_NOP, buf, c->maxp + 1, M_GOOD, 0,
		      QA_PST_BAD_LENGTH, "bad_length_over_max_payload");
	cmd_ok(s, QA_POP_NOP, NULL, 0, "bad_length_then_ok");
	frame_dropped(s, QA_POP_LOAD_X, buf, 40, M_TRUNC, 20, QA_PST_BAD_LENGTH,
		      "cut_short_by_next_frame");
	cmd_ok(s, QA_POP_NOP, NULL, 0, "cut_short_then_ok");

	/* a byte with a bad stop bit */
	frame_dropped(s, QA_POP_NOP, NULL, 0, M_LINEERR, 3, QA_PST_LINE_ERROR,
		      "line_error");
	cmd_ok(s, QA_POP_NOP, NULL, 0, "line_error_then_ok");

	/* a frame at a 10% wrong baud rate: never accepted; then at the right
	 * rate it is (same seq, so a silent success would show as SEQUENCE) */
	barrier(s);
	step(s, S_RATE, 1100000);
	send_frame(s, QA_POP_NOP, s->seq, NULL, 0, M_GOOD, 0);
	step(s, S_RATE, 1000000);
	barrier(s);
	e = cmd_ok(s, QA_POP_NOP, NULL, 0, "wrong_baud_not_accepted_then_ok");
	if (e)
		e->noise = 1;

	/* a whole GEMM still works after all that */
	gemm g;
	if (gemm_make(&g, 6, 9, 7, 5, QA_ROUND_FLOOR, -100, 100) == QA_OK) {
		cmd_ok(s, QA_POP_CLEAR, NULL, 0, "after_errors_clear");
		run_gemm(s, &g, 1, 1, 1, M_GOOD, "after_errors_gemm");
		counters(s, (uint32_t)(g.m * g.k * g.n), (uint32_t)g.sat,
			 "after_errors_counters");
	}
	gemm_free(&g);

	/* RESET abandons an unfinished load and clears the counters */
	buf[0] = 0;
	put16(buf + 1, 8);
	cmd_ok(s, QA_POP_LOAD_X, buf, 3 + 4, "reset_load_first_part");
	reset(s, 0x80, "reset_mid_load");
	cmd_reject(s, QA_POP_LOAD_MORE, buf, 4, QA_PST_NO_LOAD,
		   "reset_dropped_the_load");
	counters(s, 0, 0, "reset_cleared_counters");

	/* RESET while a RUN's results are on their way: they are cut off */
	uint8_t big[QA_PROTO_RUN_ARGS] = { 1, 1, 2, 0, 1, 0, 9, 0, 4, 4, 0,
					   0x80, 0x7F };
	uint8_t seq = s->seq++;
	send_frame(s, QA_POP_RUN, seq, big, sizeof big, M_GOOD, 0);
	e = want(s, QA_POP_RUN, seq, QA_PST_OK, "reset_cuts_run_results");
	if (e)
		e->kind = K_PARTIAL;
	s->allow_truncated = 1;
	step(s, S_IDLE, 40);
	reset_x(s, 0x10, 1, "reset_during_results");
	ident(s, "after_reset_ident");
}

static void case_overflow(sess *s)
{
	const cfg *c = s->c;
	gemm g1, g2;
	reset(s, 0x00, "reset");
	/* a RUN whose results (32x32) keep the core busy for long, then an
	 * IDENT that must wait for them, then a load sent with no regard for
	 * the window: the receive buffer fills up */
	if (gemm_make(&g1, 8 * c->rows, 1, 8 * c->cols, 3, QA_ROUND_HALF_UP,
		      -128, 127) ||
	    gemm_make(&g2, 5 * c->rows, 16, 2 * c->cols, 4, QA_ROUND_HALF_AWAY,
		      -128, 127)) {
		s->oom = 1;
		return;
	}
	run_gemm(s, &g1, 0, 0, 1, M_GOOD, "slow_results");
	/* no barrier: everything below goes out back to back */
	s->win_frames = 0;
	s->win_bytes = 0;
	uint8_t seq = s->seq++;
	send_frame(s, QA_POP_IDENT, seq, NULL, 0, M_NOWINDOW, 0);
	want(s, QA_POP_IDENT, seq, QA_PST_OK, "ident_waits_for_results");
	size_t first = s->nex;
	uint8_t first_seq = s->seq;
	run_gemm(s, &g2, 1, 1, 0, M_NOWINDOW, "overrun");
	size_t nframes = s->nex - first;
	barrier(s);
	/* go back: send the same frames again with the same numbers */
	s->seq = first_seq;
	run_gemm(s, &g2, 1, 1, 1, M_GOOD, "resend");
	for (size_t i = 0; i < nframes; i++)
		s->ex[first + nframes + i].kind = K_GROUP2;
	counters(s, (uint32_t)(g1.m * g1.k * g1.n + g2.m * g2.k * g2.n),
		 (uint32_t)(g1.sat + g2.sat), "counters_after_recovery");
	gemm_free(&g1);
	gemm_free(&g2);
}

/* one layer descriptor (docs/architecture.md) */
static void put_layer(uint8_t *t, unsigned wbase, unsigned pbase, unsigned cg,
		      unsigned k, unsigned last_cols, unsigned round, int lo,
		      int hi)
{
	put16(t, wbase);
	put16(t + 2, pbase);
	put16(t + 4, cg);
	put16(t + 6, k);
	t[8] = (uint8_t)last_cols;
	t[9] = (uint8_t)round;
	t[10] = (uint8_t)(int8_t)lo;
	t[11] = (uint8_t)(int8_t)hi;
}

/* NET_RUN of m rows from X bank xbank, expecting the golden network's output */
static void net_batch(sess *s, const qa_net *net, size_t m, unsigned xbank,
		      uint64_t seed, uint64_t *sat, const char *name)
{
	const cfg *c = s->c;
	size_t R = c->rows, C = c->cols, k = net->layers[0].k;
	size_t n = net->layers[net->nlayers - 1].n;
	size_t rg = (m + R - 1) / R, cg = (n + C - 1) / C;
	int8_t *x = malloc(m * k), *y = malloc(m * n);
	uint8_t *bx = calloc(rg * k * R, 1), *res = malloc(m * n);
	char nm[80];
	uint64_t st = 0, r = seed;
	if (!x || !y || !bx || !res) {
		s->oom = 1;
		goto out;
	}
	for (size_t i = 0; i < m * k; i++)
		x[i] = (int8_t)(rng_next(&r) & 0xff);
	if (qa_ref_net(net, m, x, y, &st) != QA_OK) {
		s->oom = 1;
		goto out;
	}
	*sat += st;
	for (size_t g = 0; g < rg; g++)
		for (size_t kk = 0; kk < k; kk++)
			for (size_t i = 0; i < R && g * R + i < m; i++)
				bx[(g * k + kk) * R + i] =
					(uint8_t)x[(g * R + i) * k + kk];
	snprintf(nm, sizeof nm, "%s_load_x", name);
	load(s, QA_POP_LOAD_X, xbank, (unsigned)(rg * k), bx, rg * k * R,
	     M_GOOD, nm);
	size_t at = 0;
	for (size_t g = 0; g < rg; g++)
		for (size_t cc = 0; cc < cg; cc++)
			for (size_t i = 0; i < R && g * R + i < m; i++)
				for (size_t j = 0; j < C && cc * C + j < n; j++)
					res[at++] = (uint8_t)y[(g * R + i) * n +
							      cc * C + j];
	uint8_t a[QA_PROTO_NET_RUN_ARGS] = { (uint8_t)xbank, (uint8_t)rg,
					     (uint8_t)(rg >> 8),
					     (uint8_t)(m - (rg - 1) * R) };
	snprintf(nm, sizeof nm, "%s_net_run_%zu_rows_results", name, m);
	expect *e = cmd_ok(s, QA_POP_NET_RUN, a, sizeof a, nm);
	if (e) {
		e->payload = res;
		e->len = at;
		e->check_len = 1;
		res = NULL;
	}
out:
	free(x);
	free(y);
	free(bx);
	free(res);
}

static void case_net(sess *s)
{
	const cfg *c = s->c;
	size_t C = c->cols;
	/* 12 -> 9 -> 6 -> 5, ReLU on the hidden layers */
	static const size_t dims[4] = { 12, 9, 6, 5 };
	qa_layer L[3];
	int8_t *w[3] = { NULL, NULL, NULL };
	int32_t *bias[3] = { NULL, NULL, NULL };
	uint8_t *shift[3] = { NULL, NULL, NULL };
	uint8_t table[3 * QA_PROTO_LAYER_BYTES];
	uint64_t r = 31, sat = 0;
	unsigned wbase = 0, pbase = 0;
	char nm[64];

	reset(s, 0x20, "reset");
	ident(s, "ident");
	cmd_ok(s, QA_POP_CLEAR, NULL, 0, "clear");
	for (unsigned l = 0; l < 3; l++) {
		size_t k = dims[l], n = dims[l + 1], cg = (n + C - 1) / C;
		w[l] = malloc(k * n);
		bias[l] = malloc(n * sizeof *bias[l]);
		shift[l] = malloc(n);
		uint8_t *bw = calloc(4 + cg * k * C, 1);
		uint8_t *bp = calloc(4 + cg * C * 5, 1);
		if (!w[l] || !bias[l] || !shift[l] || !bw || !bp) {
			free(bw);
			free(bp);
			s->oom = 1;
			goto out;
		}
		for (size_t i = 0; i < k * n; i++)
			w[l][i] = (int8_t)(rng_next(&r) & 0xff);
		for (size_t j = 0; j < n; j++) {
			bias[l][j] = (int32_t)(rng_next(&r) % 4001) - 2000;
			shift[l][j] = (uint8_t)(6 + rng_next(&r) % 3);
		}
		L[l] = (qa_layer){ k, n, w[l], bias[l], shift[l],
				   l < 2 ? 0 : -128, 127 };
		/* weights at wbase, parameters at pbase: LOAD_WA, LOAD_PA */
		for (size_t cc = 0; cc < cg; cc++) {
			for (size_t kk = 0; kk < k; kk++)
				for (size_t j = 0; j < C && cc * C + j < n; j++)
					bw[(cc * k + kk) * C + j] =
						(uint8_t)w[l][kk * n + cc * C + j];
			for (size_t j = 0; j < C && cc * C + j < n; j++) {
				put32(bp + (cc * C + j) * 5,
				      (uint32_t)bias[l][cc * C + j]);
				bp[(cc * C + j) * 5 + 4] = shift[l][cc * C + j];
			}
		}
		uint8_t a[4];
		put16(a, wbase);
		put16(a + 2, (unsigned)(cg * k));
		snprintf(nm, sizeof nm, "layer%u_load_wa", l);
		load_args(s, QA_POP_LOAD_WA, a, 4, bw, cg * k * C, 0, M_GOOD, nm);
		put16(a, pbase);
		put16(a + 2, (unsigned)cg);
		snprintf(nm, sizeof nm, "layer%u_load_pa", l);
		load_args(s, QA_POP_LOAD_PA, a, 4, bp, cg * C * 5, 0, M_GOOD, nm);
		put_layer(table + l * QA_PROTO_LAYER_BYTES, wbase, pbase,
			  (unsigned)cg, (unsigned)k, (unsigned)(n - (cg - 1) * C),
			  QA_ROUND_HALF_UP, L[l].lo, L[l].hi);
		wbase += (unsigned)(cg * k);
		pbase += (unsigned)cg;
		free(bw);
		free(bp);
	}
	qa_net net = { 3, L, QA_ROUND_HALF_UP };
	uint8_t nl = 3;
	/* the table in frames of 10 bytes: NET_LOAD's data spread over several
	 * LOAD_MORE frames */
	load_args(s, QA_POP_NET_LOAD, &nl, 1, table, sizeof table, 9, M_GOOD,
		  "net_load_3_layers");
	net_batch(s, &net, 10, 0, 41, &sat, "batch1");

	/* a table whose second layer cannot write its results back: with rg
	 * row groups between XB_DEPTH/12 and XB_DEPTH/8, rg*k (k = 8) and the
	 * first layer's rg*N (N = 8) fit, the second's rg*N (N = 12) does not.
	 * The core checks each layer when it reaches it, so layer 0 runs
	 * (written back into X bank 1) before layer 1 is refused. Its input,
	 * X bank 0, is zeros here: its outputs are then its biases shifted
	 * (|bias| <= 2000, shift >= 6), none saturates, and the MAC counter
	 * tells that it ran (M = 4*rg rows, K = 2, N = 8 for 4x4). */
	uint8_t badt[3 * QA_PROTO_LAYER_BYTES];
	put_layer(badt, 0, 0, 2, 2, 4, 1, -128, 127);
	put_layer(badt + 12, 0, 0, 3, 8, 4, 1, -128, 127);
	put_layer(badt + 24, 0, 0, 1, 12, 4, 1, -128, 127);
	load_args(s, QA_POP_NET_LOAD, &nl, 1, badt, sizeof badt, 0, M_GOOD,
		  "net_load_bad_table");
	uint32_t rg1 = c->xb / 10, rg2 = c->xb / 8;
	{
		size_t nz = (size_t)rg2 * 2 * c->rows;
		uint8_t *zx = calloc(nz, 1);
		if (!zx) {
			s->oom = 1;
			goto out;
		}
		load(s, QA_POP_LOAD_X, 0, rg2 * 2, zx, nz, M_GOOD,
		     "bad_table_x_zeros");
		free(zx);
	}
	uint8_t nr[QA_PROTO_NET_RUN_ARGS] = { 0, 0, 0, 4 };
	put16(nr + 1, rg1);
	cmd_reject(s, QA_POP_NET_RUN, nr, sizeof nr, QA_PST_BAD_ARG,
		   "bad_arg_net_run_layer1_write_back");
	put16(nr + 1, rg2);
	cmd_reject(s, QA_POP_NET_RUN, nr, sizeof nr, QA_PST_BAD_ARG,
		   "bad_arg_net_run_layer1_write_back_at_limit");
	uint32_t n0 = (uint32_t)(2 * C - (C - 4)); /* layer 0's N */
	uint32_t layer0 = (uint32_t)(c->rows * rg1 - (c->rows - 4)) * 2 * n0 +
			  (uint32_t)(c->rows * rg2 - (c->rows - 4)) * 2 * n0;
	counters_st(s, (uint32_t)(10 * 192) + layer0, (uint32_t)sat, 4,
		    "counters_after_rejects_layer0_ran");
	cmd_ok(s, QA_POP_CLEAR, NULL, 0, "clear_after_rejects");

	/* the good table again, and a batch from the other X bank */
	load_args(s, QA_POP_NET_LOAD, &nl, 1, table, sizeof table, 0, M_GOOD,
		  "net_load_again");
	sat = 0;
	net_batch(s, &net, 7, 1, 42, &sat, "batch2");
	counters(s, (uint32_t)(7 * 192), (uint32_t)sat, "counters");
out:
	for (unsigned l = 0; l < 3; l++) {
		free(w[l]);
		free(bias[l]);
		free(shift[l]);
	}
}

/* The example of docs/protocol.md, section 8: the frames tests/proto_ref.py
 * prints, sent to the chip; its RUN response must match the reference on
 * the wire, byte for byte (EXAMPLE_RUN_RESPONSE). */
#define EXAMPLE_RUN_RESPONSE "00 03 85 05 02 04 03 0a 02 06 ef 3f d6 36 45"

static void case_example(sess *s)
{
	static const int8_t x[6] = { 1, -2, 3, 4, 5, -6 };
	static const int8_t w[6] = { 1, 2, 3, -4, 5, 6 };
	static const int32_t bias[2] = { 10, -20 };
	static const uint8_t shift[2] = { 1, 2 };
	int8_t y[4];
	uint64_t sat = 0;
	qa_gemm_desc d = { 2, 3, 2, x, w, bias, shift, QA_ROUND_HALF_UP,
			   -128, 127 };
	if (qa_ref_gemm(&d, y, &sat) != QA_OK) {
		s->oom = 1;
		return;
	}
	gemm g = { 2, 3, 2, (int8_t *)x, (int8_t *)w, y, (int32_t *)bias,
		   (uint8_t *)shift, QA_ROUND_HALF_UP, -128, 127, sat };
	s->raw_expect = EXAMPLE_RUN_RESPONSE;
	reset(s, 0x00, "reset");
	ident(s, "ident");
	run_gemm(s, &g, 0, 0, 1, M_GOOD, "example");
	counters(s, 12, (uint32_t)sat, "counters");
}

/* Long COBS runs in both directions (needs max_payload >= 512): X without
 * zero bytes except where a run of exactly 253 and a full run of 254 end,
 * and results clamped to [1, 127], so the response has no zero either. */
static void case_runs(sess *s)
{
	const cfg *c = s->c;
	gemm g;
	if (c->rows != 4 || c->cols != 4 || c->maxp < 1024 ||
	    gemm_make(&g, 16, 40, 20, 8, QA_ROUND_HALF_AWAY, 1, 127) != QA_OK) {
		s->oom = 1;
		return;
	}
	for (size_t i = 0; i < g.m * g.k; i++)
		if (g.x[i] == 0)
			g.x[i] = 1;
	for (size_t i = 0; i < g.k * g.n; i++)
		if (g.w[i] == 0)
			g.w[i] = -1;
	/* LOAD_X data byte (r*k + kk)*4 + i is X[4r + i][kk]: bytes 253 and
	 * 508 are X[5][23] and X[12][7] */
	g.x[5 * g.k + 23] = 0;
	g.x[12 * g.k + 7] = 0;
	qa_gemm_desc d = { g.m, g.k, g.n, g.x, g.w, g.bias, g.shift, g.round,
			   g.lo, g.hi };
	if (qa_ref_gemm(&d, g.y, &g.sat) != QA_OK) {
		s->oom = 1;
		gemm_free(&g);
		return;
	}
	reset(s, 0x60, "reset");
	run_gemm(s, &g, 1, 0, 1, M_GOOD, "long_runs");
	counters(s, (uint32_t)(g.m * g.k * g.n), (uint32_t)g.sat, "counters");
	gemm_free(&g);
}

static void case_basic(sess *s)
{
	gemm g;
	reset(s, 0x42, "reset");
	ident(s, "ident");
	frame_dropped(s, QA_POP_CLEAR, NULL, 0, M_BADCRC, 0, QA_PST_BAD_CRC,
		      "bad_crc");
	cmd_ok(s, QA_POP_CLEAR, NULL, 0, "clear");
	if (gemm_make(&g, 9, 13, 6, 21, QA_ROUND_HALF_UP, -128, 127) == QA_OK) {
		run_gemm(s, &g, 0, 1, 1, M_GOOD, "gemm");
		counters(s, (uint32_t)(g.m * g.k * g.n), (uint32_t)g.sat,
			 "counters");
	}
	gemm_free(&g);
}

/* A core built without a network table (NL_MAX 0): IDENT says so, a
 * NET_LOAD of a layer is forwarded and flagged out of range, NET_RUN is
 * refused, and GEMMs run as ever. */
static void case_notable(sess *s)
{
	gemm g;
	reset(s, 0x51, "reset");
	ident(s, "ident_nl_max");
	cmd_ok(s, QA_POP_CLEAR, NULL, 0, "clear");
	uint8_t tb[QA_PROTO_LAYER_BYTES] = { 0 }, nl = 1;
	tb[4] = 1; /* cg */
	tb[6] = 1; /* k */
	tb[8] = 1; /* last_cols */
	load_args(s, QA_POP_NET_LOAD, &nl, 1, tb, sizeof tb, 0, M_GOOD,
		  "net_load_forwarded");
	counters_st(s, 0, 0, 2, "net_load_out_of_range");
	cmd_ok(s, QA_POP_CLEAR, NULL, 0, "clear_2");
	uint8_t nr[QA_PROTO_NET_RUN_ARGS] = { 0, 1, 0, 1 };
	cmd_reject(s, QA_POP_NET_RUN, nr, sizeof nr, QA_PST_BAD_ARG,
		   "net_run_refused");
	counters_st(s, 0, 0, 4, "net_run_refused_status");
	cmd_ok(s, QA_POP_CLEAR, NULL, 0, "clear_3");
	if (gemm_make(&g, 5, 11, 7, 23, QA_ROUND_HALF_EVEN, -100, 100) ==
	    QA_OK) {
		run_gemm(s, &g, 1, 0, 1, M_GOOD, "gemm");
		counters(s, (uint32_t)(g.m * g.k * g.n), (uint32_t)g.sat,
			 "counters");
	}
	gemm_free(&g);
}

/* ---- checking ------------------------------------------------------------------- */

typedef struct rsp {
	uint8_t op, seq, status;
	size_t len;
	uint8_t *payload;
} rsp;

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int busy_seen = -1, busy_end = -1; /* tb_chip's "# busy" line */

static int read_out(const char *path, uint8_t **bytes, size_t *n,
		    size_t *bad_stop)
{
	FILE *f = fopen(path, "r");
	char line[32];
	size_t cap = 4096;
	*n = 0;
	*bad_stop = 0;
	*bytes = malloc(cap);
	if (!f || !*bytes) {
		if (f)
			fclose(f);
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		const char *p = line;
		unsigned v;
		if (*p == '#') {
			if (sscanf(p, "# busy %d %d", &busy_seen, &busy_end) != 2)
				busy_seen = busy_end = -1;
			continue;
		}
		if (*p == '!') {
			(*bad_stop)++;
			p++;
		}
		if (sscanf(p, "%2x", &v) != 1) {
			(*bad_stop)++; /* not a byte: x or z bits on the pin */
			continue;
		}
		if (*n == cap) {
			uint8_t *nb = realloc(*bytes, cap * 2);
			if (!nb) {
				fclose(f);
				return -1;
			}
			*bytes = nb;
			cap *= 2;
		}
		(*bytes)[(*n)++] = (uint8_t)v;
	}
	fclose(f);
	return 0;
}

/* the expected sequence number an error response carries, or -1 */
static int rsp_exp(const rsp *r)
{
	qa_proto_frame f = { r->op, r->seq, r->status, r->len, r->payload };
	return qa_proto_expected_seq(&f);
}

static int rsp_is(const rsp *r, const expect *e)
{
	return (r->op & 0x7F) == e->op && (r->op & 0x80) && r->seq == e->seq;
}

static int check_responses(check_ctx *ck, sess *s, const char *out_path)
{
	uint8_t *bytes = NULL;
	size_t nb = 0, bad_stop = 0;
	if (read_out(out_path, &bytes, &nb, &bad_stop) != 0) {
		check(ck, 0, "read_chip_output", "cannot read %s", out_path);
		free(bytes);
		return -1;
	}
	check(ck, bad_stop == 0, "chip_uart_bytes_clean",
	      "%zu bytes with a bad stop bit or undefined bits", bad_stop);
	/* busy_o: high while work was in flight, low once all is answered */
	check(ck, busy_seen == 1 && busy_end == 0, "chip_busy_o_high_then_low",
	      "busy_o seen high %d, high at the end %d", busy_seen, busy_end);
	if (s->raw_expect) {
		uint8_t want_b[64];
		size_t nw = 0, found = 0;
		const char *h = s->raw_expect;
		unsigned v;
		int used = 0;
		while (nw < sizeof want_b && sscanf(h, "%2x%n", &v, &used) == 1) {
			want_b[nw++] = (uint8_t)v;
			h += used;
		}
		for (size_t i = 0; nw && i + nw <= nb && !found; i++)
			found = memcmp(bytes + i, want_b, nw) == 0;
		check(ck, found, "wire_bytes_match_reference",
		      "the chip never sent %s", s->raw_expect);
	}

	/* decode everything */
	qa_proto_dec *d = NULL;
	rsp *rs = NULL;
	size_t nr = 0, cap = 0, at = 0;
	if (qa_proto_dec_new(&d, QA_PROTO_PAYLOAD_LIMIT) != QA_OK) {
		free(bytes);
		return -1;
	}
	while (at < nb) {
		size_t used = 0;
		qa_proto_frame f;
		qa_proto_event ev = qa_proto_dec_push(d, bytes + at, nb - at,
						      &used, &f);
		at += used;
		if (ev != QA_PEV_FRAME)
			continue;
		if (nr == cap) {
			cap = cap ? 2 * cap : 64;
			rsp *n2 = realloc(rs, cap * sizeof *rs);
			if (!n2)
				break;
			rs = n2;
		}
		rs[nr].op = f.op;
		rs[nr].seq = f.seq;
		rs[nr].status = f.status;
		rs[nr].len = f.len;
		rs[nr].payload = malloc(f.len + 1);
		if (rs[nr].payload && f.len)
			memcpy(rs[nr].payload, f.payload, f.len);
		nr++;
	}
	qa_proto_dec_flush(d);
	qa_proto_dec_stats st;
	qa_proto_dec_get_stats(d, &st);
	qa_proto_dec_free(d);
	/* the only truncated frame allowed is the one a RESET cuts on purpose */
	check(ck, st.bad_crc == 0 && st.bad_length == 0 &&
			  st.truncated == (s->allow_truncated ? 1u : 0u),
	      "chip_frames_clean",
	      "decoder: %llu bad CRC, %llu bad length, %llu truncated",
	      (unsigned long long)st.bad_crc, (unsigned long long)st.bad_length,
	      (unsigned long long)st.truncated);
	printf("  %zu bytes from the chip, %zu response frames\n", nb, nr);

	size_t ri = 0, noise = 0;
	int g1_failed = -1, g1_overflows = 0; /* seq of the first failure */
	unsigned g1_ok = 0, g2_seqerr = 0;
	for (size_t i = 0; i < s->nex; i++) {
		expect *e = &s->ex[i];
		char why[160] = "";
		int ok = 1;
		if (e->noise)
			while (ri < nr &&
			       (rs[ri].status & QA_PROTO_STATUS_MASK) != QA_PST_OK &&
			       !rsp_is(&rs[ri], e)) {
				ri++;
				noise++;
			}
		if (e->kind == K_PARTIAL) {
			size_t k = 0;
			while (ri < nr && rsp_is(&rs[ri], e) &&
			       rs[ri].status == QA_PROTO_MORE) {
				ri++;
				k++;
			}
			check(ck, 1, e->name, "%s", "");
			printf("  %s: %zu complete frames before the cut\n",
			       e->name, k);
			continue;
		}
		if (ri >= nr) {
			check(ck, 0, e->name, "no response (%zu frames in all)", nr);
			continue;
		}
		rsp *r = &rs[ri++];
		unsigned stc = r->status & QA_PROTO_STATUS_MASK;
		if (!rsp_is(r, e)) {
			ok = 0;
			snprintf(why, sizeof why,
				 "got %s seq %02x %s, want %s seq %02x",
				 qa_proto_op_name(r->op), r->seq,
				 qa_proto_status_name(stc),
				 qa_proto_op_name(e->op), e->seq);
		} else if (e->kind == K_GROUP1) {
			if (g1_failed < 0 && stc == QA_PST_OK) {
				g1_ok++;
			} else if (g1_failed < 0 && stc == QA_PST_OVERFLOW) {
				g1_failed = r->seq;
				g1_overflows++;
				ok = rsp_exp(r) == r->seq;
			} else if (g1_failed >= 0 &&
				   (stc == QA_PST_OVERFLOW || stc == QA_PST_SEQUENCE)) {
				g1_overflows += stc == QA_PST_OVERFLOW;
				ok = rsp_exp(r) == g1_failed;
			} else {
				ok = 0;
			}
			if (!ok)
				snprintf(why, sizeof why, "status %s expected seq %d",
					 qa_proto_status_name(stc),
					 rsp_exp(r));
			else
				snprintf(e->name + strlen(e->name),
					 sizeof e->name - strlen(e->name), "_%s",
					 qa_proto_status_name(stc));
		} else if (e->kind == K_GROUP2) {
			int accepted_before = g1_failed < 0 ||
					      (uint8_t)(r->seq - g1_failed) >= 0x80;
			if (accepted_before) {
				ok = stc == QA_PST_SEQUENCE &&
				     rsp_exp(r) == g1_failed;
				g2_seqerr += ok;
			} else {
				ok = stc == QA_PST_OK && r->status == e->st;
			}
			if (!ok)
				snprintf(why, sizeof why, "status %s",
					 qa_proto_status_name(stc));
			else
				snprintf(e->name + strlen(e->name),
					 sizeof e->name - strlen(e->name), "_%s",
					 qa_proto_status_name(stc));
		} else if (stc != e->st) {
			ok = 0;
			snprintf(why, sizeof why, "status %s, want %s",
				 qa_proto_status_name(stc),
				 qa_proto_status_name(e->st));
		} else if (stc != QA_PST_OK) {
			if (r->status & QA_PROTO_MORE || r->len != 1 ||
			    (e->exp_seq >= 0 &&
			     rsp_exp(r) != e->exp_seq)) {
				ok = 0;
				snprintf(why, sizeof why,
					 "error payload: len %zu expected seq %d, "
					 "want %d",
					 r->len, rsp_exp(r),
					 e->exp_seq);
			}
		} else if (e->kind == K_COUNTERS) {
			if (r->len != 20 || r->status != 0 ||
			    get32(r->payload + 4) != e->macs ||
			    get32(r->payload + 12) != e->sat ||
			    get32(r->payload + 16) != e->status ||
			    (e->macs && get32(r->payload) == 0)) {
				ok = 0;
				snprintf(why, sizeof why,
					 "len %zu busy %u macs %u (want %u) sat %u "
					 "(want %u) status %u (want %u)",
					 r->len, get32(r->payload),
					 get32(r->payload + 4), e->macs,
					 get32(r->payload + 12), e->sat,
					 get32(r->payload + 16), e->status);
			}
		} else {
			/* OK: gather the payload over MORE frames */
			size_t total = 0, frames = 1;
			uint8_t *all = malloc(r->len + 1);
			if (all && r->len)
				memcpy(all, r->payload, r->len);
			total = r->len;
			rsp *last = r;
			while (all && (last->status & QA_PROTO_MORE)) {
				if (last->len != s->c->maxp)
					ok = 0;
				if (ri >= nr || !rsp_is(&rs[ri], e)) {
					ok = 0;
					break;
				}
				last = &rs[ri++];
				uint8_t *na = realloc(all, total + last->len + 1);
				if (!na) {
					ok = 0;
					break;
				}
				all = na;
				memcpy(all + total, last->payload, last->len);
				total += last->len;
				frames++;
			}
			if (!ok || (last->status & QA_PROTO_STATUS_MASK) != QA_PST_OK ||
			    (e->check_len && total != e->len) ||
			    (e->payload && total == e->len &&
			     memcmp(all, e->payload, total) != 0)) {
				ok = 0;
				size_t diff = 0;
				while (e->payload && diff < total && diff < e->len &&
				       all[diff] == e->payload[diff])
					diff++;
				snprintf(why, sizeof why,
					 "%zu bytes in %zu frames (want %zu), first "
					 "difference at %zu",
					 total, frames, e->len, diff);
			} else if (frames > 1) {
				snprintf(e->name + strlen(e->name),
					 sizeof e->name - strlen(e->name),
					 "_in_%zu_frames", frames);
			}
			free(all);
		}
		check(ck, ok, e->name, "%s", why);
	}
	for (size_t i = 0; i < s->nex; i++)
		if (s->ex[i].kind == K_GROUP1) {
			check(ck, g1_overflows > 0 && g1_failed >= 0,
			      "window_overrun_reported_as_overflow",
			      "no OVERFLOW among the overrun frames");
			check(ck, g2_seqerr == g1_ok, "go_back_n_consistent",
			      "%u frames accepted first, %u refused as repeats",
			      g1_ok, g2_seqerr);
			break;
		}
	check(ck, ri == nr, "no_unexpected_responses",
	      "%zu response frames left over", nr - ri);
	if (noise)
		printf("  %zu error responses to noise skipped\n", noise);
	for (size_t i = 0; i < nr; i++)
		free(rs[i].payload);
	free(rs);
	free(bytes);
	return 0;
}

static int parse_cfg(const char *s, cfg *c)
{
	unsigned long v[13] = { [12] = CORE_NL_MAX };
	const char *p = s;
	for (int i = 0; i < 13; i++) {
		char *end;
		v[i] = strtoul(p, &end, 0);
		if (end == p || (*end != ',' && *end) || (i < 11 && !*end))
			return -1;
		if (!*end)
			break;
		if (i == 12)
			return -1;
		p = end + 1;
	}
	c->rows = (unsigned)v[0];
	c->cols = (unsigned)v[1];
	c->acc_w = (unsigned)v[2];
	c->xb = (unsigned)v[3];
	c->wb = (unsigned)v[4];
	c->pg = (unsigned)v[5];
	c->clk = (uint32_t)v[6];
	c->baud = (uint32_t)v[7];
	c->maxp = (unsigned)v[8];
	c->rxbuf = (unsigned)v[9];
	c->rxq = (unsigned)v[10];
	c->timeout = (uint32_t)v[11];
	c->nl_max = (unsigned)v[12];
	return (c->rows && c->cols && c->maxp >= 64 && c->rxq >= 2) ? 0 : -1;
}

int main(int argc, char **argv)
{
	cfg c;
	static const struct {
		const char *name;
		void (*run)(sess *);
	} cases[] = {
		{ "gemm", case_gemm },
		{ "errors", case_errors },
		{ "overflow", case_overflow },
		{ "net", case_net },
		{ "example", case_example },
		{ "runs", case_runs },
		{ "basic", case_basic },
		{ "notable", case_notable },
	};
	if (argc < 4 || parse_cfg(argv[3], &c) != 0 ||
	    (strcmp(argv[1], "script") != 0 && strcmp(argv[1], "check") != 0) ||
	    (strcmp(argv[1], "check") == 0 && argc < 5)) {
		fprintf(stderr, "usage: linkvec script|check CASE "
				"R,C,ACC,XB,WB,PG,CLK,BAUD,MAXP,RXBUF,RXQ,TIMEOUT"
				"[,NL_MAX] [OUT.hex]\n");
		return 2;
	}
	int which = -1;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (strcmp(argv[2], cases[i].name) == 0)
			which = (int)i;
	if (which < 0) {
		fprintf(stderr, "linkvec: unknown case '%s'\n", argv[2]);
		return 2;
	}
	sess s = { .c = &c };
	int scripting = strcmp(argv[1], "script") == 0;
	s.out = scripting ? stdout : NULL;
	cases[which].run(&s);
	int rc = 0;
	if (s.oom) {
		fprintf(stderr, "linkvec: out of memory\n");
		rc = 2;
	} else if (!scripting) {
		check_ctx ck = { 0, 0, 0 };
		check_responses(&ck, &s, argv[4]);
		rc = check_summary(&ck);
	}
	for (size_t i = 0; i < s.nex; i++)
		free(s.ex[i].payload);
	free(s.ex);
	return rc;
}
