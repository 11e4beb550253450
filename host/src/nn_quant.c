/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_quant.c - power-of-two int8 quantization of float MLPs, the golden int8
 * inference of a quantized model, and the per-layer error report.
 *
 * Every step is 2^k for an integer k, so x ~ x_q * 2^k and a layer's
 * requantization is the shift s = k_out - k_in - k_w of docs/numerics.md.
 * The rules (docs/models.md, "Quantization"):
 *
 *   weights    k_w = the smallest k with max|w| / 2^k <= 2^(bits-1) - 1
 *              (per tensor or per output column: nothing is clipped), then
 *              w_q = round(w / 2^k_w), nearest, ties away from zero
 *   bias       b_q = round(b / 2^(k_in + k_w)), an int32 or an error
 *   inputs and activations
 *              k from calibration data: max (no clipping of max|a|),
 *              percentile (no clipping of that percentile of |a|) or mse
 *              (least squared error over a window of k, clipping included)
 *   floor      the naive baseline: every exponent -7 (Q0.7), floor
 *              everywhere, no look at the data at all
 *
 * Conversions between float and integers go through double: a float is
 * exact in a double, ldexp is exact in the range used here, and rounding is
 * written out, so the results do not depend on the FPU's rounding mode.
 * The golden inference calls qa_ref_gemm once per layer and does nothing
 * else to the numbers, so the integer contract lives only in ref.c.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"
#include "qarray_nn.h"

#define FLOOR_EXP (-7)           /* the baseline's fixed Q0.7 step */
#define DEFAULT_PERCENTILE 99.99
#define DEFAULT_MSE_WINDOW 8
#define MSE_WINDOW_MAX 32

void qa_nn_quant_opts_init(qa_nn_quant_opts *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof(*o));
	o->method = QA_NN_MAX;
	o->per_channel = 0;
	o->round = QA_ROUND_HALF_UP;
	o->percentile = DEFAULT_PERCENTILE;
	o->mse_window = DEFAULT_MSE_WINDOW;
	o->weight_bits = 8;
	o->fit_shifts = 0;
}

/* ---- building blocks --------------------------------------------------------- */

int qa_nn_exponent(double maxabs, int qmax, int *k)
{
	int e;

	if (!k || qmax < 1 || !isfinite(maxabs) || !(maxabs > 0.0))
		return QA_ERR_INVALID;
	/* a guess from frexp (maxabs = f * 2^e, 0.5 <= f < 1), then exact
	 * corrections with ldexp, which only moves the exponent */
	frexp(maxabs / qmax, &e);
	while (ldexp(maxabs, -e) > qmax)
		e++;
	while (ldexp(maxabs, -(e - 1)) <= qmax)
		e--;
	if (e < QA_NN_EXP_MIN || e > QA_NN_EXP_MAX)
		return QA_ERR_RANGE;
	*k = e;
	return QA_OK;
}

int qa_nn_quantize_value(double v, int k, qa_round mode, int lo, int hi,
			 int *saturated)
{
	double x, r;
	int sat = 0, out;

	if (saturated)
		*saturated = 0;
	if (isnan(v))
		return lo <= 0 && hi >= 0 ? 0 : lo;
	x = ldexp(v, -k);
	/* far outside the range: no rounding needed (and none could be exact
	 * for huge values) */
	if (x >= (double)hi + 1.0) {
		r = (double)hi + 1.0;
	} else if (x <= (double)lo - 1.0) {
		r = (double)lo - 1.0;
	} else {
		switch (mode) {
		case QA_ROUND_FLOOR:
			r = floor(x);
			break;
		case QA_ROUND_HALF_UP:
			r = floor(x + 0.5); /* exact: |x| < 2^10 here */
			break;
		case QA_ROUND_HALF_EVEN:
			r = floor(x);
			if (x - r > 0.5 ||
			    (x - r == 0.5 && fmod(r, 2.0) != 0.0))
				r += 1.0;
			break;
		case QA_ROUND_HALF_AWAY:
		default:
			r = round(x);
			break;
		}
	}
	if (r < lo) {
		out = lo;
		sat = 1;
	} else if (r > hi) {
		out = hi;
		sat = 1;
	} else {
		out = (int)r;
	}
	if (saturated)
		*saturated = sat;
	return out;
}

