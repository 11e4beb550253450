/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_golden.c - checks the golden model (host/src/ref.c) and the error
 * strings (host/src/error.c) against docs/numerics.md.
 *
 * The references here are deliberately computed differently from ref.c:
 *  - ref_dist(): the rounding modes as "the nearest multiple of 2^s", found
 *    by comparing the distances of a few candidates (exact in int64);
 *  - ref_dbl(): floating-point division by 2^s (exact while |t| <= 2^52);
 *  - naive_gemm(): the whole GEMM in double arithmetic (exact: every sum
 *    stays below 2^53).
 * Loops count their mismatches and report once, naming the first one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "qarray.h"

static const qa_round modes[4] = {
	QA_ROUND_FLOOR, QA_ROUND_HALF_UP, QA_ROUND_HALF_AWAY,
	QA_ROUND_HALF_EVEN
};

/* xorshift64*: a deterministic generator whose state the caller owns. */
static uint64_t rng_next(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform-ish integer in [lo, hi] (hi - lo < 2^63). */
static int64_t rng_range(uint64_t *st, int64_t lo, int64_t hi)
{
	uint64_t span = (uint64_t)(hi - lo) + 1;

	return lo + (int64_t)(rng_next(st) % span);
}

/* ---- independent references ----------------------------------------------- */

static int64_t abs64(int64_t v)
{
	return v < 0 ? -v : v;
}

/*
 * Rounding by distance: the candidates r around t/2^s are compared by
 * |t - r * 2^s|; a tie between two candidates is broken by the mode.
 * Needs s <= 31 and |t| < 2^62 (then r * 2^s stays within int64).
 */
static int64_t ref_dist(int64_t t, unsigned s, qa_round mode)
{
	int64_t d = (int64_t)1 << s;
	int64_t c0 = t / d; /* truncated; the answer is within c0-1 .. c0+1 */
	int64_t best = 0, bestdist = -1;
	int ntie = 0;
	int64_t tie_other = 0;

	if (mode == QA_ROUND_FLOOR) {
		int64_t r = c0 + 1;

		while (r * d > t)
			r--;
		return r;
	}
	for (int64_t r = c0 - 1; r <= c0 + 1; r++) {
		int64_t dist = abs64(t - r * d);

		if (bestdist < 0 || dist < bestdist) {
			best = r;
			bestdist = dist;
			ntie = 0;
		} else if (dist == bestdist) {
			ntie = 1;
			tie_other = r; /* r > best */
		}
	}
	if (!ntie)
		return best;
	switch (mode) {
	case QA_ROUND_HALF_UP:
		return tie_other;
	case QA_ROUND_HALF_AWAY:
		return abs64(tie_other) > abs64(best) ? tie_other : best;
	default: /* half_even */
		return (best % 2 == 0) ? best : tie_other;
	}
}

/* Rounding through a double quotient; exact for |t| <= 2^52, any s <= 62. */
static int64_t ref_dbl(int64_t t, unsigned s, qa_round mode)
{
	double x = (double)t / (double)((uint64_t)1 << s);
	double fl = (double)(int64_t)x; /* truncation toward zero */
	double frac;

	if (fl > x)
		fl -= 1.0; /* now floor(x) */
	frac = x - fl;     /* exact, in [0, 1) */
	switch (mode) {
	case QA_ROUND_FLOOR:
		break;
	case QA_ROUND_HALF_UP:
		if (frac >= 0.5)
			fl += 1.0;
		break;
	case QA_ROUND_HALF_AWAY:
		if (frac > 0.5 || (frac == 0.5 && x > 0))
			fl += 1.0;
		break;
	case QA_ROUND_HALF_EVEN: {
		double half_fl = fl / 2.0;
		int fl_odd = half_fl != (double)(int64_t)half_fl;

		if (frac > 0.5 || (frac == 0.5 && fl_odd))
			fl += 1.0;
		break;
	}
	}
	return (int64_t)fl;
}

/* The whole GEMM in double arithmetic. */
static uint64_t naive_gemm(const qa_gemm_desc *d, int8_t *y)
{
	uint64_t nsat = 0;

	for (size_t i = 0; i < d->m; i++) {
		for (size_t j = 0; j < d->n; j++) {
			double acc = d->bias ? (double)d->bias[j] : 0.0;
			int64_t r;

			for (size_t kk = 0; kk < d->k; kk++)
				acc += (double)d->x[i * d->k + kk] *
				       (double)d->w[kk * d->n + j];
			r = ref_dbl((int64_t)acc, d->shift[j], d->round);
			if (r < d->lo || r > d->hi)
				nsat++;
			if (r < d->lo)
				r = d->lo;
			if (r > d->hi)
				r = d->hi;
			y[i * d->n + j] = (int8_t)r;
		}
	}
	return nsat;
}

/* ---- error strings ------------------------------------------------------------- */

static void test_errors(check_ctx *c)
{
	static const struct {
		int code;
		const char *name;
	} codes[] = {
		{ QA_OK, "QA_OK" },
		{ QA_ERR_INVALID, "QA_ERR_INVALID" },
		{ QA_ERR_NOMEM, "QA_ERR_NOMEM" },
		{ QA_ERR_IO, "QA_ERR_IO" },
		{ QA_ERR_FORMAT, "QA_ERR_FORMAT" },
		{ QA_ERR_RANGE, "QA_ERR_RANGE" },
		{ QA_ERR_TIMEOUT, "QA_ERR_TIMEOUT" },
		{ QA_ERR_DEVICE, "QA_ERR_DEVICE" },
		{ QA_ERR_UNSUPPORTED, "QA_ERR_UNSUPPORTED" },
		{ QA_ERR_MISMATCH, "QA_ERR_MISMATCH" },
	};
	const size_t n = sizeof(codes) / sizeof(codes[0]);
	int bad_name = -100, bad_desc = -100;

	for (size_t i = 0; i < n; i++) {
		const char *s = qa_strerror(codes[i].code);

		if (strcmp(qa_errname(codes[i].code), codes[i].name) != 0)
			bad_name = codes[i].code;
		if (!s || !*s || strcmp(s, "unknown error") == 0)
			bad_desc = codes[i].code;
		for (size_t j = 0; j < i; j++)
			if (strcmp(s, qa_strerror(codes[j].code)) == 0)
				bad_desc = codes[i].code;
	}
	check(c, bad_name == -100, "errname_all_codes", "code %d: %s",
	      bad_name, qa_errname(bad_name));
	check(c, bad_desc == -100, "strerror_all_codes_distinct",
	      "code %d: \"%s\"", bad_desc, qa_strerror(bad_desc));
	check(c, strcmp(qa_strerror(-10), "unknown error") == 0 &&
		 strcmp(qa_strerror(1), "unknown error") == 0 &&
		 strcmp(qa_strerror(INT32_MIN), "unknown error") == 0,
	      "strerror_unknown", "got \"%s\"", qa_strerror(-10));
	check(c, strcmp(qa_errname(-10), "QA_ERR_UNKNOWN") == 0 &&
		 strcmp(qa_errname(42), "QA_ERR_UNKNOWN") == 0,
	      "errname_unknown", "got \"%s\"", qa_errname(-10));
	check(c, strcmp(qa_strerror(QA_ERR_INVALID), "invalid argument") == 0,
	      "strerror_invalid_text", "got \"%s\"",
	      qa_strerror(QA_ERR_INVALID));
}

/* ---- rounding-mode names ------------------------------------------------------- */

static void test_round_names(check_ctx *c)
{
	static const char *const names[4] = { "floor", "half_up", "half_away",
					      "half_even" };
	int ok = 1;
	qa_round m = QA_ROUND_FLOOR;

	for (int i = 0; i < 4; i++) {
		const char *nm = qa_round_name(modes[i]);
		qa_round back = QA_ROUND_HALF_EVEN;

		if (!nm || strcmp(nm, names[i]) != 0 ||
		    qa_round_parse(names[i], &back) != QA_OK ||
		    back != modes[i])
			ok = 0;
	}
	check(c, ok, "round_name_parse_roundtrip", "a name or parse differs");
	check(c, qa_round_name((qa_round)4) == NULL &&
		 qa_round_name((qa_round)-1) == NULL,
	      "round_name_invalid_null", "an invalid mode got a name");
	check(c, qa_round_parse("half-up", &m) == QA_ERR_INVALID &&
		 qa_round_parse("", &m) == QA_ERR_INVALID &&
		 qa_round_parse("FLOOR", &m) == QA_ERR_INVALID &&
		 qa_round_parse(NULL, &m) == QA_ERR_INVALID &&
		 qa_round_parse("floor", NULL) == QA_ERR_INVALID,
	      "round_parse_rejects", "a bad name or NULL was accepted");
}

/* ---- round_shift ------------------------------------------------------------------ */

static void test_round_examples(check_ctx *c)
{
	/* docs/numerics.md table: t, s -> floor / half_up / half_away / half_even */
	static const struct {
		const char *name;
		int64_t t;
		unsigned s;
		int64_t want[4];
	} ex[] = {
		{ "round_tie_positive", 5, 1, { 2, 3, 3, 2 } },
		{ "round_tie_negative", -5, 1, { -3, -2, -3, -2 } },
		{ "round_tie_positive_half", 1, 1, { 0, 1, 1, 0 } },
		{ "round_tie_negative_half", -1, 1, { -1, 0, -1, 0 } },
		{ "round_tie_positive_odd_floor", 6, 2, { 1, 2, 2, 2 } },
		{ "round_tie_negative_even_floor", -6, 2, { -2, -1, -2, -2 } },
		{ "round_negative_below_half", -7, 2, { -2, -2, -2, -2 } },
		{ "round_tie_negative_quarter", -2, 2, { -1, 0, -1, 0 } },
	};

	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		int64_t got[4];

		for (int mi = 0; mi < 4; mi++)
			got[mi] = qa_ref_round_shift(ex[i].t, ex[i].s,
						     modes[mi]);
		check(c, memcmp(got, ex[i].want, sizeof(got)) == 0,
		      ex[i].name,
		      "t=%lld s=%u: got %lld/%lld/%lld/%lld, want %lld/%lld/%lld/%lld",
		      (long long)ex[i].t, ex[i].s, (long long)got[0],
		      (long long)got[1], (long long)got[2], (long long)got[3],
		      (long long)ex[i].want[0], (long long)ex[i].want[1],
		      (long long)ex[i].want[2], (long long)ex[i].want[3]);
	}
}

