/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_train.c - a small, deterministic trainer for float MLP classifiers, with
 * optional quantization-aware fine-tuning (docs/models.md, "Training").
 *
 * Model: dense layers, ReLU after every hidden layer, softmax cross-entropy
 * on the last. Optimiser: Adam with decoupled weight decay (AdamW) and a
 * cosine learning-rate decay over the float epochs. Mini-batches follow a
 * shuffled order drawn each epoch from the trainer's own PRNG (xoshiro256**
 * seeded through SplitMix64), so a seed fixes the whole run; nothing reads
 * the clock or rand().
 *
 * Input scaling: the inputs are multiplied by s = 1 / max|x| (over the
 * training set) before the first layer, which keeps He initialisation and
 * Adam's step size meaningful whatever the data's units are (pixel counts,
 * volts, ...). The first layer's parameters V then act on s*x, i.e. the
 * model's real first-layer weights are W = s * V; W is what the trainer
 * fake-quantizes and exports, so the saved model takes x as given.
 *
 * Quantization-aware epochs (qat): the forward pass uses
 *   x   -> fq(x, k_x)              k_x from max|x| over the training set
 *   W_l -> fq(W_l, k_w)            k_w from max|W_l|, per tensor, each step
 *   A_l -> fq(A_l, k_l), clamped   k_l from max|A_l| over the training set,
 *                                  measured at the start of every epoch
 * with fq(v, k) = round(v / 2^k) * 2^k clamped to the int8 range of the
 * layer (0..127 after a ReLU, -128..127 otherwise); gradients pass straight
 * through fq, except where the clamp cut a value off (zero there). The
 * exponents follow the rules of qa_nn_quantize with --method max, and a
 * per-tensor grid is also exact per channel (power-of-two grids nest).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"
#include "qarray_nn.h"

#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-8
#define LR_FLOOR 0.02     /* the cosine decay ends at this fraction of lr */
#define QAT_LR 0.1        /* QAT epochs run at this fraction of lr */

/* ---- the PRNG ---------------------------------------------------------------- */

