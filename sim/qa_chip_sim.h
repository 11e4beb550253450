/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qa_chip_sim.h - C API over the Verilator models of the whole chip
 * (rtl/qa_chip.v: UART, wire protocol and core), driven through its pins.
 *
 * Where qa_sim.h feeds the core's byte streams directly, a qa_chip_sim only
 * has the chip's pins: the clock (which this API toggles), reset, the UART
 * receive input and transmit output, the LEDs and busy_o. Whoever drives it
 * plays the other end of the serial line: the sim-uart transport
 * (host/src/transport_simuart.c) with a UART of its own, or the emulated
 * FTDI bridge (emu/). Models are built per board configuration (array
 * shape, clock, baud), listed by qa_chip_models(); the first is the default.
 */
#ifndef QA_CHIP_SIM_H
#define QA_CHIP_SIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qa_chip_model_info {
	const char *name;   /* "icebreaker", "ulx3s", ... */
	unsigned rows, cols;
	uint64_t clock_hz;  /* the clock the model was built for (CLK_HZ) */
	uint32_t baud;      /* its UART line rate (BAUD) */
} qa_chip_model_info;

/* The built chip models; *count receives how many (the first is the default). */
const qa_chip_model_info *qa_chip_models(size_t *count);

typedef struct qa_chip_sim qa_chip_sim;

/* Create the model `name` (NULL or "" = the default). Returns 0, -1 when no
 * such model was built (*s = NULL) or -2 when out of memory. The chip comes
 * out of qa_chip_sim_reset(s, 4). */
int qa_chip_sim_create(qa_chip_sim **s, const char *name);
void qa_chip_sim_destroy(qa_chip_sim *s);
const qa_chip_model_info *qa_chip_sim_info(const qa_chip_sim *s);

/* Hold rst_i high for `cycles` cycles (at least 1), UART input idle (1). */
void qa_chip_sim_reset(qa_chip_sim *s, unsigned cycles);

/*
 * Run up to n >= 1 clock cycles with uart_rx_i held at rx (0 or 1),
 * stopping right after the first cycle in which uart_tx_o changed. Returns
 * the cycles run; *tx (may be NULL) receives uart_tx_o after them.
 */
uint64_t qa_chip_sim_step(qa_chip_sim *s, int rx, uint64_t n, int *tx);

/* uart_tx_o now. */
int qa_chip_sim_tx(const qa_chip_sim *s);
/* busy_o: something is in flight in the chip (a byte, a frame, a RUN). */
int qa_chip_sim_busy(const qa_chip_sim *s);
/* LEDs: bit 0 heartbeat, bit 1 busy, bit 2 error. */
unsigned qa_chip_sim_leds(const qa_chip_sim *s);
/* Cycles simulated since creation. */
uint64_t qa_chip_sim_cycles(const qa_chip_sim *s);

/* FST waveform of the chip. Returns 0, or -1 if the file cannot be opened. */
int qa_chip_sim_trace_open(qa_chip_sim *s, const char *path);
void qa_chip_sim_trace_close(qa_chip_sim *s);

#ifdef __cplusplus
}
#endif

#endif
