/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mkseeds.c - write the seed inputs of the fuzz corpus with the project's
 * own writers (`make -f mk/fuzz.mk fuzz-seeds`; the results are committed
 * in tests/fuzz/corpus/HARNESS/seed-*).
 *
 *   mkseeds CORPUS_DIR
 *
 * npy/      qa_npy_write of every dtype and rank, plus the variants numpy
 *           itself writes that qa_npy_write does not: format 2.0 and 3.0,
 *           big-endian data, double quotes, a Python 2 'L' suffix
 * qmodel/   qa_qmodel_save of models covering every bias width and shift
 *           layout, and one made by qa_nn_quantize from a float model
 * manifest/ the manifest qa_fmodel_save writes for the model of
 *           fuzz_manifest.c's scratch directory, and hand-written ones
 *           naming that directory's other files (transposed, square,
 *           wrong dtype, non-finite, FIFO, subdirectory, missing)
 * proto/    streams of frames made by qa_proto_encode: IDENT, RESET,
 *           error and multi-frame responses, commands, long payloads,
 *           noise, a cut-off frame, a bad CRC, a length above the maximum
 *           (three leading bytes: max_payload - 1, little-endian, and the
 *           chunking seed, as fuzz_proto.c reads them)
 * link/     sessions with fuzz_link.c's device: honest for each GEMM shape,
 *           a given IDENT, and one response fault of each kind
 *
 * The files are the same on every run and machine. Exit status 0 or 1.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto.h"
#include "qarray.h"
#include "qarray_nn.h"

static const char *root;

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "mkseeds: %s: %s\n", what, msg);
	exit(1);
}

static void make_dir(const char *sub)
{
	char p[1024];

	snprintf(p, sizeof p, "%s/%s", root, sub);
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		die(p, strerror(errno));
}

static void put_file(const char *sub, const char *name, const void *data,
		     size_t n)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof p, "%s/%s/%s", root, sub, name);
	f = fopen(p, "wb");
	if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0)
		die(p, "cannot write");
}

static uint8_t *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(1 << 20);

	if (!f || !buf)
		die(path, "cannot read");
	*n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

/* ---- npy ------------------------------------------------------------------ */

static char tmp_dir[256];

static uint8_t *npy_bytes(qa_dtype dt, unsigned ndim, const size_t *shape,
			  size_t *n)
{
	char path[512], err[256];
	qa_array a;
	size_t count = 1, esize = qa_dtype_size(dt);
	uint8_t *data, *out;

	memset(&a, 0, sizeof a);
	a.dtype = dt;
	a.ndim = ndim;
	for (unsigned i = 0; i < ndim; i++) {
		a.shape[i] = shape[i];
		count *= shape[i];
	}
	a.count = count;
	data = malloc(count * esize + 1);
	if (!data)
		die("npy", "out of memory");
	for (size_t i = 0; i < count * esize; i++)
		data[i] = (uint8_t)(i * 29u + 3u);
	if (dt == QA_DT_FLOAT32)
		for (size_t i = 0; i < count; i++) {
			float v = (float)i * 0.25f - 1.0f;

			memcpy(data + 4 * i, &v, 4);
		}
	a.data = data;
	snprintf(path, sizeof path, "%s/a.npy", tmp_dir);
	if (qa_npy_write(path, &a, err, sizeof err) != QA_OK)
		die("qa_npy_write", err);
	free(data);
	out = slurp(path, n);
	unlink(path);
	return out;
}

static void npy_seed(const char *name, qa_dtype dt, unsigned ndim,
		     size_t d0, size_t d1, size_t d2, size_t d3)
{
	size_t shape[4] = { d0, d1, d2, d3 }, n;
	uint8_t *b = npy_bytes(dt, ndim, shape, &n);

	put_file("npy", name, b, n);
	free(b);
}

/* replace the first occurrence of from by to (same length) in the header */
static void patch(uint8_t *b, size_t n, const char *from, const char *to)
{
	size_t fl = strlen(from);

	for (size_t i = 0; i + fl <= n; i++)
		if (memcmp(b + i, from, fl) == 0) {
			memcpy(b + i, to, fl);
			return;
		}
	die("patch", from);
}

