/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_link.c - libFuzzer harness of the host's link layer and device
 * layer (host/src/link.c, host/src/dev.c) against a device that lies.
 *
 * No hardware and no simulator: this file defines the raw transport the
 * "sim-uart" target opens (qa_raw_simuart) as a small C device that speaks
 * the wire protocol of docs/protocol.md - sequence numbers and go-back-N,
 * SEQUENCE answers to probes, RESET, loads across LOAD_MORE frames,
 * BUSY/NO_LOAD/BAD_SIZE/BAD_ARG, RUN and NET_RUN results split into MORE
 * frames - without a core behind it: results are a byte pattern. The other
 * transports (sim, ftdi, tty) are stubs that refuse to open.
 *
 * The fuzz input drives what the device gets wrong:
 *   byte 0     bits 1..3: the GEMM's shape; bit 4: the device, a 4x4
 *              array with large buffers or a 1x3 one with small buffers
 *              and payloads (GEMMs cut into several panels); bit 0: the
 *              IDENT answer's 36 bytes come from the input instead
 *   [36 bytes  the IDENT answer, when bit 0 is set]
 *   then       one byte per response frame the device sends: 0..6 (mod
 *              16) honest; 7 a payload of another length (bytes from the
 *              input), 8 dropped, 9 one byte flipped, 10 sent twice, 11
 *              wrong seq, 12 wrong op, 13 another status, 14 noise before
 *              it, 15 cut short (further input bytes say where and how).
 *              When the input runs out, the device is honest.
 * With either good IDENT the device models the core (docs/architecture.md):
 * it keeps the X, W and bias/shift memories, and computes RUN and NET_RUN
 * results with the golden requantizer, layer write-back included. The host
 * opens the device, runs a GEMM, loads a two-layer network and runs it,
 * and closes.
 *
 * Invariants: nothing crashes or hangs (the device goes quiet after a
 * bounded number of frames, and the host must then give up); every
 * failure is one of the documented errors with a message; with a good
 * IDENT and no fault injected, every operation succeeds; with a good IDENT
 * and only line faults (drops, flips, noise, cuts - no lies), an operation
 * that succeeds has exactly the golden model's result (qa_ref_gemm,
 * qa_ref_net): no silent corruption; and one such fault after the device
 * is open never fails an operation (the link recovers).
 *
 * Two frame-level faults are left out of those two checks unless
 * FUZZ_LINK_STRICT=1 is set: a response frame sent twice, and a frame with
 * the MORE bit lost whole (see send_frame). With the protocol and link.c
 * of today they fail a GEMM that a retry would save, or corrupt it
 * silently (regress-link-strict-* in the corpus show both).
 */
#include "fuzz.h"

#include "proto.h"
#include "qarray.h"
#include "transport.h"

#define DEV_MAX_FRAMES 20000 /* responses before the device goes quiet */
#define IDENT_CORE 20

/* the part of the input the device reads, and whether it lied */
static const uint8_t *in_p;
static size_t in_n, in_at;
static int fuzzed_ident, faults;
/* faults the host cannot be expected to survive, or not to be fooled by,
 * with the protocol as it is (see "unsafe" below) */
static int lies, unsafe;
/* a good IDENT and no fault while the device was opened */
static int recoverable;
/* FUZZ_LINK_STRICT=1: hold the host to more (see below) */
static int strict = -1;

static int in_byte(int dflt)
{
	return in_at < in_n ? in_p[in_at++] : dflt;
}

/* ---- the device ----------------------------------------------------------------- */

typedef struct fdev {
	qa_proto_dec *dec;
	uint8_t expected;        /* the next sequence number it accepts */
	uint8_t ident[QA_PROTO_IDENT_LEN];
	unsigned rows, cols, max_payload;
	uint8_t load_op;         /* load in progress, and its bytes left */
	uint64_t load_left;
	uint64_t load_pos;       /* data bytes of the load taken so far */
	unsigned load_base;      /* its first word or group */
	/* the core's memories, modelled when the IDENT is the good one
	 * (model = 1): X banks, W words, bias/shift groups, as in
	 * docs/architecture.md; else results are a byte pattern */
	int model;
	unsigned xb_depth, wb_depth, pg_max;
	int8_t *xm;              /* 2 * xb_depth words of rows bytes */
	int8_t *wm;              /* 2 * wb_depth words of cols bytes */
	int32_t *bias;           /* 2 * pg_max groups of cols */
	uint8_t *shift;
	uint8_t table[255 * QA_PROTO_LAYER_BYTES]; /* NET_LOAD descriptors */
	size_t table_len;
	unsigned table_layers;
	uint8_t *out;            /* bytes on their way to the host */
	size_t out_head, out_len, out_cap;
	unsigned frames;         /* responses sent */
} fdev;

