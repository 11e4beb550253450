/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qa_sim.h - C API over the Verilator model of qa_core.
 *
 * A qa_sim owns one cycle-accurate model of the core (one array shape, chosen
 * among the shapes built into the library, see qa_sim_models()). It drives
 * the core's byte-wide command stream from an input queue and collects the
 * response stream into an output queue, one byte per cycle at most in each
 * direction, honouring the valid/ready handshakes. Time advances only inside
 * qa_sim_step() and qa_sim_wait_out(). Every wait has a watchdog: a
 * simulation that makes no stream progress for the configured number of
 * cycles is reported as hung instead of running forever.
 */
#ifndef QA_SIM_H
#define QA_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qa_sim qa_sim;

/* Create a model of shape rows x cols (0, 0 = the default model). Returns 0,
 * or -1 when no such model was built (*sim = NULL), -2 when out of memory. */
int qa_sim_create(qa_sim **sim, unsigned rows, unsigned cols);
void qa_sim_destroy(qa_sim *sim);

/* Shape of the model. */
unsigned qa_sim_rows(const qa_sim *sim);
unsigned qa_sim_cols(const qa_sim *sim);

/* Hold reset for `cycles` cycles (at least 1) and clear both queues. */
void qa_sim_reset(qa_sim *sim, unsigned cycles);

/* Run exactly n clock cycles, moving queued bytes in and responses out. */
void qa_sim_step(qa_sim *sim, uint64_t n);

/* Queue bytes for the command stream; returns 0, or -2 when out of memory. */
int qa_sim_push(qa_sim *sim, const uint8_t *buf, size_t n);
/* Take up to n response bytes; returns how many were taken. */
size_t qa_sim_pull(qa_sim *sim, uint8_t *buf, size_t n);
/* Response bytes waiting to be pulled / command bytes not yet accepted. */
size_t qa_sim_out_avail(const qa_sim *sim);
size_t qa_sim_in_pending(const qa_sim *sim);

/* Step until at least n response bytes are waiting. Returns 0, or -1 when
 * idle_timeout cycles pass without any byte moving in either direction. */
int qa_sim_wait_out(qa_sim *sim, size_t n, uint64_t idle_timeout);

/* Cycles simulated since creation. */
uint64_t qa_sim_cycles(const qa_sim *sim);
/* The core's busy_o and error_o outputs. */
int qa_sim_busy(const qa_sim *sim);
int qa_sim_error(const qa_sim *sim);

/* Backpressure for testing: each cycle the response ready (and the command
 * valid) is dropped with probability permille/1000, from a fixed-seed
 * generator. 0 disables it (the default). */
void qa_sim_set_stall(qa_sim *sim, unsigned rsp_permille,
		      unsigned cmd_permille, uint32_t seed);

/* Record every byte accepted on the command stream to cmd, one per line as
 * "CYCLE BYTE" (hex; CYCLE counts from 0 at creation, reset included), and
 * every byte sent on the response stream to rsp, one per line as "BYTE", so
 * that the session can be replayed cycle for cycle on another simulator
 * (tests/tb_core.v). Either may be NULL; the files stay the caller's. */
void qa_sim_record(qa_sim *sim, FILE *cmd, FILE *rsp);

/* Start / stop an FST waveform trace. Returns 0, or -1 if the model was
 * built without tracing or the file cannot be opened. */
int qa_sim_trace_open(qa_sim *sim, const char *path);
void qa_sim_trace_close(qa_sim *sim);

/* Names of the built models ("4x4", ...), NULL-terminated; the first is the
 * default. */
const char *const *qa_sim_models(void);

#ifdef __cplusplus
}
#endif

#endif
