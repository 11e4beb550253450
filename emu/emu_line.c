/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_line.c - a UART channel of the emulated FTDI bridge: FIFOs, the
 * bridge's serial transmitter and receiver, and the thread that clocks the
 * board model (see emu_line.h).
 *
 * Time. Simulated time is counted in board clock cycles. A host bit lasts
 * P/Q cycles with P = clock_hz * baud_den and Q = baud_num, which is exact
 * for every FTDI rate (3 MHz * 8 / (8n + k) and the like). A frame start is
 * kept as a whole cycle plus a remainder in units of 1/Q cycle, so frames
 * sent back to back do not drift. The thread advances the board in chunks
 * that end exactly on the next edge the bridge drives or the next sample it
 * takes; the board stops a chunk early right after its TX pin changes, so a
 * start bit is seen at its exact cycle (the real receiver finds it to 1/16
 * of a bit by oversampling). A chunk is at most 1 ms of board time, so new
 * host bytes and settings are picked up quickly.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "emu_line.h"

#include "faults.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct ring {
	uint8_t *b;
	size_t cap, head, len;
} ring;

static size_t ring_put(ring *r, const uint8_t *p, size_t n)
{
	size_t room = r->cap - r->len;
	if (n > room)
		n = room;
	for (size_t i = 0; i < n; i++)
		r->b[(r->head + r->len + i) % r->cap] = p[i];
	r->len += n;
	return n;
}

static size_t ring_get(ring *r, uint8_t *p, size_t n)
{
	if (n > r->len)
		n = r->len;
	for (size_t i = 0; i < n; i++)
		p[i] = r->b[(r->head + i) % r->cap];
	r->head = (r->head + n) % r->cap;
	r->len -= n;
	return n;
}

/* a point in simulated time: c + r/Q cycles, 0 <= r < Q */
typedef struct stime {
	uint64_t c, r;
} stime;

enum rx_state { RX_WAIT_HIGH, RX_WAIT_START, RX_FRAME };

/* state only the line thread touches */
typedef struct sim {
	uint64_t now;
	emu_line_fmt fmt;
	unsigned fmt_gen;
	uint64_t P, Q;        /* bit = P/Q cycles */
	uint64_t max_chunk;   /* 1 ms of board clock */
	unsigned nbits;       /* bits per frame, start to last stop */
	/* transmitter (host -> board) */
	int tx_active;
	uint32_t tx_bits;     /* bit k = line level during bit k */
	stime tx_start;
	unsigned tx_k;        /* bit on the line */
	uint64_t tx_next;     /* cycle at which bit tx_k + 1 starts */
	stime tx_end;         /* end of the last frame */
	int tx_end_valid;
	/* receiver (board -> host) */
	int tx_pin;           /* board TX level */
	enum rx_state rx;
	uint64_t rx_start;
	unsigned rx_k;        /* bit to sample next */
	uint64_t rx_next;     /* cycle of that sample */
	unsigned rx_data, rx_parity_bit;
	/* a received byte waiting to enter the FIFO */
	int have_byte;
	uint8_t byte;
	unsigned byte_err;
	/* realtime pacing */
	struct timespec wall0;
	uint64_t sim0;
} sim;

struct emu_line {
	pthread_mutex_t mu;
	pthread_mutex_t board_mu; /* held while the board steps */
	atomic_uint poke;         /* bumped when the thread should look at
				   * the shared state (new bytes, settings,
				   * stop) between two chunks */
	pthread_cond_t cv;
	pthread_t th;
	int stop;
	qa_board *board;
	int realtime;
	ring txq, rxq;
	emu_line_fmt fmt;
	unsigned fmt_gen;
	int tx_shifting;      /* a frame is on the wire (for tx_empty) */
	unsigned err_pkt, err_poll;
	int64_t rx_since_ns;  /* the RX FIFO became non-empty */
	int64_t host_poll_ns; /* the host last polled the IN endpoint */
	emu_line_stats st;
	/* a faulty line (emu_line_set_faults): host -> board, board -> host */
	qa_faults f_out, f_in;
	int faulty;
	uint8_t extra[2];     /* bytes the faulty line added, sent next */
	unsigned n_extra;
};

static uint64_t ceil_c(stime t)
{
	return t.c + (t.r != 0);
}

