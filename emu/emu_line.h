/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_line.h - one UART channel of the emulated FTDI bridge, wired bit by
 * bit to a board model (internal to emu/).
 *
 * The channel has the bridge's two FIFOs (host -> serial, serial -> host)
 * and a thread that runs simulated time in board clock cycles: it turns
 * queued host bytes into frames on the board's RX pin at the baud and
 * format the host configured, and samples the board's TX pin like the
 * FTDI receiver does (start edge seen to 1/16 bit, each bit sampled in its
 * middle), putting the bytes and their line errors into the RX FIFO.
 *
 * Simulated time runs as fast as the board model allows (or, with
 * `realtime`, never ahead of the wall clock) and stops while the host has
 * nothing queued, both lines are idle and the board says it is not busy.
 * Every function is thread-safe.
 */
#ifndef QA_EMU_LINE_H
#define QA_EMU_LINE_H

#include "qa_board.h"

#include <stddef.h>
#include <stdint.h>

/* FTDI line-status error bits (second status byte of every IN packet) */
#define EMU_LSR_OE 0x02u  /* overrun: RX FIFO full, byte lost */
#define EMU_LSR_PE 0x04u  /* parity error */
#define EMU_LSR_FE 0x08u  /* framing error: stop bit low */
#define EMU_LSR_BI 0x10u  /* break: a whole frame low */

typedef struct emu_line_fmt {
	uint64_t baud_num, baud_den; /* line rate = baud_num / baud_den bit/s */
	unsigned data_bits;          /* 7 or 8 */
	unsigned parity;             /* 0 none, 1 odd, 2 even, 3 mark, 4 space */
	unsigned stop_bits;          /* 1 or 2 (1.5 is sent as 2) */
	int brk;                     /* hold the TX line low (break) */
} emu_line_fmt;

typedef struct emu_line_stats {
	uint64_t host_bytes;     /* bytes sent to the board */
	uint64_t board_bytes;    /* frames received from the board */
	uint64_t framing, parity, overrun, breaks;
	uint64_t cycles;         /* simulated board clock cycles */
} emu_line_stats;

typedef struct emu_line emu_line;

/*
 * Start a channel on `board` (borrowed; it must outlive the channel) with
 * FIFOs of tx_cap and rx_cap bytes. Returns 0, or -1 when out of memory or
 * when the thread cannot start.
 */
int emu_line_new(emu_line **l, qa_board *board, size_t tx_cap, size_t rx_cap,
		 int realtime);
void emu_line_free(emu_line *l);

/* Set the format; an unfinished frame in either direction is abandoned. */
void emu_line_set_format(emu_line *l, const emu_line_fmt *fmt);
void emu_line_get_format(emu_line *l, emu_line_fmt *fmt);

/* Queue up to n host bytes; returns how many fitted in the TX FIFO. */
size_t emu_line_write(emu_line *l, const uint8_t *p, size_t n);
/* Take up to max received bytes; *lsr (may be NULL) gets the error bits
 * seen since the last call and clears them. */
size_t emu_line_read(emu_line *l, uint8_t *p, size_t max, unsigned *lsr);
/* Bytes waiting in the RX FIFO; *since_ns (may be NULL) gets the
 * CLOCK_MONOTONIC time at which the FIFO last went from empty to not. */
size_t emu_line_rx_avail(emu_line *l, int64_t *since_ns);
/*
 * The host is polling the bulk IN endpoint of this channel now (called when
 * an IN URB is filled). While it polls, USB is far faster than the UART, so
 * a full RX FIFO holds simulated time back instead of losing bytes (an
 * artefact of simulated time running faster than the wall clock); when the
 * host has not polled for EMU_HOST_GRACE_MS the FIFO overruns, as on the
 * chip when nobody reads. The grace is long (a real FT2232H would overrun
 * within a few ms) so that a host process descheduled on a loaded machine
 * does not make the tests flaky: 20 ms was not enough on a 2-core CI
 * machine under load.
 */
#define EMU_HOST_GRACE_MS 500
void emu_line_host_polls(emu_line *l);
/* Error bits since the last call, for the modem-status poll request. */
unsigned emu_line_poll_errors(emu_line *l);
/* 1 when the TX FIFO is empty and no frame is being sent. */
int emu_line_tx_empty(emu_line *l);
/* Empty the host->serial FIFO (tx) and/or the serial->host FIFO (rx). */
void emu_line_purge(emu_line *l, int tx, int rx);
void emu_line_get_stats(emu_line *l, emu_line_stats *st);
/* A faulty line in both directions (host/src/faults.h spec,
 * "flip=P,drop=P,dup=P,garbage=P[,seed=N]"). Returns 0, or -1 with a
 * message. */
int emu_line_set_faults(emu_line *l, const char *spec, char *err,
			size_t errlen);
/* What the faulty line did so far, both ways. */
void emu_line_describe_faults(emu_line *l, char *buf, size_t len);
/* The board's describe() line, taken while the board is not stepping. */
void emu_line_describe_board(emu_line *l, char *buf, size_t len);

#endif