static void test_round_shift_zero(check_ctx *c)
{
	static const int64_t ts[] = { 0, 1, -1, 127, -128, 12345, -98765,
				      (int64_t)1 << 40, -((int64_t)1 << 40),
				      ((int64_t)1 << 62) - 1,
				      -((int64_t)1 << 62) + 1 };
	int ok = 1;

	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
		for (int mi = 0; mi < 4; mi++)
			if (qa_ref_round_shift(ts[i], 0, modes[mi]) != ts[i])
				ok = 0;
	check(c, ok, "round_shift0_identity", "s = 0 changed a value");
}

/* Record the first mismatch of a sweep. */
typedef struct sweep {
	unsigned long tried, bad;
	int64_t t, got, want;
	unsigned s;
	int mode;
} sweep;

static void sweep_one(sweep *sw, int64_t t, unsigned s, int mi, int64_t want)
{
	int64_t got = qa_ref_round_shift(t, s, modes[mi]);

	sw->tried++;
	if (got != want && sw->bad++ == 0) {
		sw->t = t;
		sw->s = s;
		sw->mode = mi;
		sw->got = got;
		sw->want = want;
	}
}

static void sweep_report(check_ctx *c, const sweep *sw, const char *name)
{
	check(c, sw->bad == 0 && sw->tried > 0, name,
	      "%lu of %lu wrong, first t=%lld s=%u %s: got %lld, want %lld",
	      sw->bad, sw->tried, (long long)sw->t, sw->s,
	      qa_round_name(modes[sw->mode]), (long long)sw->got,
	      (long long)sw->want);
}

