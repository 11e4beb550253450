/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport_simuart.c - the chip-level Verilator model (rtl/qa_chip.v,
 * sim/qa_chip_sim.h) as a raw byte transport, through its UART pins.
 *
 * This file plays the host's end of the serial line: an 8N1 transmitter
 * that drives the chip's uart_rx_i bit by bit at the host's baud, and a
 * receiver that watches uart_tx_o for start edges and samples each bit in
 * its middle, as a USB-serial bridge does. The host's baud defaults to the
 * chip's and may be set apart from it (baud=N) to see what a mismatch does.
 * The framed protocol sits above (link.c); the "sim-uart" target is that
 * pair. Time advances only inside read(): writes queue bytes.
 *
 * Argument: [BOARD][,baud=N][,timeout=CYCLES][,garbage=N] - BOARD one of
 * the built chip models (qa_chip_models(); the first is the default);
 * garbage=N puts N random bytes on the line first, for testing. opts->link_faults
 * puts a faulty wire (faults.h) in each direction.
 */
#include "transport.h"

#include "faults.h"
#include "qa_chip_sim.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UART_DEFAULT_TIMEOUT 20000000u /* cycles without a byte moving */
#define UART_IDLE_BYTES 20u            /* byte times of a silent, idle chip */
#define UART_IDLE_CHUNK 4096u

typedef struct uart_ctx {
	qa_chip_sim *chip;
	uint64_t clk_hz;
	uint32_t baud;          /* the host's line rate */
	uint64_t timeout;       /* cycles without progress before a read fails */
	uint64_t now;           /* chip cycles */
	int rx_line;            /* level the host drives on uart_rx_i */
	/* transmitter: queue and the frame on the line */
	uint8_t *txq;
	size_t tx_head, tx_len, tx_cap;
	int tx_active;
	unsigned tx_bits;       /* 10 line bits, start first */
	unsigned tx_bit;        /* bit on the line now */
	uint64_t tx_t0;         /* cycle the frame began */
	/* receiver */
	int rx_active;
	uint64_t rx_t0;         /* cycle of the start edge */
	unsigned rx_bit;        /* next bit to sample, 0 = start */
	unsigned rx_byte;
	uint8_t *rxq;
	size_t rx_head, rx_len, rx_cap;
	/* counters */
	uint64_t framing, glitches, last_progress;
	/* a faulty wire each way (inactive unless opts->link_faults) */
	qa_faults f_out, f_in;
} uart_ctx;

/* cycle at which bit i of a frame begun at t0 starts (i = 10: frame end) */
static uint64_t bit_edge(const uart_ctx *c, uint64_t t0, unsigned i)
{
	return t0 + ((uint64_t)i * c->clk_hz + c->baud / 2) / c->baud;
}

/* cycle at which bit i of a frame whose start edge was at t0 is sampled */
static uint64_t bit_middle(const uart_ctx *c, uint64_t t0, unsigned i)
{
	return t0 + ((2 * (uint64_t)i + 1) * c->clk_hz + c->baud) /
			    (2 * (uint64_t)c->baud);
}

static int grow(uint8_t **p, size_t *head, size_t len, size_t *cap, size_t need)
{
	if (*head + need <= *cap)
		return 0;
	if (*head) {
		memmove(*p, *p + *head, len);
		*head = 0;
		if (need <= *cap)
			return 0;
	}
	size_t nc = *cap ? *cap : 4096;
	while (nc < need)
		nc *= 2;
	uint8_t *q = realloc(*p, nc);
	if (!q)
		return -1;
	*p = q;
	*cap = nc;
	return 0;
}

static void model_names(char *buf, size_t len)
{
	size_t n, used = 0;
	const qa_chip_model_info *m = qa_chip_models(&n);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + used, len - used, "%s%s (%ux%u, %.0f MHz, "
				 "%" PRIu32 " baud)", i ? ", " : "", m[i].name,
				 m[i].rows, m[i].cols, (double)m[i].clock_hz / 1e6,
				 m[i].baud);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
}

static int parse_u64(const char *s, size_t n, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;
	if (n == 0 || n > 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x == 0 || x > max)
		return -1;
	*v = x;
	return 0;
}

static int uart_write(void *ctx, const uint8_t *buf, size_t n, char *err,
		      size_t errlen);

static void uart_close(void *ctx)
{
	uart_ctx *c = ctx;
	if (!c)
		return;
	qa_chip_sim_destroy(c->chip);
	free(c->txq);
	free(c->rxq);
	free(c);
}