static void npy_seeds(void)
{
	size_t shape[4] = { 2, 3, 0, 0 }, n, hlen;
	uint8_t *b, *v2;

	make_dir("npy");
	npy_seed("seed-int8-3.npy", QA_DT_INT8, 1, 3, 0, 0, 0);
	npy_seed("seed-uint8-2x2.npy", QA_DT_UINT8, 2, 2, 2, 0, 0);
	npy_seed("seed-int32-2x3.npy", QA_DT_INT32, 2, 2, 3, 0, 0);
	npy_seed("seed-int64-2.npy", QA_DT_INT64, 1, 2, 0, 0, 0);
	npy_seed("seed-float32-2x2.npy", QA_DT_FLOAT32, 2, 2, 2, 0, 0);
	npy_seed("seed-float32-0d.npy", QA_DT_FLOAT32, 0, 0, 0, 0, 0);
	npy_seed("seed-int8-0x3.npy", QA_DT_INT8, 2, 0, 3, 0, 0);
	npy_seed("seed-int8-4d.npy", QA_DT_INT8, 4, 1, 2, 1, 2);

	/* format 2.0 and 3.0: a 4-byte header length */
	b = npy_bytes(QA_DT_INT32, 2, shape, &n);
	hlen = (size_t)b[8] | (size_t)b[9] << 8;
	v2 = malloc(n + 2);
	memcpy(v2, b, 8);
	v2[6] = 2;
	v2[8] = (uint8_t)hlen;
	v2[9] = (uint8_t)(hlen >> 8);
	v2[10] = v2[11] = 0;
	memcpy(v2 + 12, b + 10, n - 10);
	put_file("npy", "seed-v2-int32-2x3.npy", v2, n + 2);
	v2[6] = 3;
	put_file("npy", "seed-v3-int32-2x3.npy", v2, n + 2);
	free(v2);

	/* big-endian int32 (the data bytes read in the other order) */
	patch(b, n, "'<i4'", "'>i4'");
	put_file("npy", "seed-be-int32-2x3.npy", b, n);
	/* double quotes, Python 2 long, keys in another order */
	patch(b, n, "'descr'", "\"descr\"");
	patch(b, n, "(2, 3)", "(2L,3)");
	put_file("npy", "seed-py2-int32-2x3.npy", b, n);
	free(b);

	shape[0] = 5;
	b = npy_bytes(QA_DT_FLOAT32, 1, shape, &n);
	patch(b, n, "'<f4'", "'>f4'");
	put_file("npy", "seed-be-float32-5.npy", b, n);
	free(b);
	shape[0] = 3;
	b = npy_bytes(QA_DT_INT64, 1, shape, &n);
	patch(b, n, "'<i8'", "'>i8'");
	put_file("npy", "seed-be-int64-3.npy", b, n);
	free(b);
}

/* ---- qmodel ---------------------------------------------------------------- */