/*
 * Every shift 0..31 in every mode on ties of both signs (t = n*2^s +- 2^(s-1)),
 * their neighbours, and random values up to |t| = 2^40: against both refs.
 */
static void test_round_sweep(check_ctx *c)
{
	sweep ties = { 0 }, near = { 0 }, rnd = { 0 }, dbl = { 0 };
	uint64_t st = 0x9E3779B97F4A7C15ULL;

	for (unsigned s = 0; s <= QA_SHIFT_MAX; s++) {
		int64_t d = (int64_t)1 << s;
		int64_t h = s ? d / 2 : 0;

		for (int mi = 0; mi < 4; mi++) {
			for (int64_t n = -70; n <= 70; n++) {
				int64_t base = n * d;

				/* exact ties (s >= 1) of both signs */
				for (int sg = -1; sg <= 1; sg += 2) {
					int64_t t = base + sg * h;

					sweep_one(&ties, t, s, mi,
						  ref_dist(t, s, modes[mi]));
				}
				/* neighbours of multiples and of ties */
				for (int64_t e = -2; e <= 2; e++) {
					sweep_one(&near, base + e, s, mi,
						  ref_dist(base + e, s,
							   modes[mi]));
					sweep_one(&near, base + h + e, s, mi,
						  ref_dist(base + h + e, s,
							   modes[mi]));
				}
			}
			/* ties far from zero */
			for (int i = 0; i < 40; i++) {
				int64_t n = rng_range(&st, -((int64_t)1 << 20),
						      (int64_t)1 << 20);
				int64_t t = n * d + (i & 1 ? h : -h);

				sweep_one(&ties, t, s, mi,
					  ref_dist(t, s, modes[mi]));
			}
			for (int i = 0; i < 300; i++) {
				int64_t t = rng_range(&st, -((int64_t)1 << 40),
						      (int64_t)1 << 40);

				sweep_one(&rnd, t, s, mi,
					  ref_dist(t, s, modes[mi]));
				sweep_one(&dbl, t, s, mi,
					  ref_dbl(t, s, modes[mi]));
			}
			/* the largest accumulator magnitudes */
			sweep_one(&rnd, (int64_t)1 << 40, s, mi,
				  ref_dbl((int64_t)1 << 40, s, modes[mi]));
			sweep_one(&rnd, -((int64_t)1 << 40), s, mi,
				  ref_dbl(-((int64_t)1 << 40), s, modes[mi]));
		}
	}
	sweep_report(c, &ties, "round_sweep_ties_all_shifts");
	sweep_report(c, &near, "round_sweep_near_ties_all_shifts");
	sweep_report(c, &rnd, "round_sweep_random_2p40");
	sweep_report(c, &dbl, "round_sweep_vs_double");
}

