/* SPDX-License-Identifier: Apache-2.0 */
/*
 * board_echo.c - a board model in C: an 8N1 UART at a board-side baud that
 * sends back what it receives (unchanged, +1, inverted) or nothing.
 *
 * It behaves like an RTL UART clocked at clock_hz with a fixed divider
 * DIV = round(clock_hz / baud): a falling edge of the idle RX line starts a
 * byte, the start bit is sampled (DIV-1)/2 clocks later and every further
 * bit DIV clocks after the previous sample; a low stop bit drops the byte
 * (framing error) and the line must go high again before the next start.
 * The transmitter sends start, 8 data bits LSB first and one stop bit, DIV
 * clocks each, back to back while its queue has bytes. So when the host's
 * baud differs from the board's by more than a few percent, the board
 * samples the wrong bits, as a real one would.
 *
 * step() jumps from one event (a sample, a TX bit edge) to the next instead
 * of looping over every clock, so idle stretches cost nothing, and returns
 * right after a TX edge.
 */
#include "qa_board.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum rx_state { RX_IDLE, RX_FRAME, RX_WAIT_HIGH };

typedef struct echo {
	qa_echo_cfg cfg;
	uint64_t div;      /* clocks per bit */
	/* receiver */
	enum rx_state rx_state;
	uint64_t rx_cnt;   /* clocks to the next sample */
	unsigned rx_bit;   /* 0 = start, 1..8 = data, 9 = stop */
	unsigned rx_shift;
	/* transmitter */
	int tx_active;
	int tx_level;
	uint64_t tx_cnt;   /* clocks to the next bit edge */
	unsigned tx_bit;   /* bit being sent: 0 = start, 1..8 data, 9 stop */
	unsigned tx_byte;
	/* queue between receiver and transmitter */
	uint8_t *q;
	size_t q_cap, q_head, q_len;
	qa_echo_stats st;
	char name[32];
} echo;

int qa_echo_mode_parse(const char *name, qa_echo_mode *mode)
{
	static const char *const names[] = { "same", "inc", "not", "mute" };
	for (unsigned i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0) {
			*mode = (qa_echo_mode)i;
			return 0;
		}
	return -1;
}

static unsigned transform(qa_echo_mode m, unsigned b)
{
	switch (m) {
	case QA_ECHO_INC:
		return (b + 1u) & 0xffu;
	case QA_ECHO_NOT:
		return ~b & 0xffu;
	default:
		return b;
	}
}

static void tx_start_next(echo *e);

static void rx_sample(echo *e, int rx)
{
	if (e->rx_bit == 0) {
		if (rx) { /* high in the middle of the start bit: a glitch */
			e->st.rx_glitches++;
			e->rx_state = RX_IDLE;
			return;
		}
	} else if (e->rx_bit <= 8) {
		e->rx_shift |= (unsigned)(rx ? 1 : 0) << (e->rx_bit - 1);
	} else {
		if (!rx) {
			e->st.rx_framing++;
			e->rx_state = RX_WAIT_HIGH;
			return;
		}
		e->st.rx_bytes++;
		e->rx_state = RX_IDLE;
		if (e->cfg.mode == QA_ECHO_MUTE)
			return;
		if (e->q_len == e->q_cap) {
			e->st.dropped++;
			return;
		}
		e->q[(e->q_head + e->q_len) % e->q_cap] =
			(uint8_t)transform(e->cfg.mode, e->rx_shift);
		e->q_len++;
		if (!e->tx_active) /* the start bit begins after this cycle */
			tx_start_next(e);
		return;
	}
	e->rx_bit++;
	e->rx_cnt = e->div;
}

static void tx_start_next(echo *e)
{
	if (e->q_len == 0) {
		e->tx_active = 0;
		e->tx_level = 1;
		return;
	}
	e->tx_byte = e->q[e->q_head];
	e->q_head = (e->q_head + 1) % e->q_cap;
	e->q_len--;
	e->tx_active = 1;
	e->tx_bit = 0;
	e->tx_level = 0;
	e->tx_cnt = e->div;
}