int qa_nn_weight_exponents(const float *w, size_t k, size_t n,
			   int per_channel, unsigned weight_bits, int *kw)
{
	int qmax, rc;

	if (!w || !kw || k == 0 || n == 0 || weight_bits < 2 ||
	    weight_bits > 8)
		return QA_ERR_INVALID;
	qmax = (1 << (weight_bits - 1)) - 1;
	if (!per_channel) {
		double mx = 0.0;
		int e = QA_NN_EXP_ANY;

		for (size_t i = 0; i < k * n; i++) {
			if (!isfinite(w[i]))
				return QA_ERR_INVALID;
			if (fabs(w[i]) > mx)
				mx = fabs(w[i]);
		}
		if (mx > 0.0) {
			rc = qa_nn_exponent(mx, qmax, &e);
			if (rc != QA_OK)
				return rc;
		}
		for (size_t j = 0; j < n; j++)
			kw[j] = e;
		return QA_OK;
	}
	for (size_t j = 0; j < n; j++) {
		double mx = 0.0;

		for (size_t i = 0; i < k; i++) {
			float v = w[i * n + j];

			if (!isfinite(v))
				return QA_ERR_INVALID;
			if (fabs(v) > mx)
				mx = fabs(v);
		}
		kw[j] = QA_NN_EXP_ANY;
		if (mx > 0.0) {
			rc = qa_nn_exponent(mx, qmax, &kw[j]);
			if (rc != QA_OK)
				return rc;
		}
	}
	return QA_OK;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* sum of squared errors of quantizing a with step 2^k into lo..hi */
static double sq_error(const float *a, size_t count, int k, int lo, int hi)
{
	double step = ldexp(1.0, k), sum = 0.0;

	for (size_t i = 0; i < count; i++) {
		int q = qa_nn_quantize_value(a[i], k, QA_ROUND_HALF_AWAY, lo,
					     hi, NULL);
		double e = (double)a[i] - q * step;

		sum += e * e;
	}
	return sum;
}

int qa_nn_calibrate(const float *a, size_t count, int lo, int hi,
		    const qa_nn_quant_opts *o, int *k)
{
	double mx = 0.0;
	int kmax, rc;

	if (!a || !o || !k || count == 0 || lo > 0 || hi < 1 || lo < -128 ||
	    hi > 127)
		return QA_ERR_INVALID;
	if (o->method == QA_NN_FLOOR) {
		*k = FLOOR_EXP;
		return QA_OK;
	}
	for (size_t i = 0; i < count; i++) {
		if (!isfinite(a[i]))
			return QA_ERR_INVALID;
		if (fabs(a[i]) > mx)
			mx = fabs(a[i]);
	}
	if (mx == 0.0)
		return QA_ERR_RANGE;
	rc = qa_nn_exponent(mx, hi, &kmax);
	if (rc != QA_OK)
		return rc;

	switch (o->method) {
	case QA_NN_MAX:
		*k = kmax;
		return QA_OK;
	case QA_NN_PERCENTILE: {
		float *abs_a;
		double pos;
		size_t idx;
		float v;

		if (!(o->percentile > 0.0 && o->percentile <= 100.0))
			return QA_ERR_INVALID;
		abs_a = malloc(count * sizeof(float));
		if (!abs_a)
			return QA_ERR_NOMEM;
		for (size_t i = 0; i < count; i++)
			abs_a[i] = fabsf(a[i]);
		qsort(abs_a, count, sizeof(float), cmp_float);
		/* the smallest value with at least p% of all at or below it
		 * (nearest rank; the tolerance keeps p * count / 100 that is
		 * an integer on paper from rounding up in binary) */
		pos = o->percentile * (double)count / 100.0;
		pos = ceil(pos - pos * 1e-12);
		idx = pos < 1.0 ? 0 : (size_t)pos - 1;
		if (idx >= count)
			idx = count - 1;
		v = abs_a[idx];
		free(abs_a);
		if (v == 0.0f) {    /* mostly zeros: fall back to max */
			*k = kmax;
			return QA_OK;
		}
		return qa_nn_exponent(v, hi, k);
	}
	case QA_NN_MSE: {
		double best = 0.0;
		int kbest = kmax;

		if (o->mse_window < 1 || o->mse_window > MSE_WINDOW_MAX)
			return QA_ERR_INVALID;
		/* from kmax down: a finer step wins only if strictly better */
		for (int e = kmax; e >= kmax - (int)o->mse_window &&
				   e >= QA_NN_EXP_MIN; e--) {
			double err = sq_error(a, count, e, lo, hi);

			if (e == kmax || err < best) {
				best = err;
				kbest = e;
			}
		}
		*k = kbest;
		return QA_OK;
	}
	default:
		return QA_ERR_INVALID;
	}
}

/* ---- quantizing a model ---------------------------------------------------------- */

static int check_opts(const qa_nn_quant_opts *o, char *errbuf, size_t errlen)
{
	if (!qa_nn_method_name(o->method))
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "unknown calibration method %d",
				   (int)o->method);
	if (!qa_round_name(o->round))
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "unknown rounding mode %d", (int)o->round);
	if (o->per_channel != 0 && o->per_channel != 1)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "per_channel must be 0 or 1");
	if (o->fit_shifts != 0 && o->fit_shifts != 1)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "fit_shifts must be 0 or 1");
	if (o->weight_bits < 2 || o->weight_bits > 8)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "weight bits %u outside 2..8",
				   o->weight_bits);
	if (o->method == QA_NN_PERCENTILE &&
	    !(o->percentile > 0.0 && o->percentile <= 100.0))
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "percentile %g outside (0, 100]",
				   o->percentile);
	if (o->method == QA_NN_MSE &&
	    (o->mse_window < 1 || o->mse_window > MSE_WINDOW_MAX))
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "mse window %u outside 1..%d", o->mse_window,
				   MSE_WINDOW_MAX);
	return QA_OK;
}