/* |t| up to just below 2^62 (the documented range), s = 0..31. */
static void test_round_large(check_ctx *c)
{
	sweep sw = { 0 };
	uint64_t st = 12345;
	const int64_t lim = ((int64_t)1 << 62) - 1;

	for (unsigned s = 0; s <= QA_SHIFT_MAX; s++) {
		for (int mi = 0; mi < 4; mi++) {
			const int64_t edge[] = { lim, -lim, lim - 1, -lim + 1,
						 lim - ((int64_t)1 << s) / 2,
						 -lim + ((int64_t)1 << s) / 2 };

			for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++)
				sweep_one(&sw, edge[i], s, mi,
					  ref_dist(edge[i], s, modes[mi]));
			for (int i = 0; i < 50; i++) {
				int64_t t = rng_range(&st, -lim, lim);

				sweep_one(&sw, t, s, mi,
					  ref_dist(t, s, modes[mi]));
			}
		}
	}
	sweep_report(c, &sw, "round_large_t_2p62");

	/* Outside the documented range the model is still exact and defined. */
	int ok = qa_ref_round_shift(INT64_MIN, 31, QA_ROUND_FLOOR) ==
			 -((int64_t)1 << 32) &&
		 qa_ref_round_shift(INT64_MAX, 31, QA_ROUND_FLOOR) ==
			 ((int64_t)1 << 32) - 1 &&
		 qa_ref_round_shift(INT64_MAX, 31, QA_ROUND_HALF_UP) ==
			 (int64_t)1 << 32 &&
		 qa_ref_round_shift(INT64_MIN, 63, QA_ROUND_HALF_UP) == -1 &&
		 qa_ref_round_shift(-((int64_t)1 << 62), 63,
				    QA_ROUND_HALF_UP) == 0 &&
		 qa_ref_round_shift(-((int64_t)1 << 62), 63,
				    QA_ROUND_HALF_AWAY) == -1 &&
		 qa_ref_round_shift(INT64_MIN, 64, QA_ROUND_HALF_EVEN) == 0 &&
		 qa_ref_round_shift(-5, 200, QA_ROUND_FLOOR) == -1 &&
		 qa_ref_round_shift(-5, 200, QA_ROUND_HALF_AWAY) == 0;
	check(c, ok, "round_int64_extremes", "an out-of-range case is wrong");

	/* Shifts above 31 (not used by the device) against the double ref. */
	sweep big = { 0 };
	for (unsigned s = 32; s <= 62; s++)
		for (int mi = 0; mi < 4; mi++)
			for (int i = 0; i < 40; i++) {
				int64_t t = rng_range(&st, -((int64_t)1 << 52),
						      (int64_t)1 << 52);

				if (i == 0)
					t = (int64_t)1 << (s < 52 ? s - 1 : 51);
				if (i == 1)
					t = -t;
				sweep_one(&big, t, s, mi,
					  ref_dbl(t, s, modes[mi]));
			}
	sweep_report(c, &big, "round_shift_above_31_exact");
}

/* ---- requant (clamp and saturation) ---------------------------------------------- */

