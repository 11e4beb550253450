/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_qmodel.c - libFuzzer harness of the quantized model reader
 * (qa_qmodel_decode in host/src/nn_model.c, the bytes of a .qam file).
 *
 * Each input is decoded as it is, and - when that fails - once more with
 * its size field (bytes 12..15) and its CRC-32 (the last 4 bytes) made
 * right, so the fuzzer gets past the checksum to the layer table and the
 * values behind it.
 *
 * Invariants:
 * - the result is QA_OK, QA_ERR_FORMAT or QA_ERR_NOMEM; a failure leaves
 *   the model empty and a message;
 * - a decoded model passes qa_qmodel_validate; its encoding
 *   (qa_qmodel_encode, the canonical form: narrowest bias width, smallest
 *   shift layout) is qa_qmodel_file_bytes long and no longer than the
 *   input, decodes to the same model, and encodes to the same bytes;
 * - the model's qa_net view passes qa_net_validate, and the golden
 *   inference (qa_nn_ref_forward) runs on two rows of input.
 */
#include "fuzz.h"

#include "qarray_nn.h"

#define QAM_SIZE_AT 12
#define QAM_CRC_BYTES 4

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xFFFFFFFFu;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void check_same(const qa_qmodel *a, const qa_qmodel *b)
{
	FUZZ_CHECK(a->nlayers == b->nlayers && a->round == b->round &&
			   a->in_round == b->in_round && a->k_in == b->k_in &&
			   a->method == b->method &&
			   a->per_channel == b->per_channel &&
			   a->weight_bits == b->weight_bits,
		   "model fields differ");
	for (unsigned l = 0; l < a->nlayers; l++) {
		const qa_qlayer *x = &a->layers[l], *y = &b->layers[l];

		FUZZ_CHECK(x->k == y->k && x->n == y->n && x->k_in == y->k_in &&
				   x->k_out == y->k_out && x->lo == y->lo &&
				   x->hi == y->hi,
			   "layer %u: fields differ", l);
		FUZZ_CHECK(memcmp(x->w, y->w, x->k * x->n) == 0 &&
				   memcmp(x->bias, y->bias,
					  x->n * sizeof(int32_t)) == 0 &&
				   memcmp(x->shift, y->shift, x->n) == 0 &&
				   memcmp(x->kw, y->kw, x->n * sizeof(int)) == 0,
			   "layer %u: values differ", l);
	}
}

/* everything a decoded model must satisfy */
static void check_model(const qa_qmodel *m, size_t input_size)
{
	qa_layer layers[QA_NN_MAX_LAYERS];
	qa_net net;
	qa_qmodel m2;
	char err[512];
	size_t size = qa_qmodel_file_bytes(m), len = 0, len2 = 0;
	uint8_t *buf, *buf2;
	int8_t *x, *y;
	const size_t rows = 2;

	FUZZ_CHECK(qa_qmodel_validate(m, err, sizeof err) == QA_OK,
		   "a decoded model is invalid: %s", err);
	FUZZ_CHECK(size > 0 && size <= input_size,
		   "canonical size %zu, input %zu", size, input_size);

	buf = malloc(size);
	buf2 = malloc(size);
	FUZZ_CHECK(buf && buf2, "out of memory");
	FUZZ_CHECK(qa_qmodel_encode(m, buf, size, &len, err, sizeof err) ==
				   QA_OK &&
			   len == size,
		   "cannot encode a decoded model: %s", err);
	FUZZ_CHECK(qa_qmodel_decode(&m2, buf, len, err, sizeof err) == QA_OK,
		   "cannot decode an encoded model: %s", err);
	check_same(m, &m2);
	FUZZ_CHECK(qa_qmodel_encode(&m2, buf2, size, &len2, err, sizeof err) ==
				   QA_OK &&
			   len2 == len && memcmp(buf, buf2, len) == 0,
		   "encoding is not canonical");
	qa_qmodel_free(&m2);
	free(buf);
	free(buf2);

	FUZZ_CHECK(qa_nn_net_view(m, layers, &net) == QA_OK, "net_view");
	FUZZ_CHECK(qa_net_validate(&net) == QA_OK, "net_validate");
	x = malloc(rows * m->layers[0].k);
	y = malloc(rows * m->layers[m->nlayers - 1].n);
	FUZZ_CHECK(x && y, "out of memory");
	for (size_t i = 0; i < rows * m->layers[0].k; i++)
		x[i] = (int8_t)(i * 37u + 11u);
	FUZZ_CHECK(qa_nn_ref_forward(m, rows, x, y, NULL) == QA_OK,
		   "ref_forward");
	free(x);
	free(y);
}

static int decode_and_check(const uint8_t *data, size_t size)
{
	char err[512];
	qa_qmodel m;
	int rc = qa_qmodel_decode(&m, data, size, err, sizeof err);

	if (rc != QA_OK) {
		FUZZ_CHECK(rc == QA_ERR_FORMAT || rc == QA_ERR_NOMEM,
			   "rc %d (%s): %s", rc, qa_errname(rc), err);
		FUZZ_CHECK(m.nlayers == 0 && m.layers == NULL,
			   "model not left empty on error");
		FUZZ_CHECK(err[0] != '\0', "error %d without a message", rc);
		return rc;
	}
	check_model(&m, size);
	qa_qmodel_free(&m);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;

	if (decode_and_check(data, size) == QA_OK ||
	    size < QAM_SIZE_AT + 4 + QAM_CRC_BYTES)
		return 0;
	/* past the checksum: the same bytes with size and CRC made right */
	fixed = malloc(size);
	FUZZ_CHECK(fixed != NULL, "out of memory");
	memcpy(fixed, data, size);
	put_le32(fixed + QAM_SIZE_AT, (uint32_t)size);
	put_le32(fixed + size - QAM_CRC_BYTES,
		 crc32_ieee(fixed, size - QAM_CRC_BYTES));
	decode_and_check(fixed, size);
	free(fixed);
	return 0;
}