static void out_add(fdev *d, const uint8_t *p, size_t n)
{
	if (!n)
		return;
	if (d->out_head + d->out_len + n > d->out_cap) {
		if (d->out_len)
			memmove(d->out, d->out + d->out_head, d->out_len);
		d->out_head = 0;
		if (d->out_len + n > d->out_cap) {
			size_t cap = d->out_cap ? d->out_cap : 4096;

			while (cap < d->out_len + n)
				cap *= 2;
			d->out = realloc(d->out, cap);
			FUZZ_CHECK(d->out != NULL, "out of memory");
			d->out_cap = cap;
		}
	}
	memcpy(d->out + d->out_head + d->out_len, p, n);
	d->out_len += n;
}

/* Send one response frame, or what the input makes of it. */
static void send_frame(fdev *d, uint8_t op, uint8_t seq, uint8_t status,
		       const uint8_t *payload, size_t len)
{
	uint8_t alt[256], noise[16];
	uint8_t *wire;
	size_t cap, wlen = 0;
	int act;

	if (d->frames >= DEV_MAX_FRAMES)
		return; /* gone quiet: the host must give up by itself */
	d->frames++;
	act = in_byte(0) % 16;
	if (act >= 7)
		faults++;
	/* a lie: a well-formed frame that says something else */
	if (act == 7 || (act >= 11 && act <= 13))
		lies++;
	/*
	 * A whole frame sent twice, or a frame with the MORE bit lost without
	 * a trace: every frame of a response has the same seq and the frames
	 * carry no offset (a frame cut down to its start marker or to nothing is
 * lost whole too), so the host sees at best a wrong total length
	 * (today it does not check it: a duplicate shifts the result bytes,
	 * a lost MORE frame fails the operation with QA_ERR_DEVICE, no retry),
	 * and a duplicate plus a loss in the same response look like the
	 * right length. Byte-level faults (flips, noise, cuts) always damage a
	 * frame where the decoder sees it. Strict mode counts these two as
	 * line faults like the others.
	 */
	if (!strict && (act == 10 || (act == 8 && (status & QA_PROTO_MORE))))
		unsafe++;
	switch (act) {
	case 7: /* a payload of another length */
		len = (size_t)in_byte(0) % sizeof alt;
		for (size_t i = 0; i < len; i++)
			alt[i] = (uint8_t)in_byte(0x5a);
		payload = alt;
		break;
	case 8:
		return;
	case 11:
		seq = (uint8_t)(seq ^ (1 + in_byte(0) % 255));
		break;
	case 12:
		op = (uint8_t)(op ^ (1 + in_byte(0) % 255));
		break;
	case 13:
		status = (uint8_t)in_byte(QA_PST_SEQUENCE);
		break;
	case 14: {
		size_t k = (size_t)in_byte(1) % sizeof noise;

		for (size_t i = 0; i < k; i++)
			noise[i] = (uint8_t)in_byte(0);
		out_add(d, noise, k);
		break;
	}
	default:
		break;
	}
	cap = qa_proto_wire_max(len);
	wire = malloc(cap);
	FUZZ_CHECK(wire != NULL, "out of memory");
	qa_proto_frame f = { op, seq, status, len, payload };
	FUZZ_CHECK(qa_proto_encode(&f, wire, cap, &wlen) == QA_OK, "encode");
	if (act == 9) {
		size_t at = (size_t)in_byte(0) % wlen;

		wire[at] ^= (uint8_t)(1 + in_byte(0) % 255);
	} else if (act == 15) {
		wlen = (size_t)in_byte(0) % wlen;
		/* cut to nothing or to the bare start marker: lost whole */
		if (!strict && wlen <= 1 && (status & QA_PROTO_MORE))
			unsafe++;
	}
	out_add(d, wire, wlen);
	if (act == 10)
		out_add(d, wire, wlen);
	free(wire);
}