static void test_requant(check_ctx *c)
{
	int sat = -1, sat2 = -1;
	int8_t y, y2;

	y = qa_ref_requant(1000, 2, QA_ROUND_HALF_UP, -128, 127, &sat);
	check(c, y == 127 && sat == 1, "sat_upper", "y=%d sat=%d", y, sat);
	y = qa_ref_requant(-1000, 2, QA_ROUND_HALF_UP, -128, 127, &sat);
	check(c, y == -128 && sat == 1, "sat_lower", "y=%d sat=%d", y, sat);
	/* r exactly at the bounds is not saturated, one past is */
	y = qa_ref_requant(127 * 4, 2, QA_ROUND_FLOOR, -128, 127, &sat);
	y2 = qa_ref_requant(127 * 4 + 2, 2, QA_ROUND_HALF_UP, -128, 127,
			    &sat2);
	check(c, y == 127 && sat == 0 && y2 == 127 && sat2 == 1,
	      "sat_upper_boundary", "y=%d sat=%d y2=%d sat2=%d", y, sat, y2,
	      sat2);
	y = qa_ref_requant(-128 * 4, 2, QA_ROUND_FLOOR, -128, 127, &sat);
	y2 = qa_ref_requant(-128 * 4 - 1, 2, QA_ROUND_FLOOR, -128, 127,
			    &sat2);
	check(c, y == -128 && sat == 0 && y2 == -128 && sat2 == 1,
	      "sat_lower_boundary", "y=%d sat=%d y2=%d sat2=%d", y, sat, y2,
	      sat2);
	/* rounding decides saturation: 127.5 -> 127 (floor) or 128 (half_up) */
	y = qa_ref_requant(255, 1, QA_ROUND_FLOOR, -128, 127, &sat);
	y2 = qa_ref_requant(255, 1, QA_ROUND_HALF_UP, -128, 127, &sat2);
	check(c, y == 127 && sat == 0 && y2 == 127 && sat2 == 1,
	      "sat_after_rounding", "floor y=%d sat=%d, half_up y=%d sat=%d",
	      y, sat, y2, sat2);
	y = qa_ref_requant(-3, 0, QA_ROUND_HALF_UP, 0, 127, &sat);
	y2 = qa_ref_requant(0, 0, QA_ROUND_HALF_UP, 0, 127, &sat2);
	check(c, y == 0 && sat == 1 && y2 == 0 && sat2 == 0, "clamp_relu",
	      "y=%d sat=%d y2=%d sat2=%d", y, sat, y2, sat2);
	y = qa_ref_requant(9, 0, QA_ROUND_FLOOR, 5, 5, &sat);
	y2 = qa_ref_requant(5, 0, QA_ROUND_FLOOR, 5, 5, &sat2);
	check(c, y == 5 && sat == 1 && y2 == 5 && sat2 == 0,
	      "clamp_narrow_lo_eq_hi", "y=%d sat=%d y2=%d sat2=%d", y, sat, y2,
	      sat2);
	y = qa_ref_requant((int64_t)1 << 61, 0, QA_ROUND_FLOOR, -128, 127,
			   NULL);
	check(c, y == 127, "requant_null_saturated_ok", "y=%d", y);
}

/* ---- GEMM ------------------------------------------------------------------------------ */

/* Run both the model and the naive reference; returns 1 if they agree. */
static int gemm_agrees(const qa_gemm_desc *d, char *why, size_t whylen)
{
	size_t mn = d->m * d->n;
	int8_t *y = malloc(mn + 16), *yr = malloc(mn);
	uint64_t sat = 0, satr;
	int ok = 0, rc;

	if (!y || !yr) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	memset(y, 0x5a, mn + 16);
	rc = qa_ref_gemm(d, y, &sat);
	satr = naive_gemm(d, yr);
	if (rc != QA_OK) {
		snprintf(why, whylen, "qa_ref_gemm returned %s", qa_errname(rc));
		goto out;
	}
	for (size_t i = 0; i < mn; i++) {
		if (y[i] != yr[i]) {
			snprintf(why, whylen,
				 "%zux%zux%zu %s: y[%zu]=%d, want %d",
				 d->m, d->k, d->n, qa_round_name(d->round), i,
				 y[i], yr[i]);
			goto out;
		}
	}
	for (size_t i = mn; i < mn + 16; i++) {
		if (y[i] != 0x5a) {
			snprintf(why, whylen, "wrote past y[%zu]", mn);
			goto out;
		}
	}
	if (sat != satr) {
		snprintf(why, whylen, "saturated %llu, want %llu",
			 (unsigned long long)sat, (unsigned long long)satr);
		goto out;
	}
	ok = 1;
out:
	free(y);
	free(yr);
	return ok;
}