static int uart_open(void **ctxp, const char *arg, const qa_dev_opts *opts,
		     char *err, size_t errlen)
{
	char board[64] = "", names[512];
	uint64_t baud = 0, timeout = 0, garbage = 0;
	*ctxp = NULL;
	for (const char *p = arg; p && *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		int bad = 0;
		if (n > 5 && strncmp(p, "baud=", 5) == 0)
			bad = parse_u64(p + 5, n - 5, 100000000, &baud);
		else if (n > 8 && strncmp(p, "timeout=", 8) == 0)
			bad = parse_u64(p + 8, n - 8, UINT64_MAX / 4, &timeout);
		else if (n > 8 && strncmp(p, "garbage=", 8) == 0)
			bad = parse_u64(p + 8, n - 8, 1u << 30, &garbage);
		else if (n && n < sizeof board && !board[0] && !memchr(p, '=', n))
			memcpy(board, p, n);
		else
			bad = 1;
		if (bad) {
			snprintf(err, errlen, "bad sim-uart option '%.*s' (expected "
				 "[BOARD][,baud=N][,timeout=CYCLES][,garbage=N])",
				 (int)n, p);
			return QA_ERR_INVALID;
		}
		p = e ? e + 1 : p + n;
	}
	uart_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return QA_ERR_NOMEM;
	int rc = qa_chip_sim_create(&c->chip, board);
	if (rc != 0) {
		free(c);
		if (rc == -2)
			return QA_ERR_NOMEM;
		model_names(names, sizeof names);
		snprintf(err, errlen, "no chip model '%s' (built: %s)", board,
			 names);
		return QA_ERR_UNSUPPORTED;
	}
	const qa_chip_model_info *mi = qa_chip_sim_info(c->chip);
	c->clk_hz = mi->clock_hz;
	c->baud = baud ? (uint32_t)baud : mi->baud;
	if (c->clk_hz / c->baud < 2) {
		snprintf(err, errlen, "baud %" PRIu32 " is too fast to simulate "
			 "against a %.0f MHz chip", c->baud,
			 (double)c->clk_hz / 1e6);
		uart_close(c);
		return QA_ERR_INVALID;
	}
	c->timeout = timeout ? timeout :
		     (opts && opts->sim_timeout_cycles ? opts->sim_timeout_cycles :
						       UART_DEFAULT_TIMEOUT);
	if (opts && opts->link_faults &&
	    (qa_faults_parse(&c->f_out, opts->link_faults, 0, err, errlen) ||
	     qa_faults_parse(&c->f_in, opts->link_faults, 1, err, errlen))) {
		uart_close(c);
		return QA_ERR_INVALID;
	}
	c->rx_line = 1;
	c->now = qa_chip_sim_cycles(c->chip);
	c->last_progress = c->now;
	if (opts && opts->trace_path &&
	    qa_chip_sim_trace_open(c->chip, opts->trace_path) != 0) {
		snprintf(err, errlen, "cannot write trace '%s'", opts->trace_path);
		uart_close(c);
		return QA_ERR_IO;
	}
	/* garbage=N: N random bytes on the line before anything else, as
	 * a crashed program might leave (the link must find its way) */
	uint64_t st = 0x5eed;
	for (uint64_t i = 0; i < garbage; i++) {
		uint8_t b;
		st = st * 6364136223846793005ull + 1442695040888963407ull;
		b = (uint8_t)(st >> 56);
		if (uart_write(c, &b, 1, err, errlen) != QA_OK) {
			uart_close(c);
			return QA_ERR_NOMEM;
		}
	}
	*ctxp = c;
	return QA_OK;
}

static int uart_write(void *ctx, const uint8_t *buf, size_t n, char *err,
		      size_t errlen)
{
	uart_ctx *c = ctx;
	if (grow(&c->txq, &c->tx_head, c->tx_len, &c->tx_cap,
		 c->tx_len + 2 * n) != 0) {
		snprintf(err, errlen, "out of memory");
		return QA_ERR_NOMEM;
	}
	if (!qa_faults_active(&c->f_out)) {
		memcpy(c->txq + c->tx_head + c->tx_len, buf, n);
		c->tx_len += n;
		return QA_OK;
	}
	for (size_t i = 0; i < n; i++)
		c->tx_len += qa_faults_pass(&c->f_out, buf[i],
					    c->txq + c->tx_head + c->tx_len);
	return QA_OK;
}

static int rx_put(uart_ctx *c, uint8_t b)
{
	if (grow(&c->rxq, &c->rx_head, c->rx_len, &c->rx_cap, c->rx_len + 2))
		return -1;
	c->rx_len += qa_faults_pass(&c->f_in, b, c->rxq + c->rx_head + c->rx_len);
	return 0;
}