/* A valid model: kw and shifts from the exponents, small integers. */
static void qmodel_seed(const char *name, unsigned nl, const size_t *dims,
			int per_channel, int shift_spread, int32_t bias_mag,
			unsigned bits, qa_round round, qa_round in_round,
			qa_nn_method method)
{
	char path[512], err[256];
	qa_qmodel m;
	int k_in = -7, wmax = (1 << (bits - 1)) - 1;
	uint8_t *b;
	size_t n;

	if (qa_qmodel_init(&m, nl, dims) != QA_OK)
		die("qa_qmodel_init", name);
	m.k_in = k_in;
	m.round = round;
	m.in_round = in_round;
	m.method = method;
	m.per_channel = per_channel;
	m.weight_bits = bits;
	for (unsigned l = 0; l < nl; l++) {
		qa_qlayer *L = &m.layers[l];

		L->k_in = k_in;
		L->k_out = k_in + 2;
		for (size_t j = 0; j < L->n; j++) {
			unsigned s = 6 + (per_channel ?
				     (unsigned)((j * 7) % (size_t)(shift_spread + 1)) :
				     0);

			L->shift[j] = (uint8_t)s;
			L->kw[j] = L->k_out - k_in - (int)s;
			L->bias[j] = bias_mag ?
				(int32_t)((j % 2 ? -1 : 1) * (bias_mag - (int32_t)j)) :
				0;
		}
		for (size_t i = 0; i < L->k * L->n; i++)
			L->w[i] = (int8_t)((int)(i * 13 % (size_t)(2 * wmax + 1)) - wmax);
		k_in = L->k_out;
	}
	snprintf(path, sizeof path, "%s/m.qam", tmp_dir);
	if (qa_qmodel_save(&m, path, err, sizeof err) != QA_OK)
		die("qa_qmodel_save", err);
	qa_qmodel_free(&m);
	b = slurp(path, &n);
	unlink(path);
	put_file("qmodel", name, b, n);
	free(b);
}

/* a model made by the quantizer from a float model */
static void quantized_seed(void)
{
	static const size_t dims[3] = { 3, 5, 2 };
	char path[512], err[256];
	qa_fmodel fm;
	qa_qmodel qm;
	qa_nn_quant_opts o;
	float calib[8 * 3];
	uint8_t *b;
	size_t n;

	if (qa_fmodel_init(&fm, 2, dims) != QA_OK)
		die("qa_fmodel_init", "");
	for (unsigned l = 0; l < 2; l++) {
		qa_flayer *L = &fm.layers[l];

		for (size_t i = 0; i < L->in * L->out; i++)
			L->w[i] = (float)((int)(i * 7 % 11) - 5) * 0.125f;
		for (size_t j = 0; j < L->out; j++)
			L->b[j] = (float)j * 0.0625f - 0.1f;
	}
	for (size_t i = 0; i < sizeof calib / sizeof calib[0]; i++)
		calib[i] = (float)((int)(i * 5 % 9) - 4) * 0.5f;
	qa_nn_quant_opts_init(&o);
	o.per_channel = 1;
	if (qa_nn_quantize(&fm, 8, calib, &o, &qm, err, sizeof err) != QA_OK)
		die("qa_nn_quantize", err);
	snprintf(path, sizeof path, "%s/q.qam", tmp_dir);
	if (qa_qmodel_save(&qm, path, err, sizeof err) != QA_OK)
		die("qa_qmodel_save", err);
	b = slurp(path, &n);
	unlink(path);
	put_file("qmodel", "seed-quantized-3x5x2.qam", b, n);
	free(b);
	qa_qmodel_free(&qm);
	qa_fmodel_free(&fm);
}

static void qmodel_seeds(void)
{
	static const size_t d1[2] = { 3, 2 }, d2[3] = { 4, 5, 3 },
			    d3[4] = { 2, 6, 6, 1 }, d4[3] = { 1, 40, 2 };

	make_dir("qmodel");
	/* no bias, one shift for every column */
	qmodel_seed("seed-1layer-nobias.qam", 1, d1, 0, 0, 0, 8,
		    QA_ROUND_HALF_UP, QA_ROUND_HALF_AWAY, QA_NN_MAX);
	/* per channel: shifts as nibbles, 1-byte biases */
	qmodel_seed("seed-2layer-nibbles-b1.qam", 2, d2, 1, 15, 100, 8,
		    QA_ROUND_HALF_EVEN, QA_ROUND_FLOOR, QA_NN_PERCENTILE);
	/* shifts spread beyond 15: one byte each; 2- and 4-byte biases */
	qmodel_seed("seed-3layer-bytes-b2.qam", 3, d3, 1, 20, 20000, 4,
		    QA_ROUND_FLOOR, QA_ROUND_HALF_AWAY, QA_NN_MSE);
	qmodel_seed("seed-2layer-b4.qam", 2, d4, 1, 3, 3000000, 2,
		    QA_ROUND_HALF_AWAY, QA_ROUND_FLOOR, QA_NN_FLOOR);
	quantized_seed();
}