static void test_gemm_fixed(check_ctx *c)
{
	char why[200] = "";
	int8_t x[1024 * 2], w[1024 * 3], y[8];
	int32_t bias[3];
	uint8_t shift[3];
	uint64_t sat = 0;
	qa_gemm_desc d;
	int rc;

	/* K = 1: y = clamp(round(x*w + b)) */
	x[0] = -7;
	w[0] = 9;
	bias[0] = 1;
	shift[0] = 1;
	d = (qa_gemm_desc){ .m = 1, .k = 1, .n = 1, .x = x, .w = w,
			    .bias = bias, .shift = shift,
			    .round = QA_ROUND_HALF_UP, .lo = -128, .hi = 127 };
	rc = qa_ref_gemm(&d, y, &sat);
	/* t = -63 + 1 = -62, /2 = -31 exactly */
	check(c, rc == QA_OK && y[0] == -31 && sat == 0, "gemm_k1",
	      "rc=%d y=%d sat=%llu", rc, y[0], (unsigned long long)sat);

	/* K = 1024, all operands -128: acc = 1024 * 16384 = 2^24 */
	memset(x, -128, 1024);
	memset(w, -128, 1024);
	shift[0] = 24;
	d = (qa_gemm_desc){ .m = 1, .k = 1024, .n = 1, .x = x, .w = w,
			    .shift = shift, .round = QA_ROUND_FLOOR,
			    .lo = -128, .hi = 127 };
	rc = qa_ref_gemm(&d, y, &sat);
	int ok = rc == QA_OK && y[0] == 1 && sat == 0;
	shift[0] = 17; /* 2^24 / 2^17 = 128: one above the int8 range */
	rc = qa_ref_gemm(&d, y, &sat);
	ok = ok && rc == QA_OK && y[0] == 127 && sat == 1;
	shift[0] = 18; /* 64 */
	rc = qa_ref_gemm(&d, y, &sat);
	ok = ok && rc == QA_OK && y[0] == 64 && sat == 0;
	check(c, ok, "gemm_k1024_max_acc", "rc=%d y=%d sat=%llu", rc, y[0],
	      (unsigned long long)sat);

	/* K = 1024, -128 x 127: acc = -1024 * 16256 = -127 * 2^17 */
	memset(w, 127, 1024);
	shift[0] = 17;
	rc = qa_ref_gemm(&d, y, &sat);
	ok = rc == QA_OK && y[0] == -127 && sat == 0;
	{
		/* shift 18: -63.5, a negative tie */
		static const int want[4] = { -64, -63, -64, -64 };

		shift[0] = 18;
		for (int mi = 0; mi < 4; mi++) {
			d.round = modes[mi];
			rc = qa_ref_gemm(&d, y, &sat);
			ok = ok && rc == QA_OK && y[0] == want[mi] && sat == 0;
		}
	}
	check(c, ok, "gemm_k1024_min_acc_tie", "rc=%d y=%d", rc, y[0]);

	/* Bias extremes; t needs 33 bits, a 32-bit sum would wrap. */
	x[0] = -128;
	w[0] = -128; /* acc = 16384 */
	w[1] = 127;  /* acc = -16256 */
	w[2] = 0;
	bias[0] = INT32_MAX;
	bias[1] = INT32_MIN;
	bias[2] = INT32_MIN;
	shift[0] = shift[1] = shift[2] = 31;
	d = (qa_gemm_desc){ .m = 1, .k = 1, .n = 3, .x = x, .w = w,
			    .bias = bias, .shift = shift,
			    .round = QA_ROUND_FLOOR, .lo = -128, .hi = 127 };
	rc = qa_ref_gemm(&d, y, &sat);
	/* (2^31 + 16383) / 2^31 -> 1; (-2^31 - 16256) / 2^31 -> -2; -2^31 -> -1 */
	ok = rc == QA_OK && y[0] == 1 && y[1] == -2 && y[2] == -1;
	d.round = QA_ROUND_HALF_UP;
	rc = qa_ref_gemm(&d, y, &sat);
	ok = ok && rc == QA_OK && y[0] == 1 && y[1] == -1 && y[2] == -1;
	shift[0] = shift[1] = shift[2] = 0;
	rc = qa_ref_gemm(&d, y, &sat);
	ok = ok && rc == QA_OK && y[0] == 127 && y[1] == -128 &&
	     y[2] == -128 && sat == 3;
	check(c, ok, "gemm_bias_int32_extremes", "rc=%d y=%d,%d,%d sat=%llu",
	      rc, y[0], y[1], y[2], (unsigned long long)sat);

	/* NULL bias equals a zero bias */
	for (int i = 0; i < 6; i++)
		x[i] = (int8_t)(i * 37 - 90);
	for (int i = 0; i < 9; i++)
		w[i] = (int8_t)(i * 29 - 120);
	memset(bias, 0, sizeof(bias));
	shift[0] = 3;
	shift[1] = 5;
	shift[2] = 7;
	{
		int8_t y0[6], y1[6];
		uint64_t s0 = 0, s1 = 0;

		d = (qa_gemm_desc){ .m = 2, .k = 3, .n = 3, .x = x, .w = w,
				    .bias = NULL, .shift = shift,
				    .round = QA_ROUND_HALF_EVEN, .lo = -128,
				    .hi = 127 };
		rc = qa_ref_gemm(&d, y0, &s0);
		d.bias = bias;
		ok = rc == QA_OK && qa_ref_gemm(&d, y1, &s1) == QA_OK &&
		     memcmp(y0, y1, 6) == 0 && s0 == s1 &&
		     gemm_agrees(&d, why, sizeof(why));
		check(c, ok, "gemm_null_bias_is_zero", "%s", why);
	}

	/* Saturation counted at both ends in one GEMM: row 0 large positive,
	 * row 1 large negative, row 2 in range. */
	{
		int8_t xs[3] = { 100, -100, 1 }, ws[2] = { 100, 1 }, ys[6];

		shift[0] = 0;
		shift[1] = 0;
		d = (qa_gemm_desc){ .m = 3, .k = 1, .n = 2, .x = xs, .w = ws,
				    .shift = shift, .round = QA_ROUND_FLOOR,
				    .lo = -128, .hi = 127 };
		rc = qa_ref_gemm(&d, ys, &sat);
		ok = rc == QA_OK && sat == 2 && ys[0] == 127 && ys[1] == 100 &&
		     ys[2] == -128 && ys[3] == -100 && ys[4] == 100 &&
		     ys[5] == 1;
		check(c, ok, "gemm_sat_count_both_ends",
		      "rc=%d sat=%llu y=%d,%d,%d,%d,%d,%d", rc,
		      (unsigned long long)sat, ys[0], ys[1], ys[2], ys[3],
		      ys[4], ys[5]);
		d.lo = 0; /* relu: -100 and -10000 become 0 */
		rc = qa_ref_gemm(&d, ys, &sat);
		ok = rc == QA_OK && sat == 3 && ys[2] == 0 && ys[3] == 0 &&
		     ys[0] == 127;
		check(c, ok, "gemm_relu_clamp", "rc=%d sat=%llu", rc,
		      (unsigned long long)sat);
		d.lo = d.hi = -3; /* narrow: everything but nothing equals -3 */
		rc = qa_ref_gemm(&d, ys, &sat);
		ok = rc == QA_OK && sat == 6;
		for (int i = 0; i < 6; i++)
			ok = ok && ys[i] == -3;
		check(c, ok, "gemm_narrow_clamp", "rc=%d sat=%llu", rc,
		      (unsigned long long)sat);

		/* saturated may be NULL */
		memset(ys, 0, sizeof(ys));
		rc = qa_ref_gemm(&d, ys, NULL);
		check(c, rc == QA_OK && ys[0] == -3, "gemm_saturated_null_ok",
		      "rc=%d", rc);
	}
}

