/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_nn.c - tests of the network layer of libqarray (qarray_nn.h):
 *
 *   - power-of-two exponents on known values (exact powers of two and the
 *     values just above them), rounding of every mode, clamping
 *   - weight exponents per tensor and per channel, calibration by max,
 *     percentile and mse (mse against a brute-force search written here)
 *   - quantizing a hand-computed model (weights, biases, shifts), the int32
 *     bias overflow error, the negative-shift error and --fit-shifts, the
 *     shift-above-31 rule, all-zero columns
 *   - the golden int8 inference against an integer model written here
 *     with a different rounding formulation
 *   - float model directories and .qam files: round trips, every shift and
 *     bias encoding, and rejection of malformed files (truncated at every
 *     length, bad magic, bad CRC, inconsistent shapes, huge counts, ...),
 *     checked with a CRC-32 implemented here
 *   - the trainer: convergence on three Gaussian blobs, determinism, QAT
 *   - the error report and the data helpers
 *
 * Usage: test_nn [-q]   (-q: print failures only)
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#endif

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "qarray.h"
#include "qarray_nn.h"

static check_ctx C;
static char tmpdir[256];

/* ---- small helpers ----------------------------------------------------------- */

/* A deterministic generator for test data (SplitMix64). */
static uint64_t rnd_state = 12345;

