/* SPDX-License-Identifier: Apache-2.0 */
/*
 * faults.h - a faulty wire, for testing the link (internal): bytes that
 * pass through it are flipped, dropped, duplicated or preceded by garbage
 * at set rates, from a seeded generator (the same seed gives the same
 * faults). The sim-uart transport puts one in each direction of its line;
 * the emulated FTDI bridge (emu/) does the same on its serial lines.
 *
 * Spec: "flip=P,drop=P,dup=P,garbage=P[,seed=N]", every field optional,
 * each P a probability per byte in [0, 1] (e.g. 1e-3).
 */
#ifndef QA_FAULTS_H
#define QA_FAULTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct qa_faults {
	double flip, drop, dup, garbage;  /* per-byte probabilities */
	uint64_t state;                   /* generator state */
	uint64_t flips, drops, dups, garbages, bytes; /* what it did */
} qa_faults;

/*
 * Parse spec into *f (zeroed first); stream (0, 1, ...) varies the seed so
 * that two directions of one line get different faults. Returns 0, or -1
 * with a message in err.
 */
int qa_faults_parse(qa_faults *f, const char *spec, unsigned stream,
		    char *err, size_t errlen);

/* 1 if any rate is non-zero. */
int qa_faults_active(const qa_faults *f);

/* Pass byte b over the wire: writes 0, 1 or 2 bytes to out, returns how
 * many. */
size_t qa_faults_pass(qa_faults *f, uint8_t b, uint8_t out[2]);

/* "flips 3, drops 0, dups 1, garbage 2 in 123456 bytes" */
void qa_faults_describe(const qa_faults *f, char *buf, size_t len);

#endif