static stime st_add(stime t, uint64_t num, uint64_t Q)
{
	uint64_t tot = t.r + num;
	t.c += tot / Q;
	t.r = tot % Q;
	return t;
}

static unsigned popcount8(unsigned v)
{
	unsigned n = 0;
	for (; v; v >>= 1)
		n += v & 1u;
	return n;
}

static unsigned parity_bit(unsigned mode, unsigned data)
{
	unsigned ones = popcount8(data);
	switch (mode) {
	case 1: /* odd: total number of ones odd */
		return (ones & 1u) ? 0u : 1u;
	case 2: /* even */
		return ones & 1u;
	case 3: /* mark */
		return 1u;
	default: /* space */
		return 0u;
	}
}

static void sim_configure(sim *s, const emu_line_fmt *f, uint64_t clock_hz)
{
	s->fmt = *f;
	s->P = clock_hz * f->baud_den;
	s->Q = f->baud_num;
	s->max_chunk = clock_hz / 1000u ? clock_hz / 1000u : 1u;
	s->nbits = 1u + f->data_bits + (f->parity ? 1u : 0u) +
		   (f->stop_bits >= 2 ? 2u : 1u);
	s->tx_active = 0;
	s->tx_end_valid = 0;
	s->have_byte = 0;
	s->rx = s->tx_pin ? RX_WAIT_START : RX_WAIT_HIGH;
}

static void tx_begin(sim *s, unsigned byte)
{
	const emu_line_fmt *f = &s->fmt;
	unsigned mask = (1u << f->data_bits) - 1u;
	unsigned data = byte & mask;
	uint32_t bits = (uint32_t)data << 1; /* bit 0: start, low */
	unsigned k = 1u + f->data_bits;
	if (f->parity)
		bits |= (uint32_t)parity_bit(f->parity, data) << k++;
	for (; k < s->nbits; k++)
		bits |= (uint32_t)1u << k;
	s->tx_bits = bits;
	stime now = { s->now, 0 };
	/* back to back with the previous frame when it ended in this cycle */
	s->tx_start = (s->tx_end_valid && ceil_c(s->tx_end) == s->now) ?
			      s->tx_end :
			      now;
	s->tx_active = 1;
	s->tx_k = 0;
	s->tx_next = ceil_c(st_add(s->tx_start, s->P, s->Q));
}

static int tx_level(const sim *s)
{
	if (s->fmt.brk)
		return 0;
	if (!s->tx_active)
		return 1;
	return (int)((s->tx_bits >> s->tx_k) & 1u);
}

static uint64_t chunk_len(const sim *s)
{
	uint64_t n = UINT64_MAX;
	if (s->tx_active) {
		uint64_t d = s->tx_next - s->now;
		if (d < n)
			n = d;
	}
	if (s->rx == RX_FRAME) {
		uint64_t d = s->rx_next - s->now;
		if (d < n)
			n = d;
	}
	if (s->max_chunk < n)
		n = s->max_chunk;
	if (n == 0)
		n = 1;
	return n;
}

/* cycle of sample k of a frame whose start edge was seen at `start` */
static uint64_t rx_sample_time(const sim *s, uint64_t start, unsigned k)
{
	uint64_t num = (2u * (uint64_t)k + 1u) * s->P;
	uint64_t den = 2u * s->Q;
	return start + (num + den - 1) / den;
}

static void rx_after_step(sim *s)
{
	const emu_line_fmt *f = &s->fmt;
	switch (s->rx) {
	case RX_WAIT_HIGH:
		if (s->tx_pin)
			s->rx = RX_WAIT_START;
		return;
	case RX_WAIT_START:
		if (!s->tx_pin) {
			s->rx = RX_FRAME;
			s->rx_start = s->now;
			s->rx_k = 0;
			s->rx_data = 0;
			s->rx_next = rx_sample_time(s, s->now, 0);
		}
		return;
	case RX_FRAME:
		break;
	}
	if (s->now < s->rx_next)
		return;
	unsigned k = s->rx_k;
	unsigned lvl = s->tx_pin ? 1u : 0u;
	unsigned first_stop = 1u + f->data_bits + (f->parity ? 1u : 0u);
	if (k == 0) {
		if (lvl) { /* no start bit after all */
			s->rx = RX_WAIT_START;
			return;
		}
	} else if (k <= f->data_bits) {
		s->rx_data |= lvl << (k - 1);
	} else if (f->parity && k == first_stop - 1) {
		s->rx_parity_bit = lvl;
	} else {
		unsigned err = 0;
		if (f->parity && s->rx_parity_bit != parity_bit(f->parity, s->rx_data))
			err |= EMU_LSR_PE;
		if (!lvl) {
			err |= EMU_LSR_FE;
			if (s->rx_data == 0)
				err |= EMU_LSR_BI;
		}
		s->have_byte = 1;
		s->byte = (uint8_t)s->rx_data;
		s->byte_err = err;
		s->rx = lvl ? RX_WAIT_START : RX_WAIT_HIGH;
		return;
	}
	s->rx_k = k + 1;
	s->rx_next = rx_sample_time(s, s->rx_start, s->rx_k);
}

