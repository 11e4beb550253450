/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_manifest.c - libFuzzer harness of the float model directory reader
 * (qa_fmodel_load in host/src/nn_model.c), fed arbitrary manifest.txt.
 *
 * The manifest parser is reachable only through a directory, so the
 * harness makes one scratch model directory per process: qa_fmodel_save
 * writes a 3 -> 4 -> 2 model into it (l0_w.npy, l0_b.npy, l1_w.npy,
 * l1_b.npy and a manifest, the shape of the committed seeds), and
 * qa_npy_write adds files a manifest may name by mistake or on purpose: a
 * transposed and a square weight matrix, an int8 array, non-finite values,
 * a 0-d, an empty and a 3-d array, a file that is not a .npy, a
 * subdirectory and a FIFO (which must be refused, not opened: opening it
 * would hang). Each input becomes DIR/manifest.txt and DIR is loaded.
 *
 * Every value in those files is unique (file number * 1000 + index), so a
 * loaded layer shows which file it came from. Invariants:
 * - the result is QA_OK, QA_ERR_FORMAT or QA_ERR_NOMEM; a failure leaves
 *   the model empty and a message;
 * - a loaded model passes qa_fmodel_validate, and every layer's weights
 *   are exactly one float32 file of the directory, as it is or transposed,
 *   and its bias is one file or all zero;
 * - qa_fmodel_save of the loaded model and qa_fmodel_load of that give
 *   the same model again.
 */
#include "fuzz.h"

#include <math.h>

#include "qarray_nn.h"

typedef struct param_file {
	const char *name;
	qa_dtype dtype;
	unsigned ndim;
	size_t shape[3];
	int special; /* 1: one NaN, 2: one +inf */
} param_file;

/* what the directory holds besides the saved model's files */
static const param_file extra_files[] = {
	{ "wt.npy", QA_DT_FLOAT32, 2, { 4, 3, 0 }, 0 },   /* l0_w transposed */
	{ "sq.npy", QA_DT_FLOAT32, 2, { 4, 4, 0 }, 0 },   /* chains anywhere */
	{ "b2.npy", QA_DT_FLOAT32, 1, { 2, 0, 0 }, 0 },
	{ "i8.npy", QA_DT_INT8, 2, { 3, 4, 0 }, 0 },      /* not float32 */
	{ "nan.npy", QA_DT_FLOAT32, 2, { 3, 4, 0 }, 1 },
	{ "inf.npy", QA_DT_FLOAT32, 1, { 4, 0, 0 }, 2 },
	{ "s.npy", QA_DT_FLOAT32, 0, { 0, 0, 0 }, 0 },    /* 0-d */
	{ "z.npy", QA_DT_FLOAT32, 2, { 0, 4, 0 }, 0 },    /* empty */
	{ "d3.npy", QA_DT_FLOAT32, 3, { 1, 3, 4 }, 0 },
};
#define N_EXTRA (sizeof extra_files / sizeof extra_files[0])

/* the float32 arrays a loaded layer may hold, for the checks */
#define MAX_KNOWN 16
static struct {
	size_t d0, d1;   /* d1 = 0 for a 1-d array */
	float *v;
} known[MAX_KNOWN];
static unsigned n_known;

static char model_dir[512], rt_dir[512];

static void remember(size_t d0, size_t d1, const float *v)
{
	size_t n = d1 ? d0 * d1 : d0;

	FUZZ_CHECK(n_known < MAX_KNOWN, "too many files");
	known[n_known].d0 = d0;
	known[n_known].d1 = d1;
	known[n_known].v = malloc(n * sizeof(float));
	FUZZ_CHECK(known[n_known].v != NULL, "out of memory");
	memcpy(known[n_known].v, v, n * sizeof(float));
	n_known++;
}

static void write_extra(const param_file *pf, unsigned id)
{
	char path[1024], err[256];
	size_t count = 1;
	qa_array a;
	void *data;

	memset(&a, 0, sizeof a);
	a.dtype = pf->dtype;
	a.ndim = pf->ndim;
	for (unsigned i = 0; i < pf->ndim; i++) {
		a.shape[i] = pf->shape[i];
		count *= pf->shape[i];
	}
	a.count = count;
	data = calloc(count ? count : 1, qa_dtype_size(pf->dtype));
	FUZZ_CHECK(data != NULL, "out of memory");
	for (size_t i = 0; i < count; i++) {
		if (pf->dtype == QA_DT_INT8)
			((int8_t *)data)[i] = (int8_t)i;
		else
			((float *)data)[i] = (float)(id * 1000 + i);
	}
	if (pf->special == 1)
		((float *)data)[count - 1] = NAN;
	else if (pf->special == 2)
		((float *)data)[count - 1] = INFINITY;
	a.data = data;
	snprintf(path, sizeof path, "%s/%s", model_dir, pf->name);
	FUZZ_CHECK(qa_npy_write(path, &a, err, sizeof err) == QA_OK, "%s",
		   err);
	if (pf->dtype == QA_DT_FLOAT32 && !pf->special && count &&
	    pf->ndim >= 1 && pf->ndim <= 2)
		remember(pf->shape[0], pf->ndim == 2 ? pf->shape[1] : 0, data);
	free(data);
}

