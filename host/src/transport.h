/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport.h - the table every device transport implements (internal).
 *
 * A transport moves bytes of the core command stream to a device and bytes
 * of the response stream back; it knows nothing of the commands themselves
 * (host/src/dev.c builds and parses those). Functions return QA_OK or a
 * negative qa_err and describe failures in err (errlen bytes).
 */
#ifndef QA_TRANSPORT_H
#define QA_TRANSPORT_H

#include "qarray.h"

typedef struct qa_transport_ops {
	const char *name;
	/* arg: what followed "name:" in the target string, or NULL */
	int (*open)(void **ctx, const char *arg, const qa_dev_opts *opts,
		    char *err, size_t errlen);
	void (*close)(void *ctx);
	/* send all n bytes (may queue them) */
	int (*write)(void *ctx, const uint8_t *buf, size_t n, char *err,
		     size_t errlen);
	/* receive exactly n bytes, or fail with QA_ERR_TIMEOUT / QA_ERR_IO */
	int (*read)(void *ctx, uint8_t *buf, size_t n, char *err,
		    size_t errlen);
	/* device clock cycles elapsed, when the transport can see them
	 * (NULL otherwise) */
	uint64_t (*cycles)(void *ctx);
} qa_transport_ops;

extern const qa_transport_ops qa_transport_sim;

#endif
