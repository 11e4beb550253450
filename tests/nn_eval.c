/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_eval.c - accuracy of a quantized model (golden int8 inference) and,
 * optionally, of its float model on a labelled data set. A helper of the
 * tests (tests/test_nn_cli.sh), not a test itself.
 *
 * usage: nn_eval --model M.qam [--float-model DIR] --x X.npy --y Y.npy
 *                [--logits OUT.npy]
 *
 * X is float32 or uint8 (N, D) (quantized with the model's input step) or
 * int8 (taken as already quantized); Y integer labels (N,). Prints one JSON
 * line: {"n":N,"int8_acc":A[,"float_acc":F,"agree":G]}; --logits writes
 * the golden int8 logits (N, C).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qarray.h"
#include "qarray_nn.h"

static void usage(void)
{
	fprintf(stderr, "usage: nn_eval --model M.qam [--float-model DIR] "
		"--x X.npy --y Y.npy [--logits OUT.npy]\n");
}

int main(int argc, char **argv)
{
	const char *model = NULL, *fdir = NULL, *xp = NULL, *yp = NULL;
	const char *lp = NULL;
	qa_array xa, ya, la;
	qa_qmodel qm;
	qa_fmodel fm;
	float *xf = NULL, *fl = NULL;
	int8_t *xq = NULL, *lg = NULL;
	int32_t *y = NULL;
	unsigned classes;
	char msg[512] = "";
	size_t n, d, c, ok8 = 0, okf = 0, agree = 0;
	int rc = 1;

	memset(&xa, 0, sizeof(xa));
	memset(&ya, 0, sizeof(ya));
	memset(&qm, 0, sizeof(qm));
	memset(&fm, 0, sizeof(fm));
	for (int i = 1; i < argc; i++) {
		const char **dst = NULL;

		if (strcmp(argv[i], "--model") == 0)
			dst = &model;
		else if (strcmp(argv[i], "--float-model") == 0)
			dst = &fdir;
		else if (strcmp(argv[i], "--x") == 0)
			dst = &xp;
		else if (strcmp(argv[i], "--y") == 0)
			dst = &yp;
		else if (strcmp(argv[i], "--logits") == 0)
			dst = &lp;
		if (!dst || i + 1 >= argc) {
			usage();
			return 2;
		}
		*dst = argv[++i];
	}
	if (!model || !xp || !yp) {
		usage();
		return 2;
	}
	if (qa_qmodel_load(&qm, model, msg, sizeof(msg)) != QA_OK ||
	    (fdir && qa_fmodel_load(&fm, fdir, msg, sizeof(msg)) != QA_OK) ||
	    qa_npy_read(xp, &xa, msg, sizeof(msg)) != QA_OK ||
	    qa_npy_read(yp, &ya, msg, sizeof(msg)) != QA_OK ||
	    qa_nn_labels(&ya, &y, &classes, msg, sizeof(msg)) != QA_OK) {
		fprintf(stderr, "nn_eval: %s\n", msg);
		goto out;
	}
	if (xa.ndim != 2 || xa.shape[0] != ya.shape[0] ||
	    xa.shape[1] != qm.layers[0].k) {
		fprintf(stderr, "nn_eval: shapes of X, Y and the model differ\n");
		goto out;
	}
	n = xa.shape[0];
	d = xa.shape[1];
	c = qm.layers[qm.nlayers - 1].n;
	xq = malloc(n * d);
	lg = malloc(n * c);
	if (!xq || !lg)
		goto out;
	if (xa.dtype == QA_DT_INT8) {
		memcpy(xq, xa.data, n * d);
	} else {
		if (qa_nn_features(&xa, &xf, msg, sizeof(msg)) != QA_OK ||
		    qa_nn_quantize_input(&qm, n * d, xf, xq, NULL) != QA_OK) {
			fprintf(stderr, "nn_eval: X: %s\n", msg);
			goto out;
		}
	}
	if (qa_nn_ref_forward(&qm, n, xq, lg, NULL) != QA_OK) {
		fprintf(stderr, "nn_eval: golden inference failed\n");
		goto out;
	}
	if (fdir) {
		if (!xf || fm.layers[fm.nlayers - 1].out != c) {
			fprintf(stderr, "nn_eval: the float model needs float "
				"input and the same outputs\n");
			goto out;
		}
		fl = malloc(n * c * sizeof(float));
		if (!fl || qa_fmodel_forward(&fm, n, xf, fl) != QA_OK) {
			fprintf(stderr, "nn_eval: float inference failed\n");
			goto out;
		}
	}
	for (size_t r = 0; r < n; r++) {
		size_t p8 = qa_nn_argmax_i8(lg + r * c, c);

		ok8 += p8 == (size_t)y[r];
		if (fl) {
			size_t pf = qa_nn_argmax_f32(fl + r * c, c);

			okf += pf == (size_t)y[r];
			agree += pf == p8;
		}
	}
	if (lp) {
		memset(&la, 0, sizeof(la));
		la.dtype = QA_DT_INT8;
		la.ndim = 2;
		la.shape[0] = n;
		la.shape[1] = c;
		la.count = n * c;
		la.data = lg;
		if (qa_npy_write(lp, &la, msg, sizeof(msg)) != QA_OK) {
			fprintf(stderr, "nn_eval: %s\n", msg);
			goto out;
		}
	}
	printf("{\"n\":%zu,\"int8_acc\":%.6f", n, (double)ok8 / (double)n);
	if (fl)
		printf(",\"float_acc\":%.6f,\"agree\":%.6f",
		       (double)okf / (double)n, (double)agree / (double)n);
	printf("}\n");
	rc = 0;
out:
	qa_qmodel_free(&qm);
	qa_fmodel_free(&fm);
	qa_array_free(&xa);
	qa_array_free(&ya);
	free(xf);
	free(fl);
	free(xq);
	free(lg);
	free(y);
	return rc;
}
