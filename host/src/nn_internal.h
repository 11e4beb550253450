/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nn_internal.h - helpers shared by the nn_*.c files of libqarray; not part
 * of the public API (qarray_nn.h).
 */
#ifndef QA_NN_INTERNAL_H
#define QA_NN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "qarray_nn.h"

#if defined(__GNUC__)
#define QA_NNI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define QA_NNI_PRINTF(a, b)
#endif

/* Write a message into errbuf (may be NULL) and return rc. */
QA_NNI_PRINTF(4, 5)
int qa_nni_fail(char *errbuf, size_t errlen, int rc, const char *fmt, ...);

/* Prefix an existing message in errbuf with "prefix: " (if it fits). */
void qa_nni_prefix(char *errbuf, size_t errlen, const char *prefix);

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, initial value and
 * final XOR 0xFFFFFFFF): the checksum of zlib, PNG and gzip. */
uint32_t qa_nni_crc32(const void *buf, size_t len);

/*
 * Replace the regular file at path with len bytes: written to a temporary
 * file beside it, then renamed over it. An existing non-regular file is
 * refused. Messages do not name path (the caller does).
 */
int qa_nni_write_atomic(const char *path, const void *buf, size_t len,
			char *errbuf, size_t errlen);

/*
 * Float inference keeping every layer's output: outs[l] must hold
 * rows * layers[l].out floats. The model must be valid. QA_OK or
 * QA_ERR_NOMEM.
 */
int qa_nni_fforward_layers(const qa_fmodel *m, size_t rows, const float *x,
			   float *const *outs);

#endif
