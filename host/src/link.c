/* SPDX-License-Identifier: Apache-2.0 */
/*
 * link.c - the host side of the wire protocol (docs/protocol.md) over a raw
 * byte transport, presented to dev.c as a transport of the core's command
 * stream.
 *
 * dev.c writes core commands (docs/architecture.md) and reads the core's
 * response bytes, as it does on the "sim" target. Here the command stream is
 * parsed as it arrives and cut into frames: one per command, loads split
 * into a first frame and LOAD_MORE frames of at most max_payload bytes.
 * Frames go out while the device's window (max_frames frames, rx_buffer
 * payload bytes unanswered) has room; responses are matched to the frames
 * by opcode and sequence number, and their payloads - the core's bytes -
 * are queued for dev.c's reads (IDENT loses the link's 16 bytes on the way).
 *
 * Line errors (docs/protocol.md, section 7). Every frame in flight is kept
 * until its response has arrived. When the line goes quiet with frames
 * unanswered, or the device answers a frame with a status that says "not
 * accepted" (BAD_CRC, SEQUENCE, ...), the host probes: it sends a NOP with
 * a sequence number the device cannot expect, and the SEQUENCE answer - the
 * last frame before it, as responses leave in order - says which frame the
 * device expects next. Frames before that one were executed; the host sends
 * that one and all after it again, with the same numbers (go-back-N; the
 * device never executes a number twice). A frame whose response carries
 * core bytes (RUN, NET_RUN, IDENT, COUNTERS) cannot be repeated that way:
 * when any of its response was lost or damaged, the operation fails with
 * QA_ERR_IO and the link is marked lost; dev.c then resets the link
 * (link_reset: RESET, which keeps the device's memories) and runs the
 * whole operation again. A damaged response taints every data frame in
 * flight, so corrupted or misaligned result bytes never reach dev.c.
 * Probing gives up after LINK_PROBES silent probes, or after
 * LINK_RECOVERIES recoveries with no frame answered in between. Each
 * recovery halves the load data per frame (down to LINK_MIN_PAYLOAD bytes;
 * a damaged frame costs less and a short one is damaged less often), and
 * LINK_CLEAN_RUN frames answered in a row double it again.
 *
 * Opening the link sends a 0x00, RESET and IDENT to learn the window.
 */
#include "transport.h"

#include "proto.h"
#include "qa_ftdi.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINK_PROBES 8       /* silent probes in a row before giving up */
#define LINK_RECOVERIES 32  /* recoveries without progress before giving up */
#define LINK_MIN_PAYLOAD 32 /* load bytes per frame on the noisiest line */
#define LINK_CLEAN_RUN 64   /* frames answered before frames grow again */
#define LINK_RESETS 8       /* RESETs without an answer before giving up */

typedef struct sent_frame {
	uint8_t op, seq;
	size_t len;
	uint8_t *copy;            /* the payload, for sending again */
	int data;                 /* its response carries core bytes */
	int tainted;              /* part of its response may have been lost */
	size_t expect, got;       /* core bytes its response must carry, and has */
} sent_frame;