static int all_zero(const float *a, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (a[i] != 0.0f)
			return 0;
	return 1;
}

/* Free an array of nlayers float buffers. */
static void free_bufs(float **bufs, unsigned n)
{
	if (!bufs)
		return;
	for (unsigned l = 0; l < n; l++)
		free(bufs[l]);
	free(bufs);
}

/* Float forward of rows inputs keeping every layer's output. */
static int float_layers(const qa_fmodel *fm, size_t rows, const float *x,
			float ***outs)
{
	float **b = calloc(fm->nlayers, sizeof(float *));

	*outs = NULL;
	if (!b)
		return QA_ERR_NOMEM;
	for (unsigned l = 0; l < fm->nlayers; l++) {
		size_t n = fm->layers[l].out;

		if (n > SIZE_MAX / sizeof(float) / rows ||
		    !(b[l] = malloc(rows * n * sizeof(float)))) {
			free_bufs(b, fm->nlayers);
			return QA_ERR_NOMEM;
		}
	}
	if (qa_nni_fforward_layers(fm, rows, x, b) != QA_OK) {
		free_bufs(b, fm->nlayers);
		return QA_ERR_NOMEM;
	}
	*outs = b;
	return QA_OK;
}

/* What to try when a shift would be negative. */
static const char *negative_shift_hint(const qa_nn_quant_opts *o)
{
	if (o->method == QA_NN_FLOOR)
		return "the floor baseline's fixed steps do not suit this "
		       "model; use another --method";
	if (!o->per_channel && o->method != QA_NN_MAX)
		return "try --per-channel (a finer weight step for this "
		       "column), --method max (a coarser output step) or "
		       "--fit-shifts (the output step of the accumulator)";
	if (!o->per_channel)
		return "try --per-channel (a finer weight step for this "
		       "column) or --fit-shifts (the output step of the "
		       "accumulator)";
	if (o->method != QA_NN_MAX)
		return "try --method max (a coarser output step) or "
		       "--fit-shifts (the output step of the accumulator)";
	return "try --fit-shifts, which gives the layer the output step of "
	       "its coarsest accumulator, or more weight bits";
}

static const char *bias_hint(const qa_nn_quant_opts *o)
{
	if (o->per_channel)
		return "try per-tensor weight exponents (without "
		       "--per-channel: a coarser weight step for this column)";
	if (o->method != QA_NN_MAX)
		return "try --method max (a coarser input step for the layer)";
	return "the bias is far larger than the layer's inputs times its "
	       "weights; retrain with weight decay or rescale the layer";
}