typedef struct rng {
	uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t v, int k)
{
	return (v << k) | (v >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna) */
static uint64_t rng_next(rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

static void rng_seed(rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

/* uniform in [0, 1) with 53 random bits */
static double rng_uniform(rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* standard normal (Box-Muller; one value per call) */
static double rng_normal(rng *r)
{
	double u = rng_uniform(r), v = rng_uniform(r);

	return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

/* uniform in 0..n-1, n >= 1, without modulo bias */
static size_t rng_below(rng *r, size_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t v;

	do
		v = rng_next(r);
	while (v >= limit);
	return (size_t)(v % n);
}

/* ---- options ------------------------------------------------------------------ */

void qa_train_opts_init(qa_train_opts *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof(*o));
	o->epochs = 40;
	o->batch = 32;
	o->lr = 0.01;
	o->weight_decay = 0.0001;
	o->seed = 1;
	o->qat = 0;
	o->qat_epochs = 0;
	o->qat_weight_bits = 8;
}

/* ---- the network state ---------------------------------------------------------- */

typedef struct tlayer {
	size_t in, out;
	int relu;
	float pscale;        /* W = pscale * V */
	float *v, *b;        /* parameters */
	float *mv, *vv, *mb, *vb; /* Adam moments */
	float *w;            /* effective (maybe fake-quantized) weights */
	float *gw, *gb;      /* gradients of w and b */
	float *z, *a;        /* batch pre-activation and output */
	unsigned char *pass; /* batch: 1 where the gradient flows (ReLU, clamp) */
	int k_act;           /* QAT: output exponent */
} tlayer;

typedef struct trainer {
	unsigned nl;
	tlayer *L;
	size_t batch, widest;
	float *xb;           /* batch input */
	int32_t *lab;        /* batch labels */
	float *da, *dz;      /* batch gradients, widest wide */
	int qat;             /* fake-quantize the input and the weights */
	int qat_act;         /* fake-quantize the layer outputs */
	int k_x;             /* QAT: input exponent */
	unsigned wbits;
} trainer;

static void trainer_free(trainer *t)
{
	for (unsigned l = 0; t->L && l < t->nl; l++) {
		tlayer *L = &t->L[l];

		free(L->v);
		free(L->b);
		free(L->mv);
		free(L->vv);
		free(L->mb);
		free(L->vb);
		free(L->w);
		free(L->gw);
		free(L->gb);
		free(L->z);
		free(L->a);
		free(L->pass);
	}
	free(t->L);
	free(t->xb);
	free(t->lab);
	free(t->da);
	free(t->dz);
	memset(t, 0, sizeof(*t));
}

static int trainer_alloc(trainer *t, unsigned nl, const size_t *dims,
			 size_t batch)
{
	memset(t, 0, sizeof(*t));
	t->L = calloc(nl, sizeof(*t->L));
	if (!t->L)
		return QA_ERR_NOMEM;
	t->nl = nl;
	t->batch = batch;
	for (unsigned l = 0; l <= nl; l++)
		if (dims[l] > t->widest)
			t->widest = dims[l];
	for (unsigned l = 0; l < nl; l++) {
		tlayer *L = &t->L[l];
		size_t nw = dims[l] * dims[l + 1], n = dims[l + 1];

		L->in = dims[l];
		L->out = n;
		L->relu = l + 1 < nl;
		L->pscale = 1.0f;
		L->v = calloc(nw, sizeof(float));
		L->mv = calloc(nw, sizeof(float));
		L->vv = calloc(nw, sizeof(float));
		L->w = calloc(nw, sizeof(float));
		L->gw = calloc(nw, sizeof(float));
		L->b = calloc(n, sizeof(float));
		L->mb = calloc(n, sizeof(float));
		L->vb = calloc(n, sizeof(float));
		L->gb = calloc(n, sizeof(float));
		L->z = calloc(batch * n, sizeof(float));
		L->a = calloc(batch * n, sizeof(float));
		L->pass = calloc(batch * n, 1);
		if (!L->v || !L->mv || !L->vv || !L->w || !L->gw || !L->b ||
		    !L->mb || !L->vb || !L->gb || !L->z || !L->a || !L->pass)
			return QA_ERR_NOMEM;
	}
	t->xb = calloc(batch * dims[0], sizeof(float));
	t->lab = calloc(batch, sizeof(int32_t));
	t->da = calloc(batch * t->widest, sizeof(float));
	t->dz = calloc(batch * t->widest, sizeof(float));
	if (!t->xb || !t->lab || !t->da || !t->dz)
		return QA_ERR_NOMEM;
	return QA_OK;
}

/* fq(v, k) clamped to lo..hi; *clipped set when the clamp acted */
static float fake_quant(float v, int k, int lo, int hi, int *clipped)
{
	int q = qa_nn_quantize_value(v, k, QA_ROUND_HALF_AWAY, lo, hi,
				     clipped);

	return (float)ldexp((double)q, k);
}

/* exponent for max |v| (the max calibration rule); 0 for all-zero data */
static int max_exponent(double mx, int qmax)
{
	int k = 0;

	if (mx > 0.0 && qa_nn_exponent(mx, qmax, &k) != QA_OK)
		k = mx > 1.0 ? QA_NN_EXP_MAX : QA_NN_EXP_MIN;
	return k;
}

/* effective weights of every layer: pscale * V, fake-quantized in QAT */
static void make_weights(trainer *t)
{
	int qmax = (1 << (t->wbits - 1)) - 1;

	for (unsigned l = 0; l < t->nl; l++) {
		tlayer *L = &t->L[l];
		size_t nw = L->in * L->out;
		double mx = 0.0;
		int k;

		for (size_t i = 0; i < nw; i++) {
			L->w[i] = L->pscale * L->v[i];
			if (fabsf(L->w[i]) > mx)
				mx = fabsf(L->w[i]);
		}
		if (!t->qat || mx == 0.0)
			continue;
		k = max_exponent(mx, qmax);
		for (size_t i = 0; i < nw; i++)
			L->w[i] = fake_quant(L->w[i], k, -qmax, qmax, NULL);
	}
}

/* Forward pass of rows inputs (rows <= batch) already in t->xb. */
static void forward(trainer *t, size_t rows)
{
	const float *x = t->xb;

	for (unsigned l = 0; l < t->nl; l++) {
		tlayer *L = &t->L[l];
		int lo = L->relu ? 0 : -128;

		for (size_t r = 0; r < rows; r++) {
			const float *xr = x + r * L->in;
			float *zr = L->z + r * L->out;

			memcpy(zr, L->b, L->out * sizeof(float));
			for (size_t i = 0; i < L->in; i++) {
				const float *wi = L->w + i * L->out;
				float xi = xr[i];

				if (xi == 0.0f)
					continue;
				for (size_t j = 0; j < L->out; j++)
					zr[j] += xi * wi[j];
			}
			for (size_t j = 0; j < L->out; j++) {
				size_t o = r * L->out + j;
				float v = zr[j];
				int pass = 1, clipped = 0;

				if (L->relu && v <= 0.0f) {
					v = 0.0f;
					pass = 0;
				}
				if (t->qat_act) {
					v = fake_quant(v, L->k_act, lo, 127,
						       &clipped);
					if (clipped)
						pass = 0;
				}
				L->a[o] = v;
				L->pass[o] = (unsigned char)pass;
			}
		}
		x = L->a;
	}
}

/*
 * Softmax cross-entropy of the last layer against the labels in t->lab;
 * writes dLoss/dlogits (mean over rows) into t->dz and returns the summed
 * loss; *correct counts the rows whose argmax is the label.
 */
static double loss_grad(trainer *t, size_t rows, size_t *correct)
{
	tlayer *L = &t->L[t->nl - 1];
	double total = 0.0;

	for (size_t r = 0; r < rows; r++) {
		const float *zr = L->a + r * L->out;
		float *g = t->dz + r * L->out;
		double mx = zr[0], sum = 0.0, lse;
		size_t y = (size_t)t->lab[r];

		for (size_t j = 1; j < L->out; j++)
			if (zr[j] > mx)
				mx = zr[j];
		for (size_t j = 0; j < L->out; j++)
			sum += exp((double)zr[j] - mx);
		lse = mx + log(sum);
		total += lse - zr[y];
		if (qa_nn_argmax_f32(zr, L->out) == y)
			(*correct)++;
		for (size_t j = 0; j < L->out; j++) {
			double p = exp((double)zr[j] - lse);

			g[j] = (float)((p - (j == y ? 1.0 : 0.0)) /
				       (double)rows);
			/* the logits' fake quantizer: no gradient where its
			 * clamp acted */
			if (!L->pass[r * L->out + j] && !L->relu)
				g[j] = 0.0f;
		}
	}
	return total;
}

/* Backward pass from t->dz (gradient of the last layer's output). */
static void backward(trainer *t, size_t rows)
{
	for (unsigned l = t->nl; l-- > 0;) {
		tlayer *L = &t->L[l];
		const float *x = l ? t->L[l - 1].a : t->xb;

		/* dz holds dLoss/dz of this layer (rows x out) */
		memset(L->gw, 0, L->in * L->out * sizeof(float));
		memset(L->gb, 0, L->out * sizeof(float));
		for (size_t r = 0; r < rows; r++) {
			const float *xr = x + r * L->in;
			const float *gr = t->dz + r * L->out;

			for (size_t j = 0; j < L->out; j++)
				L->gb[j] += gr[j];
			for (size_t i = 0; i < L->in; i++) {
				float xi = xr[i];
				float *gwi = L->gw + i * L->out;

				if (xi == 0.0f)
					continue;
				for (size_t j = 0; j < L->out; j++)
					gwi[j] += xi * gr[j];
			}
		}
		if (l == 0)
			break;
		/* dLoss/da of the layer below, then through its ReLU and
		 * clamp into its dz */
		for (size_t r = 0; r < rows; r++) {
			const float *gr = t->dz + r * L->out;
			float *dar = t->da + r * L->in;

			for (size_t i = 0; i < L->in; i++) {
				const float *wi = L->w + i * L->out;
				float s = 0.0f;

				for (size_t j = 0; j < L->out; j++)
					s += wi[j] * gr[j];
				dar[i] = s;
			}
		}
		{
			const tlayer *P = &t->L[l - 1];

			for (size_t i = 0; i < rows * P->out; i++)
				t->dz[i] = P->pass[i] ? t->da[i] : 0.0f;
		}
	}
}

/* One Adam(W) step with step size lr; gradients of w scale by pscale. */
static void adam_step(trainer *t, double lr, double wd, unsigned long step)
{
	double c1 = 1.0 - pow(ADAM_B1, (double)step);
	double c2 = 1.0 - pow(ADAM_B2, (double)step);

	for (unsigned l = 0; l < t->nl; l++) {
		tlayer *L = &t->L[l];
		size_t nw = L->in * L->out;

		for (size_t i = 0; i < nw; i++) {
			double g = (double)L->gw[i] * L->pscale;
			double m = ADAM_B1 * L->mv[i] + (1.0 - ADAM_B1) * g;
			double v = ADAM_B2 * L->vv[i] +
				   (1.0 - ADAM_B2) * g * g;

			L->mv[i] = (float)m;
			L->vv[i] = (float)v;
			L->v[i] -= (float)(lr * (m / c1) /
					   (sqrt(v / c2) + ADAM_EPS) +
					   lr * wd * L->v[i]);
		}
		for (size_t j = 0; j < L->out; j++) {
			double g = L->gb[j];
			double m = ADAM_B1 * L->mb[j] + (1.0 - ADAM_B1) * g;
			double v = ADAM_B2 * L->vb[j] +
				   (1.0 - ADAM_B2) * g * g;

			L->mb[j] = (float)m;
			L->vb[j] = (float)v;
			L->b[j] -= (float)(lr * (m / c1) /
					   (sqrt(v / c2) + ADAM_EPS));
		}
	}
}

/* Copy rows idx[0..rows-1] of x and y into the batch (the input
 * fake-quantized in QAT). */
static void load_batch(trainer *t, const float *x, const int32_t *y,
		       const size_t *idx, size_t rows)
{
	size_t d = t->L[0].in;

	for (size_t r = 0; r < rows; r++) {
		const float *src = x + idx[r] * d;
		float *dst = t->xb + r * d;

		t->lab[r] = y[idx[r]];
		if (!t->qat) {
			memcpy(dst, src, d * sizeof(float));
			continue;
		}
		for (size_t i = 0; i < d; i++)
			dst[i] = fake_quant(src[i], t->k_x, -128, 127, NULL);
	}
}

/*
 * Pass over the whole set without training: max |output| of every layer
 * (before any fake quantization of that output) into mx (may be NULL), the
 * summed loss into *loss and the correct count into *correct.
 */
static void evaluate(trainer *t, const float *x, const int32_t *y,
		     size_t rows, size_t *idx, double *mx, double *loss,
		     size_t *correct)
{
	*loss = 0.0;
	*correct = 0;
	if (mx)
		for (unsigned l = 0; l < t->nl; l++)
			mx[l] = 0.0;
	for (size_t r0 = 0; r0 < rows; r0 += t->batch) {
		size_t n = rows - r0 < t->batch ? rows - r0 : t->batch;

		for (size_t r = 0; r < n; r++)
			idx[r] = r0 + r;
		load_batch(t, x, y, idx, n);
		forward(t, n);
		for (unsigned l = 0; mx && l < t->nl; l++) {
			const tlayer *L = &t->L[l];

			for (size_t i = 0; i < n * L->out; i++)
				if (fabsf(L->z[i]) > mx[l] &&
				    (!L->relu || L->z[i] > 0.0f))
					mx[l] = fabsf(L->z[i]);
		}
		*loss += loss_grad(t, n, correct);
	}
}

/* Measure the layer outputs with the current (fake-quantized) weights and
 * input, unquantized outputs, and set the QAT output exponents from them
 * (the max calibration rule). */
static void set_act_exponents(trainer *t, const float *x, const int32_t *y,
			      size_t rows, size_t *idx)
{
	double mx[QA_NN_MAX_LAYERS], loss;
	size_t correct;

	t->qat_act = 0;
	make_weights(t);
	evaluate(t, x, y, rows, idx, mx, &loss, &correct);
	for (unsigned l = 0; l < t->nl; l++)
		t->L[l].k_act = max_exponent(mx[l], 127);
	t->qat_act = t->qat;
}

static int check_train_args(size_t rows, size_t dim, const float *x,
			    const int32_t *y, unsigned classes,
			    unsigned nhidden, const size_t *hidden,
			    const qa_train_opts *o, char *errbuf,
			    size_t errlen)
{
	if (!x || !y || rows == 0)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "no training data");
	if (dim == 0 || dim > QA_NN_MAX_DIM)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "%zu features; 1..%d", dim, QA_NN_MAX_DIM);
	if (classes < 2 || classes > QA_NN_MAX_DIM)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "%u classes; need 2..%d (labels 0..C-1)",
				   classes, QA_NN_MAX_DIM);
	if (nhidden + 1 > QA_NN_MAX_LAYERS || (nhidden && !hidden))
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "%u hidden layers; at most %d", nhidden,
				   QA_NN_MAX_LAYERS - 1);
	for (unsigned i = 0; i < nhidden; i++)
		if (hidden[i] == 0 || hidden[i] > QA_NN_MAX_DIM)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "hidden width %zu outside 1..%d",
					   hidden[i], QA_NN_MAX_DIM);
	if (o->epochs < 1 || o->epochs > 100000 || o->qat_epochs > 100000)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "epochs outside 1..100000");
	if (o->batch < 1 || o->batch > 65536)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "batch size %u outside 1..65536", o->batch);
	if (!(o->lr > 0.0 && o->lr <= 1.0))
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "learning rate %g outside (0, 1]", o->lr);
	if (!(o->weight_decay >= 0.0 && o->weight_decay < 1.0))
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "weight decay %g outside [0, 1)",
				   o->weight_decay);
	if (o->qat_weight_bits < 2 || o->qat_weight_bits > 8)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "QAT weight bits %u outside 2..8",
				   o->qat_weight_bits);
	if (dim > SIZE_MAX / sizeof(float) / rows)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "data too large");
	for (size_t i = 0; i < rows; i++)
		if (y[i] < 0 || (unsigned)y[i] >= classes)
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "label %d at index %zu outside "
					   "0..%u", (int)y[i], i, classes - 1);
	for (size_t i = 0; i < rows * dim; i++)
		if (!isfinite(x[i]))
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "input [%zu, %zu] is not finite",
					   i / dim, i % dim);
	return QA_OK;
}