static uint64_t rnd(void)
{
	uint64_t z = (rnd_state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static int rnd_int(int lo, int hi)
{
	uint64_t span = (uint64_t)((int64_t)hi - lo + 1);

	return (int)((int64_t)lo + (int64_t)(rnd() % span));
}

static double rnd_unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static double rnd_gauss(void)
{
	double u = rnd_unit(), v = rnd_unit();

	return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

/* CRC-32 (IEEE), table-driven - a different implementation from the
 * library's bitwise one. */
static uint32_t crc32_table[256];

static void crc32_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc32_table[i] = c;
	}
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n--)
		c = crc32_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void wr32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* recompute the trailing CRC of an encoded model after an edit */
static void fix_crc(unsigned char *buf, size_t len)
{
	wr32(buf + len - 4, crc32_of(buf, len - 4));
}

static char *path_in(const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static int write_f32(const char *path, unsigned ndim, size_t d0, size_t d1,
		     const float *v)
{
	qa_array a;

	memset(&a, 0, sizeof(a));
	a.dtype = QA_DT_FLOAT32;
	a.ndim = ndim;
	a.shape[0] = d0;
	a.shape[1] = d1;
	a.count = ndim == 1 ? d0 : d0 * d1;
	a.data = (void *)v;
	return qa_npy_write(path, &a, NULL, 0);
}

/* ---- exponents and rounding -------------------------------------------------- */

static void test_exponents(void)
{
	int k = 99, rc;

	rc = qa_nn_exponent(1.0, 127, &k);
	check(&C, rc == QA_OK && k == -6, "exp_one", "k %d rc %d", k, rc);
	/* exact powers of two lose a bit (2^j needs k = j - 6), the largest
	 * value below keeps it */
	{
		int ok = 1, j, k1 = 0, k2 = 0, k3 = 0;

		for (j = -20; j <= 20 && ok; j++) {
			double p = ldexp(1.0, j);

			qa_nn_exponent(p, 127, &k1);
			qa_nn_exponent(p * 127.0 / 128.0, 127, &k2);
			qa_nn_exponent(nextafter(p * 127.0 / 128.0, 1e300),
				       127, &k3);
			ok = k1 == j - 6 && k2 == j - 7 && k3 == j - 6;
		}
		check(&C, ok, "exp_powers_of_two_and_just_above",
		      "2^%d: %d %d %d", j - 1, k1, k2, k3);
	}
	rc = qa_nn_exponent(127.0, 127, &k);
	check(&C, rc == QA_OK && k == 0, "exp_127", "k %d", k);
	rc = qa_nn_exponent(nextafter(127.0, 200.0), 127, &k);
	check(&C, rc == QA_OK && k == 1, "exp_just_above_127", "k %d", k);
	rc = qa_nn_exponent(3.0, 127, &k);
	check(&C, rc == QA_OK && k == -5, "exp_three", "k %d", k);
	rc = qa_nn_exponent(1.0, 1, &k);
	check(&C, rc == QA_OK && k == 0, "exp_qmax1", "k %d", k);
	rc = qa_nn_exponent(1.5, 1, &k);
	check(&C, rc == QA_OK && k == 1, "exp_qmax1_above", "k %d", k);
	rc = qa_nn_exponent(1.0, 7, &k);
	check(&C, rc == QA_OK && k == -2, "exp_4bit", "k %d", k);
	check(&C, qa_nn_exponent(0.0, 127, &k) == QA_ERR_INVALID &&
	      qa_nn_exponent(-1.0, 127, &k) == QA_ERR_INVALID &&
	      qa_nn_exponent(NAN, 127, &k) == QA_ERR_INVALID &&
	      qa_nn_exponent(INFINITY, 127, &k) == QA_ERR_INVALID &&
	      qa_nn_exponent(1.0, 0, &k) == QA_ERR_INVALID,
	      "exp_invalid", "accepted a bad argument");
	check(&C, qa_nn_exponent(1e-40, 127, &k) == QA_ERR_RANGE &&
	      qa_nn_exponent(1e35, 127, &k) == QA_ERR_RANGE,
	      "exp_out_of_range", "accepted an exponent beyond +-100");
}

static void test_rounding(void)
{
	static const struct {
		double v;
		int k;
		qa_round mode;
		int lo, hi, want, sat;
	} cases[] = {
		{ 2.5, 0, QA_ROUND_HALF_AWAY, -128, 127, 3, 0 },
		{ -2.5, 0, QA_ROUND_HALF_AWAY, -128, 127, -3, 0 },
		{ 2.5, 0, QA_ROUND_HALF_UP, -128, 127, 3, 0 },
		{ -2.5, 0, QA_ROUND_HALF_UP, -128, 127, -2, 0 },
		{ 2.5, 0, QA_ROUND_HALF_EVEN, -128, 127, 2, 0 },
		{ 3.5, 0, QA_ROUND_HALF_EVEN, -128, 127, 4, 0 },
		{ -2.5, 0, QA_ROUND_HALF_EVEN, -128, 127, -2, 0 },
		{ -0.5, 0, QA_ROUND_FLOOR, -128, 127, -1, 0 },
		{ 0.99, 0, QA_ROUND_FLOOR, -128, 127, 0, 0 },
		{ 0.3125, -3, QA_ROUND_HALF_AWAY, -128, 127, 3, 0 }, /* 2.5 */
		{ -0.3125, -3, QA_ROUND_HALF_AWAY, -128, 127, -3, 0 },
		{ 0.3, -2, QA_ROUND_HALF_AWAY, -128, 127, 1, 0 },  /* 1.2 */
		{ 12.0, 2, QA_ROUND_HALF_AWAY, -128, 127, 3, 0 },
		{ 127.4, 0, QA_ROUND_HALF_AWAY, -128, 127, 127, 0 },
		{ 127.5, 0, QA_ROUND_HALF_AWAY, -128, 127, 127, 1 },
		{ 127.5, 0, QA_ROUND_FLOOR, -128, 127, 127, 0 },
		{ -128.4, 0, QA_ROUND_HALF_AWAY, -128, 127, -128, 0 },
		{ -128.5, 0, QA_ROUND_HALF_AWAY, -128, 127, -128, 1 },
		{ -128.5, 0, QA_ROUND_HALF_UP, -128, 127, -128, 0 },
		{ 1e30, 0, QA_ROUND_HALF_AWAY, -128, 127, 127, 1 },
		{ -1e30, -5, QA_ROUND_FLOOR, -128, 127, -128, 1 },
		{ -3.0, 0, QA_ROUND_HALF_AWAY, 0, 127, 0, 1 },
		{ 1.0, -7, QA_ROUND_FLOOR, -128, 127, 127, 1 },    /* Q0.7 */
		{ -1.0, -7, QA_ROUND_FLOOR, -128, 127, -128, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int sat = -1;
		int got = qa_nn_quantize_value(cases[i].v, cases[i].k,
					       cases[i].mode, cases[i].lo,
					       cases[i].hi, &sat);

		if (got != cases[i].want || sat != cases[i].sat) {
			check(&C, 0, "round_cases", "case %zu: %g at 2^%d mode "
			      "%s: got %d sat %d, want %d sat %d", i,
			      cases[i].v, cases[i].k,
			      qa_round_name(cases[i].mode), got, sat,
			      cases[i].want, cases[i].sat);
			return;
		}
	}
	check(&C, 1, "round_cases", "%s", "");
	/* exhaustive ties: (n + 1/2) * 2^-4 in every mode */
	for (int n = -130; n <= 130; n++) {
		double v = ldexp(n + 0.5, -4);
		int e_away = n >= 0 ? n + 1 : n;
		int e_up = n + 1, e_floor = n;
		int e_even = (n % 2 == 0) ? n : n + 1;
		int a, u, f, ev;

		a = qa_nn_quantize_value(v, -4, QA_ROUND_HALF_AWAY, -128, 127,
					 NULL);
		u = qa_nn_quantize_value(v, -4, QA_ROUND_HALF_UP, -128, 127,
					 NULL);
		f = qa_nn_quantize_value(v, -4, QA_ROUND_FLOOR, -128, 127,
					 NULL);
		ev = qa_nn_quantize_value(v, -4, QA_ROUND_HALF_EVEN, -128, 127,
					  NULL);
#define CL(x) ((x) < -128 ? -128 : (x) > 127 ? 127 : (x))
		if (a != CL(e_away) || u != CL(e_up) || f != CL(e_floor) ||
		    ev != CL(e_even)) {
			check(&C, 0, "round_ties", "n %d: %d %d %d %d", n, a,
			      u, f, ev);
			return;
		}
#undef CL
	}
	check(&C, 1, "round_ties", "%s", "");
}

static void test_weight_exponents(void)
{
	/* 3 x 4, column maxima 1.0, 0.25, 0 and 100 */
	const float w[12] = { 0.5f, -0.25f, 0.0f, 3.0f,
			      -1.0f, 0.125f, 0.0f, -100.0f,
			      0.75f, 0.0f, 0.0f, 1.0f };
	int kw[4], rc;

	rc = qa_nn_weight_exponents(w, 3, 4, 0, 8, kw);
	check(&C, rc == QA_OK && kw[0] == 0 && kw[1] == 0 && kw[2] == 0 &&
	      kw[3] == 0, "wexp_per_tensor", "%d %d %d %d", kw[0], kw[1],
	      kw[2], kw[3]);
	rc = qa_nn_weight_exponents(w, 3, 4, 1, 8, kw);
	check(&C, rc == QA_OK && kw[0] == -6 && kw[1] == -8 &&
	      kw[2] == QA_NN_EXP_ANY && kw[3] == 0, "wexp_per_channel",
	      "%d %d %d %d", kw[0], kw[1], kw[2], kw[3]);
	rc = qa_nn_weight_exponents(w, 3, 4, 1, 4, kw);
	check(&C, rc == QA_OK && kw[0] == -2 && kw[1] == -4 && kw[3] == 4,
	      "wexp_4bit", "%d %d %d", kw[0], kw[1], kw[3]);
	rc = qa_nn_weight_exponents(w, 3, 4, 0, 9, kw);
	check(&C, rc == QA_ERR_INVALID, "wexp_bad_bits", "rc %d", rc);
	{
		const float zero[2] = { 0.0f, 0.0f };

		rc = qa_nn_weight_exponents(zero, 1, 2, 0, 8, kw);
		check(&C, rc == QA_OK && kw[0] == QA_NN_EXP_ANY &&
		      kw[1] == QA_NN_EXP_ANY, "wexp_all_zero", "%d", kw[0]);
	}
	{
		float bad[2] = { 1.0f, NAN };

		rc = qa_nn_weight_exponents(bad, 1, 2, 1, 8, kw);
		check(&C, rc == QA_ERR_INVALID, "wexp_nan", "rc %d", rc);
	}
}

/* sum of squared quantization errors, computed here independently */
static double ref_sq_error(const float *a, size_t n, int k, int lo, int hi)
{
	double step = ldexp(1.0, k), s = 0.0;

	for (size_t i = 0; i < n; i++) {
		double x = a[i] / step;
		double r = x >= 0 ? floor(x + 0.5) : -floor(-x + 0.5);

		if (r < lo)
			r = lo;
		if (r > hi)
			r = hi;
		s += (a[i] - r * step) * (a[i] - r * step);
	}
	return s;
}

static void test_calibration(void)
{
	qa_nn_quant_opts o;
	float *a = malloc(20000 * sizeof(float));
	int k = 0, rc;

	if (!a)
		return;
	qa_nn_quant_opts_init(&o);
	{
		const float v[3] = { 0.5f, -3.0f, 2.0f };

		rc = qa_nn_calibrate(v, 3, -128, 127, &o, &k);
		check(&C, rc == QA_OK && k == -5, "calib_max", "k %d", k);
		o.method = QA_NN_FLOOR;
		rc = qa_nn_calibrate(v, 3, -128, 127, &o, &k);
		check(&C, rc == QA_OK && k == -7, "calib_floor_fixed", "k %d",
		      k);
		o.method = QA_NN_MAX;
	}
	/* 999 ones and one 1000 */
	for (int i = 0; i < 999; i++)
		a[i] = 1.0f;
	a[999] = 1000.0f;
	rc = qa_nn_calibrate(a, 1000, -128, 127, &o, &k);
	check(&C, rc == QA_OK && k == 3, "calib_max_outlier", "k %d", k);
	o.method = QA_NN_PERCENTILE;
	o.percentile = 99.9;
	rc = qa_nn_calibrate(a, 1000, -128, 127, &o, &k);
	check(&C, rc == QA_OK && k == -6, "calib_percentile_skips_outlier",
	      "k %d", k);
	o.percentile = 100.0;
	rc = qa_nn_calibrate(a, 1000, -128, 127, &o, &k);
	check(&C, rc == QA_OK && k == 3, "calib_percentile_100", "k %d", k);
	o.percentile = 0.0;
	rc = qa_nn_calibrate(a, 1000, -128, 127, &o, &k);
	check(&C, rc == QA_ERR_INVALID, "calib_percentile_invalid", "rc %d",
	      rc);
	/* mostly zeros: the percentile falls back to max */
	for (int i = 0; i < 1000; i++)
		a[i] = i == 7 ? 2.0f : 0.0f;
	o.percentile = 99.0;
	rc = qa_nn_calibrate(a, 1000, 0, 127, &o, &k);
	check(&C, rc == QA_OK && k == -5, "calib_percentile_zeros", "k %d",
	      k);
	/* mse: the outlier dominates -> the max step */
	for (int i = 0; i < 999; i++)
		a[i] = 1.0f;
	a[999] = 1000.0f;
	o.method = QA_NN_MSE;
	rc = qa_nn_calibrate(a, 1000, -128, 127, &o, &k);
	check(&C, rc == QA_OK && k == 3, "calib_mse_keeps_outlier", "k %d",
	      k);
	/* mse: many small values and one 1.0 -> clipping the 1.0 wins */
	for (int i = 0; i < 1000; i++)
		a[i] = 0.01f;
	a[1000] = 1.0f;
	rc = qa_nn_calibrate(a, 1001, -128, 127, &o, &k);
	check(&C, rc == QA_OK && k == -7, "calib_mse_clips", "k %d", k);
	/* mse against a brute-force search on Gaussian data */
	for (int trial = 0; trial < 4; trial++) {
		int kmax, best_k = 0, lo = trial % 2 ? 0 : -128;
		double best = 0.0;

		for (int i = 0; i < 20000; i++) {
			a[i] = (float)(rnd_gauss() * (trial + 1));
			if (lo == 0 && a[i] < 0)
				a[i] = 0.0f;
		}
		o.method = QA_NN_MAX;
		qa_nn_calibrate(a, 20000, lo, 127, &o, &kmax);
		for (int e = kmax; e >= kmax - 8; e--) {
			double err = ref_sq_error(a, 20000, e, lo, 127);

			if (e == kmax || err < best) {
				best = err;
				best_k = e;
			}
		}
		o.method = QA_NN_MSE;
		rc = qa_nn_calibrate(a, 20000, lo, 127, &o, &k);
		if (rc != QA_OK || k != best_k) {
			check(&C, 0, "calib_mse_bruteforce", "trial %d: k %d, "
			      "brute force %d, max %d", trial, k, best_k, kmax);
			break;
		}
		if (trial == 3)
			check(&C, 1, "calib_mse_bruteforce", "%s", "");
	}
	{
		const float z[4] = { 0, 0, 0, 0 };

		o.method = QA_NN_MAX;
		rc = qa_nn_calibrate(z, 4, -128, 127, &o, &k);
		check(&C, rc == QA_ERR_RANGE, "calib_all_zero", "rc %d", rc);
	}
	free(a);
}

/* ---- quantizing models ------------------------------------------------------------- */

/* The hand-computed model of the header comment of this section:
 * 2 -> 2 (ReLU) -> 1. */
static int hand_model(qa_fmodel *fm)
{
	const size_t dims[3] = { 2, 2, 1 };
	int rc = qa_fmodel_init(fm, 2, dims);

	if (rc != QA_OK)
		return rc;
	fm->layers[0].w[0] = 0.5f;
	fm->layers[0].w[1] = -0.25f;
	fm->layers[0].w[2] = 1.0f;
	fm->layers[0].w[3] = 0.125f;
	fm->layers[0].b[0] = 0.75f;
	fm->layers[0].b[1] = -0.5f;
	fm->layers[1].w[0] = 2.0f;
	fm->layers[1].w[1] = -3.0f;
	fm->layers[1].b[0] = 0.1f;
	return QA_OK;
}

static const float hand_calib[6] = { 1.0f, 2.0f, -1.0f, 0.5f, 2.0f, -2.0f };

static void test_quantize_hand(void)
{
	qa_fmodel fm;
	qa_qmodel qm;
	qa_nn_quant_opts o;
	char msg[512] = "";
	int rc;

	if (hand_model(&fm) != QA_OK) {
		check(&C, 0, "quant_hand", "cannot build the model");
		return;
	}
	qa_nn_quant_opts_init(&o);
	rc = qa_nn_quantize(&fm, 3, hand_calib, &o, &qm, msg, sizeof(msg));
	if (check(&C, rc == QA_OK, "quant_hand_ok", "%s", msg)) {
		const qa_qlayer *L0 = &qm.layers[0], *L1 = &qm.layers[1];

		check(&C, qm.k_in == -5 && L0->k_in == -5 && L0->k_out == -5 &&
		      L1->k_in == -5 && L1->k_out == -4, "quant_hand_exponents",
		      "k_in %d, k_out %d %d", qm.k_in, L0->k_out, L1->k_out);
		check(&C, L0->kw[0] == -6 && L0->kw[1] == -6 &&
		      L1->kw[0] == -5, "quant_hand_kw", "%d %d %d", L0->kw[0],
		      L0->kw[1], L1->kw[0]);
		check(&C, L0->w[0] == 32 && L0->w[1] == -16 &&
		      L0->w[2] == 64 && L0->w[3] == 8 && L1->w[0] == 64 &&
		      L1->w[1] == -96, "quant_hand_weights",
		      "%d %d %d %d %d %d", L0->w[0], L0->w[1], L0->w[2],
		      L0->w[3], L1->w[0], L1->w[1]);
		check(&C, L0->bias[0] == 1536 && L0->bias[1] == -1024 &&
		      L1->bias[0] == 102, "quant_hand_bias", "%d %d %d",
		      L0->bias[0], L0->bias[1], L1->bias[0]);
		check(&C, L0->shift[0] == 6 && L0->shift[1] == 6 &&
		      L1->shift[0] == 6, "quant_hand_shift", "%u %u %u",
		      L0->shift[0], L0->shift[1], L1->shift[0]);
		check(&C, L0->lo == 0 && L0->hi == 127 && L1->lo == -128 &&
		      L1->hi == 127 && qm.round == QA_ROUND_HALF_UP &&
		      qm.in_round == QA_ROUND_HALF_AWAY, "quant_hand_clamp",
		      "lo %d %d", L0->lo, L1->lo);
		qa_qmodel_free(&qm);
	}
	o.per_channel = 1;
	rc = qa_nn_quantize(&fm, 3, hand_calib, &o, &qm, msg, sizeof(msg));
	if (check(&C, rc == QA_OK, "quant_hand_pc_ok", "%s", msg)) {
		const qa_qlayer *L0 = &qm.layers[0];

		check(&C, L0->kw[0] == -6 && L0->kw[1] == -8 &&
		      L0->w[1] == -64 && L0->w[3] == 32 &&
		      L0->bias[1] == -4096 && L0->shift[0] == 6 &&
		      L0->shift[1] == 8 && qm.per_channel == 1,
		      "quant_hand_per_channel", "kw %d w %d %d b %d s %u",
		      L0->kw[1], L0->w[1], L0->w[3], L0->bias[1], L0->shift[1]);
		qa_qmodel_free(&qm);
	}
	o.per_channel = 0;
	o.method = QA_NN_FLOOR;
	o.round = QA_ROUND_HALF_EVEN; /* ignored by the baseline */
	rc = qa_nn_quantize(&fm, 3, hand_calib, &o, &qm, msg, sizeof(msg));
	if (check(&C, rc == QA_OK, "quant_floor_ok", "%s", msg)) {
		const qa_qlayer *L0 = &qm.layers[0], *L1 = &qm.layers[1];

		/* Q0.7 everywhere: 1.0 * 128 clamps to 127, -3 to -128,
		 * biases floor(b * 2^14), shifts 7 */
		check(&C, qm.k_in == -7 && L0->k_out == -7 && L1->k_out == -7 &&
		      L0->w[0] == 64 && L0->w[2] == 127 && L0->w[3] == 16 &&
		      L1->w[1] == -128 && L1->w[0] == 127 &&
		      L0->bias[0] == 12288 && L1->bias[0] == 1638 &&
		      L0->shift[0] == 7 && qm.round == QA_ROUND_FLOOR &&
		      qm.in_round == QA_ROUND_FLOOR, "quant_floor_baseline",
		      "k %d w %d %d b %d %d", qm.k_in, L0->w[2], L1->w[1],
		      L0->bias[0], L1->bias[0]);
		qa_qmodel_free(&qm);
	}
	/* a bad option */
	o.method = QA_NN_MAX;
	o.weight_bits = 1;
	rc = qa_nn_quantize(&fm, 3, hand_calib, &o, &qm, msg, sizeof(msg));
	check(&C, rc == QA_ERR_INVALID && qm.layers == NULL,
	      "quant_bad_bits", "rc %d", rc);
	qa_fmodel_free(&fm);
}

/* A one-layer float model in -> out without ReLU. */
static int one_layer(qa_fmodel *fm, size_t in, size_t out, const float *w,
		     const float *b)
{
	const size_t dims[2] = { in, out };
	int rc = qa_fmodel_init(fm, 1, dims);

	if (rc == QA_OK) {
		memcpy(fm->layers[0].w, w, in * out * sizeof(float));
		memcpy(fm->layers[0].b, b, out * sizeof(float));
	}
	return rc;
}

static void test_quantize_errors(void)
{
	qa_fmodel fm;
	qa_qmodel qm;
	qa_nn_quant_opts o;
	char msg[512] = "";
	int rc;

	qa_nn_quant_opts_init(&o);
	/* the bias is 1000, the weight 1e-6: 2^40 accumulator steps */
	{
		const float w[1] = { 1e-6f }, b[1] = { 1000.0f };
		const float x[1] = { 1.0f };

		one_layer(&fm, 1, 1, w, b);
		rc = qa_nn_quantize(&fm, 1, x, &o, &qm, msg, sizeof(msg));
		check(&C, rc == QA_ERR_RANGE && strstr(msg, "layer 0 column 0") &&
		      strstr(msg, "int32") && qm.layers == NULL,
		      "quant_bias_overflow", "rc %d: %s", rc, msg);
		qa_fmodel_free(&fm);
	}
	/* outputs (0.1) far below inputs times weights (100): shift < 0 */
	{
		const float w[2] = { 100.0f, -100.0f }, b[1] = { 0.0f };
		const float x[2] = { 1.0f, 0.999f };

		one_layer(&fm, 2, 1, w, b);
		msg[0] = '\0';
		rc = qa_nn_quantize(&fm, 1, x, &o, &qm, msg, sizeof(msg));
		check(&C, rc == QA_ERR_RANGE &&
		      strstr(msg, "layer 0 column 0") &&
		      strstr(msg, "= -4 is negative") &&
		      strstr(msg, "--per-channel") &&
		      strstr(msg, "--fit-shifts"), "quant_negative_shift",
		      "rc %d: %s", rc, msg);
		o.fit_shifts = 1;
		rc = qa_nn_quantize(&fm, 1, x, &o, &qm, msg, sizeof(msg));
		check(&C, rc == QA_OK && qm.layers[0].shift[0] == 0 &&
		      qm.layers[0].k_out == qm.k_in + qm.layers[0].kw[0],
		      "quant_fit_shifts", "rc %d: %s", rc, msg);
		if (rc == QA_OK)
			qa_qmodel_free(&qm);
		o.fit_shifts = 0;
		qa_fmodel_free(&fm);
	}
	/* a column of tiny weights: shift 46 becomes 31 by a coarser step;
	 * a zero column gets shift 0 */
	{
		const float w[3] = { 1.0f, 1e-12f, 0.0f };
		const float b[3] = { 0.0f, 0.0f, 0.5f };
		const float x[1] = { 1.0f };

		one_layer(&fm, 1, 3, w, b);
		o.per_channel = 1;
		rc = qa_nn_quantize(&fm, 1, x, &o, &qm, msg, sizeof(msg));
		if (check(&C, rc == QA_OK, "quant_tiny_column_ok", "%s", msg)) {
			const qa_qlayer *L = &qm.layers[0];

			check(&C, L->shift[0] == 6 && L->shift[1] == 31 &&
			      L->kw[1] == -31 && L->w[1] == 0 &&
			      L->shift[2] == 0 && L->kw[2] == -6 + 6 &&
			      L->w[2] == 0 && L->bias[2] == 32,
			      "quant_tiny_and_zero_columns",
			      "shift %u %u kw %d %d w %d b %d", L->shift[1],
			      L->shift[2], L->kw[1], L->kw[2], L->w[1],
			      L->bias[2]);
			qa_qmodel_free(&qm);
		}
		o.per_channel = 0;
		qa_fmodel_free(&fm);
	}
	/* a dead layer (every ReLU output 0 on the calibration data): the
	 * step of its coarsest accumulator, shift 0 */
	{
		const size_t dims[3] = { 1, 2, 1 };
		const float x[1] = { 1.0f };

		qa_fmodel_init(&fm, 2, dims);
		fm.layers[0].w[0] = -1.0f;
		fm.layers[0].w[1] = -2.0f;
		fm.layers[1].w[0] = 1.0f;
		fm.layers[1].w[1] = 1.0f;
		rc = qa_nn_quantize(&fm, 1, x, &o, &qm, msg, sizeof(msg));
		check(&C, rc == QA_OK && qm.layers[0].k_out == -6 + -5 &&
		      qm.layers[0].shift[0] == 0 &&
		      qm.layers[1].k_out == -11 + -6, "quant_dead_layer",
		      "rc %d %s", rc, msg);
		if (rc == QA_OK)
			qa_qmodel_free(&qm);
		qa_fmodel_free(&fm);
	}
	/* calibration data that is all zero, or not finite */
	{
		const float w[1] = { 1.0f }, b[1] = { 0.0f };
		float x[2] = { 0.0f, 0.0f };

		one_layer(&fm, 1, 1, w, b);
		rc = qa_nn_quantize(&fm, 2, x, &o, &qm, msg, sizeof(msg));
		check(&C, rc == QA_ERR_RANGE && strstr(msg, "input"),
		      "quant_zero_calib", "rc %d: %s", rc, msg);
		x[1] = NAN;
		rc = qa_nn_quantize(&fm, 2, x, &o, &qm, msg, sizeof(msg));
		check(&C, rc == QA_ERR_INVALID, "quant_nan_calib", "rc %d", rc);
		qa_fmodel_free(&fm);
	}
}

/* ---- the golden inference ------------------------------------------------------------- */

/* round_shift written with a floating-point division (exact here) */
static int64_t my_round_shift(int64_t t, unsigned s, qa_round mode)
{
	double q = (double)t / ldexp(1.0, (int)s), f = floor(q);

	switch (mode) {
	case QA_ROUND_FLOOR:
		return (int64_t)f;
	case QA_ROUND_HALF_UP:
		return (int64_t)floor(q + 0.5);
	case QA_ROUND_HALF_AWAY:
		return q >= 0 ? (int64_t)floor(q + 0.5) :
				-(int64_t)floor(-q + 0.5);
	default:
		if (q - f > 0.5 || (q - f == 0.5 && fmod(f, 2.0) != 0.0))
			f += 1.0;
		return (int64_t)f;
	}
}

/* the whole network, independently of qa_ref_gemm */
static void my_forward(const qa_qmodel *m, size_t rows, const int8_t *x,
		       int8_t *y, uint64_t *sat)
{
	int8_t *cur = malloc(rows * QA_NN_MAX_DIM), *nxt = malloc(rows *
								   QA_NN_MAX_DIM);

	memcpy(cur, x, rows * m->layers[0].k);
	for (unsigned l = 0; l < m->nlayers; l++) {
		const qa_qlayer *L = &m->layers[l];

		sat[l] = 0;
		for (size_t r = 0; r < rows; r++)
			for (size_t j = 0; j < L->n; j++) {
				int64_t t = L->bias[j];
				int64_t v;

				for (size_t i = 0; i < L->k; i++)
					t += (int64_t)cur[r * L->k + i] *
					     L->w[i * L->n + j];
				v = my_round_shift(t, L->shift[j], m->round);
				if (v < L->lo || v > L->hi)
					sat[l]++;
				v = v < L->lo ? L->lo : v > L->hi ? L->hi : v;
				nxt[r * L->n + j] = (int8_t)v;
			}
		memcpy(cur, nxt, rows * L->n);
	}
	memcpy(y, cur, rows * m->layers[m->nlayers - 1].n);
	free(cur);
	free(nxt);
}

/* A random valid quantized model. */
static int random_qmodel(qa_qmodel *m, unsigned nl, const size_t *dims,
			 qa_round mode)
{
	int rc = qa_qmodel_init(m, nl, dims);

	if (rc != QA_OK)
		return rc;
	m->round = mode;
	m->k_in = rnd_int(-8, 0);
	for (unsigned l = 0; l < nl; l++) {
		qa_qlayer *L = &m->layers[l];
		int wide = rnd_int(0, 3);

		L->k_in = l ? m->layers[l - 1].k_out : m->k_in;
		L->k_out = L->k_in + rnd_int(-2, 4);
		L->lo = l + 1 < nl ? 0 : rnd_int(-128, -100);
		L->hi = rnd_int(100, 127);
		for (size_t i = 0; i < L->k * L->n; i++)
			L->w[i] = (int8_t)rnd_int(-127, 127);
		for (size_t j = 0; j < L->n; j++) {
			int s = rnd_int(4, 12);

			L->shift[j] = (uint8_t)s;
			L->kw[j] = L->k_out - L->k_in - s;
			L->bias[j] = wide == 0 ? 0 : wide == 1 ?
				     rnd_int(-100, 100) : wide == 2 ?
				     rnd_int(-30000, 30000) :
				     rnd_int(-2000000000, 2000000000) / 1000 *
				     1000;
		}
		if (rnd_int(0, 1))
			for (size_t j = 0; j < L->n; j++) {
				L->shift[j] = L->shift[0];
				L->kw[j] = L->kw[0];
			}
	}
	return QA_OK;
}

static void test_golden_forward(void)
{
	for (int trial = 0; trial < 40; trial++) {
		size_t dims[5];
		unsigned nl = (unsigned)rnd_int(1, 4);
		size_t rows = (size_t)rnd_int(1, 20);
		qa_round mode = (qa_round)(trial % 4);
		qa_qmodel m;
		int8_t *x, *y, *y2, *y3;
		uint64_t sat[8], sat2[8];
		int rc;

		for (unsigned l = 0; l <= nl; l++)
			dims[l] = (size_t)rnd_int(1, 40);
		if (random_qmodel(&m, nl, dims, mode) != QA_OK) {
			check(&C, 0, "golden_forward", "model");
			return;
		}
		x = malloc(rows * dims[0]);
		y = malloc(rows * dims[nl]);
		y2 = malloc(rows * dims[nl]);
		y3 = malloc(rows * dims[nl]);
		for (size_t i = 0; i < rows * dims[0]; i++)
			x[i] = (int8_t)rnd_int(-128, 127);
		rc = qa_nn_ref_forward(&m, rows, x, y, sat);
		my_forward(&m, rows, x, y2, sat2);
		if (rc == QA_OK) {
			/* the qa_net view gives the same through qa_ref_net */
			qa_layer layers[8];
			qa_net net;
			uint64_t total = 0, sum = 0;

			memset(y3, 0, rows * dims[nl]);
			rc = qa_nn_net_view(&m, layers, &net);
			if (rc == QA_OK)
				rc = qa_ref_net(&net, rows, x, y3, &total);
			for (unsigned l = 0; l < nl; l++)
				sum += sat[l];
			if (rc == QA_OK && (memcmp(y, y3, rows * dims[nl]) ||
					    total != sum))
				rc = QA_ERR_MISMATCH;
		}
		if (rc != QA_OK || memcmp(y, y2, rows * dims[nl]) != 0 ||
		    memcmp(sat, sat2, nl * sizeof(uint64_t)) != 0) {
			check(&C, 0, "golden_forward_vs_independent", "trial %d "
			      "(%u layers, %s): rc %d", trial, nl,
			      qa_round_name(mode), rc);
			free(y3);
			qa_qmodel_free(&m);
			free(x);
			free(y);
			free(y2);
			return;
		}
		qa_qmodel_free(&m);
		free(x);
		free(y);
		free(y2);
		free(y3);
	}
	check(&C, 1, "golden_forward_40_models_and_net_view", "%s", "");

	/* invalid models and arguments are refused */
	{
		const size_t dims[3] = { 3, 2, 2 };
		qa_qmodel m;
		int8_t x[3] = { 1, 2, 3 }, y[2];

		qa_qmodel_init(&m, 2, dims);
		check(&C, qa_nn_ref_forward(&m, 1, x, y, NULL) == QA_OK,
		      "golden_zero_model", "%s", "");
		m.layers[1].shift[0] = 5; /* disagrees with its exponents */
		check(&C, qa_nn_ref_forward(&m, 1, x, y, NULL) ==
		      QA_ERR_INVALID, "golden_rejects_bad_shift", "%s", "");
		m.layers[1].shift[0] = 0;
		m.layers[1].k = 3;        /* does not chain */
		check(&C, qa_nn_ref_forward(&m, 1, x, y, NULL) ==
		      QA_ERR_INVALID, "golden_rejects_bad_chain", "%s", "");
		m.layers[1].k = 2;
		check(&C, qa_nn_ref_forward(&m, 0, x, y, NULL) ==
		      QA_ERR_INVALID && qa_nn_ref_forward(&m, 1, NULL, y,
							  NULL) ==
		      QA_ERR_INVALID, "golden_rejects_bad_args", "%s", "");
		qa_qmodel_free(&m);
	}
}

static void test_quantize_input(void)
{
	const size_t dims[2] = { 4, 1 };
	const float x[6] = { 16.0f, 0.3f, -0.375f, 40.0f, -0.1f, 0.125f };
	int8_t q[6];
	uint64_t sat = 0;
	qa_qmodel m;
	int rc;

	qa_qmodel_init(&m, 1, dims);
	m.k_in = -2;
	rc = qa_nn_quantize_input(&m, 6, x, q, &sat);
	check(&C, rc == QA_OK && q[0] == 64 && q[1] == 1 && q[2] == -2 &&
	      q[3] == 127 && q[4] == 0 && q[5] == 1 && sat == 1,
	      "input_half_away", "%d %d %d %d %d %d sat %llu", q[0], q[1],
	      q[2], q[3], q[4], q[5], (unsigned long long)sat);
	m.in_round = QA_ROUND_FLOOR;
	rc = qa_nn_quantize_input(&m, 6, x, q, &sat);
	check(&C, rc == QA_OK && q[1] == 1 && q[2] == -2 && q[4] == -1 &&
	      q[5] == 0, "input_floor", "%d %d %d %d", q[1], q[2], q[4], q[5]);
	{
		const float bad[1] = { NAN };

		check(&C, qa_nn_quantize_input(&m, 1, bad, q, NULL) ==
		      QA_ERR_INVALID, "input_nan", "%s", "");
	}
	qa_qmodel_free(&m);
}

/* ---- model files ---------------------------------------------------------------------------- */

static int fmodels_equal(const qa_fmodel *a, const qa_fmodel *b)
{
	if (a->nlayers != b->nlayers)
		return 0;
	for (unsigned l = 0; l < a->nlayers; l++) {
		const qa_flayer *x = &a->layers[l], *y = &b->layers[l];

		if (x->in != y->in || x->out != y->out || x->relu != y->relu ||
		    memcmp(x->w, y->w, x->in * x->out * sizeof(float)) ||
		    memcmp(x->b, y->b, x->out * sizeof(float)))
			return 0;
	}
	return 1;
}

static int qmodels_equal(const qa_qmodel *a, const qa_qmodel *b)
{
	if (a->nlayers != b->nlayers || a->round != b->round ||
	    a->in_round != b->in_round || a->k_in != b->k_in ||
	    a->method != b->method || a->per_channel != b->per_channel ||
	    a->weight_bits != b->weight_bits)
		return 0;
	for (unsigned l = 0; l < a->nlayers; l++) {
		const qa_qlayer *x = &a->layers[l], *y = &b->layers[l];

		if (x->k != y->k || x->n != y->n || x->k_in != y->k_in ||
		    x->k_out != y->k_out || x->lo != y->lo || x->hi != y->hi ||
		    memcmp(x->w, y->w, x->k * x->n) ||
		    memcmp(x->bias, y->bias, x->n * sizeof(int32_t)) ||
		    memcmp(x->shift, y->shift, x->n) ||
		    memcmp(x->kw, y->kw, x->n * sizeof(int)))
			return 0;
	}
	return 1;
}

static void test_fmodel_files(void)
{
	const size_t dims[4] = { 5, 7, 3, 4 };
	qa_fmodel a, b;
	char msg[512] = "", *dir;
	int rc;

	qa_fmodel_init(&a, 3, dims);
	for (unsigned l = 0; l < 3; l++) {
		for (size_t i = 0; i < a.layers[l].in * a.layers[l].out; i++)
			a.layers[l].w[i] = (float)rnd_gauss();
		for (size_t j = 0; j < a.layers[l].out; j++)
			a.layers[l].b[j] = (float)rnd_gauss() * 1e-3f;
	}
	a.layers[1].relu = 0; /* any ReLU pattern survives */
	dir = path_in("fm");
	rc = qa_fmodel_save(&a, dir, "a test\nwith a newline", msg,
			    sizeof(msg));
	check(&C, rc == QA_OK, "fmodel_save", "%s", msg);
	rc = qa_fmodel_load(&b, dir, msg, sizeof(msg));
	check(&C, rc == QA_OK && fmodels_equal(&a, &b), "fmodel_round_trip",
	      "rc %d: %s", rc, msg);
	qa_fmodel_free(&b);
	/* saving again over the same directory works */
	rc = qa_fmodel_save(&a, dir, NULL, msg, sizeof(msg));
	check(&C, rc == QA_OK, "fmodel_save_again", "%s", msg);
	rc = qa_fmodel_save(&a, path_in("missing/deeper"), NULL, msg,
			    sizeof(msg));
	check(&C, rc == QA_ERR_IO, "fmodel_save_missing_parent", "rc %d", rc);
	{
		struct stat st;

		check(&C, stat(path_in("missing"), &st) != 0,
		      "fmodel_save_leaves_nothing", "%s", "");
	}
	a.layers[2].b[1] = NAN;
	rc = qa_fmodel_save(&a, path_in("fm_nan"), NULL, msg, sizeof(msg));
	check(&C, rc == QA_ERR_INVALID, "fmodel_save_rejects_nan", "rc %d",
	      rc);
	qa_fmodel_free(&a);

	/* a hand-written manifest: wt= (PyTorch layout), no bias, comments */
	{
		const float wt[6] = { 1, 2, 3, 4, 5, 6 }; /* (out 2, in 3) */
		const float w2[2] = { 7, 8 };            /* (2, 1) */
		const float b2[1] = { 0.5f };

		mkdir(path_in("hand"), 0755);
		write_f32(path_in("hand/a.npy"), 2, 2, 3, wt);
		write_f32(path_in("hand/b.npy"), 2, 2, 1, w2);
		write_f32(path_in("hand/c.npy"), 1, 1, 0, b2);
		write_text(path_in("hand/manifest.txt"),
			   "# exported by hand\n\n  qarray-model   1  \r\n"
			   "dense wt=a.npy relu # first\n"
			   "\tdense b=c.npy w=b.npy\n");
		rc = qa_fmodel_load(&b, path_in("hand"), msg, sizeof(msg));
		check(&C, rc == QA_OK && b.nlayers == 2 &&
		      b.layers[0].in == 3 && b.layers[0].out == 2 &&
		      b.layers[0].w[0] == 1 && b.layers[0].w[1] == 4 &&
		      b.layers[0].w[2] == 2 && b.layers[0].w[5] == 6 &&
		      b.layers[0].b[0] == 0 && b.layers[0].relu &&
		      !b.layers[1].relu && b.layers[1].b[0] == 0.5f,
		      "fmodel_manifest_wt_no_bias", "rc %d: %s", rc, msg);
		qa_fmodel_free(&b);
	}
	/* malformed manifests */
	{
		static const struct {
			const char *name, *text, *needle;
		} bad[] = {
			{ "manifest_empty", "", "empty" },
			{ "manifest_no_magic", "dense w=b.npy\n", "expected" },
			{ "manifest_version", "qarray-model 2\ndense w=b.npy\n",
			  "version" },
			{ "manifest_no_layer", "qarray-model 1\n# nothing\n",
			  "no dense" },
			{ "manifest_directive", "qarray-model 1\nconv w=b.npy\n",
			  "unknown directive" },
			{ "manifest_attribute",
			  "qarray-model 1\ndense w=b.npy sigmoid\n",
			  "unknown attribute" },
			{ "manifest_no_w", "qarray-model 1\ndense b=c.npy\n",
			  "without w=" },
			{ "manifest_dup", "qarray-model 1\ndense w=b.npy "
			  "wt=b.npy\n", "twice" },
			{ "manifest_path_escape",
			  "qarray-model 1\ndense w=../hand/b.npy\n",
			  "bad file name" },
			{ "manifest_hidden_name",
			  "qarray-model 1\ndense w=.b.npy\n", "bad file name" },
			{ "manifest_missing_file",
			  "qarray-model 1\ndense w=nothere.npy\n", "nothere" },
			{ "manifest_bias_is_2d",
			  "qarray-model 1\ndense w=a.npy b=a.npy\n",
			  "dimensions" },
			{ "manifest_bias_length",
			  "qarray-model 1\ndense w=a.npy b=c.npy\n",
			  "1 values" },
			{ "manifest_chain",
			  "qarray-model 1\ndense w=a.npy\ndense w=a.npy\n",
			  "inputs" },
			{ "manifest_int8_weights",
			  "qarray-model 1\ndense w=i.npy\n", "float32" },
			{ "manifest_nan_weights",
			  "qarray-model 1\ndense w=n.npy\n", "not finite" },
		};
		const float nanw[2] = { 1.0f, NAN };
		qa_array ia;
		int8_t iv[2] = { 1, 2 };

		memset(&ia, 0, sizeof(ia));
		ia.dtype = QA_DT_INT8;
		ia.ndim = 2;
		ia.shape[0] = 1;
		ia.shape[1] = 2;
		ia.count = 2;
		ia.data = iv;
		qa_npy_write(path_in("hand/i.npy"), &ia, NULL, 0);
		write_f32(path_in("hand/n.npy"), 2, 1, 2, nanw);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			write_text(path_in("hand/manifest.txt"), bad[i].text);
			msg[0] = '\0';
			rc = qa_fmodel_load(&b, path_in("hand"), msg,
					    sizeof(msg));
			check(&C, rc == QA_ERR_FORMAT && b.layers == NULL &&
			      strstr(msg, bad[i].needle) != NULL, bad[i].name,
			      "rc %d: %s", rc, msg);
			if (rc == QA_OK)
				qa_fmodel_free(&b);
		}
		{
			char *longline = malloc(2100);

			strcpy(longline, "qarray-model 1\ndense w=");
			memset(longline + strlen(longline), 'a', 2000);
			strcpy(longline + strlen("qarray-model 1\ndense w=") +
			       2000, "\n");
			write_text(path_in("hand/manifest.txt"), longline);
			rc = qa_fmodel_load(&b, path_in("hand"), msg,
					    sizeof(msg));
			check(&C, rc == QA_ERR_FORMAT && strstr(msg, "longer"),
			      "manifest_long_line", "rc %d: %s", rc, msg);
			free(longline);
		}
		rc = qa_fmodel_load(&b, path_in("hand/a.npy"), msg,
				    sizeof(msg));
		check(&C, rc == QA_ERR_FORMAT && strstr(msg, "not a directory"),
		      "fmodel_load_not_dir", "rc %d: %s", rc, msg);
		rc = qa_fmodel_load(&b, path_in("nowhere"), msg, sizeof(msg));
		check(&C, rc == QA_ERR_IO, "fmodel_load_missing", "rc %d", rc);
	}
}

/* A model that exercises every encoding: shift modes one / bytes /
 * nibbles, bias widths 0 / 1 / 2 / 4. */
static int encoding_model(qa_qmodel *m)
{
	const size_t dims[5] = { 6, 5, 4, 7, 5 };
	int rc = qa_qmodel_init(m, 4, dims);

	if (rc != QA_OK)
		return rc;
	m->k_in = -3;
	m->round = QA_ROUND_HALF_EVEN;
	m->method = QA_NN_MSE;
	m->per_channel = 1;
	for (unsigned l = 0; l < 4; l++) {
		qa_qlayer *L = &m->layers[l];

		L->k_in = l ? m->layers[l - 1].k_out : m->k_in;
		L->k_out = L->k_in + 2;
		for (size_t i = 0; i < L->k * L->n; i++)
			L->w[i] = (int8_t)rnd_int(-128, 127);
		for (size_t j = 0; j < L->n; j++) {
			/* layer 0: one shift; 1: nibbles; 2: bytes; 3: mixed */
			int s = l == 0 ? 9 : l == 1 ? 3 + (int)j * 3 :
				l == 2 ? (int)(j * 5) : 31 - (int)j;

			L->shift[j] = (uint8_t)s;
			L->kw[j] = L->k_out - L->k_in - s;
			L->bias[j] = l == 0 ? 0 : l == 1 ? rnd_int(-128, 127) :
				     l == 2 ? rnd_int(-32768, 32767) :
				     (j == 0 ? INT32_MIN : j == 1 ? INT32_MAX :
				      rnd_int(-2000000000, 2000000000));
		}
	}
	m->layers[3].lo = -100;
	m->layers[3].hi = 90;
	return QA_OK;
}

static void test_qmodel_files(void)
{
	qa_qmodel a, b;
	unsigned char *buf = NULL, *bad = NULL;
	size_t size, len = 0;
	char msg[512] = "";
	int rc;

	if (encoding_model(&a) != QA_OK) {
		check(&C, 0, "qam_model", "init");
		return;
	}
	size = qa_qmodel_file_bytes(&a);
	/* header 16 + 4 records + CRC 4; data: weights + biases + shifts */
	{
		size_t want = 16 + 4 * 16 + 4 + (30 + 0 + 1) + (20 + 4 + 3) +
			      (28 + 14 + 7) + (35 + 20 + 4);

		check(&C, size == want, "qam_size", "%zu, expected %zu", size,
		      want);
	}
	buf = malloc(size);
	bad = malloc(size + 1);
	if (!buf || !bad)
		goto out;
	rc = qa_qmodel_encode(&a, buf, size, &len, msg, sizeof(msg));
	check(&C, rc == QA_OK && len == size && memcmp(buf, "QAMF", 4) == 0 &&
	      buf[4] == 1 && rd32(buf + 12) == size &&
	      rd32(buf + size - 4) == crc32_of(buf, size - 4),
	      "qam_encode_header_and_crc", "rc %d: %s", rc, msg);
	check(&C, buf[16 + 12] == 0 && buf[16 + 16 + 12] == 2 &&
	      buf[16 + 32 + 12] == 1 && buf[16 + 48 + 12] == 2 &&
	      buf[16 + 11] == 0 && buf[16 + 16 + 11] == 1 &&
	      buf[16 + 32 + 11] == 2 && buf[16 + 48 + 11] == 4,
	      "qam_encodings_chosen", "shift modes %u %u %u %u",
	      buf[16 + 12], buf[32 + 12], buf[48 + 12], buf[64 + 12]);
	rc = qa_qmodel_encode(&a, buf, size - 1, &len, msg, sizeof(msg));
	check(&C, rc == QA_ERR_INVALID, "qam_encode_small_buffer", "rc %d",
	      rc);
	qa_qmodel_encode(&a, buf, size, &len, NULL, 0);
	rc = qa_qmodel_decode(&b, buf, size, msg, sizeof(msg));
	check(&C, rc == QA_OK && qmodels_equal(&a, &b), "qam_round_trip",
	      "rc %d: %s", rc, msg);
	qa_qmodel_free(&b);

	rc = qa_qmodel_save(&a, path_in("m.qam"), msg, sizeof(msg));
	if (check(&C, rc == QA_OK, "qam_save", "%s", msg)) {
		struct stat st;

		rc = qa_qmodel_load(&b, path_in("m.qam"), msg, sizeof(msg));
		check(&C, rc == QA_OK && qmodels_equal(&a, &b) &&
		      stat(path_in("m.qam"), &st) == 0 &&
		      (size_t)st.st_size == size, "qam_file_round_trip",
		      "rc %d: %s", rc, msg);
		qa_qmodel_free(&b);
	}
	rc = qa_qmodel_save(&a, "/dev/null", msg, sizeof(msg));
	check(&C, rc == QA_ERR_INVALID && strstr(msg, "not a regular file"),
	      "qam_save_refuses_device", "rc %d: %s", rc, msg);
	rc = qa_qmodel_save(&a, path_in("nodir/m.qam"), msg, sizeof(msg));
	check(&C, rc == QA_ERR_IO, "qam_save_missing_dir", "rc %d: %s", rc,
	      msg);
	rc = qa_qmodel_load(&b, path_in("none.qam"), msg, sizeof(msg));
	check(&C, rc == QA_ERR_IO && b.layers == NULL, "qam_load_missing",
	      "rc %d", rc);
	rc = qa_qmodel_load(&b, tmpdir, msg, sizeof(msg));
	check(&C, rc == QA_ERR_IO, "qam_load_directory", "rc %d", rc);
	/* a FIFO is refused, not waited on */
	if (mkfifo(path_in("fifo.qam"), 0600) == 0) {
		rc = qa_qmodel_load(&b, path_in("fifo.qam"), msg, sizeof(msg));
		check(&C, rc == QA_ERR_IO && strstr(msg, "regular"),
		      "qam_load_fifo", "rc %d: %s", rc, msg);
	}

	/* every truncation, and one byte too many */
	{
		int all = 1;

		for (size_t n = 0; n < size && all; n++) {
			rc = qa_qmodel_decode(&b, buf, n, msg, sizeof(msg));
			all = rc == QA_ERR_FORMAT && b.layers == NULL;
		}
		check(&C, all, "qam_truncated_every_length", "rc %d: %s", rc,
		      msg);
		memcpy(bad, buf, size);
		bad[size] = 0;
		rc = qa_qmodel_decode(&b, bad, size + 1, msg, sizeof(msg));
		check(&C, rc == QA_ERR_FORMAT && strstr(msg, "trailing"),
		      "qam_trailing_byte", "rc %d: %s", rc, msg);
		rc = qa_qmodel_decode(&b, buf, size - 1, msg, sizeof(msg));
		check(&C, rc == QA_ERR_FORMAT && strstr(msg, "truncated"),
		      "qam_truncated_message", "%s", msg);
	}

	/* corruptions; "fix" recomputes the CRC so the structure check is
	 * what must catch them */
	{
		static const struct {
			const char *name;
			size_t off;
			int value;     /* byte value, or -1: add 1 */
			int fix;
			const char *needle;
		} cases[] = {
			{ "qam_bad_magic", 0, 'X', 0, "magic" },
			{ "qam_version_2", 4, 2, 1, "version 2" },
			{ "qam_bad_crc_data", 16 + 64 + 3, -1, 0, "CRC-32" },
			{ "qam_bad_crc_field", 0, 0, 0, "CRC-32" },
			{ "qam_unknown_flags", 5, 0x81, 1, "flags" },
			{ "qam_zero_layers", 6, 0, 1, "layers" },
			{ "qam_too_many_layers", 6, 200, 1, "layers" },
			{ "qam_bad_round", 7, 9, 1, "rounding" },
			{ "qam_bad_method", 10, 7, 1, "method" },
			{ "qam_bad_weight_bits", 11, 1, 1, "bits" },
			{ "qam_exponent_range", 9, 120, 1, "exponent" },
			{ "qam_chain", 16 + 16, 9, 1, "inputs" },
			{ "qam_huge_count", 16 + 4 + 3, 0x7f, 1, "outside" },
			{ "qam_zero_width", 16, 0, 1, "outside" },
			{ "qam_bias_width_3", 16 + 11, 3, 1, "bias width" },
			{ "qam_shift_mode_3", 16 + 12, 3, 1, "shift mode" },
			{ "qam_reserved", 16 + 15, 1, 1, "reserved" },
			{ "qam_empty_clamp", 16 + 48 + 9, 100, 1, "empty" },
			{ "qam_data_size", 16 + 11, 4, 1, "describes" },
			{ "qam_shift_above_31", 16 + 64 + 30, 40, 1, "shift" },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			memcpy(bad, buf, size);
			if (strcmp(cases[i].name, "qam_bad_crc_field") == 0)
				bad[size - 1] ^= 0x55;
			else if (cases[i].value < 0)
				bad[cases[i].off]++;
			else
				bad[cases[i].off] =
					(unsigned char)cases[i].value;
			if (cases[i].fix)
				fix_crc(bad, size);
			msg[0] = '\0';
			rc = qa_qmodel_decode(&b, bad, size, msg, sizeof(msg));
			check(&C, rc == QA_ERR_FORMAT && b.layers == NULL &&
			      strstr(msg, cases[i].needle) != NULL,
			      cases[i].name, "rc %d: %s", rc, msg);
			if (rc == QA_OK)
				qa_qmodel_free(&b);
		}
	}
	/* a weight outside weight_bits (4 bits: -8..7), valid CRC */
	memcpy(bad, buf, size);
	bad[11] = 4;
	bad[16 + 64] = 100;
	fix_crc(bad, size);
	rc = qa_qmodel_decode(&b, bad, size, msg, sizeof(msg));
	check(&C, rc == QA_ERR_FORMAT && strstr(msg, "bits"),
	      "qam_weight_beyond_bits", "rc %d: %s", rc, msg);
	/* a declared size of 4 GiB - 1 must not be trusted */
	memcpy(bad, buf, size);
	wr32(bad + 12, 0xFFFFFFFFu);
	rc = qa_qmodel_decode(&b, bad, size, msg, sizeof(msg));
	check(&C, rc == QA_ERR_FORMAT && strstr(msg, "truncated"),
	      "qam_huge_declared_size", "rc %d: %s", rc, msg);
	/* the library's CRC agrees with the one written here */
	{
		const char *v = "123456789";

		check(&C, crc32_of((const unsigned char *)v, 9) == 0xCBF43926u,
		      "crc32_check_value", "%s", "");
	}
	/* a file of the right name but other contents */
	write_text(path_in("text.qam"), "qarray-model 1\n");
	rc = qa_qmodel_load(&b, path_in("text.qam"), msg, sizeof(msg));
	check(&C, rc == QA_ERR_FORMAT && strstr(msg, "text.qam"),
	      "qam_load_names_file", "rc %d: %s", rc, msg);
out:
	free(buf);
	free(bad);
	qa_qmodel_free(&a);
}

/* ---- the trainer ---------------------------------------------------------------------- */

/* three Gaussian blobs in 4-D, centres about 4 apart, spread 0.7 */
static void blobs(size_t n, float *x, int32_t *y, uint64_t seed)
{
	static const float centre[3][4] = {
		{ 0, 0, 0, 0 }, { 4, 0, 1, 0 }, { 0, 4, 0, -1 } };

	rnd_state = seed;
	for (size_t i = 0; i < n; i++) {
		int c = (int)(i % 3);

		y[i] = c;
		for (int d = 0; d < 4; d++)
			x[i * 4 + d] = centre[c][d] + (float)rnd_gauss() * 0.7f;
	}
}

static double accuracy(const qa_fmodel *m, size_t n, const float *x,
		       const int32_t *y)
{
	float *lg = malloc(n * 3 * sizeof(float));
	size_t ok = 0;

	if (!lg || qa_fmodel_forward(m, n, x, lg) != QA_OK) {
		free(lg);
		return -1.0;
	}
	for (size_t i = 0; i < n; i++)
		ok += qa_nn_argmax_f32(lg + i * 3, 3) == (size_t)y[i];
	free(lg);
	return (double)ok / (double)n;
}

static unsigned progress_calls;

static void count_progress(void *ctx, const qa_train_progress *p)
{
	(void)ctx;
	if (p->epoch == progress_calls + 1)
		progress_calls++;
}

static void test_trainer(void)
{
	enum { N = 600, NT = 300 };
	float *x = malloc(N * 4 * sizeof(float));
	float *xt = malloc(NT * 4 * sizeof(float));
	int32_t y[N], yt[NT];
	const size_t hidden[2] = { 16, 8 };
	qa_train_opts o;
	qa_train_progress fin;
	qa_fmodel a, b, q;
	char msg[512] = "";
	double acc, acct;
	int rc;

	if (!x || !xt)
		goto out;
	blobs(N, x, y, 1);
	blobs(NT, xt, yt, 2);
	qa_train_opts_init(&o);
	o.epochs = 8;
	o.progress = count_progress;
	progress_calls = 0;
	rc = qa_nn_train(&a, N, 4, x, y, 3, 2, hidden, &o, &fin, msg,
			 sizeof(msg));
	acc = accuracy(&a, N, x, y);
	acct = accuracy(&a, NT, xt, yt);
	check(&C, rc == QA_OK && acc > 0.95 && acct > 0.95 &&
	      fabs(fin.accuracy - acc) <= 2.0 / N && progress_calls == 8,
	      "train_blobs_converge", "rc %d %s: train %.3f test %.3f final "
	      "%.3f, %u epochs reported", rc, msg, acc, acct, fin.accuracy,
	      progress_calls);
	o.progress = NULL;
	rc = qa_nn_train(&b, N, 4, x, y, 3, 2, hidden, &o, NULL, msg,
			 sizeof(msg));
	check(&C, rc == QA_OK && fmodels_equal(&a, &b),
	      "train_deterministic", "rc %d", rc);
	qa_fmodel_free(&b);
	o.seed = 2;
	rc = qa_nn_train(&b, N, 4, x, y, 3, 2, hidden, &o, NULL, msg,
			 sizeof(msg));
	check(&C, rc == QA_OK && !fmodels_equal(&a, &b),
	      "train_seed_matters", "rc %d", rc);
	qa_fmodel_free(&b);

	/* inputs in other units (x 1000) train as well: the scale is folded
	 * into the first layer */
	{
		float *xs = malloc(N * 4 * sizeof(float));

		for (size_t i = 0; xs && i < N * 4; i++)
			xs[i] = x[i] * 1000.0f;
		o.seed = 1;
		rc = xs ? qa_nn_train(&b, N, 4, xs, y, 3, 2, hidden, &o, NULL,
				      msg, sizeof(msg)) : QA_ERR_NOMEM;
		acc = rc == QA_OK ? accuracy(&b, N, xs, y) : 0.0;
		check(&C, rc == QA_OK && acc > 0.95, "train_input_scale",
		      "rc %d acc %.3f", rc, acc);
		qa_fmodel_free(&b);
		free(xs);
	}

	/* QAT: weights end on a power-of-two grid, int8 matches float */
	o.seed = 1;
	o.qat = 1;
	o.qat_epochs = 3;
	rc = qa_nn_train(&q, N, 4, x, y, 3, 2, hidden, &o, &fin, msg,
			 sizeof(msg));
	if (check(&C, rc == QA_OK && fin.epochs == 11 && fin.qat,
		  "train_qat_runs", "rc %d %s", rc, msg)) {
		int grid = 1;
		qa_qmodel qm;
		qa_nn_report *rep = calloc(1, sizeof(*rep));

		for (unsigned l = 0; l < q.nlayers; l++) {
			const qa_flayer *L = &q.layers[l];
			double mx = 0.0;
			int k;

			for (size_t i = 0; i < L->in * L->out; i++)
				if (fabs(L->w[i]) > mx)
					mx = fabs(L->w[i]);
			qa_nn_exponent(mx, 127, &k);
			for (size_t i = 0; i < L->in * L->out; i++) {
				double v = ldexp(L->w[i], -k);

				if (v != floor(v))
					grid = 0;
			}
		}
		acc = accuracy(&q, NT, xt, yt);
		check(&C, grid && acc > 0.95, "train_qat_weights_on_grid",
		      "grid %d test accuracy %.3f", grid, acc);
		rc = qa_nn_quantize(&q, N, x, NULL, &qm, msg, sizeof(msg));
		if (rc == QA_OK && rep)
			rc = qa_nn_report_compute(&q, &qm, NT, xt, rep, msg,
						  sizeof(msg));
		check(&C, rc == QA_OK && rep &&
		      rep->layers[0].w_snr_db == QA_NN_SNR_EXACT &&
		      rep->layers[2].w_snr_db == QA_NN_SNR_EXACT &&
		      rep->agree >= NT - 3, "train_qat_quantizes_exactly",
		      "rc %d %s: agree %zu/%d", rc, msg, rep ? rep->agree : 0,
		      NT);
		if (rc == QA_OK)
			qa_qmodel_free(&qm);
		free(rep);
		qa_fmodel_free(&q);
	}

	/* bad arguments */
	o.qat = 0;
	{
		int32_t ybad[N];

		memcpy(ybad, y, sizeof(ybad));
		ybad[5] = 3;
		rc = qa_nn_train(&b, N, 4, x, ybad, 3, 2, hidden, &o, NULL,
				 msg, sizeof(msg));
		check(&C, rc == QA_ERR_INVALID && strstr(msg, "label 3") &&
		      b.layers == NULL, "train_label_range", "rc %d: %s", rc,
		      msg);
		rc = qa_nn_train(&b, N, 4, x, y, 1, 2, hidden, &o, NULL, msg,
				 sizeof(msg));
		check(&C, rc == QA_ERR_INVALID, "train_one_class", "rc %d",
		      rc);
		x[7] = NAN;
		rc = qa_nn_train(&b, N, 4, x, y, 3, 2, hidden, &o, NULL, msg,
				 sizeof(msg));
		check(&C, rc == QA_ERR_INVALID && strstr(msg, "finite"),
		      "train_nan_input", "rc %d: %s", rc, msg);
		x[7] = 0.0f;
		o.epochs = 0;
		rc = qa_nn_train(&b, N, 4, x, y, 3, 2, hidden, &o, NULL, msg,
				 sizeof(msg));
		check(&C, rc == QA_ERR_INVALID, "train_zero_epochs", "rc %d",
		      rc);
	}
	qa_fmodel_free(&a);
out:
	free(x);
	free(xt);
}

/* ---- the report and the data helpers ---------------------------------------------------- */

static void test_report(void)
{
	qa_fmodel fm;
	qa_qmodel qm;
	qa_nn_report rep;

	char msg[512] = "";
	int rc;

	hand_model(&fm);
	rc = qa_nn_quantize(&fm, 3, hand_calib, NULL, &qm, msg, sizeof(msg));
	if (rc == QA_OK)
		rc = qa_nn_report_compute(&fm, &qm, 3, hand_calib, &rep, msg,
					  sizeof(msg));
	if (check(&C, rc == QA_OK, "report_runs", "%s", msg)) {
		/* layer 0's second column is negative on every row (ReLU
		 * zeros: clamped, not saturated); row 2 of column 0 too */
		check(&C, rep.rows == 3 && rep.nlayers == 2 &&
		      rep.k_in == -5 && rep.in_saturated == 0 &&
		      rep.in_snr_db == QA_NN_SNR_EXACT &&
		      rep.layers[0].w_snr_db == QA_NN_SNR_EXACT &&
		      rep.layers[0].clamped == 4 &&
		      rep.layers[0].saturated == 0 &&
		      rep.layers[0].outputs == 6 && rep.agree == 3 &&
		      rep.layers[0].shift_min == 6 &&
		      rep.layers[0].kw_max == -6, "report_hand_model",
		      "clamped %llu saturated %llu agree %zu",
		      (unsigned long long)rep.layers[0].clamped,
		      (unsigned long long)rep.layers[0].saturated, rep.agree);
		check(&C, rep.bytes_float == 4 * (6 + 3) &&
		      rep.bytes_int8 == qa_qmodel_file_bytes(&qm) &&
		      rep.layers[1].max_abs_err < 0.1 &&
		      rep.layers[1].snr_db > 30.0, "report_errors_and_bytes",
		      "bytes %zu %zu err %g snr %g", rep.bytes_float,
		      rep.bytes_int8, rep.layers[1].max_abs_err,
		      rep.layers[1].snr_db);
	}
	/* inputs far outside the calibrated range saturate */
	if (rc == QA_OK) {
		const float big[2] = { 40.0f, 40.0f };

		rc = qa_nn_report_compute(&fm, &qm, 1, big, &rep, msg,
					  sizeof(msg));
		check(&C, rc == QA_OK && rep.in_saturated == 2 &&
		      rep.layers[0].saturated >= 1, "report_saturation",
		      "in %llu layer0 %llu",
		      (unsigned long long)rep.in_saturated,
		      (unsigned long long)rep.layers[0].saturated);
		qa_qmodel_free(&qm);
	}
	qa_fmodel_free(&fm);
}

static void test_data(void)
{
	qa_array a;
	float *f = NULL;
	int32_t *lab = NULL;
	unsigned classes = 0;
	char msg[256] = "";
	uint8_t u[6] = { 0, 1, 16, 255, 3, 4 };
	float fv[2] = { 1.0f, INFINITY };
	int64_t l64[4] = { 0, 4, 2, 4 };
	int8_t l8[2] = { 1, -1 };
	int rc;

	memset(&a, 0, sizeof(a));
	a.dtype = QA_DT_UINT8;
	a.ndim = 2;
	a.shape[0] = 2;
	a.shape[1] = 3;
	a.count = 6;
	a.data = u;
	rc = qa_nn_features(&a, &f, msg, sizeof(msg));
	check(&C, rc == QA_OK && f[2] == 16.0f && f[3] == 255.0f,
	      "features_uint8_by_value", "rc %d", rc);
	free(f);
	a.dtype = QA_DT_INT8;
	rc = qa_nn_features(&a, &f, msg, sizeof(msg));
	check(&C, rc == QA_ERR_INVALID && strstr(msg, "float32 or uint8"),
	      "features_reject_int8", "rc %d: %s", rc, msg);
	a.dtype = QA_DT_UINT8;
	a.ndim = 1;
	a.shape[0] = 6;
	rc = qa_nn_features(&a, &f, msg, sizeof(msg));
	check(&C, rc == QA_ERR_INVALID, "features_reject_1d", "rc %d", rc);
	a.dtype = QA_DT_FLOAT32;
	a.ndim = 2;
	a.shape[0] = 1;
	a.shape[1] = 2;
	a.count = 2;
	a.data = fv;
	rc = qa_nn_features(&a, &f, msg, sizeof(msg));
	check(&C, rc == QA_ERR_INVALID && strstr(msg, "[0, 1]"),
	      "features_reject_inf", "rc %d: %s", rc, msg);

	a.dtype = QA_DT_INT64;
	a.ndim = 1;
	a.shape[0] = 4;
	a.count = 4;
	a.data = l64;
	rc = qa_nn_labels(&a, &lab, &classes, msg, sizeof(msg));
	check(&C, rc == QA_OK && classes == 5 && lab[1] == 4,
	      "labels_int64_classes", "rc %d classes %u", rc, classes);
	free(lab);
	a.dtype = QA_DT_INT8;
	a.shape[0] = 2;
	a.count = 2;
	a.data = l8;
	rc = qa_nn_labels(&a, &lab, &classes, msg, sizeof(msg));
	check(&C, rc == QA_ERR_INVALID && strstr(msg, "label -1"),
	      "labels_negative", "rc %d: %s", rc, msg);
	a.dtype = QA_DT_FLOAT32;
	rc = qa_nn_labels(&a, &lab, &classes, msg, sizeof(msg));
	check(&C, rc == QA_ERR_INVALID, "labels_float", "rc %d", rc);

	{
		const float v[4] = { 1, 3, 3, 2 };
		const int8_t q[4] = { -5, 7, 7, 7 };

		check(&C, qa_nn_argmax_f32(v, 4) == 1 &&
		      qa_nn_argmax_i8(q, 4) == 1, "argmax_first_on_ties", "%s", "");
	}
	check(&C, strcmp(qa_nn_method_name(QA_NN_MSE), "mse") == 0 &&
	      qa_nn_method_name((qa_nn_method)9) == NULL, "method_names", "%s", "");
	{
		qa_nn_method m;

		check(&C, qa_nn_method_parse("percentile", &m) == QA_OK &&
		      m == QA_NN_PERCENTILE &&
		      qa_nn_method_parse("median", &m) == QA_ERR_INVALID,
		      "method_parse", "%s", "");
	}
}

int main(int argc, char **argv)
{
	C.quiet = argc > 1 && strcmp(argv[1], "-q") == 0;
	crc32_init();
	snprintf(tmpdir, sizeof(tmpdir), "%s/qarray-nn.XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}

	test_exponents();
	test_rounding();
	test_weight_exponents();
	test_calibration();
	test_quantize_hand();
	test_quantize_errors();
	test_golden_forward();
	test_quantize_input();
	test_fmodel_files();
	test_qmodel_files();
	test_trainer();
	test_report();
	test_data();

	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "test_nn: could not remove %s\n",
				tmpdir);
	}
	return check_summary(&C);
}