/* The scratch model directory, made on the first input. */
static void setup(void)
{
	static const size_t dims[3] = { 3, 4, 2 };
	const char *dir = fuzz_tmpdir();
	char path[1024], err[256];
	qa_fmodel m;
	FILE *f;

	if (model_dir[0])
		return;
	snprintf(model_dir, sizeof model_dir, "%s/model", dir);
	snprintf(rt_dir, sizeof rt_dir, "%s/rt", dir);
	FUZZ_CHECK(qa_fmodel_init(&m, 2, dims) == QA_OK, "fmodel_init");
	for (unsigned l = 0; l < m.nlayers; l++) {
		qa_flayer *L = &m.layers[l];

		for (size_t i = 0; i < L->in * L->out; i++)
			L->w[i] = (float)((2 * l + 1) * 1000 + i);
		for (size_t j = 0; j < L->out; j++)
			L->b[j] = (float)((2 * l + 2) * 1000 + j);
		remember(L->in, L->out, L->w);
		remember(L->out, 0, L->b);
	}
	FUZZ_CHECK(qa_fmodel_save(&m, model_dir, "fuzz scratch model", err,
				  sizeof err) == QA_OK,
		   "fmodel_save: %s", err);
	qa_fmodel_free(&m);
	for (unsigned i = 0; i < N_EXTRA; i++)
		write_extra(&extra_files[i], 10 + i);
	/* not a .npy file, a directory, a FIFO */
	snprintf(path, sizeof path, "%s/text.npy", model_dir);
	f = fopen(path, "w");
	FUZZ_CHECK(f != NULL, "cannot create %s", path);
	fputs("qarray-model 1\n", f);
	fclose(f);
	snprintf(path, sizeof path, "%s/sub", model_dir);
	FUZZ_CHECK(mkdir(path, 0700) == 0, "mkdir %s", path);
	snprintf(path, sizeof path, "%s/fifo.npy", model_dir);
	FUZZ_CHECK(mkfifo(path, 0600) == 0, "mkfifo %s", path);
}

/* weights in x out equal to a known (in, out) array or an (out, in) one
 * transposed */
static int is_known_weight(const qa_flayer *L)
{
	for (unsigned f = 0; f < n_known; f++) {
		const float *v = known[f].v;
		int same = 1;

		if (known[f].d1 == 0)
			continue;
		if (known[f].d0 == L->in && known[f].d1 == L->out &&
		    memcmp(v, L->w, L->in * L->out * sizeof(float)) == 0)
			return 1;
		if (known[f].d0 != L->out || known[f].d1 != L->in)
			continue;
		for (size_t i = 0; i < L->in && same; i++)
			for (size_t o = 0; o < L->out && same; o++)
				same = L->w[i * L->out + o] == v[o * L->in + i];
		if (same)
			return 1;
	}
	return 0;
}

static int is_known_bias(const qa_flayer *L)
{
	int zero = 1;

	for (size_t j = 0; j < L->out; j++)
		zero = zero && L->b[j] == 0.0f;
	if (zero)
		return 1;
	for (unsigned f = 0; f < n_known; f++)
		if (known[f].d1 == 0 && known[f].d0 == L->out &&
		    memcmp(known[f].v, L->b, L->out * sizeof(float)) == 0)
			return 1;
	return 0;
}

static void check_same(const qa_fmodel *a, const qa_fmodel *b)
{
	FUZZ_CHECK(a->nlayers == b->nlayers, "layers %u vs %u", a->nlayers,
		   b->nlayers);
	for (unsigned l = 0; l < a->nlayers; l++) {
		const qa_flayer *x = &a->layers[l], *y = &b->layers[l];

		FUZZ_CHECK(x->in == y->in && x->out == y->out &&
				   x->relu == y->relu,
			   "layer %u: shape or relu differs", l);
		FUZZ_CHECK(memcmp(x->w, y->w, x->in * x->out * sizeof(float)) ==
					   0 &&
				   memcmp(x->b, y->b, x->out * sizeof(float)) ==
					   0,
			   "layer %u: values differ", l);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[1024], err[512];
	qa_fmodel m, m2;
	int rc;

	setup();
	snprintf(path, sizeof path, "%s/manifest.txt", model_dir);
	fuzz_write_file(path, data, size);

	rc = qa_fmodel_load(&m, model_dir, err, sizeof err);
	if (rc != QA_OK) {
		FUZZ_CHECK(rc == QA_ERR_FORMAT || rc == QA_ERR_NOMEM,
			   "rc %d (%s): %s", rc, qa_errname(rc), err);
		FUZZ_CHECK(m.nlayers == 0 && m.layers == NULL,
			   "model not left empty on error");
		FUZZ_CHECK(err[0] != '\0', "error %d without a message", rc);
		return 0;
	}
	FUZZ_CHECK(qa_fmodel_validate(&m, err, sizeof err) == QA_OK,
		   "a loaded model is invalid: %s", err);
	for (unsigned l = 0; l < m.nlayers; l++) {
		FUZZ_CHECK(is_known_weight(&m.layers[l]),
			   "layer %u: weights (%zu x %zu) are no file's", l,
			   m.layers[l].in, m.layers[l].out);
		FUZZ_CHECK(is_known_bias(&m.layers[l]),
			   "layer %u: bias is no file's", l);
	}

	/* save and load again */
	fuzz_rm_tree(rt_dir);
	rc = qa_fmodel_save(&m, rt_dir, "round trip", err, sizeof err);
	FUZZ_CHECK(rc == QA_OK, "cannot save a loaded model: %s", err);
	rc = qa_fmodel_load(&m2, rt_dir, err, sizeof err);
	FUZZ_CHECK(rc == QA_OK, "cannot load a saved model: %s", err);
	check_same(&m, &m2);
	qa_fmodel_free(&m2);
	qa_fmodel_free(&m);
	return 0;
}