int qa_nn_train(qa_fmodel *m, size_t rows, size_t dim, const float *x,
		const int32_t *y, unsigned classes, unsigned nhidden,
		const size_t *hidden, const qa_train_opts *o,
		qa_train_progress *final, char *errbuf, size_t errlen)
{
	qa_train_opts defaults;
	size_t dims[QA_NN_MAX_LAYERS + 1];
	size_t *order = NULL, *idx = NULL;
	trainer t;
	rng r;
	double xmax = 0.0;
	unsigned nl = nhidden + 1, qat_epochs, total;
	unsigned long step = 0;
	int rc;

	memset(&t, 0, sizeof(t));
	if (!m)
		return QA_ERR_INVALID;
	memset(m, 0, sizeof(*m));
	if (!o) {
		qa_train_opts_init(&defaults);
		o = &defaults;
	}
	rc = check_train_args(rows, dim, x, y, classes, nhidden, hidden, o,
			      errbuf, errlen);
	if (rc != QA_OK)
		return rc;
	qat_epochs = !o->qat ? 0 : o->qat_epochs ? o->qat_epochs :
			(o->epochs / 4 ? o->epochs / 4 : 1);
	total = o->epochs + qat_epochs;

	dims[0] = dim;
	for (unsigned i = 0; i < nhidden; i++)
		dims[i + 1] = hidden[i];
	dims[nl] = classes;
	rc = qa_fmodel_init(m, nl, dims);
	if (rc == QA_OK)
		rc = trainer_alloc(&t, nl, dims,
				   o->batch < rows ? o->batch : rows);
	if (rc == QA_ERR_INVALID) {
		rc = qa_nni_fail(errbuf, errlen, rc, "a layer has more than "
				 "2^30 weights");
		goto out;
	}
	order = malloc(rows * sizeof(size_t));
	idx = malloc(rows * sizeof(size_t));
	if (rc != QA_OK || !order || !idx) {
		rc = qa_nni_fail(errbuf, errlen, QA_ERR_NOMEM, "out of memory");
		goto out;
	}
	t.wbits = o->qat_weight_bits;

	/* input scale, folded into the first layer */
	for (size_t i = 0; i < rows * dim; i++)
		if (fabsf(x[i]) > xmax)
			xmax = fabsf(x[i]);
	t.L[0].pscale = xmax > 0.0 ? (float)(1.0 / xmax) : 1.0f;
	t.k_x = max_exponent(xmax, 127);

	/* He initialisation for ReLU layers, Xavier for the last */
	rng_seed(&r, o->seed);
	for (unsigned l = 0; l < nl; l++) {
		tlayer *L = &t.L[l];
		double sd = L->relu ? sqrt(2.0 / (double)L->in) :
				      sqrt(2.0 / (double)(L->in + L->out));

		for (size_t i = 0; i < L->in * L->out; i++)
			L->v[i] = (float)(sd * rng_normal(&r));
	}
	for (size_t i = 0; i < rows; i++)
		order[i] = i;

	for (unsigned ep = 0; ep < total; ep++) {
		qa_train_progress p;
		size_t correct = 0;
		double loss = 0.0, lr;

		t.qat = t.qat_act = ep >= o->epochs;
		if (t.qat) {
			lr = o->lr * QAT_LR;
			set_act_exponents(&t, x, y, rows, idx);
		} else {
			double c = 0.5 * (1.0 + cos(3.141592653589793 *
						    ep / o->epochs));

			lr = o->lr * (LR_FLOOR + (1.0 - LR_FLOOR) * c);
		}
		for (size_t i = rows - 1; i > 0; i--) {
			size_t j = rng_below(&r, i + 1), tmp = order[i];

			order[i] = order[j];
			order[j] = tmp;
		}
		for (size_t r0 = 0; r0 < rows; r0 += t.batch) {
			size_t n = rows - r0 < t.batch ? rows - r0 : t.batch;

			make_weights(&t);
			load_batch(&t, x, y, order + r0, n);
			forward(&t, n);
			loss += loss_grad(&t, n, &correct);
			backward(&t, n);
			adam_step(&t, lr, o->weight_decay, ++step);
		}
		if (o->progress) {
			p.epoch = ep + 1;
			p.epochs = total;
			p.qat = t.qat;
			p.loss = loss / (double)rows;
			p.accuracy = (double)correct / (double)rows;
			o->progress(o->progress_ctx, &p);
		}
	}

	/* export the final (maybe fake-quantized) weights */
	t.qat = qat_epochs > 0;
	make_weights(&t);
	for (unsigned l = 0; l < nl; l++) {
		memcpy(m->layers[l].w, t.L[l].w,
		       t.L[l].in * t.L[l].out * sizeof(float));
		memcpy(m->layers[l].b, t.L[l].b, t.L[l].out * sizeof(float));
	}
	if (final) {
		double loss;
		size_t correct;

		/* figures of the exported model, unquantized activations */
		t.qat = t.qat_act = 0;
		for (unsigned l = 0; l < nl; l++)
			memcpy(t.L[l].w, m->layers[l].w,
			       t.L[l].in * t.L[l].out * sizeof(float));
		evaluate(&t, x, y, rows, idx, NULL, &loss, &correct);
		final->epoch = total;
		final->epochs = total;
		final->qat = qat_epochs > 0;
		final->loss = loss / (double)rows;
		final->accuracy = (double)correct / (double)rows;
	}
	rc = QA_OK;
out:
	if (rc != QA_OK)
		qa_fmodel_free(m);
	trainer_free(&t);
	free(order);
	free(idx);
	return rc;
}