/* events due at c->now: transmitter edges, receiver samples */
static int uart_events(uart_ctx *c)
{
	if (!c->tx_active && c->tx_len) {
		unsigned b = c->txq[c->tx_head++];
		c->tx_len--;
		c->tx_bits = (b << 1) | 0x200u; /* start 0, data LSB first, stop 1 */
		c->tx_bit = 0;
		c->tx_t0 = c->now;
		c->tx_active = 1;
	}
	if (c->tx_active) {
		while (c->tx_bit < 10 && bit_edge(c, c->tx_t0, c->tx_bit + 1) <= c->now)
			c->tx_bit++;
		if (c->tx_bit == 10) {
			c->tx_active = 0;
			c->rx_line = 1;
			c->last_progress = c->now;
			return uart_events(c); /* the next byte starts right away */
		}
		c->rx_line = (c->tx_bits >> c->tx_bit) & 1u;
	}
	int line = qa_chip_sim_tx(c->chip);
	if (!c->rx_active && !line) {
		c->rx_active = 1;
		c->rx_t0 = c->now;
		c->rx_bit = 0;
		c->rx_byte = 0;
	}
	while (c->rx_active && bit_middle(c, c->rx_t0, c->rx_bit) <= c->now) {
		if (c->rx_bit == 0 && line) {
			c->glitches++; /* not a start bit after all */
			c->rx_active = 0;
		} else if (c->rx_bit >= 1 && c->rx_bit <= 8) {
			c->rx_byte |= (unsigned)line << (c->rx_bit - 1);
		} else if (c->rx_bit == 9) {
			if (!line)
				c->framing++;
			if (rx_put(c, (uint8_t)c->rx_byte) != 0)
				return QA_ERR_NOMEM;
			c->last_progress = c->now;
			c->rx_active = 0;
			/* a line still low is the next start bit (or a break) */
			if (!line) {
				c->rx_active = 1;
				c->rx_t0 = c->now;
				c->rx_bit = 0;
				c->rx_byte = 0;
				continue;
			}
		}
		if (c->rx_active)
			c->rx_bit++;
	}
	return QA_OK;
}

static int uart_read(void *ctx, uint8_t *buf, size_t n, char *err,
		     size_t errlen)
{
	uart_ctx *c = ctx;
	uint64_t idle = 0, idle_max = UART_IDLE_BYTES * 10 * (c->clk_hz / c->baud);
	c->last_progress = c->now;
	for (;;) {
		int rc = uart_events(c);
		if (rc != QA_OK) {
			snprintf(err, errlen, "out of memory");
			return rc;
		}
		if (c->rx_len >= n)
			break;
		uint64_t next = c->now + UART_IDLE_CHUNK;
		if (c->tx_active && bit_edge(c, c->tx_t0, c->tx_bit + 1) < next)
			next = bit_edge(c, c->tx_t0, c->tx_bit + 1);
		if (c->rx_active && bit_middle(c, c->rx_t0, c->rx_bit) < next)
			next = bit_middle(c, c->rx_t0, c->rx_bit);
		uint64_t ran = qa_chip_sim_step(c->chip, c->rx_line, next - c->now,
						NULL);
		c->now += ran;
		int quiet = !c->tx_active && !c->tx_len && !c->rx_active &&
			    !qa_chip_sim_busy(c->chip);
		idle = quiet ? idle + ran : 0;
		if (idle > idle_max || c->now - c->last_progress > c->timeout) {
			char lines[128] = "";
			if (c->framing)
				snprintf(lines, sizeof lines, "; %" PRIu64 " bytes "
					 "with a bad stop bit (baud mismatch?)",
					 c->framing);
			snprintf(err, errlen, "timed out: %s after %" PRIu64
				 " bytes of %zu (host %" PRIu32 " baud, chip %" PRIu32
				 " baud)%s",
				 idle > idle_max ? "the chip went idle and sent "
						   "nothing more" :
						   "no byte moved on the line",
				 c->rx_len, n, c->baud,
				 qa_chip_sim_info(c->chip)->baud, lines);
			return QA_ERR_TIMEOUT;
		}
	}
	memcpy(buf, c->rxq + c->rx_head, n);
	c->rx_head += n;
	c->rx_len -= n;
	return QA_OK;
}

static uint64_t uart_cycles(void *ctx)
{
	return ((uart_ctx *)ctx)->now;
}

const qa_transport_ops qa_raw_simuart = {
	.name = "sim-uart",
	.open = uart_open,
	.close = uart_close,
	.write = uart_write,
	.read = uart_read,
	.cycles = uart_cycles,
};