/* ---- manifest ---------------------------------------------------------------- */

static void manifest_seeds(void)
{
	static const size_t dims[3] = { 3, 4, 2 };
	static const struct {
		const char *name, *text;
	} hand[] = {
		{ "seed-transposed.txt",
		  "qarray-model 1\ndense wt=wt.npy b=l0_b.npy relu\n"
		  "dense w=l1_w.npy b=b2.npy\n" },
		{ "seed-crlf-nobias.txt",
		  "\r\n# comment\r\nqarray-model 1 # version\r\n"
		  "\tdense\tw=l0_w.npy relu\r\ndense w=l1_w.npy\r\n" },
		{ "seed-square-chain.txt",
		  "qarray-model 1\ndense w=l0_w.npy b=l0_b.npy relu\n"
		  "dense w=sq.npy relu\ndense wt=sq.npy b=l0_b.npy relu\n"
		  "dense w=l1_w.npy b=l1_b.npy\n" },
		{ "seed-bad-files.txt",
		  "qarray-model 1\ndense w=i8.npy b=nan.npy\n"
		  "dense w=fifo.npy b=sub\ndense w=text.npy b=s.npy\n"
		  "dense w=z.npy b=d3.npy\ndense w=missing.npy\n" },
		{ "seed-nan-weight.txt",
		  "qarray-model 1\ndense w=nan.npy\ndense w=l1_w.npy\n" },
		{ "seed-inf-bias.txt",
		  "qarray-model 1\ndense w=l0_w.npy b=inf.npy relu\n"
		  "dense w=l1_w.npy\n" },
		{ "seed-fifo.txt", "qarray-model 1\ndense w=fifo.npy\n" },
		{ "seed-subdir.txt",
		  "qarray-model 1\ndense w=l0_w.npy b=sub\n" },
		{ "seed-bad-syntax.txt",
		  "qarray-model 01\ndense w=../x.npy wt=a b=.hidden relu relu "
		  "size=3\nconv w=l0_w.npy\n" },
	};
	char dir[512], path[600], err[256];
	qa_fmodel m;
	uint8_t *b;
	size_t n;

	make_dir("manifest");
	if (qa_fmodel_init(&m, 2, dims) != QA_OK)
		die("qa_fmodel_init", "");
	snprintf(dir, sizeof dir, "%s/model", tmp_dir);
	if (qa_fmodel_save(&m, dir, "fuzz scratch model", err, sizeof err) !=
	    QA_OK)
		die("qa_fmodel_save", err);
	qa_fmodel_free(&m);
	snprintf(path, sizeof path, "%s/manifest.txt", dir);
	b = slurp(path, &n);
	put_file("manifest", "seed-saved.txt", b, n);
	free(b);
	unlink(path);
	for (unsigned l = 0; l < 2; l++) {
		snprintf(path, sizeof path, "%s/l%u_w.npy", dir, l);
		unlink(path);
		snprintf(path, sizeof path, "%s/l%u_b.npy", dir, l);
		unlink(path);
	}
	rmdir(dir);
	for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++)
		put_file("manifest", hand[i].name, hand[i].text,
			 strlen(hand[i].text));
}

/* ---- proto ---------------------------------------------------------------- */

typedef struct stream {
	uint8_t buf[8192];
	size_t n;
} stream;

static void s_start(stream *s, size_t max_payload, uint8_t chunk_seed)
{
	s->buf[0] = (uint8_t)((max_payload - 1) & 0xff);
	s->buf[1] = (uint8_t)((max_payload - 1) >> 8);
	s->buf[2] = chunk_seed;
	s->n = 3;
}

static void s_bytes(stream *s, const void *p, size_t n)
{
	if (s->n + n > sizeof s->buf)
		die("proto", "stream too long");
	memcpy(s->buf + s->n, p, n);
	s->n += n;
}