int qa_nn_quantize(const qa_fmodel *fm, size_t rows, const float *calib,
		   const qa_nn_quant_opts *o, qa_qmodel *qm, char *errbuf,
		   size_t errlen)
{
	qa_nn_quant_opts defaults;
	size_t dims[QA_NN_MAX_LAYERS + 1];
	float **acts = NULL;
	int floor_method, wqmax, wqmin, k_in, rc;
	qa_round wround;

	if (!qm)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "no output model");
	memset(qm, 0, sizeof(*qm));
	if (!o) {
		qa_nn_quant_opts_init(&defaults);
		o = &defaults;
	}
	rc = check_opts(o, errbuf, errlen);
	if (rc != QA_OK)
		return rc;
	rc = qa_fmodel_validate(fm, errbuf, errlen);
	if (rc != QA_OK)
		return rc;
	if (!calib || rows == 0)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "no calibration data");
	if (fm->layers[0].in > SIZE_MAX / sizeof(float) / rows)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "calibration data too large");
	for (size_t i = 0; i < rows * fm->layers[0].in; i++)
		if (!isfinite(calib[i]))
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "calibration value [%zu, %zu] is not "
					   "finite", i / fm->layers[0].in,
					   i % fm->layers[0].in);

	floor_method = o->method == QA_NN_FLOOR;
	wround = floor_method ? QA_ROUND_FLOOR : QA_ROUND_HALF_AWAY;
	wqmax = (1 << (o->weight_bits - 1)) - 1;
	/* nearest rounding of a no-clip step never reaches -2^(bits-1);
	 * floor can, and the baseline keeps it */
	wqmin = floor_method ? -wqmax - 1 : -wqmax;

	dims[0] = fm->layers[0].in;
	for (unsigned l = 0; l < fm->nlayers; l++)
		dims[l + 1] = fm->layers[l].out;
	rc = qa_qmodel_init(qm, fm->nlayers, dims);
	if (rc != QA_OK)
		return qa_nni_fail(errbuf, errlen, rc, "%s", qa_strerror(rc));
	qm->round = floor_method ? QA_ROUND_FLOOR : o->round;
	qm->in_round = wround;
	qm->method = o->method;
	qm->per_channel = o->per_channel;
	qm->weight_bits = o->weight_bits;

	rc = float_layers(fm, rows, calib, &acts);
	if (rc != QA_OK) {
		qa_nni_fail(errbuf, errlen, rc, "%s", qa_strerror(rc));
		goto out;
	}
	rc = qa_nn_calibrate(calib, rows * fm->layers[0].in, -128, 127, o,
			     &k_in);
	if (rc != QA_OK) {
		qa_nni_fail(errbuf, errlen, rc, "input: %s",
			    rc != QA_ERR_RANGE ? qa_strerror(rc) :
			    all_zero(calib, rows * fm->layers[0].in) ?
			    "every calibration value is 0" :
			    "the values are too small or too large for a "
			    "power-of-two step 2^-100..2^100");
		goto out;
	}
	qm->k_in = k_in;

	for (unsigned l = 0; l < fm->nlayers; l++) {
		const qa_flayer *F = &fm->layers[l];
		qa_qlayer *L = &qm->layers[l];
		int k_out, kw_hi = QA_NN_EXP_ANY;

		L->k_in = k_in;
		L->lo = F->relu ? 0 : -128;
		L->hi = 127;
		if (floor_method) {
			for (size_t j = 0; j < L->n; j++)
				L->kw[j] = FLOOR_EXP;
		} else {
			rc = qa_nn_weight_exponents(F->w, F->in, F->out,
						    o->per_channel,
						    o->weight_bits, L->kw);
			if (rc != QA_OK) {
				qa_nni_fail(errbuf, errlen, rc, "layer %u: "
					    "weights too small or too large "
					    "for a power-of-two step", l);
				goto out;
			}
		}
		for (size_t j = 0; j < L->n; j++)
			if (L->kw[j] != QA_NN_EXP_ANY && L->kw[j] > kw_hi)
				kw_hi = L->kw[j];

		rc = qa_nn_calibrate(acts[l], rows * F->out, L->lo, L->hi, o,
				     &k_out);
		if (rc == QA_ERR_RANGE && all_zero(acts[l], rows * F->out)) {
			/* every output 0 on the calibration data (a dead
			 * layer): any step represents it; take the one
			 * that makes the coarsest column's shift 0 */
			k_out = k_in + (kw_hi == QA_NN_EXP_ANY ? 0 : kw_hi);
			if (k_out < QA_NN_EXP_MIN || k_out > QA_NN_EXP_MAX) {
				qa_nni_fail(errbuf, errlen, rc, "layer %u: no "
					    "output step fits", l);
				goto out;
			}
			rc = QA_OK;
		} else if (rc != QA_OK) {
			qa_nni_fail(errbuf, errlen, rc, "layer %u: cannot "
				    "calibrate the outputs: %s", l,
				    qa_strerror(rc));
			goto out;
		}
		/* no finer output than the coarsest accumulator can give */
		if (o->fit_shifts && kw_hi != QA_NN_EXP_ANY &&
		    k_out < k_in + kw_hi) {
			k_out = k_in + kw_hi;
			if (k_out > QA_NN_EXP_MAX) {
				rc = qa_nni_fail(errbuf, errlen, QA_ERR_RANGE,
						 "layer %u: no output step "
						 "fits", l);
				goto out;
			}
		}
		L->k_out = k_out;

		for (size_t j = 0; j < L->n; j++) {
			long s;
			double bq;

			if (L->kw[j] == QA_NN_EXP_ANY)
				L->kw[j] = k_out - k_in;      /* shift 0 */
			s = (long)k_out - k_in - L->kw[j];
			if (s > QA_SHIFT_MAX) {
				/* a column of tiny weights: a coarser step
				 * (no clipping) that brings s to 31 */
				L->kw[j] = k_out - k_in - QA_SHIFT_MAX;
				s = QA_SHIFT_MAX;
			}
			if (s < 0) {
				rc = qa_nni_fail(errbuf, errlen, QA_ERR_RANGE,
						 "layer %u column %zu: shift "
						 "k_out - k_in - k_w = %d - %d "
						 "- %d = %ld is negative (the "
						 "output step 2^%d is finer than "
						 "the accumulator step 2^%d); %s",
						 l, j, k_out, k_in, L->kw[j], s,
						 k_out, k_in + L->kw[j],
						 negative_shift_hint(o));
				goto out;
			}
			if (L->kw[j] < QA_NN_EXP_MIN ||
			    L->kw[j] > QA_NN_EXP_MAX) {
				rc = qa_nni_fail(errbuf, errlen, QA_ERR_RANGE,
						 "layer %u column %zu: weight "
						 "exponent %d outside %d..%d",
						 l, j, L->kw[j], QA_NN_EXP_MIN,
						 QA_NN_EXP_MAX);
				goto out;
			}
			L->shift[j] = (uint8_t)s;

			for (size_t i = 0; i < L->k; i++)
				L->w[i * L->n + j] = (int8_t)
					qa_nn_quantize_value(
						F->w[i * L->n + j], L->kw[j],
						wround, wqmin, wqmax, NULL);

			bq = ldexp((double)F->b[j], -(k_in + L->kw[j]));
			bq = floor_method ? floor(bq) : round(bq);
			if (!(bq >= (double)INT32_MIN &&
			      bq <= (double)INT32_MAX)) {
				rc = qa_nni_fail(errbuf, errlen, QA_ERR_RANGE,
						 "layer %u column %zu: bias %g "
						 "is %.4g steps of the "
						 "accumulator scale 2^%d, "
						 "beyond int32; %s", l, j,
						 (double)F->b[j], bq,
						 k_in + L->kw[j], bias_hint(o));
				goto out;
			}
			L->bias[j] = (int32_t)bq;
		}
		k_in = k_out;
	}
	rc = qa_qmodel_validate(qm, errbuf, errlen);
