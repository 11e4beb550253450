/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ref.c - the golden model: docs/numerics.md written as plain C.
 *
 *   acc = sum_k X[m,k] * W[k,n]        exact, int64
 *   t   = acc + bias[n]                 exact, int64
 *   r   = round_shift(t, shift[n])      floor / half_up / half_away / half_even
 *   y   = clamp(r, lo, hi)              saturated when r < lo or r > hi
 *
 * No step relies on implementation-defined or undefined behaviour: negative
 * values are never shifted, every signed sum is bounded before it is formed,
 * and the only conversions to a signed type are of values known to fit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qarray.h"

/*
 * Largest K the model accepts: |acc| <= K * 2^14 <= 2^62 for K <= 2^48, so
 * acc + bias (|bias| <= 2^31) always fits an int64. Any K whose operands fit
 * in memory is far below this; the check exists so the bound is a fact.
 */
#define REF_K_LIMIT ((uint64_t)1 << 48)

static const char *const round_names[] = {
	[QA_ROUND_FLOOR] = "floor",
	[QA_ROUND_HALF_UP] = "half_up",
	[QA_ROUND_HALF_AWAY] = "half_away",
	[QA_ROUND_HALF_EVEN] = "half_even",
};

#define N_ROUND (sizeof(round_names) / sizeof(round_names[0]))

const char *qa_round_name(qa_round mode)
{
	/* Compare as unsigned so a negative (invalid) enum value is rejected too. */
	unsigned idx = (unsigned)mode;

	if (idx >= N_ROUND)
		return NULL;
	return round_names[idx];
}

int qa_round_parse(const char *name, qa_round *mode)
{
	if (!name || !mode)
		return QA_ERR_INVALID;
	for (unsigned i = 0; i < N_ROUND; i++) {
		if (strcmp(name, round_names[i]) == 0) {
			*mode = (qa_round)i;
			return QA_OK;
		}
	}
	return QA_ERR_INVALID;
}

/*
 * round_shift(t, s): q = floor(t / 2^s), rem = t - q * 2^s in [0, 2^s),
 * h = 2^(s-1); r = q + inc with inc chosen by the mode from rem against h.
 *
 * The contract needs s <= 31 and |t| < 2^62, but this is exact for every
 * int64 t and every s, so a caller can never reach undefined behaviour.
 * An unknown mode rounds like floor (as the RTL's default case does).
 */
int64_t qa_ref_round_shift(int64_t t, unsigned s, qa_round mode)
{
	int64_t q;
	int above, tie, inc;

	if (s == 0)
		return t;

	if (s < 64) {
		/*
		 * Offset binary: u = t + 2^63 lies in [0, 2^64) and is formed
		 * modulo 2^64, which is defined for unsigned types. 2^s divides
		 * 2^63, so floor(t / 2^s) = floor(u / 2^s) - 2^(63-s) and
		 * t mod 2^s = u mod 2^s. u >> s < 2^(64-s) <= 2^63 fits int64.
		 */
		uint64_t u = (uint64_t)t ^ ((uint64_t)1 << 63);
		uint64_t rem = u & (((uint64_t)1 << s) - 1);
		uint64_t half = (uint64_t)1 << (s - 1);

		q = (int64_t)(u >> s) - ((int64_t)1 << (63 - s));
		above = rem > half;
		tie = rem == half;
	} else {
		/*
		 * 2^s > |t|: q is 0 (t >= 0, rem = t < h) or -1 (t < 0,
		 * rem = 2^s + t, above h except the single tie t = -2^63 at
		 * s = 64).
		 */
		q = t < 0 ? -1 : 0;
		tie = s == 64 && t == INT64_MIN;
		above = t < 0 && !tie;
	}

	switch (mode) {
	case QA_ROUND_HALF_UP:
		inc = above || tie;
		break;
	case QA_ROUND_HALF_AWAY:
		inc = above || (tie && t >= 0);
		break;
	case QA_ROUND_HALF_EVEN:
		/* Parity of q through a (defined) conversion to unsigned. */
		inc = above || (tie && ((uint64_t)q & 1u));
		break;
	case QA_ROUND_FLOOR:
	default:
		inc = 0;
		break;
	}
	/* q <= 2^(63-s) - 1 for s >= 1, so q + 1 cannot overflow. */
	return q + inc;
}

/*
 * lo and hi are first limited to the int8 range so the result is always a
 * valid int8. If lo > hi (which qa_gemm_validate rejects) the comparisons run
 * in the RTL's order: below lo gives lo, otherwise above hi gives hi.
 */
int8_t qa_ref_requant(int64_t t, unsigned s, qa_round mode, int lo, int hi,
		      int *saturated)
{
	int64_t r = qa_ref_round_shift(t, s, mode);
	int64_t y;
	int sat = 1;

	if (lo < INT8_MIN)
		lo = INT8_MIN;
	if (lo > INT8_MAX)
		lo = INT8_MAX;
	if (hi < INT8_MIN)
		hi = INT8_MIN;
	if (hi > INT8_MAX)
		hi = INT8_MAX;

	if (r < lo) {
		y = lo;
	} else if (r > hi) {
		y = hi;
	} else {
		y = r;
		sat = 0;
	}
	if (saturated)
		*saturated = sat;
	return (int8_t)y; /* in [-128, 127]: the conversion is exact */
}