static void test_gemm_validate(check_ctx *c)
{
	int8_t x[4] = { 0 }, w[4] = { 0 }, y[4];
	uint8_t shift[2] = { 0, 31 };
	const qa_gemm_desc good = { .m = 2, .k = 2, .n = 2, .x = x, .w = w,
				    .shift = shift, .round = QA_ROUND_HALF_UP,
				    .lo = -128, .hi = 127 };
	qa_gemm_desc d;
	uint8_t badshift[2] = { 0, 32 };
	static const struct {
		const char *name;
		int field;
	} cases[] = {
		{ "validate_null_x", 0 },     { "validate_null_w", 1 },
		{ "validate_null_shift", 2 }, { "validate_m_zero", 3 },
		{ "validate_k_zero", 4 },     { "validate_n_zero", 5 },
		{ "validate_mk_overflow", 6 }, { "validate_kn_overflow", 7 },
		{ "validate_shift_32", 8 },   { "validate_lo_below_int8", 9 },
		{ "validate_hi_above_int8", 10 }, { "validate_lo_gt_hi", 11 },
		{ "validate_round_4", 12 },   { "validate_round_negative", 13 },
		{ "validate_mn_overflow", 14 },
	};

	check(c, qa_gemm_validate(&good) == QA_OK, "validate_accepts_good",
	      "a valid descriptor was rejected");
	check(c, qa_gemm_validate(NULL) == QA_ERR_INVALID,
	      "validate_null_desc", "NULL accepted");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = good;
		switch (cases[i].field) {
		case 0: d.x = NULL; break;
		case 1: d.w = NULL; break;
		case 2: d.shift = NULL; break;
		case 3: d.m = 0; break;
		case 4: d.k = 0; break;
		case 5: d.n = 0; break;
		case 6: d.m = SIZE_MAX / 2; d.k = 3; d.n = 1; break;
		case 7: d.m = 1; d.k = SIZE_MAX / 2; d.n = 3; break;
		case 8: d.shift = badshift; break;
		case 9: d.lo = -129; break;
		case 10: d.hi = 128; break;
		case 11: d.lo = 5; d.hi = 4; break;
		case 12: d.round = (qa_round)4; break;
		case 13: d.round = (qa_round)-1; break;
		case 14: d.m = SIZE_MAX / 2; d.k = 1; d.n = 3; break;
		}
		check(c, qa_gemm_validate(&d) == QA_ERR_INVALID &&
			 qa_ref_gemm(&d, y, NULL) == QA_ERR_INVALID,
		      cases[i].name, "accepted");
	}
	d = good;
	d.lo = d.hi = 127;
	check(c, qa_gemm_validate(&d) == QA_OK, "validate_accepts_lo_eq_hi",
	      "lo == hi rejected");
	check(c, qa_ref_gemm(&good, NULL, NULL) == QA_ERR_INVALID,
	      "gemm_null_y", "NULL y accepted");
}

