/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qa_board.h - a board as the emulated FTDI bridge sees it: a clocked device
 * with one serial input pin and one serial output pin.
 *
 * The bridge drives the board's UART RX pin (the FPGA input wired to the
 * FTDI's TXD) and samples the board's UART TX pin (the FPGA output wired to
 * the FTDI's RXD). Both lines idle high (1). The emulator owns simulated
 * time: it calls step() with the RX level to hold for at most the next n
 * board clock cycles; the board runs them, but stops right after a cycle in
 * which its TX pin changed, so the emulator sees every TX edge at the exact
 * cycle (that is how the bridge's receiver finds start bits without polling
 * the pin). The emulator never holds RX constant across one of its own line
 * edges.
 *
 Two implementations:
 *   - board_echo.c: a UART in C at a board-side baud (loopback, echo with a
 *     transform, or mute), for testing the USB half without RTL;
 *   - board_chip.c: the chip-level Verilator model (rtl/qa_chip.v,
 *     sim/qa_chip_sim.h): step() drives uart_rx_i and toggles clk_i up to n
 *     times, stopping after the cycle in which uart_tx_o changed; busy()
 *     returns busy_o.
 *
 * All calls for one board come from one thread (the emulator's line
 * thread), so a board needs no locking of its own.
 */
#ifndef QA_BOARD_H
#define QA_BOARD_H

#include <stddef.h>
#include <stdint.h>

typedef struct qa_board {
	/* short name for messages, e.g. "echo" or "chip:4x4" */
	const char *name;
	/* board clock in Hz (the clock step() counts); > 0 */
	uint64_t clock_hz;
	/* passed to every callback */
	void *ctx;
	/*
	 * Run up to n >= 1 clock cycles with the UART RX pin held at rx (0 or
	 * 1), stopping early after the first cycle that changed the UART TX
	 * pin. Returns the cycles run (1..n); *tx receives the TX level (0 or
	 * 1) after the last of them.
	 */
	uint64_t (*step)(void *ctx, int rx, uint64_t n, int *tx);
	/*
	 * Nonzero while the board has something in flight that needs the clock
	 * to run without new input (a byte being received or sent, a queue not
	 * empty, a computation running). When it returns 0 and both serial
	 * lines are idle, the emulator stops the clock until the host sends
	 * again. NULL means "always busy": the clock never stops.
	 */
	int (*busy)(void *ctx);
	/* one line of counters for -v output (may be NULL) */
	void (*describe)(void *ctx, char *buf, size_t len);
	/* free ctx (may be NULL) */
	void (*destroy)(void *ctx);
} qa_board;

/* ---- the C echo board (board_echo.c) ------------------------------------- */

typedef enum qa_echo_mode {
	QA_ECHO_SAME = 0, /* send back every byte received */
	QA_ECHO_INC,      /* send back byte + 1 (mod 256) */
	QA_ECHO_NOT,      /* send back ~byte */
	QA_ECHO_MUTE      /* receive and count, never answer */
} qa_echo_mode;

typedef struct qa_echo_cfg {
	uint64_t clock_hz;  /* board clock, e.g. 48000000 */
	uint32_t baud;      /* board-side line rate; clock_hz / baud >= 4 */
	qa_echo_mode mode;
	size_t queue;       /* bytes the board buffers between RX and TX (0 = 4096) */
} qa_echo_cfg;

typedef struct qa_echo_stats {
	uint64_t rx_bytes;     /* frames with a good stop bit */
	uint64_t rx_framing;   /* frames dropped for a low stop bit */
	uint64_t rx_glitches;  /* start edges that were not a start bit */
	uint64_t tx_bytes;
	uint64_t dropped;      /* received while the queue was full */
	uint64_t cycles;
} qa_echo_stats;

/*
 * Make *board an echo board: an 8N1 UART receiver and transmitter that
 * divide clock_hz by round(clock_hz / baud), like an RTL UART, and pass
 * every good byte through `mode`. Returns 0, or -1 with a message in err
 * for an impossible configuration, -2 when out of memory.
 */
int qa_echo_board_new(qa_board *board, const qa_echo_cfg *cfg, char *err,
		      size_t errlen);
/* Counters of an echo board (board->ctx of one made by qa_echo_board_new). */
void qa_echo_board_stats(const qa_board *board, qa_echo_stats *st);
/* "same", "inc", "not", "mute" -> mode; returns 0, or -1 for another name */
int qa_echo_mode_parse(const char *name, qa_echo_mode *mode);

/* ---- the chip-level RTL (board_chip.c) ------------------------------------ */

/*
 * Make *board the Verilator model of the whole chip built as `model` (a
 * name of qa_chip_models(), e.g. "icebreaker"; NULL = the default), at the
 * clock and baud that model was built for. Returns 0, or -1 with a message
 * in err when there is no such model, -2 when out of memory.
 */
int qa_chip_board_new(qa_board *board, const char *model, char *err,
		      size_t errlen);
/* The line rate of a chip board's UART (board->ctx of qa_chip_board_new). */
uint32_t qa_chip_board_baud(const qa_board *board);

#endif