static void tx_edge(echo *e)
{
	e->tx_bit++;
	if (e->tx_bit == 10) {
		e->st.tx_bytes++;
		tx_start_next(e);
		return;
	}
	e->tx_level = e->tx_bit == 9 ? 1 : (int)((e->tx_byte >> (e->tx_bit - 1)) & 1u);
	e->tx_cnt = e->div;
}

static uint64_t echo_step(void *ctx, int rx, uint64_t n, int *tx)
{
	echo *e = ctx;
	uint64_t ran = 0;
	int before = e->tx_level;
	rx = rx ? 1 : 0;
	while (ran < n && e->tx_level == before) {
		if (e->rx_state == RX_WAIT_HIGH && rx)
			e->rx_state = RX_IDLE;
		if (e->rx_state == RX_IDLE && !rx) {
			e->rx_state = RX_FRAME;
			e->rx_bit = 0;
			e->rx_shift = 0;
			e->rx_cnt = (e->div - 1) / 2 + 1;
		}
		uint64_t k = n - ran;
		int tx_was_active = e->tx_active;
		if (e->rx_state == RX_FRAME && e->rx_cnt < k)
			k = e->rx_cnt;
		if (tx_was_active && e->tx_cnt < k)
			k = e->tx_cnt;
		ran += k;
		e->st.cycles += k;
		/* the transmitter first: a byte received in this cycle starts
		 * its frame after it */
		if (tx_was_active) {
			e->tx_cnt -= k;
			if (e->tx_cnt == 0)
				tx_edge(e);
		}
		if (e->rx_state == RX_FRAME) {
			e->rx_cnt -= k;
			if (e->rx_cnt == 0)
				rx_sample(e, rx);
		}
	}
	*tx = e->tx_level;
	return ran;
}

static int echo_busy(void *ctx)
{
	const echo *e = ctx;
	return e->rx_state == RX_FRAME || e->tx_active || e->q_len > 0;
}

static void echo_describe(void *ctx, char *buf, size_t len)
{
	const echo *e = ctx;
	snprintf(buf, len,
		 "echo board: %llu bytes in, %llu out, %llu framing errors, "
		 "%llu glitches, %llu dropped, %llu cycles",
		 (unsigned long long)e->st.rx_bytes,
		 (unsigned long long)e->st.tx_bytes,
		 (unsigned long long)e->st.rx_framing,
		 (unsigned long long)e->st.rx_glitches,
		 (unsigned long long)e->st.dropped,
		 (unsigned long long)e->st.cycles);
}

static void echo_destroy(void *ctx)
{
	echo *e = ctx;
	if (!e)
		return;
	free(e->q);
	free(e);
}

int qa_echo_board_new(qa_board *board, const qa_echo_cfg *cfg, char *err,
		      size_t errlen)
{
	memset(board, 0, sizeof *board);
	if (!cfg || cfg->clock_hz == 0 || cfg->baud == 0 ||
	    cfg->clock_hz / cfg->baud < 4) {
		snprintf(err, errlen,
			 "echo board: need clock >= 4 x baud (clock %llu Hz, "
			 "baud %u)",
			 cfg ? (unsigned long long)cfg->clock_hz : 0ull,
			 cfg ? cfg->baud : 0u);
		return -1;
	}
	echo *e = calloc(1, sizeof *e);
	if (!e)
		return -2;
	e->cfg = *cfg;
	e->q_cap = cfg->queue ? cfg->queue : 4096;
	e->q = malloc(e->q_cap);
	if (!e->q) {
		free(e);
		return -2;
	}
	e->div = (cfg->clock_hz + cfg->baud / 2) / cfg->baud;
	e->rx_state = RX_IDLE;
	e->tx_level = 1;
	static const char *const names[] = { "echo", "echo-inc", "echo-not",
					     "mute" };
	snprintf(e->name, sizeof e->name, "%s", names[cfg->mode & 3]);
	board->name = e->name;
	board->clock_hz = cfg->clock_hz;
	board->ctx = e;
	board->step = echo_step;
	board->busy = echo_busy;
	board->describe = echo_describe;
	board->destroy = echo_destroy;
	return 0;
}

void qa_echo_board_stats(const qa_board *board, qa_echo_stats *st)
{
	const echo *e = board->ctx;
	*st = e->st;
}