out:
	free_bufs(acts, fm->nlayers);
	if (rc != QA_OK)
		qa_qmodel_free(qm);
	return rc;
}

int qa_nn_quantize_input(const qa_qmodel *m, size_t count, const float *x,
			 int8_t *xq, uint64_t *saturated)
{
	uint64_t nsat = 0;

	if (!m || (count && (!x || !xq)) || !qa_round_name(m->in_round) ||
	    m->k_in < QA_NN_EXP_MIN || m->k_in > QA_NN_EXP_MAX)
		return QA_ERR_INVALID;
	for (size_t i = 0; i < count; i++)
		if (!isfinite(x[i]))
			return QA_ERR_INVALID;
	for (size_t i = 0; i < count; i++) {
		int sat;

		xq[i] = (int8_t)qa_nn_quantize_value(x[i], m->k_in,
						     m->in_round, -128, 127,
						     &sat);
		nsat += (uint64_t)sat;
	}
	if (saturated)
		*saturated = nsat;
	return QA_OK;
}

/* ---- golden int8 inference --------------------------------------------------------- */

/* One qa_ref_gemm per layer; outs[l] must differ from outs[l - 1]. */
static int ref_chain(const qa_qmodel *m, size_t rows, const int8_t *x,
		     int8_t *const *outs, uint64_t *saturated)
{
	int rc = qa_qmodel_validate(m, NULL, 0);

	if (rc != QA_OK)
		return rc;
	if (rows == 0 || !x || !outs)
		return QA_ERR_INVALID;
	for (unsigned l = 0; l < m->nlayers; l++) {
		const qa_qlayer *L = &m->layers[l];
		qa_gemm_desc d;
		uint64_t sat = 0;

		if (!outs[l] || L->n > SIZE_MAX / rows)
			return QA_ERR_INVALID;
		memset(&d, 0, sizeof(d));
		d.m = rows;
		d.k = L->k;
		d.n = L->n;
		d.x = l ? outs[l - 1] : x;
		d.w = L->w;
		d.bias = L->bias;
		d.shift = L->shift;
		d.round = m->round;
		d.lo = L->lo;
		d.hi = L->hi;
		rc = qa_ref_gemm(&d, outs[l], &sat);
		if (rc != QA_OK)
			return rc;
		if (saturated)
			saturated[l] = sat;
	}
	return QA_OK;
}