static void tx_after_step(sim *s)
{
	if (!s->tx_active || s->now < s->tx_next)
		return;
	s->tx_k++;
	if (s->tx_k >= s->nbits) {
		s->tx_end = st_add(s->tx_start, (uint64_t)s->nbits * s->P, s->Q);
		s->tx_end_valid = 1;
		s->tx_active = 0;
		return;
	}
	s->tx_next = ceil_c(st_add(s->tx_start, (uint64_t)(s->tx_k + 1) * s->P, s->Q));
}

static void wall_now(struct timespec *ts)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
}

static uint64_t ns_between(const struct timespec *a, const struct timespec *b)
{
	int64_t d = (int64_t)(b->tv_sec - a->tv_sec) * 1000000000LL +
		    (b->tv_nsec - a->tv_nsec);
	return d > 0 ? (uint64_t)d : 0;
}

/* with l->mu held: sleep while simulated time is more than 1 ms ahead of
 * the wall clock */
static void pace(emu_line *l, sim *s)
{
	uint64_t hz = l->board->clock_hz;
	for (;;) {
		struct timespec t;
		wall_now(&t);
		uint64_t wall_ns = ns_between(&s->wall0, &t);
		uint64_t cyc = s->now - s->sim0;
		uint64_t sim_ns = cyc / hz * 1000000000ull +
				  (cyc % hz) * 1000000000ull / hz;
		if (l->stop || sim_ns <= wall_ns + 1000000ull)
			return;
		uint64_t ahead = sim_ns - wall_ns;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += (long)(ahead % 1000000000ull);
		until.tv_sec += (time_t)(ahead / 1000000000ull);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_nsec -= 1000000000L;
			until.tv_sec++;
		}
		pthread_cond_timedwait(&l->cv, &l->mu, &until);
	}
}

static int64_t mono_ns(void)
{
	struct timespec t;
	wall_now(&t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* with l->mu: wait up to 1 ms for the host to read */
static void wait_for_host(emu_line *l)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_nsec -= 1000000000L;
		until.tv_sec++;
	}
	pthread_cond_timedwait(&l->cv, &l->mu, &until);
}