static void s_frame(stream *s, uint8_t op, uint8_t seq, uint8_t status,
		    const uint8_t *payload, size_t len)
{
	qa_proto_frame f = { op, seq, status, len, payload };
	uint8_t wire[4096];
	size_t wlen;

	if (qa_proto_encode(&f, wire, sizeof wire, &wlen) != QA_OK)
		die("qa_proto_encode", "failed");
	s_bytes(s, wire, wlen);
}

static void proto_seeds(void)
{
	uint8_t ident[QA_PROTO_IDENT_LEN], big[600], *li = ident + 20;
	stream s;

	make_dir("proto");
	/* IDENT response: a 4x4 core, protocol 1, 4 frames / 1024 bytes in
	 * flight, 255-byte payloads, 3 Mbaud, 100000-cycle timeout */
	memset(ident, 0, sizeof ident);
	ident[0] = 2;
	ident[3] = 4;
	ident[4] = 4;
	li[0] = QA_PROTO_VERSION;
	li[1] = 4;
	li[2] = 255;
	li[4] = 0x00;
	li[5] = 0x04;
	li[8] = 0xC0;
	li[9] = 0xC6;
	li[10] = 0x2D;
	li[12] = 0xA0;
	li[13] = 0x86;
	li[14] = 0x01;

	/* the link's opening: RESET and IDENT answered */
	s_start(&s, QA_PROTO_PAYLOAD_LIMIT, 0);
	s_frame(&s, QA_POP_RESET | QA_PROTO_RSP, 0, QA_PST_OK, NULL, 0);
	s_frame(&s, QA_POP_IDENT | QA_PROTO_RSP, 1, QA_PST_OK, ident,
		sizeof ident);
	put_file("proto", "seed-hello.bin", s.buf, s.n);

	/* error responses naming the expected sequence number */
	s_start(&s, 255, 7);
	for (uint8_t st = QA_PST_BAD_CRC; st < QA_PST_COUNT; st++) {
		uint8_t exp = (uint8_t)(st + 3);

		s_frame(&s, QA_POP_LOAD_X | QA_PROTO_RSP, st, st, &exp, 1);
	}
	put_file("proto", "seed-errors.bin", s.buf, s.n);

	/* a long response in frames with the MORE bit, payloads with zeros
	 * and runs of 254+ non-zero bytes, in small chunks */
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i % 300 < 280 ? 1 + i % 255 : 0);
	s_start(&s, 300, 3);
	s_frame(&s, QA_POP_RUN | QA_PROTO_RSP, 9, QA_PST_OK | QA_PROTO_MORE,
		big, 300);
	s_frame(&s, QA_POP_RUN | QA_PROTO_RSP, 9, QA_PST_OK, big + 300, 290);
	put_file("proto", "seed-more.bin", s.buf, s.n);

	/* commands as the host sends them */
	s_start(&s, 64, 1);
	s_frame(&s, QA_POP_LOAD_W, 2, 0, big + 250, 40);
	s_frame(&s, QA_POP_LOAD_MORE, 3, 0, big + 290, 20);
	s_frame(&s, QA_POP_NOP, 4, 0, NULL, 0);
	put_file("proto", "seed-commands.bin", s.buf, s.n);

	/* noise, a frame cut short, a bad CRC, a length above the maximum,
	 * a frame after all of it */
	s_start(&s, 40, 5);
	s_bytes(&s, "\x55\xAA\x13", 3);
	{
		qa_proto_frame f = { QA_POP_IDENT | QA_PROTO_RSP, 1, 0, 36,
				     ident };
		uint8_t wire[128];
		size_t wlen;

		qa_proto_encode(&f, wire, sizeof wire, &wlen);
		s_bytes(&s, wire, wlen / 2);              /* cut short */
		wire[wlen - 1] ^= 0x10;                   /* bad CRC */
		s_bytes(&s, wire, wlen);
	}
	s_frame(&s, QA_POP_COUNTERS | QA_PROTO_RSP, 5, 0, big, 41); /* > 40 */
	s_bytes(&s, "\x00\x00", 2);
	s_frame(&s, QA_POP_CLEAR | QA_PROTO_RSP, 6, 0, NULL, 0);
	s_bytes(&s, "\x07\x07", 2);
	put_file("proto", "seed-damaged.bin", s.buf, s.n);

	/* the 36 bytes of a good IDENT payload as the stream itself */
	s_start(&s, 36, 0);
	s_bytes(&s, ident, sizeof ident);
	put_file("proto", "seed-linkinfo.bin", s.buf, s.n);
}