int qa_nn_ref_layers(const qa_qmodel *m, size_t rows, const int8_t *x,
		     int8_t *const *outs, uint64_t *saturated)
{
	return ref_chain(m, rows, x, outs, saturated);
}

int qa_nn_net_view(const qa_qmodel *m, qa_layer *layers, qa_net *net)
{
	int rc = qa_qmodel_validate(m, NULL, 0);

	if (rc != QA_OK)
		return rc;
	if (!layers || !net)
		return QA_ERR_INVALID;
	for (unsigned l = 0; l < m->nlayers; l++) {
		const qa_qlayer *L = &m->layers[l];

		memset(&layers[l], 0, sizeof(layers[l]));
		layers[l].k = L->k;
		layers[l].n = L->n;
		layers[l].w = L->w;
		layers[l].bias = L->bias;
		layers[l].shift = L->shift;
		layers[l].lo = L->lo;
		layers[l].hi = L->hi;
	}
	memset(net, 0, sizeof(*net));
	net->nlayers = m->nlayers;
	net->layers = layers;
	net->round = m->round;
	return QA_OK;
}

int qa_nn_ref_forward(const qa_qmodel *m, size_t rows, const int8_t *x,
		      int8_t *logits, uint64_t *saturated)
{
	int8_t *outs[QA_NN_MAX_LAYERS];
	int8_t *bufs[2] = { NULL, NULL };
	size_t widest = 0;
	int rc = qa_qmodel_validate(m, NULL, 0);

	if (rc != QA_OK)
		return rc;
	if (rows == 0 || !x || !logits)
		return QA_ERR_INVALID;
	for (unsigned l = 0; l + 1 < m->nlayers; l++)
		if (m->layers[l].n > widest)
			widest = m->layers[l].n;
	if (widest > SIZE_MAX / rows)
		return QA_ERR_INVALID;
	for (int i = 0; i < 2 && widest; i++) {
		bufs[i] = malloc(rows * widest);
		if (!bufs[i]) {
			rc = QA_ERR_NOMEM;
			goto out;
		}
	}
	for (unsigned l = 0; l < m->nlayers; l++)
		outs[l] = l + 1 == m->nlayers ? logits : bufs[l & 1];
	rc = ref_chain(m, rows, x, outs, saturated);
out:
	free(bufs[0]);
	free(bufs[1]);
	return rc;
}