/* Random GEMMs of odd sizes against the naive double implementation. */
static void test_gemm_random(check_ctx *c)
{
	uint64_t st = 0xC0FFEE;
	unsigned long bad = 0, odd_sizes = 0, total = 0;
	char why[200] = "", first[200] = "";

	for (int iter = 0; iter < 3000; iter++) {
		size_t m = (size_t)rng_range(&st, 1, 13);
		size_t k = (size_t)rng_range(&st, 1, iter < 2900 ? 19 : 300);
		size_t n = (size_t)rng_range(&st, 1, 13);
		int8_t *x = malloc(m * k), *w = malloc(k * n);
		int32_t *bias = malloc(n * sizeof(*bias));
		uint8_t *shift = malloc(n);
		int style = (int)rng_range(&st, 0, 3);
		qa_gemm_desc d;

		if (!x || !w || !bias || !shift) {
			bad++;
			snprintf(first, sizeof(first), "out of memory");
			goto next;
		}
		for (size_t i = 0; i < m * k; i++)
			x[i] = (int8_t)(style == 3 ? (rng_next(&st) & 1 ? -128 : 127)
						   : rng_range(&st, -128, 127));
		for (size_t i = 0; i < k * n; i++)
			w[i] = (int8_t)(style == 3 ? (rng_next(&st) & 1 ? -128 : 127)
						   : rng_range(&st, -128, 127));
		for (size_t j = 0; j < n; j++) {
			bias[j] = (int32_t)(style == 1 ?
				rng_range(&st, INT32_MIN, INT32_MAX) :
				rng_range(&st, -100000, 100000));
			shift[j] = (uint8_t)(style == 2 ?
				rng_range(&st, 0, 31) : rng_range(&st, 0, 16));
		}
		d = (qa_gemm_desc){ .m = m, .k = k, .n = n, .x = x, .w = w,
				    .bias = rng_next(&st) % 8 ? bias : NULL,
				    .shift = shift,
				    .round = modes[rng_next(&st) % 4] };
		d.lo = (int)rng_range(&st, -128, 127);
		d.hi = (int)rng_range(&st, d.lo, 127);
		if (rng_next(&st) % 2) {
			d.lo = -128;
			d.hi = 127;
		}
		if (m % 4 || n % 4 || k % 4)
			odd_sizes++;
		total++;
		if (!gemm_agrees(&d, why, sizeof(why)) && bad++ == 0)
			snprintf(first, sizeof(first), "%s", why);
next:
		free(x);
		free(w);
		free(bias);
		free(shift);
	}
	check(c, bad == 0 && odd_sizes > 1000, "gemm_random_vs_naive",
	      "%lu of %lu wrong, first: %s", bad, total, first);
}

int main(void)
{
	check_ctx c = { 0, 0, 0 };

	test_errors(&c);
	test_round_names(&c);
	test_round_examples(&c);
	test_round_shift_zero(&c);
	test_round_sweep(&c);
	test_round_large(&c);
	test_requant(&c);
	test_gemm_fixed(&c);
	test_gemm_validate(&c);
	test_gemm_random(&c);
	return check_summary(&c);
}
