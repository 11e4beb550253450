/* SPDX-License-Identifier: Apache-2.0 */
/*
 * board_chip.c - the chip-level Verilator model (sim/qa_chip_sim.h) as a
 * board of the emulated FTDI bridge (qa_board.h): the bridge's serial lines
 * drive uart_rx_i and sample uart_tx_o of the real RTL.
 */
#include "qa_board.h"

#include "qa_chip_sim.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static uint64_t chip_step(void *ctx, int rx, uint64_t n, int *tx)
{
	return qa_chip_sim_step(ctx, rx, n, tx);
}

static int chip_busy(void *ctx)
{
	return qa_chip_sim_busy(ctx);
}

static void chip_describe(void *ctx, char *buf, size_t len)
{
	const qa_chip_model_info *m = qa_chip_sim_info(ctx);
	unsigned leds = qa_chip_sim_leds(ctx);
	snprintf(buf, len, "chip %s (%ux%u, %.0f MHz, %" PRIu32 " baud): %" PRIu64
		 " cycles, LEDs busy %s error %s", m->name, m->rows, m->cols,
		 (double)m->clock_hz / 1e6, m->baud, qa_chip_sim_cycles(ctx),
		 leds & 2u ? "on" : "off", leds & 4u ? "on" : "off");
}

static void chip_destroy(void *ctx)
{
	qa_chip_sim_destroy(ctx);
}

int qa_chip_board_new(qa_board *board, const char *model, char *err,
		      size_t errlen)
{
	qa_chip_sim *s;
	memset(board, 0, sizeof *board);
	int rc = qa_chip_sim_create(&s, model);
	if (rc == -2)
		return -2;
	if (rc != 0) {
		size_t n;
		const qa_chip_model_info *m = qa_chip_models(&n);
		char names[256] = "";
		size_t used = 0;
		for (size_t i = 0; i < n && used < sizeof names; i++) {
			int w = snprintf(names + used, sizeof names - used, "%s%s",
					 i ? ", " : "", m[i].name);
			if (w > 0)
				used += (size_t)w;
		}
		snprintf(err, errlen, "no chip model '%s' (built: %s)",
			 model ? model : "", names);
		return -1;
	}
	board->name = qa_chip_sim_info(s)->name;
	board->clock_hz = qa_chip_sim_info(s)->clock_hz;
	board->ctx = s;
	board->step = chip_step;
	board->busy = chip_busy;
	board->describe = chip_describe;
	board->destroy = chip_destroy;
	return 0;
}

uint32_t qa_chip_board_baud(const qa_board *board)
{
	return qa_chip_sim_info(board->ctx)->baud;
}
