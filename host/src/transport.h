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

/* What a framed link has done (link.c). */
typedef struct qa_link_counts {
	uint64_t wire_out, wire_in; /* bytes on the wire, framing included */
	uint64_t resent;            /* frames sent again (go-back-N) */
	uint64_t damaged;           /* responses damaged or cut on the line */
	uint64_t probes;            /* NOPs sent to find where the device is */
	uint64_t resets;            /* link resets after lost response data */
} qa_link_counts;

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
	/* what the link has done so far, when the transport frames the
	 * stream (NULL otherwise: the wire carries the stream) */
	void (*counts)(void *ctx, qa_link_counts *c);
	/* After an operation failed with QA_ERR_IO or QA_ERR_TIMEOUT: bring
	 * the link and the core back to a clean state, the device's memories
	 * kept (NULL when the transport cannot). QA_OK means: run the whole
	 * operation again. */
	int (*reset)(void *ctx, char *err, size_t errlen);
} qa_transport_ops;

/* the core's Verilator model, fed the command stream directly */
extern const qa_transport_ops qa_transport_sim;

/* Raw byte pipes to a chip (the wire protocol of docs/protocol.md runs
 * over them): the chip-level Verilator model through its UART pins
 * (transport_simuart.c), libftdi and termios (host/ftdi/qa_ftdi.h). */
extern const qa_transport_ops qa_raw_simuart;

/* The same pipes with the framed protocol on top (link.c): what the
 * targets "sim-uart", "ftdi" and "tty" open. */
extern const qa_transport_ops qa_transport_simuart;
extern const qa_transport_ops qa_transport_ftdi_link;
extern const qa_transport_ops qa_transport_tty_link;

#endif