/* ---- link ------------------------------------------------------------------ */

static void link_seeds(void)
{
	/* the good IDENT of fuzz_link.c's device, as a fuzzed IDENT */
	static const uint8_t ident[QA_PROTO_IDENT_LEN] = {
		'Q', 'A', 2, 4, 4, 8, 32, 8, 0x00, 0x01, 0x00, 0x01,
		0x10, 0x00, 0x00, 0x01, 0x80, 0xF0, 0xFA, 0x02,
		QA_PROTO_VERSION, 4, 64, 0, 0x00, 0x01, 0x00, 0x00,
		0xC0, 0xC6, 0x2D, 0x00, 0x20, 0xA1, 0x07, 0x00,
	};
	/* one response fault each (fuzz_link.c: 7 length, 8 drop, 9 flip,
	 * 10 twice, 11 seq, 12 op, 13 status, 14 noise, 15 cut), on the
	 * RESET, IDENT, CLEAR, ... answers of a 5x7x6 GEMM session */
	static const struct {
		const char *name;
		uint8_t len, b[8];
	} faults[] = {
		{ "seed-drop-reset", 2, { 0x04, 8 } },
		{ "seed-ident-length", 4, { 0x04, 0, 7, 20 } },
		{ "seed-flip-clear", 5, { 0x04, 0, 0, 9, 3 } },
		{ "seed-twice-load", 5, { 0x04, 0, 0, 0, 10 } },
		{ "seed-seq-load", 6, { 0x04, 0, 0, 0, 0, 11 } },
		{ "seed-op-load", 7, { 0x04, 0, 0, 0, 0, 0, 12 } },
		{ "seed-status-run", 8, { 0x04, 0, 0, 0, 0, 0, 0, 13 } },
		{ "seed-noise-run", 8, { 0x04, 0, 0, 0, 0, 0, 14, 3 } },
		{ "seed-cut-run", 8, { 0x04, 0, 0, 0, 0, 0, 0, 15 } },
	};
	uint8_t b[1 + QA_PROTO_IDENT_LEN];
	char name[32];

	make_dir("link");
	/* an honest device, each of the eight GEMM shapes */
	for (unsigned s = 0; s < 8; s++) {
		b[0] = (uint8_t)(s << 1);
		snprintf(name, sizeof name, "seed-honest-shape%u", s);
		put_file("link", name, b, 1);
	}
	/* the 1x3 device with small buffers: GEMMs in several panels */
	for (unsigned s = 3; s <= 6; s++) {
		b[0] = (uint8_t)(0x10 | s << 1);
		snprintf(name, sizeof name, "seed-honest-small-shape%u", s);
		put_file("link", name, b, 1);
	}
	b[0] = 0x05;
	memcpy(b + 1, ident, sizeof ident);
	put_file("link", "seed-ident-given", b, sizeof b);
	for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
		put_file("link", faults[i].name, faults[i].b, faults[i].len);
}

int main(int argc, char **argv)
{
	const char *base = getenv("TMPDIR");

	if (argc != 2) {
		fprintf(stderr, "usage: mkseeds CORPUS_DIR\n");
		return 1;
	}
	root = argv[1];
	if (mkdir(root, 0755) != 0 && errno != EEXIST)
		die(root, strerror(errno));
	snprintf(tmp_dir, sizeof tmp_dir, "%s/qa-mkseeds.XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(tmp_dir))
		die(tmp_dir, strerror(errno));
	npy_seeds();
	qmodel_seeds();
	manifest_seeds();
	proto_seeds();
	link_seeds();
	rmdir(tmp_dir);
	return 0;
}