static void *line_main(void *arg)
{
	emu_line *l = arg;
	qa_board *b = l->board;
	sim s;
	memset(&s, 0, sizeof s);
	s.tx_pin = 1;
	wall_now(&s.wall0);

	pthread_mutex_lock(&l->mu);
	s.fmt_gen = l->fmt_gen - 1u; /* force the first configuration */
	while (!l->stop) {
		if (s.have_byte && l->rxq.len == l->rxq.cap &&
		    mono_ns() - l->host_poll_ns < EMU_HOST_GRACE_MS * 1000000LL) {
			/* the host is reading: time waits for USB to catch up */
			wait_for_host(l);
			continue;
		}
		if (s.have_byte) {
			s.have_byte = 0;
			uint8_t c[2] = { s.byte, 0 };
			size_t nc = l->faulty ? qa_faults_pass(&l->f_in, s.byte, c) : 1;
			unsigned err = s.byte_err;
			if (l->rxq.len == 0 && nc)
				l->rx_since_ns = mono_ns();
			if (ring_put(&l->rxq, c, nc) != nc) {
				err |= EMU_LSR_OE;
				l->st.overrun++;
			} else {
				l->st.board_bytes++;
			}
			if (err & EMU_LSR_FE)
				l->st.framing++;
			if (err & EMU_LSR_PE)
				l->st.parity++;
			if (err & EMU_LSR_BI)
				l->st.breaks++;
			l->err_pkt |= err;
			l->err_poll |= err;
		}
		if (s.fmt_gen != l->fmt_gen) {
			s.fmt_gen = l->fmt_gen;
			sim_configure(&s, &l->fmt, b->clock_hz);
		}
		if (!s.tx_active && !s.fmt.brk && l->n_extra) {
			tx_begin(&s, l->extra[0]);
			l->extra[0] = l->extra[1];
			l->n_extra--;
		} else if (!s.tx_active && !s.fmt.brk && l->txq.len) {
			uint8_t c;
			ring_get(&l->txq, &c, 1);
			l->st.host_bytes++;
			size_t nc = 1;
			if (l->faulty) {
				uint8_t o[2];
				nc = qa_faults_pass(&l->f_out, c, o);
				c = o[0];
				for (size_t i = 1; i < nc; i++)
					l->extra[l->n_extra++] = o[i];
			}
			if (nc)
				tx_begin(&s, c);
		}
		l->tx_shifting = s.tx_active;
		l->st.cycles = s.now;
		int line_busy = s.tx_active || l->n_extra || s.rx == RX_FRAME ||
				s.fmt.brk;
		int board_busy = b->busy ? b->busy(b->ctx) : 1;
		if (!line_busy && !board_busy) {
			pthread_cond_wait(&l->cv, &l->mu);
			/* idle time is not owed to the wall clock */
			wall_now(&s.wall0);
			s.sim0 = s.now;
			continue;
		}
		unsigned seen = atomic_load(&l->poke);
		int more_tx = l->txq.len > 0 || l->n_extra;
		pthread_mutex_unlock(&l->mu);

		/* run chunks without l->mu until something needs the shared
		 * state: a byte received, the TX frame done, a poke, the line
		 * idle, or 1 ms of board time */
		uint64_t until = s.now + s.max_chunk;
		pthread_mutex_lock(&l->board_mu);
		for (;;) {
			uint64_t n = chunk_len(&s);
			int level = tx_level(&s);
			int tx = 1;
			uint64_t ran = b->step(b->ctx, level, n, &tx);
			if (ran == 0 || ran > n)
				ran = n; /* a board that does not keep the contract */
			s.tx_pin = tx ? 1 : 0;
			s.now += ran;
			rx_after_step(&s);
			tx_after_step(&s);
			if (s.have_byte || s.now >= until ||
			    atomic_load(&l->poke) != seen)
				break;
			if (!s.tx_active &&
			    (more_tx || (s.rx != RX_FRAME && !s.fmt.brk &&
					 b->busy && !b->busy(b->ctx))))
				break;
		}
		pthread_mutex_unlock(&l->board_mu);

		pthread_mutex_lock(&l->mu);
		if (l->realtime)
			pace(l, &s);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

int emu_line_new(emu_line **lp, qa_board *board, size_t tx_cap, size_t rx_cap,
		 int realtime)
{
	*lp = NULL;
	emu_line *l = calloc(1, sizeof *l);
	if (!l)
		return -1;
	l->board = board;
	l->realtime = realtime;
	l->txq.cap = tx_cap;
	l->rxq.cap = rx_cap;
	l->txq.b = malloc(tx_cap);
	l->rxq.b = malloc(rx_cap);
	/* the FTDI power-on format: 9600 8N1 */
	l->fmt = (emu_line_fmt){ .baud_num = 9600, .baud_den = 1,
				 .data_bits = 8, .parity = 0, .stop_bits = 1 };
	if (!l->txq.b || !l->rxq.b)
		goto fail;
	atomic_init(&l->poke, 0u);
	pthread_mutex_init(&l->mu, NULL);
	pthread_mutex_init(&l->board_mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	if (pthread_create(&l->th, NULL, line_main, l) != 0) {
		pthread_cond_destroy(&l->cv);
		pthread_mutex_destroy(&l->board_mu);
		pthread_mutex_destroy(&l->mu);
		goto fail;
	}
	*lp = l;
	return 0;
fail:
	free(l->txq.b);
	free(l->rxq.b);
	free(l);
	return -1;
}

void emu_line_free(emu_line *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stop = 1;
	atomic_fetch_add(&l->poke, 1u);
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->th, NULL);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->board_mu);
	pthread_mutex_destroy(&l->mu);
	free(l->txq.b);
	free(l->rxq.b);
	free(l);
}

void emu_line_set_format(emu_line *l, const emu_line_fmt *fmt)
{
	pthread_mutex_lock(&l->mu);
	l->fmt = *fmt;
	if (l->fmt.baud_num == 0 || l->fmt.baud_den == 0) {
		l->fmt.baud_num = 9600;
		l->fmt.baud_den = 1;
	}
	if (l->fmt.data_bits < 5 || l->fmt.data_bits > 8)
		l->fmt.data_bits = 8;
	l->fmt_gen++;
	atomic_fetch_add(&l->poke, 1u);
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

void emu_line_get_format(emu_line *l, emu_line_fmt *fmt)
{
	pthread_mutex_lock(&l->mu);
	*fmt = l->fmt;
	pthread_mutex_unlock(&l->mu);
}

size_t emu_line_write(emu_line *l, const uint8_t *p, size_t n)
{
	pthread_mutex_lock(&l->mu);
	size_t k = ring_put(&l->txq, p, n);
	if (k) {
		atomic_fetch_add(&l->poke, 1u);
		pthread_cond_broadcast(&l->cv);
	}
	pthread_mutex_unlock(&l->mu);
	return k;
}

void emu_line_host_polls(emu_line *l)
{
	pthread_mutex_lock(&l->mu);
	l->host_poll_ns = mono_ns();
	pthread_mutex_unlock(&l->mu);
}

size_t emu_line_read(emu_line *l, uint8_t *p, size_t max, unsigned *lsr)
{
	pthread_mutex_lock(&l->mu);
	size_t k = ring_get(&l->rxq, p, max);
	if (k)
		pthread_cond_broadcast(&l->cv);
	if (lsr) {
		*lsr = l->err_pkt;
		l->err_pkt = 0;
	}
	pthread_mutex_unlock(&l->mu);
	return k;
}

size_t emu_line_rx_avail(emu_line *l, int64_t *since_ns)
{
	pthread_mutex_lock(&l->mu);
	size_t k = l->rxq.len;
	if (since_ns)
		*since_ns = l->rx_since_ns;
	pthread_mutex_unlock(&l->mu);
	return k;
}

unsigned emu_line_poll_errors(emu_line *l)
{
	pthread_mutex_lock(&l->mu);
	unsigned e = l->err_poll;
	l->err_poll = 0;
	pthread_mutex_unlock(&l->mu);
	return e;
}

int emu_line_tx_empty(emu_line *l)
{
	pthread_mutex_lock(&l->mu);
	int e = l->txq.len == 0 && !l->tx_shifting;
	pthread_mutex_unlock(&l->mu);
	return e;
}

void emu_line_purge(emu_line *l, int tx, int rx)
{
	pthread_mutex_lock(&l->mu);
	if (tx) {
		l->txq.head = 0;
		l->txq.len = 0;
	}
	if (rx) {
		l->rxq.head = 0;
		l->rxq.len = 0;
	}
	pthread_mutex_unlock(&l->mu);
}

void emu_line_get_stats(emu_line *l, emu_line_stats *st)
{
	pthread_mutex_lock(&l->mu);
	*st = l->st;
	pthread_mutex_unlock(&l->mu);
}

void emu_line_describe_board(emu_line *l, char *buf, size_t len)
{
	if (len)
		buf[0] = '\0';
	pthread_mutex_lock(&l->board_mu);
	if (l->board->describe)
		l->board->describe(l->board->ctx, buf, len);
	pthread_mutex_unlock(&l->board_mu);
}

int emu_line_set_faults(emu_line *l, const char *spec, char *err,
			size_t errlen)
{
	qa_faults out, in;
	if (qa_faults_parse(&out, spec, 0, err, errlen) ||
	    qa_faults_parse(&in, spec, 1, err, errlen))
		return -1;
	pthread_mutex_lock(&l->mu);
	l->f_out = out;
	l->f_in = in;
	l->faulty = qa_faults_active(&out);
	pthread_mutex_unlock(&l->mu);
	return 0;
}

void emu_line_describe_faults(emu_line *l, char *buf, size_t len)
{
	char a[128], b[128];
	pthread_mutex_lock(&l->mu);
	qa_faults_describe(&l->f_out, a, sizeof a);
	qa_faults_describe(&l->f_in, b, sizeof b);
	pthread_mutex_unlock(&l->mu);
	snprintf(buf, len, "to the board %s; from it %s", a, b);
}
