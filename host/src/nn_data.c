/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_data.c - data sets for the networks: features and class labels from
 * .npy arrays (validated), and argmax.
 *
 * Nothing here knows about any particular data set: features are float32
 * or uint8 matrices taken by value, labels any integer vector 0..C-1.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"
#include "qarray_nn.h"

int qa_nn_features(const qa_array *x, float **out, char *errbuf,
		   size_t errlen)
{
	float *f;

	if (!out)
		return QA_ERR_INVALID;
	*out = NULL;
	if (!x || !x->data)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID, "no data");
	if (x->dtype != QA_DT_FLOAT32 && x->dtype != QA_DT_UINT8)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "dtype %s, expected float32 or uint8",
				   qa_dtype_name(x->dtype));
	if (x->ndim != 2)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "%u dimensions, expected a matrix (N, D)",
				   x->ndim);
	if (x->shape[0] == 0 || x->shape[1] == 0)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "empty dimension in shape (%zu, %zu)",
				   x->shape[0], x->shape[1]);
	if (x->shape[1] > QA_NN_MAX_DIM)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "%zu features; at most %d", x->shape[1],
				   QA_NN_MAX_DIM);
	if (x->count != x->shape[0] * x->shape[1] ||
	    x->count > SIZE_MAX / sizeof(float))
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "inconsistent element count");
	f = malloc(x->count * sizeof(float));
	if (!f)
		return qa_nni_fail(errbuf, errlen, QA_ERR_NOMEM,
				   "out of memory");
	if (x->dtype == QA_DT_UINT8) {
		const uint8_t *u = x->data;

		for (size_t i = 0; i < x->count; i++)
			f[i] = (float)u[i];
	} else {
		memcpy(f, x->data, x->count * sizeof(float));
		for (size_t i = 0; i < x->count; i++) {
			if (!isfinite(f[i])) {
				free(f);
				return qa_nni_fail(errbuf, errlen,
						   QA_ERR_INVALID,
						   "value [%zu, %zu] is not "
						   "finite", i / x->shape[1],
						   i % x->shape[1]);
			}
		}
	}
	*out = f;
	return QA_OK;
}

int qa_nn_labels(const qa_array *y, int32_t **out, unsigned *classes,
		 char *errbuf, size_t errlen)
{
	int32_t *lab;
	int64_t top = -1;

	if (!out || !classes)
		return QA_ERR_INVALID;
	*out = NULL;
	if (!y || !y->data)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID, "no data");
	if (y->dtype == QA_DT_FLOAT32)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "dtype float32, expected an integer dtype "
				   "(int8, uint8, int32, int64)");
	if (y->ndim != 1)
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "%u dimensions, expected a vector (N,)",
				   y->ndim);
	if (y->shape[0] == 0 || y->count != y->shape[0])
		return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
				   "no labels");
	if (y->count > SIZE_MAX / sizeof(int32_t))
		return QA_ERR_INVALID;
	lab = malloc(y->count * sizeof(int32_t));
	if (!lab)
		return qa_nni_fail(errbuf, errlen, QA_ERR_NOMEM,
				   "out of memory");
	for (size_t i = 0; i < y->count; i++) {
		int64_t v;

		switch (y->dtype) {
		case QA_DT_INT8:
			v = ((const int8_t *)y->data)[i];
			break;
		case QA_DT_UINT8:
			v = ((const uint8_t *)y->data)[i];
			break;
		case QA_DT_INT32:
			v = ((const int32_t *)y->data)[i];
			break;
		case QA_DT_INT64:
			v = ((const int64_t *)y->data)[i];
			break;
		default:
			free(lab);
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "unsupported dtype");
		}
		if (v < 0 || v >= QA_NN_MAX_DIM) {
			free(lab);
			return qa_nni_fail(errbuf, errlen, QA_ERR_INVALID,
					   "label %lld at index %zu is outside "
					   "0..%d", (long long)v, i,
					   QA_NN_MAX_DIM - 1);
		}
		lab[i] = (int32_t)v;
		if (v > top)
			top = v;
	}
	*out = lab;
	*classes = (unsigned)top + 1;
	return QA_OK;
}

size_t qa_nn_argmax_f32(const float *v, size_t n)
{
	size_t best = 0;

	for (size_t i = 1; v && i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}

size_t qa_nn_argmax_i8(const int8_t *v, size_t n)
{
	size_t best = 0;

	for (size_t i = 1; v && i < n; i++)
		if (v[i] > v[best])
			best = i;
	return best;
}