typedef struct link_ctx {
	const qa_transport_ops *raw;
	void *rc;                 /* the raw transport's context */
	qa_proto_dec *dec;
	int verbose;
	int failed;               /* QA_OK or the error that broke the link */
	int lost;                 /* the failure lost data: link_reset may help */
	char failmsg[300];
	char silence[400];        /* the raw transport's last timeout message */
	/* the device, from IDENT */
	unsigned rows, cols, max_frames, max_payload;
	uint32_t rx_buffer;
	/* frames sent and not fully answered, oldest first, in a ring */
	sent_frame *fl;
	unsigned cap, fl_head, fl_n;
	size_t fl_bytes;
	uint8_t seq;              /* the next frame's sequence number */
	unsigned stuck;           /* recoveries since a frame was answered */
	size_t payload;           /* load data per frame now (<= max_payload) */
	unsigned clean;           /* frames answered since the last recovery */
	/* the command being cut into frames */
	int in_cmd;
	uint8_t op, fop;          /* command opcode, opcode of the frame */
	unsigned nargs, args_need;
	uint8_t args[16];
	uint64_t data_left, data_total;
	uint8_t net_last[QA_PROTO_LAYER_BYTES]; /* last layer of the last NET_LOAD */
	uint8_t *fbuf;            /* payload of the frame being filled */
	size_t flen;
	uint8_t *wbuf;            /* encoded frame */
	size_t wcap;
	/* core response bytes for dev.c */
	uint8_t *rq;
	size_t rq_head, rq_len, rq_cap;
	qa_link_counts n;
	uint64_t skipped;         /* decoder's count of bytes outside frames */
} link_ctx;

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static int fail(link_ctx *l, int rc, char *err, size_t errlen,
		const char *fmt, ...)
{
	char msg[sizeof l->failmsg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	memcpy(l->failmsg, msg, sizeof msg);
	l->failed = rc;
	snprintf(err, errlen, "%s", l->failmsg);
	return rc;
}

static int raw_fail(link_ctx *l, int rc, const char *what, const char *msg,
		    char *err, size_t errlen)
{
	return fail(l, rc, err, errlen, "%s: %s", what, msg);
}

/* bytes of data that follow a command's arguments */
static uint64_t data_bytes(const link_ctx *l, uint8_t op, const uint8_t *a)
{
	unsigned n16 = (unsigned)a[1] | (unsigned)a[2] << 8; /* LOAD_X/W/P count */
	unsigned m16 = (unsigned)a[2] | (unsigned)a[3] << 8; /* LOAD_WA/PA count */
	switch (op) {
	case QA_POP_LOAD_X:
		return (uint64_t)n16 * l->rows;
	case QA_POP_LOAD_W:
		return (uint64_t)n16 * l->cols;
	case QA_POP_LOAD_P:
		return (uint64_t)n16 * l->cols * 5;
	case QA_POP_LOAD_WA:
		return (uint64_t)m16 * l->cols;
	case QA_POP_LOAD_PA:
		return (uint64_t)m16 * l->cols * 5;
	case QA_POP_NET_LOAD:
		return (uint64_t)a[0] * QA_PROTO_LAYER_BYTES;
	default:
		return 0;
	}
}

/* argument bytes of a core command; -1 for an opcode the link cannot frame */
static int args_of(uint8_t op)
{
	switch (op) {
	case QA_POP_NOP:
	case QA_POP_IDENT:
	case QA_POP_COUNTERS:
	case QA_POP_CLEAR:
		return 0;
	case QA_POP_LOAD_X:
	case QA_POP_LOAD_W:
	case QA_POP_LOAD_P:
		return QA_PROTO_LOAD_ARGS;
	case QA_POP_LOAD_WA:
	case QA_POP_LOAD_PA:
		return QA_PROTO_LOADA_ARGS;
	case QA_POP_NET_LOAD:
		return QA_PROTO_NET_LOAD_ARGS;
	case QA_POP_NET_RUN:
		return QA_PROTO_NET_RUN_ARGS;
	case QA_POP_RUN:
		return QA_PROTO_RUN_ARGS;
	default:
		return -1;
	}
}

static int rq_append(link_ctx *l, const uint8_t *p, size_t n)
{
	if (l->rq_head + l->rq_len + n > l->rq_cap) {
		/* nothing to move (and no buffer yet, rq NULL) when empty */
		if (l->rq_len)
			memmove(l->rq, l->rq + l->rq_head, l->rq_len);
		l->rq_head = 0;
		if (l->rq_len + n > l->rq_cap) {
			size_t nc = l->rq_cap ? l->rq_cap : 4096;
			while (nc < l->rq_len + n)
				nc *= 2;
			uint8_t *q = realloc(l->rq, nc);
			if (!q)
				return QA_ERR_NOMEM;
			l->rq = q;
			l->rq_cap = nc;
		}
	}
	memcpy(l->rq + l->rq_head + l->rq_len, p, n);
	l->rq_len += n;
	return QA_OK;
}

static sent_frame *slot(link_ctx *l, unsigned k)
{
	return &l->fl[(l->fl_head + k) % l->cap];
}

static void retire(link_ctx *l)
{
	l->fl_bytes -= l->fl[l->fl_head].len;
	l->fl_head = (l->fl_head + 1) % l->cap;
	l->fl_n--;
	l->stuck = 0;
	/* a clean run: back towards full-size frames */
	if (++l->clean >= LINK_CLEAN_RUN && l->payload < l->max_payload) {
		l->payload = 2 * l->payload < l->max_payload ? 2 * l->payload :
							     l->max_payload;
		l->clean = 0;
	}
}

/* the device executed frame s, but some of its response never arrived */
static int fail_lost(link_ctx *l, const sent_frame *s, char *err,
		     size_t errlen)
{
	l->lost = 1;
	return fail(l, QA_ERR_IO, err, errlen,
		    "the response to %s (seq %u) was lost to line errors "
		    "(%" PRIu64 " damaged responses so far)",
		    qa_proto_op_name(s->op), s->seq, l->n.damaged);
}

/* a damaged response: whatever data frame it belonged to is unreliable */
static void damaged(link_ctx *l)
{
	l->n.damaged++;
	for (unsigned k = 0; k < l->fl_n; k++)
		if (slot(l, k)->data)
			slot(l, k)->tainted = 1;
}

enum { RX_FRAME = 0, RX_SILENT = 1 };

/*
 * Read until the decoder finishes a good frame (RX_FRAME, in *f) or the
 * raw transport times out (RX_SILENT); damaged frames and bytes outside
 * frames are counted and taint the data frames in flight. Other raw
 * errors (a disconnect) fail the link.
 */
static int rx_frame(link_ctx *l, qa_proto_frame *f, char *err, size_t errlen)
{
	char e[400];
	for (;;) {
		uint8_t b;
		size_t used;
		int rc = l->raw->read(l->rc, &b, 1, e, sizeof e);
		if (rc == QA_ERR_TIMEOUT) {
			snprintf(l->silence, sizeof l->silence, "%s", e);
			if (qa_proto_dec_flush(l->dec) != QA_PEV_NONE)
				damaged(l);
			return RX_SILENT;
		}
		if (rc != QA_OK)
			return raw_fail(l, rc, "waiting for a response", e, err,
					errlen);
		l->n.wire_in++;
		qa_proto_event ev = qa_proto_dec_push(l->dec, &b, 1, &used, f);
		qa_proto_dec_stats st;
		qa_proto_dec_get_stats(l->dec, &st);
		if (ev == QA_PEV_BAD_CRC || ev == QA_PEV_BAD_LENGTH ||
		    ev == QA_PEV_TRUNCATED || st.skipped != l->skipped)
			damaged(l);
		l->skipped = st.skipped;
		if (ev == QA_PEV_FRAME)
			return RX_FRAME;
	}
}

enum { ON_OK = 0, ON_RECOVER = 1, ON_PROBE = 2 };

/*
 * Settle a good frame against the frames in flight: ON_OK, ON_RECOVER (the
 * device did not accept a frame: probe), ON_PROBE (the answer to probe
 * number probe_seq; *expect gets the sequence number it carries, -1 if
 * none), or an error.
 */
static int on_frame(link_ctx *l, const qa_proto_frame *f, int probing,
		    uint8_t probe_seq, int *expect, char *err, size_t errlen)
{
	unsigned st = f->status & QA_PROTO_STATUS_MASK;
	if (l->verbose >= 2)
		fprintf(stderr, "qarray: link: <- %s seq %u %s%s, %zu bytes\n",
			qa_proto_op_name(f->op), f->seq, qa_proto_status_name(st),
			f->status & QA_PROTO_MORE ? " MORE" : "", f->len);
	if (probing && f->op == (QA_POP_NOP | QA_PROTO_RSP) &&
	    f->seq == probe_seq) {
		*expect = qa_proto_expected_seq(f);
		return ON_PROBE;
	}
	unsigned i = 0;
	while (i < l->fl_n && qa_proto_check_response(f, slot(l, i)->op,
						      slot(l, i)->seq) != QA_PM_MATCH)
		i++;
	if (i == l->fl_n) /* a stray answer (a probe's, a frame's of before) */
		return st == QA_PST_OK || probing ? ON_OK : ON_RECOVER;
	if (qa_proto_status_resend(st))
		return probing ? ON_OK : ON_RECOVER;
	if (st != QA_PST_OK) {
		char exp[40] = "";
		if (qa_proto_expected_seq(f) >= 0)
			snprintf(exp, sizeof exp, "; it expects seq %d next",
				 qa_proto_expected_seq(f));
		return fail(l, QA_ERR_DEVICE, err, errlen,
			    "the device answered %s (seq %u) with %s%s",
			    qa_proto_op_name(f->op), f->seq,
			    qa_proto_status_name(st), exp);
	}
	/* accepted: so were all frames before it, whose answers were lost */
	for (; i; i--) {
		if (l->fl[l->fl_head].data)
			return fail_lost(l, &l->fl[l->fl_head], err, errlen);
		retire(l);
	}
	sent_frame *s = &l->fl[l->fl_head];
	size_t n = f->len;
	if (s->op == QA_POP_IDENT && !s->tainted) {
		if (n != QA_PROTO_IDENT_LEN)
			return fail(l, QA_ERR_DEVICE, err, errlen,
				    "IDENT response of %zu bytes (expected %u)",
				    n, QA_PROTO_IDENT_LEN);
		n = QA_PROTO_IDENT_CORE_LEN;
	}
	if (n && !s->tainted && rq_append(l, f->payload, n) != QA_OK)
		return fail(l, QA_ERR_NOMEM, err, errlen, "out of memory");
	s->got += n;
	/* a reply longer or shorter than its command implies lost a frame
	 * (or gained one): never hand such bytes on as results */
	if (s->got > s->expect || (!(f->status & QA_PROTO_MORE) && s->got != s->expect))
		s->tainted = 1;
	if (!(f->status & QA_PROTO_MORE)) {
		if (s->tainted)
			return fail_lost(l, s, err, errlen);
		retire(l);
	}
	return ON_OK;
}

static int raw_send(link_ctx *l, uint8_t op, uint8_t seq,
		    const uint8_t *payload, size_t len, char *err,
		    size_t errlen)
{
	qa_proto_frame f = { op, seq, 0, len, payload };
	size_t wlen;
	char e[400];
	if (qa_proto_encode(&f, l->wbuf, l->wcap, &wlen) != QA_OK)
		return fail(l, QA_ERR_INVALID, err, errlen,
			    "cannot encode a %zu-byte frame", len);
	if (l->verbose >= 2)
		fprintf(stderr, "qarray: link: -> %s seq %u, %zu bytes\n",
			qa_proto_op_name(op), seq, len);
	int rc = l->raw->write(l->rc, l->wbuf, wlen, e, sizeof e);
	if (rc != QA_OK)
		return raw_fail(l, rc, "sending a frame", e, err, errlen);
	l->n.wire_out += wlen;
	return QA_OK;
}

/* a start marker alone ends whatever half frame the device holds */
static int raw_sof(link_ctx *l, char *err, size_t errlen)
{
	static const uint8_t sof = QA_PROTO_SOF;
	char e[400];
	int rc = l->raw->write(l->rc, &sof, 1, e, sizeof e);
	if (rc != QA_OK)
		return raw_fail(l, rc, "sending", e, err, errlen);
	l->n.wire_out++;
	return QA_OK;
}

/* The probe said the device expects seq e next: settle and go back. */
static int settle(link_ctx *l, uint8_t e, char *err, size_t errlen)
{
	unsigned k = 0;
	while (k < l->fl_n && slot(l, k)->seq != e)
		k++;
	if (k == l->fl_n && e != l->seq) {
		l->lost = 1;
		return fail(l, QA_ERR_IO, err, errlen, "the device expects seq "
			    "%u, which the host never sent (next %u)", e, l->seq);
	}
	for (; k; k--) {
		if (l->fl[l->fl_head].data)
			return fail_lost(l, &l->fl[l->fl_head], err, errlen);
		retire(l);
	}
	for (k = 0; k < l->fl_n; k++) {
		sent_frame *s = slot(l, k);
		int rc = raw_send(l, s->op, s->seq, s->copy, s->len, err, errlen);
		if (rc != QA_OK)
			return rc;
		l->n.resent++;
	}
	return QA_OK;
}

/* Find out where the device is (a NOP it cannot accept) and go back. */
static int recover(link_ctx *l, char *err, size_t errlen)
{
	/* a noisy line: shorter load frames get through more often (the
	 * frames in flight keep their size) */
	l->clean = 0;
	if (l->payload / 2 >= LINK_MIN_PAYLOAD)
		l->payload /= 2;
	if (++l->stuck > LINK_RECOVERIES)
		return fail(l, QA_ERR_IO, err, errlen, "the link is too noisy: %u "
			    "recoveries without progress (%" PRIu64 " damaged "
			    "responses, %" PRIu64 " frames sent again)",
			    LINK_RECOVERIES, l->n.damaged, l->n.resent);
	for (int tries = 0; tries < LINK_PROBES; tries++) {
		uint8_t pseq = (uint8_t)(l->seq + 128u);
		l->n.probes++;
		int rc = raw_sof(l, err, errlen);
		if (rc == QA_OK)
			rc = raw_send(l, QA_POP_NOP, pseq, NULL, 0, err, errlen);
		if (rc != QA_OK)
			return rc;
		for (;;) {
			qa_proto_frame f;
			int expect = -1;
			rc = rx_frame(l, &f, err, errlen);
			if (rc < 0)
				return rc;
			if (rc == RX_SILENT)
				break;
			rc = on_frame(l, &f, 1, pseq, &expect, err, errlen);
			if (rc < 0)
				return rc;
			if (rc == ON_PROBE && expect >= 0)
				return settle(l, (uint8_t)expect, err, errlen);
			if (rc == ON_PROBE)
				break;
		}
	}
	return fail(l, QA_ERR_TIMEOUT, err, errlen,
		    "no answer from the device to %d probes: %s", LINK_PROBES,
		    l->silence);
}

/* Take one response frame and settle it, recovering when needed. */
static int recv_one(link_ctx *l, char *err, size_t errlen)
{
	qa_proto_frame f;
	int expect;
	int rc = rx_frame(l, &f, err, errlen);
	if (rc == RX_FRAME)
		rc = on_frame(l, &f, 0, 0, &expect, err, errlen);
	else if (rc == RX_SILENT)
		rc = ON_RECOVER;
	if (rc == ON_RECOVER)
		rc = recover(l, err, errlen);
	return rc < 0 ? rc : QA_OK;
}

/* results of a RUN: rows x columns, from its arguments (protocol.md, 3) */
static size_t run_bytes(const link_ctx *l, unsigned rg, unsigned cg,
			unsigned last_rows, unsigned last_cols)
{
	if (!rg || !cg)
		return 0;
	return ((size_t)(rg - 1) * l->rows + last_rows) *
	       ((size_t)(cg - 1) * l->cols + last_cols);
}

/* The core bytes the response to frame (op, payload) carries, after
 * link.c trims IDENT; for NET_RUN from the last NET_LOAD's last layer. */
static size_t reply_bytes(const link_ctx *l, uint8_t op, const uint8_t *a,
			  size_t len)
{
	const uint8_t *t = l->net_last;
	switch (op) {
	case QA_POP_IDENT:
		return QA_PROTO_IDENT_CORE_LEN;
	case QA_POP_COUNTERS:
		return 20;
	case QA_POP_RUN: /* xbank wbank rg(2) cg(2) k(2) last_rows last_cols ... */
		if (len < QA_PROTO_RUN_ARGS)
			return 0;
		return run_bytes(l, a[2] | a[3] << 8, a[4] | a[5] << 8, a[8], a[9]);
	case QA_POP_NET_RUN: /* xbank rg(2) last_rows; layer: ... cg(2) @4, last_cols @8 */
		if (len < QA_PROTO_NET_RUN_ARGS)
			return 0;
		return run_bytes(l, a[1] | a[2] << 8, t[4] | t[5] << 8, a[3], t[8]);
	default:
		return 0;
	}
}

static int send_frame(link_ctx *l, uint8_t op, const uint8_t *payload,
		      size_t len, char *err, size_t errlen)
{
	while (l->fl_n >= l->max_frames ||
	       (l->fl_n && l->fl_bytes + len > l->rx_buffer)) {
		int rc = recv_one(l, err, errlen);
		if (rc != QA_OK)
			return rc;
	}
	sent_frame *s = slot(l, l->fl_n);
	s->op = op;
	s->seq = l->seq;
	s->len = len;
	s->data = op == QA_POP_RUN || op == QA_POP_NET_RUN ||
		  op == QA_POP_IDENT || op == QA_POP_COUNTERS;
	s->tainted = 0;
	s->got = 0;
	s->expect = reply_bytes(l, op, payload, len);
	if (len)
		memcpy(s->copy, payload, len);
	l->fl_n++;
	l->fl_bytes += len;
	l->seq++;
	return raw_send(l, op, s->seq, s->copy, len, err, errlen);
}

/* send the frame being filled; the command goes on with LOAD_MORE frames */
static int flush_frame(link_ctx *l, char *err, size_t errlen)
{
	int rc = send_frame(l, l->fop, l->fbuf, l->flen, err, errlen);
	l->fop = QA_POP_LOAD_MORE;
	l->flen = 0;
	return rc;
}

static int link_failed(link_ctx *l, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", l->failmsg);
	return l->failed;
}
/* NET_LOAD data passing by (k bytes, data_left not yet reduced): keep the
 * last layer's descriptor, which shapes every NET_RUN's reply */
static void keep_last_layer(link_ctx *l, const uint8_t *p, size_t k)
{
	uint64_t off = l->data_total - l->data_left; /* offset of p[0] */
	uint64_t last = l->data_total - QA_PROTO_LAYER_BYTES;
	for (size_t j = 0; j < k; j++)
		if (off + j >= last)
			l->net_last[off + j - last] = p[j];
}

static int link_write(void *ctx, const uint8_t *buf, size_t n, char *err,
		      size_t errlen)
{
	link_ctx *l = ctx;
	if (l->failed)
		return link_failed(l, err, errlen);
	size_t i = 0;
	while (i < n) {
		int rc = QA_OK;
		if (!l->in_cmd) {
			int na = args_of(buf[i]);
			if (na < 0)
				return fail(l, QA_ERR_INVALID, err, errlen,
					    "no framing for core opcode 0x%02x",
					    buf[i]);
			l->op = l->fop = buf[i++];
			l->in_cmd = 1;
			l->nargs = 0;
			l->args_need = (unsigned)na;
			l->data_left = 0;
			l->flen = 0;
			if (na == 0) {
				l->in_cmd = 0;
				rc = flush_frame(l, err, errlen);
			}
		} else if (l->nargs < l->args_need) {
			l->args[l->nargs++] = buf[i];
			l->fbuf[l->flen++] = buf[i++];
			if (l->nargs == l->args_need) {
				l->data_left = data_bytes(l, l->op, l->args);
				l->data_total = l->data_left;
				if (!l->data_left) {
					l->in_cmd = 0;
					rc = flush_frame(l, err, errlen);
				}
			}
		} else {
			size_t k = n - i;
			if (k > l->data_left)
				k = (size_t)l->data_left;
			if (l->flen + k > l->payload)
				k = l->flen < l->payload ? l->payload - l->flen : 0;
			memcpy(l->fbuf + l->flen, buf + i, k);
			if (l->op == QA_POP_NET_LOAD)
				keep_last_layer(l, buf + i, k);
			l->flen += k;
			i += k;
			l->data_left -= k;
			if (!l->data_left) {
				l->in_cmd = 0;
				rc = flush_frame(l, err, errlen);
			} else if (l->flen >= l->payload) {
				rc = flush_frame(l, err, errlen);
			}
		}
		if (rc != QA_OK)
			return rc;
	}
	return QA_OK;
}

static int link_read(void *ctx, uint8_t *buf, size_t n, char *err,
		     size_t errlen)
{
	link_ctx *l = ctx;
	if (l->failed)
		return link_failed(l, err, errlen);
	while (l->rq_len < n) {
		if (!l->fl_n)
			return fail(l, QA_ERR_DEVICE, err, errlen,
				    "waiting for %zu response bytes, but every "
				    "command has been answered (%zu bytes came)",
				    n, l->rq_len);
		int rc = recv_one(l, err, errlen);
		if (rc != QA_OK)
			return rc;
	}
	memcpy(buf, l->rq + l->rq_head, n);
	l->rq_head += n;
	l->rq_len -= n;
	return QA_OK;
}

static void free_window(link_ctx *l)
{
	for (unsigned i = 0; l->fl && i < l->cap; i++)
		free(l->fl[i].copy);
	free(l->fl);
	l->fl = NULL;
	l->cap = 0;
}

static void link_close(void *ctx)
{
	link_ctx *l = ctx;
	if (!l)
		return;
	if (l->rc)
		l->raw->close(l->rc);
	qa_proto_dec_free(l->dec);
	free_window(l);
	free(l->fbuf);
	free(l->wbuf);
	free(l->rq);
	free(l);
}

static uint64_t link_cycles(void *ctx)
{
	link_ctx *l = ctx;
	return l->raw->cycles ? l->raw->cycles(l->rc) : 0;
}

static void link_counts(void *ctx, qa_link_counts *c)
{
	*c = ((link_ctx *)ctx)->n;
}

/* Room for `frames` frames in flight of up to `payload` bytes each. */
static int alloc_window(link_ctx *l, unsigned frames, size_t payload)
{
	free_window(l);
	free(l->fbuf);
	free(l->wbuf);
	l->fl_head = l->fl_n = 0;
	l->fl_bytes = 0;
	l->fl = calloc(frames, sizeof *l->fl);
	l->wcap = qa_proto_wire_max(payload);
	l->fbuf = malloc(payload);
	l->wbuf = malloc(l->wcap);
	if (!l->fl || !l->fbuf || !l->wbuf)
		return QA_ERR_NOMEM;
	l->cap = frames;
	for (unsigned i = 0; i < frames; i++)
		if (!(l->fl[i].copy = malloc(payload)))
			return QA_ERR_NOMEM;
	l->max_frames = frames;
	l->max_payload = (unsigned)payload;
	l->payload = payload;
	return QA_OK;
}

/*
 * 0x00 and RESET, until its answer comes (any frames before it are
 * dropped): the core and the link start afresh, memories kept. Clears a
 * failure and everything in flight.
 */
static int link_reset(void *ctx, char *err, size_t errlen)
{
	link_ctx *l = ctx;
	l->failed = QA_OK;
	l->lost = 0;
	l->fl_head = l->fl_n = 0;
	l->fl_bytes = 0;
	l->rq_head = l->rq_len = 0;
	l->in_cmd = 0;
	l->stuck = 0;
	uint64_t c0 = l->raw->cycles ? l->raw->cycles(l->rc) : 0;
	for (int tries = 0; tries < LINK_RESETS; tries++) {
		int rc = raw_sof(l, err, errlen);
		if (rc == QA_OK)
			rc = raw_send(l, QA_POP_RESET, 0, NULL, 0, err, errlen);
		if (rc != QA_OK)
			return rc;
		for (;;) {
			qa_proto_frame f;
			rc = rx_frame(l, &f, err, errlen);
			if (rc < 0)
				return rc;
			if (rc == RX_SILENT)
				break;
			if (f.op != (QA_POP_RESET | QA_PROTO_RSP) || f.seq != 0)
				continue;
			/* a RESET damaged on the way is answered BAD_CRC or
			 * the like, and not executed: send it again */
			if ((f.status & QA_PROTO_STATUS_MASK) != QA_PST_OK) {
				snprintf(l->silence, sizeof l->silence,
					 "RESET answered %s",
					 qa_proto_status_name(f.status));
				break;
			}
			l->seq = 1;
			l->n.resets++;
			if (l->verbose && l->raw->cycles)
				fprintf(stderr, "qarray: link: RESET answered %" PRIu64
					" cycles after it was queued (%d tries)\n",
					l->raw->cycles(l->rc) - c0, tries + 1);
			return QA_OK;
		}
	}
	return fail(l, QA_ERR_TIMEOUT, err, errlen,
		    "no answer to RESET (%s); is the board programmed with the "
		    "qarray bitstream, and at this baud rate?", l->silence);
}

/* RESET and IDENT: learn the window and the array shape. Either may be
 * damaged on a noisy line: the pair is tried LINK_RESETS times. */
static int link_hello(link_ctx *l, char *err, size_t errlen)
{
	qa_proto_frame f;
	int rc = QA_OK, got = 0;
	for (int tries = 0; tries < LINK_RESETS && !got; tries++) {
		rc = link_reset(l, err, errlen);
		if (rc == QA_OK)
			rc = send_frame(l, QA_POP_IDENT, NULL, 0, err, errlen);
		while (rc == QA_OK) {
			rc = rx_frame(l, &f, err, errlen);
			if (rc == RX_SILENT)
				break;
			if (rc == RX_FRAME && f.op == (QA_POP_IDENT | QA_PROTO_RSP) &&
			    f.seq == 1) {
				got = (f.status & QA_PROTO_STATUS_MASK) == QA_PST_OK;
				break;
			}
		}
		if (rc < 0)
			return rc;
		rc = QA_OK;
	}
	l->n.resets = 0;
	if (!got)
		return fail(l, QA_ERR_TIMEOUT, err, errlen, "no good answer to "
			    "IDENT after %d tries (%s)", LINK_RESETS, l->silence);
	qa_proto_link_info li;
	if (f.len != QA_PROTO_IDENT_LEN)
		return fail(l, QA_ERR_DEVICE, err, errlen,
			    "IDENT response of %zu bytes (expected %u)", f.len,
			    QA_PROTO_IDENT_LEN);
	rc = qa_proto_parse_link_info(f.payload, f.len, &li);
	if (rc != QA_OK)
		return fail(l, rc, err, errlen, "the device's link is not usable: "
			    "protocol version %u, max_frames %u, max_payload %u, "
			    "rx_buffer %" PRIu32, li.version, li.max_frames,
			    li.max_payload, li.rx_buffer);
	l->rows = f.payload[3];
	l->cols = f.payload[4];
	if (li.max_payload < 16 || li.max_frames < 1 || li.max_frames > 255 ||
	    li.rx_buffer < li.max_payload || l->rows == 0 || l->cols == 0)
		return fail(l, QA_ERR_DEVICE, err, errlen,
			    "the device reported an unusable link: max_payload "
			    "%u, max_frames %u, rx_buffer %" PRIu32 ", %ux%u",
			    li.max_payload, li.max_frames, li.rx_buffer,
			    l->rows, l->cols);
	l->rx_buffer = li.rx_buffer;
	if (l->verbose)
		fprintf(stderr, "qarray: link: protocol %u, %u frames / %" PRIu32
			" bytes in flight, payloads up to %u bytes, chip built "
			"for %" PRIu32 " baud\n", li.version, li.max_frames,
			li.rx_buffer, li.max_payload, li.baud);
	qa_proto_dec_free(l->dec);
	l->dec = NULL;
	l->skipped = 0;
	if (qa_proto_dec_new(&l->dec, li.max_payload) != QA_OK ||
	    alloc_window(l, li.max_frames, li.max_payload) != QA_OK)
		return fail(l, QA_ERR_NOMEM, err, errlen, "out of memory");
	return QA_OK;
}

static int link_open(const qa_transport_ops *raw, void **ctxp,
		     const char *arg, const qa_dev_opts *opts, char *err,
		     size_t errlen)
{
	*ctxp = NULL;
	link_ctx *l = calloc(1, sizeof *l);
	if (!l)
		return QA_ERR_NOMEM;
	l->raw = raw;
	l->verbose = opts ? opts->verbose : 0;
	int rc = raw->open(&l->rc, arg, opts, err, errlen);
	if (rc != QA_OK) {
		l->rc = NULL;
		link_close(l);
		return rc;
	}
	l->rx_buffer = QA_PROTO_PAYLOAD_LIMIT;
	if (qa_proto_dec_new(&l->dec, QA_PROTO_PAYLOAD_LIMIT) != QA_OK ||
	    alloc_window(l, 1, QA_PROTO_IDENT_LEN) != QA_OK)
		rc = QA_ERR_NOMEM;
	if (rc == QA_OK)
		rc = link_hello(l, err, errlen);
	if (rc != QA_OK) {
		link_close(l);
		return rc;
	}
	*ctxp = l;
	return QA_OK;
}

#define LINK_TRANSPORT(sym, label, rawops, cyc)                              \
	static int sym##_open(void **ctx, const char *arg,                  \
			      const qa_dev_opts *opts, char *err,           \
			      size_t errlen)                                \
	{                                                                   \
		return link_open(&rawops, ctx, arg, opts, err, errlen);     \
	}                                                                   \
	const qa_transport_ops sym = {                                      \
		.name = label,                                              \
		.open = sym##_open,                                         \
		.close = link_close,                                        \
		.write = link_write,                                        \
		.read = link_read,                                          \
		.cycles = cyc,                                              \
		.counts = link_counts,                                      \
		.reset = link_reset,                                        \
	};

/* the simulated chip counts its cycles; a board does not */
LINK_TRANSPORT(qa_transport_simuart, "sim-uart", qa_raw_simuart, link_cycles)
LINK_TRANSPORT(qa_transport_ftdi_link, "ftdi", qa_transport_ftdi, NULL)
LINK_TRANSPORT(qa_transport_tty_link, "tty", qa_transport_tty, NULL)