/* ---- error report -------------------------------------------------------------------- */

static double snr_db(double signal, double noise)
{
	if (noise == 0.0)
		return QA_NN_SNR_EXACT;
	if (signal == 0.0)
		return -QA_NN_SNR_EXACT;
	return 10.0 * log10(signal / noise);
}

/*
 * How many outputs of layer l have a rounded value below its lo (for a ReLU
 * layer: the negative ones). The same GEMM with the clamp lowered to
 * lo - 1 maps exactly those to lo - 1, so qa_ref_gemm counts them without
 * any integer arithmetic here.
 */
static int count_below_lo(const qa_qmodel *m, unsigned l, size_t rows,
			  const int8_t *x, uint64_t *below)
{
	const qa_qlayer *L = &m->layers[l];
	qa_gemm_desc d;
	int8_t *y = malloc(rows * L->n);
	uint64_t sat;
	int rc;

	*below = 0;
	if (!y)
		return QA_ERR_NOMEM;
	memset(&d, 0, sizeof(d));
	d.m = rows;
	d.k = L->k;
	d.n = L->n;
	d.x = x;
	d.w = L->w;
	d.bias = L->bias;
	d.shift = L->shift;
	d.round = m->round;
	d.lo = L->lo - 1;
	d.hi = L->hi;
	rc = qa_ref_gemm(&d, y, &sat);
	for (size_t i = 0; rc == QA_OK && i < rows * L->n; i++)
		*below += y[i] == d.lo;
	free(y);
	return rc;
}