/* A response, in frames of at most max_payload bytes (MORE on all but the
 * last), as the device sends RUN results. */
static void respond(fdev *d, uint8_t op, uint8_t seq, uint8_t status,
		    const uint8_t *payload, size_t len)
{
	size_t mp = d->max_payload ? d->max_payload : 1, off = 0;

	op |= QA_PROTO_RSP;
	do {
		size_t n = len - off > mp ? mp : len - off;
		int more = off + n < len;

		send_frame(d, op, seq, (uint8_t)(status | (more ? QA_PROTO_MORE : 0)),
			   payload ? payload + off : NULL, n);
		off += n;
	} while (off < len);
}

static void respond_status(fdev *d, uint8_t op, uint8_t seq, uint8_t status)
{
	uint8_t e = d->expected;

	respond(d, op, seq, status, status == QA_PST_OK ? NULL : &e,
		status == QA_PST_OK ? 0 : 1);
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

/* one RUN or network layer, as the core's tile loop runs it */
typedef struct core_run {
	unsigned xbank, rg, last_rows;
	size_t wbase, pbase;
	unsigned cg, k, last_cols, round;
	int lo, hi;
} core_run;

/*
 * Compute a RUN (docs/architecture.md): tiles r < rg, c < cg; result (i,
 * j) of tile (r, c) is requant(sum_kk X[xbank][r*k + kk][i] *
 * W[wbase + c*k + kk][j] + bias[pbase + c][j]). With out, the results go
 * to the response in the core's order (rows i < last_rows in the last row
 * group, columns j < last_cols in the last column group); with wb >= 0
 * they are written back into X bank wb at word r*N + c*COLS + j, lane i.
 */
static size_t core_compute(fdev *d, const core_run *c, uint8_t *out, int wb)
{
	size_t at = 0, n_cols = (size_t)(c->cg - 1) * d->cols + c->last_cols;

	for (unsigned r = 0; r < c->rg; r++)
		for (unsigned cg = 0; cg < c->cg; cg++)
			for (unsigned i = 0; i < d->rows; i++)
				for (unsigned j = 0; j < d->cols; j++) {
					int64_t acc = 0;
					size_t g = c->pbase + cg;
					int8_t y;

					for (unsigned kk = 0; kk < c->k; kk++) {
						size_t xw = (size_t)c->xbank * d->xb_depth + (size_t)r * c->k + kk;
						size_t ww = c->wbase + (size_t)cg * c->k + kk;

						acc += (int64_t)d->xm[xw * d->rows + i] *
						       d->wm[ww * d->cols + j];
					}
					y = qa_ref_requant(acc + d->bias[g * d->cols + j],
							   d->shift[g * d->cols + j],
							   (qa_round)c->round, c->lo,
							   c->hi, NULL);
					if (wb >= 0 && (size_t)cg * d->cols + j < n_cols) {
						size_t xw = (size_t)wb * d->xb_depth + r * n_cols + (size_t)cg * d->cols + j;

						d->xm[xw * d->rows + i] = y;
					}
					if (out && (r + 1 < c->rg || i < c->last_rows) &&
					    (cg + 1 < c->cg || j < c->last_cols))
						out[at++] = (uint8_t)y;
				}
	return at;
}

/* the result bytes of a RUN, or of a NET_RUN's last layer (table: the
 * layer descriptors, nl of them; NULL for a RUN) */
static void respond_results(fdev *d, uint8_t op, uint8_t seq,
			    const core_run *run, const uint8_t *table,
			    unsigned nl)
{
	size_t rows = (size_t)(run->rg - 1) * d->rows + run->last_rows;
	size_t cols = (size_t)(run->cg - 1) * d->cols + run->last_cols;
	size_t n = rows * cols;
	uint8_t *r = malloc(n ? n : 1);

	FUZZ_CHECK(r != NULL, "out of memory");
	if (!d->model) {
		for (size_t i = 0; i < n; i++)
			r[i] = (uint8_t)(i * 7u + seq);
	} else if (!table) {
		FUZZ_CHECK(core_compute(d, run, r, -1) == n, "RUN size");
	} else {
		for (unsigned l = 0; l < nl; l++) {
			const uint8_t *t = table + l * QA_PROTO_LAYER_BYTES;
			core_run c = { (run->xbank ^ l) & 1u, run->rg,
				       run->last_rows, get16(t), get16(t + 2),
				       get16(t + 4), get16(t + 6), t[8], t[9],
				       (int8_t)t[10], (int8_t)t[11] };

			if (l + 1 < nl)
				core_compute(d, &c, NULL, (int)(c.xbank ^ 1u));
			else
				FUZZ_CHECK(core_compute(d, &c, r, -1) == n,
					   "NET_RUN size");
		}
	}
	respond(d, op, seq, QA_PST_OK, r, n);
	free(r);
}

/* Is this RUN (or layer) one the core accepts (docs/protocol.md, 3)? */
static int run_ok(const fdev *d, const core_run *c)
{
	return c->rg && c->cg && c->k && c->last_rows >= 1 &&
	       c->last_rows <= d->rows && c->last_cols >= 1 &&
	       c->last_cols <= d->cols && c->round <= 3 && c->lo <= c->hi &&
	       (!d->model ||
		((uint64_t)c->rg * c->k <= d->xb_depth &&
		 c->wbase + (uint64_t)c->cg * c->k <= 2ull * d->wb_depth &&
		 c->pbase + c->cg <= 2ull * d->pg_max));
}

static int load_args(uint8_t op)
{
	switch (op) {
	case QA_POP_LOAD_X:
	case QA_POP_LOAD_W:
	case QA_POP_LOAD_P:
		return QA_PROTO_LOAD_ARGS;
	case QA_POP_LOAD_WA:
	case QA_POP_LOAD_PA:
		return QA_PROTO_LOADA_ARGS;
	case QA_POP_NET_LOAD:
		return QA_PROTO_NET_LOAD_ARGS;
	default:
		return -1;
	}
}

static uint64_t load_bytes(const fdev *d, uint8_t op, const uint8_t *a)
{
	switch (op) {
	case QA_POP_LOAD_X:
		return (uint64_t)get16(a + 1) * d->rows;
	case QA_POP_LOAD_W:
		return (uint64_t)get16(a + 1) * d->cols;
	case QA_POP_LOAD_P:
		return (uint64_t)get16(a + 1) * d->cols * 5;
	case QA_POP_LOAD_WA:
		return (uint64_t)get16(a + 2) * d->cols;
	case QA_POP_LOAD_PA:
		return (uint64_t)get16(a + 2) * d->cols * 5;
	default: /* NET_LOAD */
		return (uint64_t)a[0] * QA_PROTO_LAYER_BYTES;
	}
}

/* one data byte of a load into the memories (words past the end are
 * dropped, a shift above 31 is kept as 31) */
static void store_byte(fdev *d, uint64_t pos, uint8_t b)
{
	uint64_t w, g, at;

	switch (d->load_op) {
	case QA_POP_LOAD_X:
		w = pos / d->rows;
		if (w < d->xb_depth)
			d->xm[((d->load_base ? d->xb_depth : 0) + w) * d->rows +
			      pos % d->rows] = (int8_t)b;
		return;
	case QA_POP_LOAD_W:
	case QA_POP_LOAD_WA:
		w = d->load_base + pos / d->cols;
		if (w < 2ull * d->wb_depth)
			d->wm[w * d->cols + pos % d->cols] = (int8_t)b;
		return;
	default: /* LOAD_P, LOAD_PA: per column, bias (4) and shift (1) */
		g = d->load_base + pos / (5ull * d->cols);
		at = pos % (5ull * d->cols);
		if (g >= 2ull * d->pg_max)
			return;
		if (at % 5 == 4) {
			d->shift[g * d->cols + at / 5] = b > 31 ? 31 : b;
		} else {
			uint32_t v = (uint32_t)d->bias[g * d->cols + at / 5];

			v &= ~(0xffu << (8 * (at % 5)));
			v |= (uint32_t)b << (8 * (at % 5));
			d->bias[g * d->cols + at / 5] = (int32_t)v;
		}
		return;
	}
}

static void take_load_data(fdev *d, const uint8_t *p, size_t n)
{
	if (d->load_op == QA_POP_NET_LOAD) {
		if (n > sizeof d->table - d->table_len)
			n = sizeof d->table - d->table_len;
		memcpy(d->table + d->table_len, p, n);
		d->table_len += n;
		return;
	}
	for (size_t i = 0; d->model && i < n; i++)
		store_byte(d, d->load_pos + i, p[i]);
	d->load_pos += n;
}

/* An accepted frame (its sequence number was the expected one). */
static void execute(fdev *d, const qa_proto_frame *f)
{
	const uint8_t *a = f->payload;
	int na;

	if (d->load_left && f->op != QA_POP_LOAD_MORE) {
		respond_status(d, f->op, f->seq, QA_PST_BUSY);
		return;
	}
	switch (f->op) {
	case QA_POP_NOP:
	case QA_POP_CLEAR:
		respond_status(d, f->op, f->seq,
			       f->len ? QA_PST_BAD_SIZE : QA_PST_OK);
		return;
	case QA_POP_IDENT:
		if (f->len)
			respond_status(d, f->op, f->seq, QA_PST_BAD_SIZE);
		else
			respond(d, f->op, f->seq, QA_PST_OK, d->ident,
				sizeof d->ident);
		return;
	case QA_POP_COUNTERS: {
		uint8_t c[20];

		memset(c, 0, sizeof c);
		if (f->len)
			respond_status(d, f->op, f->seq, QA_PST_BAD_SIZE);
		else
			respond(d, f->op, f->seq, QA_PST_OK, c, sizeof c);
		return;
	}
	case QA_POP_LOAD_MORE:
		if (!d->load_left) {
			respond_status(d, f->op, f->seq, QA_PST_NO_LOAD);
		} else if (f->len > d->load_left) {
			d->load_left = 0;
			respond_status(d, f->op, f->seq, QA_PST_BAD_SIZE);
		} else {
			take_load_data(d, a, f->len);
			d->load_left -= f->len;
			respond_status(d, f->op, f->seq, QA_PST_OK);
		}
		return;
	case QA_POP_RUN: {
		core_run c;

		if (f->len != QA_PROTO_RUN_ARGS) {
			respond_status(d, f->op, f->seq, QA_PST_BAD_SIZE);
			return;
		}
		c = (core_run){ a[0] & 1u, get16(a + 2), a[8],
				(a[1] & 1u) * (size_t)d->wb_depth,
				(a[1] & 1u) * (size_t)d->pg_max, get16(a + 4),
				get16(a + 6), a[9], a[10], (int8_t)a[11],
				(int8_t)a[12] };
		if (!run_ok(d, &c))
			respond_status(d, f->op, f->seq, QA_PST_BAD_ARG);
		else
			respond_results(d, f->op, f->seq, &c, NULL, 0);
		return;
	}
	case QA_POP_NET_RUN: {
		const unsigned nl = d->table_layers;
		int ok;

		if (f->len != QA_PROTO_NET_RUN_ARGS) {
			respond_status(d, f->op, f->seq, QA_PST_BAD_SIZE);
			return;
		}
		ok = nl && d->table_len == nl * QA_PROTO_LAYER_BYTES;
		core_run c = { 0 };
		for (unsigned l = 0; ok && l < nl; l++) {
			const uint8_t *t = d->table + l * QA_PROTO_LAYER_BYTES;

			c = (core_run){ (a[0] ^ l) & 1u, get16(a + 1), a[3],
					get16(t), get16(t + 2), get16(t + 4),
					get16(t + 6), t[8], t[9], (int8_t)t[10],
					(int8_t)t[11] };
			ok = run_ok(d, &c);
			/* a layer that writes back needs rg*N words */
			if (ok && d->model && l + 1 < nl)
				ok = (uint64_t)c.rg * ((c.cg - 1) * d->cols +
						      c.last_cols) <= d->xb_depth;
		}
		if (!ok) {
			respond_status(d, f->op, f->seq, QA_PST_BAD_ARG);
			return;
		}
		c.xbank = a[0] & 1u;
		respond_results(d, f->op, f->seq, &c, d->table, nl);
		return;
	}
	default:
		break;
	}
	na = load_args(f->op);
	if (na < 0) {
		respond_status(d, f->op, f->seq, QA_PST_UNKNOWN_OPCODE);
		return;
	}
	if (f->len < (size_t)na) {
		respond_status(d, f->op, f->seq, QA_PST_BAD_SIZE);
		return;
	}
	uint64_t want = load_bytes(d, f->op, a);
	if (f->len - (size_t)na > want) {
		respond_status(d, f->op, f->seq, QA_PST_BAD_SIZE);
		return;
	}
	d->load_op = f->op;
	d->load_left = want - (f->len - (size_t)na);
	d->load_pos = 0;
	switch (f->op) {
	case QA_POP_LOAD_X:
		d->load_base = a[0] & 1u;
		break;
	case QA_POP_LOAD_W:
		d->load_base = (a[0] & 1u) * d->wb_depth;
		break;
	case QA_POP_LOAD_P:
		d->load_base = (a[0] & 1u) * d->pg_max;
		break;
	case QA_POP_LOAD_WA:
	case QA_POP_LOAD_PA:
		d->load_base = get16(a);
		break;
	default:
		d->load_base = 0;
		break;
	}
	if (f->op == QA_POP_NET_LOAD) {
		d->table_len = 0;
		d->table_layers = a[0];
	}
	take_load_data(d, a + na, f->len - (size_t)na);
	respond_status(d, f->op, f->seq, QA_PST_OK);
}

/* Everything the host sends goes through here. */
static void device_receive(fdev *d, const uint8_t *p, size_t n)
{
	while (n) {
		qa_proto_frame f;
		size_t used = 0;
		qa_proto_event ev = qa_proto_dec_push(d->dec, p, n, &used, &f);

		p += used;
		n -= used;
		if (ev == QA_PEV_BAD_CRC || ev == QA_PEV_BAD_LENGTH ||
		    ev == QA_PEV_TRUNCATED) {
			/* the host's own frames are never damaged */
			FUZZ_CHECK(0, "the host sent a damaged frame (event %d)",
				   (int)ev);
		}
		if (ev != QA_PEV_FRAME)
			continue;
		FUZZ_CHECK(!(f.op & QA_PROTO_RSP) && f.status == 0,
			   "the host sent op 0x%02x status 0x%02x", f.op,
			   f.status);
		if (f.op == QA_POP_RESET) {
			/* answered first, everything before it dropped */
			d->out_head = d->out_len = 0;
			d->load_left = 0;
			d->table_len = 0;
			d->table_layers = 0;
			d->expected = (uint8_t)(f.seq + 1);
			respond_status(d, f.op, f.seq,
				       f.len ? QA_PST_BAD_SIZE : QA_PST_OK);
		} else if (f.seq != d->expected) {
			respond_status(d, f.op, f.seq, QA_PST_SEQUENCE);
		} else {
			d->expected++;
			execute(d, &f);
		}
	}
}

/* ---- the raw transport of "sim-uart" ----------------------------------------------- */

/* The devices the model computes for: a 4x4 array with room to spare,
 * and a 1x3 one whose small buffers make the host cut GEMMs into several
 * row and column panels, with 40-byte payloads and a window of 2 frames. */
static const uint8_t good_idents[2][QA_PROTO_IDENT_LEN] = {
	{
		'Q', 'A', 2, 4, 4, 8, 32, 8,   /* version, 4x4, data_w, acc_w, nl_max */
		0x00, 0x01, 0x00, 0x01,        /* xb_depth 256, wb_depth 256 */
		0x10, 0x00, 0x00, 0x01,        /* pg_max 16, k_max 256 */
		0x80, 0xF0, 0xFA, 0x02,        /* 50 MHz */
		QA_PROTO_VERSION, 4, 64, 0,    /* 4 frames, 64-byte payloads */
		0x00, 0x01, 0x00, 0x00,        /* rx_buffer 256 */
		0xC0, 0xC6, 0x2D, 0x00,        /* 3 Mbaud */
		0x20, 0xA1, 0x07, 0x00,        /* timeout 500000 cycles */
	},
	{
		'Q', 'A', 2, 1, 3, 8, 32, 8,   /* 1x3 */
		40, 0, 48, 0,                  /* xb_depth 40, wb_depth 48 */
		2, 0, 40, 0,                   /* pg_max 2, k_max 40 */
		0x80, 0xF0, 0xFA, 0x02,
		QA_PROTO_VERSION, 2, 40, 0,    /* 2 frames, 40-byte payloads */
		80, 0, 0, 0,                   /* rx_buffer 80 */
		0xC0, 0xC6, 0x2D, 0x00,
		0x20, 0xA1, 0x07, 0x00,
	},
};
static uint8_t next_ident[QA_PROTO_IDENT_LEN];

static int fdev_open(void **ctx, const char *arg, const qa_dev_opts *opts,
		     char *err, size_t errlen)
{
	fdev *d = calloc(1, sizeof *d);

	(void)arg;
	(void)opts;
	(void)err;
	(void)errlen;
	FUZZ_CHECK(d != NULL, "out of memory");
	FUZZ_CHECK(qa_proto_dec_new(&d->dec, QA_PROTO_PAYLOAD_LIMIT) == QA_OK,
		   "dec_new");
	memcpy(d->ident, next_ident, sizeof d->ident);
	d->rows = d->ident[3] ? d->ident[3] : 1;
	d->cols = d->ident[4] ? d->ident[4] : 1;
	d->max_payload = get16(d->ident + IDENT_CORE + 2);
	if (d->max_payload < QA_PROTO_IDENT_LEN)
		d->max_payload = QA_PROTO_IDENT_LEN;
	d->model = memcmp(d->ident, good_idents[0], sizeof d->ident) == 0 ||
		   memcmp(d->ident, good_idents[1], sizeof d->ident) == 0;
	if (d->model) {
		d->xb_depth = get16(d->ident + 8);
		d->wb_depth = get16(d->ident + 10);
		d->pg_max = get16(d->ident + 12);
		d->xm = calloc(2 * (size_t)d->xb_depth, d->rows);
		d->wm = calloc(2 * (size_t)d->wb_depth, d->cols);
		d->bias = calloc(2 * (size_t)d->pg_max * d->cols, sizeof(int32_t));
		d->shift = calloc(2 * (size_t)d->pg_max, d->cols);
		FUZZ_CHECK(d->xm && d->wm && d->bias && d->shift,
			   "out of memory");
	}
	*ctx = d;
	return QA_OK;
}

static void fdev_close(void *ctx)
{
	fdev *d = ctx;

	qa_proto_dec_free(d->dec);
	free(d->out);
	free(d->xm);
	free(d->wm);
	free(d->bias);
	free(d->shift);
	free(d);
}

static int fdev_write(void *ctx, const uint8_t *buf, size_t n, char *err,
		      size_t errlen)
{
	(void)err;
	(void)errlen;
	device_receive(ctx, buf, n);
	return QA_OK;
}

static int fdev_read(void *ctx, uint8_t *buf, size_t n, char *err,
		     size_t errlen)
{
	fdev *d = ctx;

	if (d->out_len < n) {
		snprintf(err, errlen, "no answer (fuzz device is quiet)");
		return QA_ERR_TIMEOUT;
	}
	memcpy(buf, d->out + d->out_head, n);
	d->out_head += n;
	d->out_len -= n;
	return QA_OK;
}

const qa_transport_ops qa_raw_simuart = {
	.name = "fuzz-device",
	.open = fdev_open,
	.close = fdev_close,
	.write = fdev_write,
	.read = fdev_read,
};

/* the transports that need a simulator or USB: not here */
static int stub_open(void **ctx, const char *arg, const qa_dev_opts *opts,
		     char *err, size_t errlen)
{
	(void)arg;
	(void)opts;
	*ctx = NULL;
	snprintf(err, errlen, "not in the fuzz build");
	return QA_ERR_UNSUPPORTED;
}
const qa_transport_ops qa_transport_sim = { .name = "sim", .open = stub_open };
const qa_transport_ops qa_transport_ftdi = { .name = "ftdi-raw", .open = stub_open };
const qa_transport_ops qa_transport_tty = { .name = "tty-raw", .open = stub_open };

/* ---- the session ------------------------------------------------------------------- */

static void check_rc(int rc, const char *what, const char *msg)
{
	FUZZ_CHECK(rc == QA_OK || rc == QA_ERR_IO || rc == QA_ERR_TIMEOUT ||
			   rc == QA_ERR_DEVICE || rc == QA_ERR_UNSUPPORTED ||
			   rc == QA_ERR_RANGE,
		   "%s: rc %d (%s): %s", what, rc, qa_errname(rc), msg);
	if (rc != QA_OK)
		FUZZ_CHECK(msg && msg[0], "%s: error %d without a message",
			   what, rc);
	if (!fuzzed_ident && !faults)
		FUZZ_CHECK(rc == QA_OK,
			   "%s failed on an honest device: %s", what, msg);
	/* the link recovers from one line fault after it is open */
	if (recoverable && !lies && !unsafe && faults <= 1)
		FUZZ_CHECK(rc == QA_OK, "%s failed after one line fault: %s",
			   what, msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t shapes[8][3] = {
		{ 1, 1, 1 }, { 2, 3, 2 }, { 5, 7, 6 }, { 21, 9, 10 },
		{ 9, 3, 17 }, { 17, 20, 3 }, { 1, 40, 9 }, { 33, 2, 5 },
	};
	int8_t x[33 * 40], w[40 * 17], y[33 * 17], yref[33 * 17], w2[6 * 3];
	int32_t bias[17];
	uint8_t shift[17];
	char err[512];
	qa_dev *dev = NULL;
	const size_t *sh;
	const uint8_t *good;
	int rc, model;

	in_p = data;
	in_n = size;
	in_at = 0;
	faults = 0;
	lies = 0;
	unsafe = 0;
	if (strict < 0) {
		const char *e = getenv("FUZZ_LINK_STRICT");

		strict = e && *e && strcmp(e, "0") != 0;
	}
	fuzzed_ident = size > 0 && (data[0] & 1);
	sh = shapes[size ? (data[0] >> 1) & 7 : 0];
	in_at = size ? 1 : 0;
	good = good_idents[size && (data[0] & 0x10) ? 1 : 0];
	memcpy(next_ident, good, sizeof next_ident);
	if (fuzzed_ident)
		for (size_t i = 0; i < sizeof next_ident; i++)
			next_ident[i] = (uint8_t)in_byte(good[i]);
	model = memcmp(next_ident, good_idents[0], sizeof next_ident) == 0 ||
		memcmp(next_ident, good_idents[1], sizeof next_ident) == 0;

	recoverable = 0;
	rc = qa_dev_open(&dev, "sim-uart", NULL, err, sizeof err);
	check_rc(rc, "open", err);
	recoverable = model && !faults;
	if (rc != QA_OK) {
		FUZZ_CHECK(dev == NULL, "a handle after a failed open");
		return 0;
	}

	for (size_t i = 0; i < sizeof x; i++)
		x[i] = (int8_t)(i * 5u + 1u);
	for (size_t i = 0; i < sizeof w; i++)
		w[i] = (int8_t)(i * 3u + 7u);
	for (size_t j = 0; j < 17; j++) {
		bias[j] = (int32_t)(j * 100) - 800;
		shift[j] = (uint8_t)(j % 9);
	}
	qa_gemm_desc g = { sh[0], sh[1], sh[2], x, w, bias, shift,
			   QA_ROUND_HALF_UP, -128, 127 };
	rc = qa_dev_gemm(dev, &g, y, NULL);
	check_rc(rc, "gemm", qa_dev_errmsg(dev));
	/* the device computes like the core: line faults (drops, flips,
	 * duplicates, noise, cuts) may fail an operation, never change its
	 * result */
	if (rc == QA_OK && model && !lies && !unsafe) {
		FUZZ_CHECK(qa_ref_gemm(&g, yref, NULL) == QA_OK, "ref_gemm");
		FUZZ_CHECK(memcmp(y, yref, sh[0] * sh[2]) == 0,
			   "gemm %zux%zux%zu: a wrong result after %d line "
			   "faults", sh[0], sh[1], sh[2], faults);
	}

	/* a resident two-layer network: 7 -> 6 -> 3 */
	for (size_t i = 0; i < sizeof w2; i++)
		w2[i] = (int8_t)(i * 11u);
	qa_layer layers[2] = {
		{ 7, 6, w, bias, shift, 0, 127 },
		{ 6, 3, w2, NULL, shift, -128, 127 },
	};
	qa_net net = { 2, layers, QA_ROUND_HALF_EVEN };
	rc = qa_dev_net_load(dev, &net);
	check_rc(rc, "net_load", qa_dev_errmsg(dev));
	if (rc == QA_OK) {
		rc = qa_dev_net_run(dev, 5, x, y, NULL);
		check_rc(rc, "net_run", qa_dev_errmsg(dev));
		if (rc == QA_OK && model && !lies && !unsafe) {
			FUZZ_CHECK(qa_ref_net(&net, 5, x, yref, NULL) == QA_OK,
				   "ref_net");
			FUZZ_CHECK(memcmp(y, yref, 5 * 3) == 0,
				   "net_run: a wrong result after %d line "
				   "faults", faults);
		}
	}
	qa_dev_close(dev);
	return 0;
}