int qa_gemm_validate(const qa_gemm_desc *d)
{
	if (!d || !d->x || !d->w || !d->shift)
		return QA_ERR_INVALID;
	if (d->m == 0 || d->k == 0 || d->n == 0)
		return QA_ERR_INVALID;
	/* Every element count the model or a transport forms must fit size_t. */
	if (d->m > SIZE_MAX / d->k || d->k > SIZE_MAX / d->n ||
	    d->m > SIZE_MAX / d->n)
		return QA_ERR_INVALID;
	if ((uint64_t)d->k > REF_K_LIMIT)
		return QA_ERR_INVALID;
	switch (d->round) {
	case QA_ROUND_FLOOR:
	case QA_ROUND_HALF_UP:
	case QA_ROUND_HALF_AWAY:
	case QA_ROUND_HALF_EVEN:
		break;
	default:
		return QA_ERR_INVALID;
	}
	if (d->lo < INT8_MIN || d->lo > INT8_MAX || d->hi < INT8_MIN ||
	    d->hi > INT8_MAX || d->lo > d->hi)
		return QA_ERR_INVALID;
	for (size_t j = 0; j < d->n; j++) {
		if (d->shift[j] > QA_SHIFT_MAX)
			return QA_ERR_INVALID;
	}
	return QA_OK;
}

int qa_ref_gemm(const qa_gemm_desc *d, int8_t *y, uint64_t *saturated)
{
	uint64_t nsat = 0;
	int rc;

	rc = qa_gemm_validate(d);
	if (rc != QA_OK)
		return rc;
	if (!y)
		return QA_ERR_INVALID;

	for (size_t i = 0; i < d->m; i++) {
		const int8_t *xrow = d->x + i * d->k;

		for (size_t j = 0; j < d->n; j++) {
			int64_t acc = 0;
			int64_t t;
			int sat;

			/* |product| <= 2^14 and K <= 2^48: no overflow. */
			for (size_t kk = 0; kk < d->k; kk++)
				acc += (int64_t)xrow[kk] * d->w[kk * d->n + j];
			t = acc + (d->bias ? d->bias[j] : 0);
			y[i * d->n + j] = qa_ref_requant(t, d->shift[j], d->round,
							 d->lo, d->hi, &sat);
			nsat += (uint64_t)sat;
		}
	}
	if (saturated)
		*saturated = nsat;
	return QA_OK;
}

/* ---- networks: a chain of golden GEMMs ---------------------------------- */

/* the GEMM descriptor of layer l applied to m rows of x */
static qa_gemm_desc layer_desc(const qa_net *net, unsigned l, size_t m,
			       const int8_t *x)
{
	const qa_layer *L = &net->layers[l];
	qa_gemm_desc d = { .m = m, .k = L->k, .n = L->n, .x = x, .w = L->w,
			   .bias = L->bias, .shift = L->shift,
			   .round = net->round, .lo = L->lo, .hi = L->hi };
	return d;
}

int qa_net_validate(const qa_net *net)
{
	if (!net || !net->layers || net->nlayers == 0)
		return QA_ERR_INVALID;
	for (unsigned l = 0; l < net->nlayers; l++) {
		/* a one-row GEMM checks the layer's own fields; x is not read */
		static const int8_t probe[1];
		qa_gemm_desc d = layer_desc(net, l, 1, probe);
		int rc = qa_gemm_validate(&d);
		if (rc != QA_OK)
			return rc;
		if (l + 1 < net->nlayers &&
		    net->layers[l + 1].k != net->layers[l].n)
			return QA_ERR_INVALID;
	}
	return QA_OK;
}

int qa_ref_net(const qa_net *net, size_t m, const int8_t *x, int8_t *y,
	       uint64_t *saturated)
{
	int8_t *bufs[2] = { NULL, NULL };
	uint64_t total = 0;
	int rc = qa_net_validate(net);
	if (rc != QA_OK)
		return rc;
	if (!x || !y || m == 0)
		return QA_ERR_INVALID;
	size_t widest = 0;
	for (unsigned l = 0; l + 1 < net->nlayers; l++) {
		if (net->layers[l].n > SIZE_MAX / m)
			return QA_ERR_INVALID;
		if (net->layers[l].n > widest)
			widest = net->layers[l].n;
	}
	for (int i = 0; i < 2 && widest; i++) {
		bufs[i] = malloc(m * widest);
		if (!bufs[i]) {
			rc = QA_ERR_NOMEM;
			goto out;
		}
	}
	const int8_t *in = x;
	for (unsigned l = 0; l < net->nlayers; l++) {
		int8_t *o = (l + 1 == net->nlayers) ? y : bufs[l & 1];
		qa_gemm_desc d = layer_desc(net, l, m, in);
		uint64_t sat = 0;
		rc = qa_ref_gemm(&d, o, &sat);
		if (rc != QA_OK)
			goto out;
		total += sat;
		in = o;
	}
	if (saturated)
		*saturated = total;
out:
	free(bufs[0]);
	free(bufs[1]);
	return rc;
}