int qa_nn_report_compute(const qa_fmodel *fm, const qa_qmodel *qm,
			 size_t rows, const float *x, qa_nn_report *rep,
			 char *errbuf, size_t errlen)
{
	float **facts = NULL;
	int8_t *qacts[QA_NN_MAX_LAYERS];
	int8_t *xq = NULL;
	uint64_t sat[QA_NN_MAX_LAYERS];
	unsigned nl;
	size_t din;
	double ps = 0.0, pe = 0.0;
	qa_round wround;
	int wlo, whi, rc;

	memset(qacts, 0, sizeof(qacts));
	if (!rep)
		return QA_ERR_INVALID;
	memset(rep, 0, sizeof(*rep));
	rc = qa_fmodel_validate(fm, errbuf, errlen);
	if (rc == QA_OK)
		rc = qa_qmodel_validate(qm, errbuf, errlen);
	if (rc != QA_OK)
		return rc;
	if (!x || rows == 0)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID, "no data");
	nl = fm->nlayers;
	if (qm->nlayers != nl)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "the float model has %u layers, the int8 "
				   "model %u", nl, qm->nlayers);
	for (unsigned l = 0; l < nl; l++)
		if (fm->layers[l].in != qm->layers[l].k ||
		    fm->layers[l].out != qm->layers[l].n)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "layer %u is %zu x %zu in the float "
					   "model but %zu x %zu in the int8 "
					   "model", l, fm->layers[l].in,
					   fm->layers[l].out, qm->layers[l].k,
					   qm->layers[l].n);
	din = fm->layers[0].in;
	if (din > SIZE_MAX / sizeof(float) / rows)
		return QA_ERR_INVALID;
	for (size_t i = 0; i < rows * din; i++)
		if (!isfinite(x[i]))
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "input [%zu, %zu] is not finite",
					   i / din, i % din);

	rc = float_layers(fm, rows, x, &facts);
	xq = malloc(rows * din);
	if (rc != QA_OK || !xq) {
		rc = qa_nni_fail(errbuf, errlen, QA_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (unsigned l = 0; l < nl; l++) {
		qacts[l] = malloc(rows * qm->layers[l].n);
		if (!qacts[l]) {
			rc = qa_nni_fail(errbuf, errlen, QA_ERR_NOMEM,
					 "out of memory");
			goto out;
		}
	}
	rc = qa_nn_quantize_input(qm, rows * din, x, xq, &rep->in_saturated);
	if (rc == QA_OK)
		rc = ref_chain(qm, rows, xq, qacts, sat);
	if (rc != QA_OK) {
		qa_nni_fail(errbuf, errlen, rc, "int8 inference failed: %s",
			    qa_strerror(rc));
		goto out;
	}

	rep->rows = rows;
	rep->nlayers = nl;
	rep->k_in = qm->k_in;
	rep->in_values = rows * din;
	for (size_t i = 0; i < rows * din; i++) {
		double e = (double)x[i] - ldexp(xq[i], qm->k_in);

		ps += (double)x[i] * x[i];
		pe += e * e;
	}
	rep->in_snr_db = snr_db(ps, pe);

	wround = qm->method == QA_NN_FLOOR ? QA_ROUND_FLOOR :
					     QA_ROUND_HALF_AWAY;
	whi = (1 << (qm->weight_bits - 1)) - 1;
	wlo = qm->method == QA_NN_FLOOR ? -whi - 1 : -whi;
	for (unsigned l = 0; l < nl; l++) {
		const qa_flayer *F = &fm->layers[l];
		const qa_qlayer *L = &qm->layers[l];
		qa_nn_layer_report *R = &rep->layers[l];
		double sum_abs = 0.0;

		R->k = L->k;
		R->n = L->n;
		R->k_in = L->k_in;
		R->k_out = L->k_out;
		R->kw_min = R->kw_max = L->kw[0];
		R->shift_min = R->shift_max = L->shift[0];
		for (size_t j = 0; j < L->n; j++) {
			if (L->kw[j] < R->kw_min)
				R->kw_min = L->kw[j];
			if (L->kw[j] > R->kw_max)
				R->kw_max = L->kw[j];
			if (L->shift[j] < R->shift_min)
				R->shift_min = L->shift[j];
			if (L->shift[j] > R->shift_max)
				R->shift_max = L->shift[j];
		}
		ps = pe = 0.0;
		for (size_t i = 0; i < L->k * L->n; i++) {
			int kw = L->kw[i % L->n], clipped;
			double e = (double)F->w[i] - ldexp(L->w[i], kw);

			ps += (double)F->w[i] * F->w[i];
			pe += e * e;
			qa_nn_quantize_value(F->w[i], kw, wround, wlo, whi,
					     &clipped);
			R->w_clipped += (uint64_t)clipped;
		}
		R->w_snr_db = snr_db(ps, pe);

		ps = pe = 0.0;
		for (size_t i = 0; i < rows * L->n; i++) {
			double f = facts[l][i];
			double e = fabs(f - ldexp(qacts[l][i], L->k_out));

			ps += f * f;
			pe += e * e;
			sum_abs += e;
			if (e > R->max_abs_err)
				R->max_abs_err = e;
			if (fabs(f) > R->float_max_abs)
				R->float_max_abs = fabs(f);
		}
		R->snr_db = snr_db(ps, pe);
		R->mean_abs_err = sum_abs / (double)(rows * L->n);
		R->outputs = rows * L->n;
		R->clamped = sat[l];
		R->saturated = sat[l];
		if (L->lo > -128) {
			uint64_t below;

			rc = count_below_lo(qm, l, rows, l ? qacts[l - 1] : xq,
					    &below);
			if (rc != QA_OK) {
				qa_nni_fail(errbuf, errlen, rc, "%s",
					    qa_strerror(rc));
				goto out;
			}
			R->saturated -= below;
		}
	}
	for (size_t r = 0; r < rows; r++) {
		size_t c = fm->layers[nl - 1].out;

		if (qa_nn_argmax_f32(facts[nl - 1] + r * c, c) ==
		    qa_nn_argmax_i8(qacts[nl - 1] + r * c, c))
			rep->agree++;
	}
	rep->bytes_float = qa_fmodel_param_bytes(fm);
	rep->bytes_int8 = qa_qmodel_file_bytes(qm);
	rc = QA_OK;
out:
	free_bufs(facts, nl);
	for (unsigned l = 0; l < QA_NN_MAX_LAYERS; l++)
		free(qacts[l]);
	free(xq);
	return rc;
}
