/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dev.c - device handles: opening a target through the transport table,
 * the core command stream (docs/architecture.md), and tiling a GEMM of any
 * shape into LOAD/RUN commands that fit the device's buffers.
 */
#include "qarray.h"
#include "transport.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OP_IDENT = 0x01,
	OP_LOAD_X = 0x02,
	OP_LOAD_W = 0x03,
	OP_LOAD_P = 0x04,
	OP_RUN = 0x05,
	OP_COUNTERS = 0x06,
	OP_CLEAR = 0x07,
	OP_LOAD_WA = 0x08,
	OP_LOAD_PA = 0x09,
	OP_NET_LOAD = 0x0a,
	OP_NET_RUN = 0x0b,
};

#define NET_DESC_BYTES 12

#define CORE_VERSION 2
#define IDENT_LEN 20
#define COUNTERS_LEN 20

/* the network loaded by qa_dev_net_load: resident on the device, or
 * streamed (kept here and run layer by layer as GEMMs) */
typedef struct dev_net {
	int loaded;
	int streamed;      /* the layers below, not the device's table */
	qa_net snet;       /* streamed: the network, pointing into the copies */
	qa_layer *slayers; /* streamed: the layers, then their weights, biases
			    * and shifts, in one allocation */
	size_t k_in, n_out;
	unsigned cg_out;   /* column groups of the last layer */
	size_t rg_cap;     /* row groups per NET_RUN (all layers' X fit a bank) */
	unsigned nlayers;
	uint8_t *table;    /* the NET_LOAD command, to restore after a link reset */
	size_t table_len;
} dev_net;

struct qa_dev {
	const qa_transport_ops *ops;
	void *ctx;
	qa_info info;
	dev_net net;
	int verbose;
	uint64_t bytes_out, bytes_in;
	uint64_t retries;  /* operations run again after a link reset */
	char err[512];
};

/* growable byte buffer for building commands */
typedef struct buf {
	uint8_t *p;
	size_t len, cap;
} buf;

static int buf_reserve(buf *b, size_t more)
{
	if (more > SIZE_MAX - b->len)
		return QA_ERR_NOMEM;
	size_t need = b->len + more;
	if (need <= b->cap)
		return QA_OK;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return QA_ERR_NOMEM;
	b->p = p;
	b->cap = cap;
	return QA_OK;
}

/* callers reserve first; these never fail */
static void put8(buf *b, unsigned v) { b->p[b->len++] = (uint8_t)v; }
static void put16(buf *b, unsigned v)
{
	put8(b, v & 0xffu);
	put8(b, (v >> 8) & 0xffu);
}
static void put32(buf *b, uint32_t v)
{
	put16(b, v & 0xffffu);
	put16(b, v >> 16);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int dev_fail(qa_dev *d, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->err, sizeof d->err, fmt, ap);
	va_end(ap);
	return rc;
}

static int dev_write(qa_dev *d, const buf *b)
{
	char e[400];
	int rc = d->ops->write(d->ctx, b->p, b->len, e, sizeof e);
	if (rc != QA_OK)
		return dev_fail(d, rc, "%s: write: %s", d->ops->name, e);
	d->bytes_out += b->len;
	return QA_OK;
}

static int dev_read(qa_dev *d, uint8_t *p, size_t n)
{
	char e[400];
	int rc = d->ops->read(d->ctx, p, n, e, sizeof e);
	if (rc != QA_OK)
		return dev_fail(d, rc, "%s: read: %s", d->ops->name, e);
	d->bytes_in += n;
	return QA_OK;
}

/* send a command without arguments and read its fixed-size response */
static int dev_query(qa_dev *d, unsigned op, uint8_t *rsp, size_t n)
{
	uint8_t cmd = (uint8_t)op;
	buf b = { &cmd, 1, 1 };
	int rc = dev_write(d, &b);
	if (rc == QA_OK && n)
		rc = dev_read(d, rsp, n);
	return rc;
}

static int parse_ident(qa_dev *d, const uint8_t *r)
{
	qa_info *i = &d->info;
	if (r[0] != 'Q' || r[1] != 'A')
		return dev_fail(d, QA_ERR_DEVICE,
				"not a qarray device: IDENT starts %02x %02x",
				r[0], r[1]);
	i->version = r[2];
	i->rows = r[3];
	i->cols = r[4];
	i->data_w = r[5];
	i->acc_w = r[6];
	i->nl_max = r[7];
	i->xb_depth = get16(r + 8);
	i->wb_depth = get16(r + 10);
	i->pg_max = get16(r + 12);
	i->k_max = get16(r + 14);
	i->clock_hz = get32(r + 16);
	if (i->version != CORE_VERSION)
		return dev_fail(d, QA_ERR_UNSUPPORTED,
				"device speaks core version %u, this host %u",
				i->version, CORE_VERSION);
	/* never trust what the device says: check it is self-consistent */
	unsigned kmin = i->xb_depth < i->wb_depth ? i->xb_depth : i->wb_depth;
	unsigned need_acc = 16;
	for (unsigned k = i->k_max; k > 1; k = (k + 1) / 2)
		need_acc++;
	if (i->rows < 1 || i->rows > 64 || i->cols < 1 || i->cols > 64 ||
	    i->data_w != 8 || i->xb_depth == 0 || i->wb_depth == 0 ||
	    i->pg_max == 0 || i->k_max == 0 || i->k_max != kmin ||
	    i->acc_w < need_acc || i->acc_w > 64)
		return dev_fail(d, QA_ERR_DEVICE,
				"device reported an impossible configuration: "
				"%ux%u data_w %u acc_w %u xb %u wb %u pg %u "
				"k_max %u",
				i->rows, i->cols, i->data_w, i->acc_w,
				i->xb_depth, i->wb_depth, i->pg_max, i->k_max);
	return QA_OK;
}

int qa_dev_open(qa_dev **devp, const char *target, const qa_dev_opts *opts,
		char *errbuf, size_t errlen)
{
	static const qa_transport_ops *const transports[] = {
		&qa_transport_sim,
		&qa_transport_simuart,
		&qa_transport_ftdi_link,
		&qa_transport_tty_link,
	};
	char dummy[1];
	if (!errbuf || !errlen) {
		errbuf = dummy;
		errlen = sizeof dummy;
	}
	errbuf[0] = '\0';
	if (!devp) {
		snprintf(errbuf, errlen, "no handle pointer");
		return QA_ERR_INVALID;
	}
	*devp = NULL;
	if (!target || !*target)
		target = "sim";

	const qa_transport_ops *ops = NULL;
	const char *arg = NULL;
	for (size_t i = 0; i < sizeof transports / sizeof transports[0]; i++) {
		size_t n = strlen(transports[i]->name);
		if (strncmp(target, transports[i]->name, n) == 0 &&
		    (target[n] == '\0' || target[n] == ':')) {
			ops = transports[i];
			arg = target[n] == ':' ? target + n + 1 : NULL;
			break;
		}
	}
	if (!ops) {
		snprintf(errbuf, errlen,
			 "unknown target '%s' (available: sim[:RxC], "
			 "sim-uart[:BOARD], ftdi[:SELECTOR], tty:PATH)",
			 target);
		return QA_ERR_UNSUPPORTED;
	}

	if (opts && opts->link_faults && ops != &qa_transport_simuart) {
		snprintf(errbuf, errlen, "link faults are simulated on the "
			 "sim-uart target only (for an emulated FTDI board: "
			 "qarray emu --link-faults)");
		return QA_ERR_INVALID;
	}
	qa_dev *d = calloc(1, sizeof *d);
	if (!d) {
		snprintf(errbuf, errlen, "out of memory");
		return QA_ERR_NOMEM;
	}
	d->ops = ops;
	d->verbose = opts ? opts->verbose : 0;
	int rc = ops->open(&d->ctx, arg, opts, errbuf, errlen);
	if (rc != QA_OK) {
		free(d);
		return rc;
	}
	uint8_t id[IDENT_LEN];
	rc = dev_query(d, OP_IDENT, id, sizeof id);
	if (rc == QA_OK)
		rc = parse_ident(d, id);
	if (rc == QA_OK)
		rc = dev_query(d, OP_CLEAR, NULL, 0);
	if (rc != QA_OK) {
		snprintf(errbuf, errlen, "%s", d->err);
		qa_dev_close(d);
		return rc;
	}
	if (d->verbose)
		fprintf(stderr,
			"qarray: %s: %ux%u array, k_max %u, buffers X %u W %u "
			"words, %u column groups\n",
			target, d->info.rows, d->info.cols, d->info.k_max,
			d->info.xb_depth, d->info.wb_depth, d->info.pg_max);
	*devp = d;
	return QA_OK;
}

void qa_dev_close(qa_dev *d)
{
	if (!d)
		return;
	if (d->ops && d->ctx)
		d->ops->close(d->ctx);
	free(d->net.table);
	free(d->net.slayers);
	free(d);
}

const char *qa_dev_errmsg(const qa_dev *d)
{
	return d ? d->err : "no device";
}

int qa_dev_info(qa_dev *d, qa_info *info)
{
	if (!d || !info)
		return QA_ERR_INVALID;
	*info = d->info;
	return QA_OK;
}

/* ---- GEMM tiling ----------------------------------------------------------- */

/* One RUN: row groups [rg0, rg0+rgn) of the whole X, column groups
 * [cg0, cg0+cgn) of the whole W. */
typedef struct run_desc {
	size_t rg0, rgn, cg0, cgn;
} run_desc;

typedef struct gemm_plan {
	const qa_gemm_desc *g;
	unsigned R, C;
	size_t RG, CG;       /* row / column groups of the whole problem */
	size_t rg_cap, cg_cap;
} gemm_plan;

static unsigned rows_in_group(const gemm_plan *p, size_t rg)
{
	size_t left = p->g->m - rg * p->R;
	return left < p->R ? (unsigned)left : p->R;
}

static unsigned cols_in_group(const gemm_plan *p, size_t cg)
{
	size_t left = p->g->n - cg * p->C;
	return left < p->C ? (unsigned)left : p->C;
}

static int emit_load_x(buf *b, const gemm_plan *p, const run_desc *r,
		       unsigned bank)
{
	const qa_gemm_desc *g = p->g;
	size_t words = r->rgn * g->k;
	int rc = buf_reserve(b, 4 + words * p->R);
	if (rc)
		return rc;
	put8(b, OP_LOAD_X);
	put8(b, bank);
	put16(b, (unsigned)words);
	for (size_t rg = r->rg0; rg < r->rg0 + r->rgn; rg++)
		for (size_t kk = 0; kk < g->k; kk++)
			for (unsigned i = 0; i < p->R; i++) {
				size_t row = rg * p->R + i;
				put8(b, row < g->m ?
						(uint8_t)g->x[row * g->k + kk] :
						0);
			}
	return QA_OK;
}

/* the W words of column groups [cg0, cg0+cgn) of a K x N matrix */
static void put_w_words(buf *b, const qa_gemm_desc *g, unsigned C, size_t cg0,
			size_t cgn)
{
	for (size_t cg = cg0; cg < cg0 + cgn; cg++)
		for (size_t kk = 0; kk < g->k; kk++)
			for (unsigned j = 0; j < C; j++) {
				size_t col = cg * C + j;
				put8(b, col < g->n ?
						(uint8_t)g->w[kk * g->n + col] :
						0);
			}
}

/* the bias/shift groups [cg0, cg0+cgn) of a GEMM's columns */
static void put_p_groups(buf *b, const qa_gemm_desc *g, unsigned C,
			 size_t cg0, size_t cgn)
{
	for (size_t cg = cg0; cg < cg0 + cgn; cg++)
		for (unsigned j = 0; j < C; j++) {
			size_t col = cg * C + j;
			int32_t bias = (col < g->n && g->bias) ? g->bias[col] : 0;
			put32(b, (uint32_t)bias);
			put8(b, col < g->n ? g->shift[col] : 0);
		}
}

static int emit_load_w(buf *b, const gemm_plan *p, const run_desc *r,
		       unsigned bank)
{
	size_t words = r->cgn * p->g->k;
	int rc = buf_reserve(b, 4 + words * p->C + 4 + r->cgn * p->C * 5);
	if (rc)
		return rc;
	put8(b, OP_LOAD_W);
	put8(b, bank);
	put16(b, (unsigned)words);
	put_w_words(b, p->g, p->C, r->cg0, r->cgn);
	put8(b, OP_LOAD_P);
	put8(b, bank);
	put16(b, (unsigned)r->cgn);
	put_p_groups(b, p->g, p->C, r->cg0, r->cgn);
	return QA_OK;
}

static int emit_run(buf *b, const gemm_plan *p, const run_desc *r,
		    unsigned xbank, unsigned wbank)
{
	const qa_gemm_desc *g = p->g;
	int rc = buf_reserve(b, 14);
	if (rc)
		return rc;
	put8(b, OP_RUN);
	put8(b, xbank);
	put8(b, wbank);
	put16(b, (unsigned)r->rgn);
	put16(b, (unsigned)r->cgn);
	put16(b, (unsigned)g->k);
	put8(b, rows_in_group(p, r->rg0 + r->rgn - 1));
	put8(b, cols_in_group(p, r->cg0 + r->cgn - 1));
	put8(b, (unsigned)g->round);
	put8(b, (uint8_t)(int8_t)g->lo);
	put8(b, (uint8_t)(int8_t)g->hi);
	return QA_OK;
}

static size_t run_result_bytes(const gemm_plan *p, const run_desc *r)
{
	size_t rows = 0, cols = 0;
	for (size_t rg = r->rg0; rg < r->rg0 + r->rgn; rg++)
		rows += rows_in_group(p, rg);
	for (size_t cg = r->cg0; cg < r->cg0 + r->cgn; cg++)
		cols += cols_in_group(p, cg);
	return rows * cols;
}

/* read one RUN's results and scatter them into y */
static int collect_run(qa_dev *d, const gemm_plan *p, const run_desc *r,
		       uint8_t *tmp, int8_t *y)
{
	size_t n = run_result_bytes(p, r);
	int rc = dev_read(d, tmp, n);
	if (rc)
		return rc;
	size_t at = 0;
	for (size_t rg = r->rg0; rg < r->rg0 + r->rgn; rg++) {
		unsigned rows = rows_in_group(p, rg);
		for (size_t cg = r->cg0; cg < r->cg0 + r->cgn; cg++) {
			unsigned cols = cols_in_group(p, cg);
			for (unsigned i = 0; i < rows; i++)
				for (unsigned j = 0; j < cols; j++) {
					size_t row = rg * p->R + i;
					size_t col = cg * p->C + j;
					y[row * p->g->n + col] =
						(int8_t)tmp[at++];
				}
		}
	}
	return QA_OK;
}

/* Results of RUNs are read one RUN behind, so the device computes a RUN
 * while the host reads the previous one's results. */
typedef struct run_pipe {
	run_desc pending;
	int have;
} run_pipe;

/* r was just issued: read the results of the RUN before it */
static int pipe_push(qa_dev *d, const gemm_plan *p, run_pipe *q,
		     const run_desc *r, uint8_t *tmp, int8_t *y)
{
	int rc = q->have ? collect_run(d, p, &q->pending, tmp, y) : QA_OK;
	q->pending = *r;
	q->have = 1;
	return rc;
}

/* read the results of the last RUN issued */
static int pipe_flush(qa_dev *d, const gemm_plan *p, run_pipe *q,
		      uint8_t *tmp, int8_t *y)
{
	int rc = q->have ? collect_run(d, p, &q->pending, tmp, y) : QA_OK;
	q->have = 0;
	return rc;
}

static const char *status_text(uint32_t s)
{
	if (s & 1u)
		return "unknown opcode";
	if (s & 2u)
		return "load past buffer depth";
	if (s & 4u)
		return "RUN rejected";
	if (s & 8u)
		return "shift above 31";
	return "unknown";
}

/* counters and byte totals at the start of a measured operation */
typedef struct dev_mark {
	uint64_t cycles, out, in, retries;
	qa_link_counts link;
} dev_mark;

static int dev_begin(qa_dev *d, dev_mark *mk)
{
	mk->cycles = d->ops->cycles ? d->ops->cycles(d->ctx) : 0;
	mk->out = d->bytes_out;
	mk->in = d->bytes_in;
	mk->retries = d->retries;
	memset(&mk->link, 0, sizeof mk->link);
	if (d->ops->counts)
		d->ops->counts(d->ctx, &mk->link);
	return dev_query(d, OP_CLEAR, NULL, 0);
}

/* read the counters, turn a device status into an error, fill *st */
static int dev_finish(qa_dev *d, const dev_mark *mk, unsigned runs,
		      qa_stats *st)
{
	uint8_t cnt[COUNTERS_LEN];
	int rc = dev_query(d, OP_COUNTERS, cnt, sizeof cnt);
	if (rc)
		return rc;
	uint32_t status = get32(cnt + 16);
	if (status)
		return dev_fail(d, QA_ERR_DEVICE, "device status 0x%x (%s)",
				(unsigned)status, status_text(status));
	if (st) {
		memset(st, 0, sizeof *st);
		st->busy_cycles = get32(cnt + 0);
		st->macs = get32(cnt + 4);
		st->stall_cycles = get32(cnt + 8);
		st->saturated = get32(cnt + 12);
		st->cycles = d->ops->cycles ?
				     d->ops->cycles(d->ctx) - mk->cycles :
				     st->busy_cycles;
		st->bytes_to_device = d->bytes_out - mk->out;
		st->bytes_from_device = d->bytes_in - mk->in;
		if (d->ops->counts) {
			qa_link_counts c;
			d->ops->counts(d->ctx, &c);
			st->wire_bytes_to_device = c.wire_out - mk->link.wire_out;
			st->wire_bytes_from_device = c.wire_in - mk->link.wire_in;
			st->link_resent = c.resent - mk->link.resent;
			st->link_damaged = c.damaged - mk->link.damaged;
			st->link_probes = c.probes - mk->link.probes;
		}
		st->retries = d->retries - mk->retries;
		st->runs = runs;
	}
	return QA_OK;
}

static int gemm_once(qa_dev *d, const qa_gemm_desc *g, int8_t *y, qa_stats *st)
{
	if (!d)
		return QA_ERR_INVALID;
	d->err[0] = '\0';
	if (!y)
		return dev_fail(d, QA_ERR_INVALID, "no output buffer");
	int rc = qa_gemm_validate(g);
	if (rc)
		return dev_fail(d, rc, "invalid GEMM descriptor");
	const qa_info *in = &d->info;
	if (g->k > in->k_max)
		return dev_fail(d, QA_ERR_RANGE,
				"K = %zu exceeds the device's k_max = %u", g->k,
				in->k_max);

	/* the GEMM's W and parameter loads overwrite a resident network */
	if (!d->net.streamed)
		d->net.loaded = 0;
	gemm_plan p = { .g = g, .R = in->rows, .C = in->cols };
	p.RG = (g->m + p.R - 1) / p.R;
	p.CG = (g->n + p.C - 1) / p.C;
	p.rg_cap = in->xb_depth / g->k;
	p.cg_cap = in->wb_depth / g->k;
	if (p.cg_cap > in->pg_max)
		p.cg_cap = in->pg_max;
	if (p.rg_cap > 0xffff)
		p.rg_cap = 0xffff;
	if (p.cg_cap > 0xffff)
		p.cg_cap = 0xffff;

	buf b = { 0 };
	/* one RUN's results: sized by the GEMM, not by the buffer depths the
	 * device reports (up to 65535 groups each way) */
	size_t rg_max = p.RG < p.rg_cap ? p.RG : p.rg_cap;
	size_t cg_max = p.CG < p.cg_cap ? p.CG : p.cg_cap;
	uint8_t *tmp = malloc(rg_max * p.R * cg_max * p.C);
	dev_mark mk;
	unsigned runs = 0;
	run_pipe pipe = { 0 };
	unsigned wbank = 1, xbank = 1;
	size_t n_xpanels = (p.RG + p.rg_cap - 1) / p.rg_cap;
	if (!tmp) {
		rc = dev_fail(d, QA_ERR_NOMEM, "out of memory");
		goto out;
	}

	rc = dev_begin(d, &mk);
	if (rc)
		goto out;
	for (size_t cg0 = 0; cg0 < p.CG; cg0 += p.cg_cap) {
		run_desc r = { .cg0 = cg0 };
		r.cgn = p.CG - cg0 < p.cg_cap ? p.CG - cg0 : p.cg_cap;
		wbank ^= 1u;
		b.len = 0;
		rc = emit_load_w(&b, &p, &r, wbank);
		if (rc)
			goto nomem;
		for (size_t rg0 = 0; rg0 < p.RG; rg0 += p.rg_cap) {
			r.rg0 = rg0;
			r.rgn = p.RG - rg0 < p.rg_cap ? p.RG - rg0 : p.rg_cap;
			/* X stays loaded when all of it fits one panel */
			if (n_xpanels > 1 || cg0 == 0) {
				xbank ^= 1u;
				rc = emit_load_x(&b, &p, &r, xbank);
				if (rc)
					goto nomem;
			}
			rc = emit_run(&b, &p, &r, xbank, wbank);
			if (rc)
				goto nomem;
			if (d->verbose > 1)
				fprintf(stderr,
					"qarray: RUN rows %zu+%zu groups, cols "
					"%zu+%zu groups, %zu command bytes\n",
					r.rg0, r.rgn, r.cg0, r.cgn, b.len);
			rc = dev_write(d, &b);
			if (rc)
				goto out;
			b.len = 0;
			runs++;
			rc = pipe_push(d, &p, &pipe, &r, tmp, y);
			if (rc)
				goto out;
		}
	}
	rc = pipe_flush(d, &p, &pipe, tmp, y);
	if (rc)
		goto out;
	rc = dev_finish(d, &mk, runs, st);
	goto out;
nomem:
	rc = dev_fail(d, QA_ERR_NOMEM, "out of memory building commands");
out:
	free(b.p);
	free(tmp);
	return rc;
}

/* ---- resident networks --------------------------------------------------- */

/* Keep a copy of the network to run it layer by layer (streamed): the
 * device has no layer table or the network does not fit it. Nothing is
 * sent; each run sends every layer's weights as a GEMM does. */
static int net_keep(qa_dev *d, const qa_net *net)
{
	size_t bytes = net->nlayers * sizeof(qa_layer);
	for (unsigned l = 0; l < net->nlayers; l++) {
		const qa_layer *L = &net->layers[l];
		bytes += L->n * sizeof(int32_t) + L->k * L->n + L->n;
	}
	qa_layer *ls = malloc(bytes);
	if (!ls)
		return dev_fail(d, QA_ERR_NOMEM, "out of memory");
	/* int32 biases first (aligned after the layer array), then bytes */
	int32_t *bias = (int32_t *)(ls + net->nlayers);
	size_t nbias = 0;
	for (unsigned l = 0; l < net->nlayers; l++)
		nbias += net->layers[l].n;
	uint8_t *p = (uint8_t *)(bias + nbias);
	for (unsigned l = 0; l < net->nlayers; l++) {
		const qa_layer *L = &net->layers[l];
		ls[l] = *L;
		if (L->bias)
			memcpy(bias, L->bias, L->n * sizeof(int32_t));
		else
			memset(bias, 0, L->n * sizeof(int32_t));
		ls[l].bias = bias;
		bias += L->n;
		memcpy(p, L->w, L->k * L->n);
		ls[l].w = (const int8_t *)p;
		p += L->k * L->n;
		memcpy(p, L->shift, L->n);
		ls[l].shift = p;
		p += L->n;
	}
	free(d->net.slayers);
	d->net.slayers = ls;
	d->net.snet = *net;
	d->net.snet.layers = ls;
	d->net.streamed = 1;
	d->net.loaded = 1;
	d->net.nlayers = net->nlayers;
	d->net.k_in = net->layers[0].k;
	d->net.n_out = net->layers[net->nlayers - 1].n;
	return QA_OK;
}

static int net_load_once(qa_dev *d, const qa_net *net)
{
	if (!d)
		return QA_ERR_INVALID;
	d->err[0] = '\0';
	d->net.loaded = 0;
	d->net.streamed = 0;
	int rc = qa_net_validate(net);
	if (rc)
		return dev_fail(d, rc, "invalid network description");
	const qa_info *in = &d->info;
	const unsigned C = in->cols;
	size_t w_words = 0, p_groups = 0, rg_cap = in->xb_depth;
	for (unsigned l = 0; l < net->nlayers; l++) {
		const qa_layer *L = &net->layers[l];
		size_t cg = (L->n + C - 1) / C;
		if (L->k > in->k_max)
			return dev_fail(d, QA_ERR_RANGE,
					"layer %u: K = %zu exceeds the device's "
					"k_max = %u", l, L->k, in->k_max);
		if (cg > 0xffff || L->k > 0xffff)
			return dev_fail(d, QA_ERR_RANGE,
					"layer %u: %zu x %zu is too large", l,
					L->k, L->n);
		w_words += cg * L->k;
		p_groups += cg;
		/* a batch's activations of every layer must fit one X bank */
		size_t width = L->k > L->n || l + 1 == net->nlayers ? L->k :
								      L->n;
		if (in->xb_depth / width < rg_cap)
			rg_cap = in->xb_depth / width;
	}
	size_t w_have = 2u * in->wb_depth, p_have = 2u * in->pg_max;
	if (net->nlayers > in->nl_max || w_words > w_have ||
	    p_groups > p_have || rg_cap == 0) {
		if (d->verbose && in->nl_max == 0)
			fprintf(stderr,
				"qarray: the device has no layer table: the "
				"network runs streamed, layer by layer\n");
		else if (d->verbose)
			fprintf(stderr,
				"qarray: the network (%u layers, %zu bytes of "
				"weights, bias/shift for %zu columns) does not "
				"fit the device's table (%u layers, %zu bytes, "
				"%zu columns): it runs streamed, layer by "
				"layer\n",
				net->nlayers, w_words * C, p_groups * C,
				in->nl_max, w_have * C, p_have * C);
		return net_keep(d, net);
	}

	buf b = { 0 };
	size_t wbase = 0, pbase = 0;
	rc = buf_reserve(&b, 2 + net->nlayers * NET_DESC_BYTES);
	if (rc)
		goto nomem;
	uint8_t *table = malloc(net->nlayers * NET_DESC_BYTES);
	if (!table)
		goto nomem;
	for (unsigned l = 0; l < net->nlayers; l++) {
		const qa_layer *L = &net->layers[l];
		static const int8_t probe[1];
		qa_gemm_desc g = { .m = 1, .k = L->k, .n = L->n, .x = probe,
				   .w = L->w, .bias = L->bias,
				   .shift = L->shift };
		size_t cg = (L->n + C - 1) / C;
		size_t words = cg * L->k;
		rc = buf_reserve(&b, 10 + words * C + cg * C * 5);
		if (rc) {
			free(table);
			goto nomem;
		}
		put8(&b, OP_LOAD_WA);
		put16(&b, (unsigned)wbase);
		put16(&b, (unsigned)words);
		put_w_words(&b, &g, C, 0, cg);
		put8(&b, OP_LOAD_PA);
		put16(&b, (unsigned)pbase);
		put16(&b, (unsigned)cg);
		put_p_groups(&b, &g, C, 0, cg);
		/* descriptor: wbase, pbase, cg, k, last_cols, round, lo, hi */
		uint8_t *t = table + l * NET_DESC_BYTES;
		unsigned last_cols = (unsigned)(L->n - (cg - 1) * C);
		t[0] = (uint8_t)wbase;
		t[1] = (uint8_t)(wbase >> 8);
		t[2] = (uint8_t)pbase;
		t[3] = (uint8_t)(pbase >> 8);
		t[4] = (uint8_t)cg;
		t[5] = (uint8_t)(cg >> 8);
		t[6] = (uint8_t)L->k;
		t[7] = (uint8_t)(L->k >> 8);
		t[8] = (uint8_t)last_cols;
		t[9] = (uint8_t)net->round;
		t[10] = (uint8_t)(int8_t)L->lo;
		t[11] = (uint8_t)(int8_t)L->hi;
		wbase += words;
		pbase += cg;
	}
	rc = buf_reserve(&b, 2 + net->nlayers * NET_DESC_BYTES);
	if (rc) {
		free(table);
		goto nomem;
	}
	put8(&b, OP_NET_LOAD);
	put8(&b, net->nlayers);
	memcpy(b.p + b.len, table, net->nlayers * NET_DESC_BYTES);
	b.len += net->nlayers * NET_DESC_BYTES;
	/* the NET_LOAD command itself, kept: a link reset forgets the table */
	free(d->net.table);
	d->net.table_len = 2 + net->nlayers * NET_DESC_BYTES;
	d->net.table = malloc(d->net.table_len);
	if (d->net.table) {
		memcpy(d->net.table, b.p + b.len - d->net.table_len,
		       d->net.table_len);
	}
	free(table);
	if (!d->net.table) {
		free(b.p);
		return dev_fail(d, QA_ERR_NOMEM, "out of memory");
	}
	rc = dev_write(d, &b);
	free(b.p);
	if (rc)
		return rc;
	/* a load past a memory's end shows in the status word */
	dev_mark mk;
	rc = dev_begin(d, &mk);
	if (rc)
		return rc;
	rc = dev_finish(d, &mk, 0, NULL);
	if (rc)
		return rc;
	d->net.loaded = 1;
	d->net.nlayers = net->nlayers;
	d->net.k_in = net->layers[0].k;
	d->net.n_out = net->layers[net->nlayers - 1].n;
	d->net.cg_out = (unsigned)((d->net.n_out + C - 1) / C);
	d->net.rg_cap = rg_cap > 0xffff ? 0xffff : rg_cap;
	if (d->verbose)
		fprintf(stderr,
			"qarray: network of %u layers resident: %zu weight "
			"words, %zu column groups, %zu rows per batch\n",
			net->nlayers, w_words, p_groups, d->net.rg_cap * in->rows);
	return QA_OK;
nomem:
	free(b.p);
	return dev_fail(d, QA_ERR_NOMEM, "out of memory building commands");
}

/* *done receives the rows whose results have been collected, in order
 * (so a run that failed can go on from there) */
static int net_run_once(qa_dev *d, size_t m, const int8_t *x, int8_t *y,
			qa_stats *st, size_t *done)
{
	if (!d)
		return QA_ERR_INVALID;
	d->err[0] = '\0';
	if (!d->net.loaded)
		return dev_fail(d, QA_ERR_INVALID,
				"no network is resident (qa_dev_net_load)");
	if (!x || !y || m == 0)
		return dev_fail(d, QA_ERR_INVALID, "no input or output");
	const unsigned R = d->info.rows, C = d->info.cols;
	/* the last layer's results come back as from a GEMM of n_out columns */
	static const uint8_t zero_shift[1];
	qa_gemm_desc gin = { .m = m, .k = d->net.k_in, .n = d->net.n_out,
			     .x = x, .w = (const int8_t *)zero_shift,
			     .shift = zero_shift };
	gemm_plan p = { .g = &gin, .R = R, .C = C };
	p.RG = (m + R - 1) / R;
	p.CG = d->net.cg_out;
	p.rg_cap = d->net.rg_cap;
	p.cg_cap = p.CG;
	buf b = { 0 };
	/* one NET_RUN's results, sized by m, not by the device's depths */
	uint8_t *tmp = malloc((p.RG < p.rg_cap ? p.RG : p.rg_cap) * R * p.CG *
			      C);
	run_pipe pipe = { 0 };
	int rc;
	unsigned runs = 0, xbank = 0;
	dev_mark mk;
	if (!tmp) {
		rc = dev_fail(d, QA_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = dev_begin(d, &mk);
	if (rc)
		goto out;
	for (size_t rg0 = 0; rg0 < p.RG; rg0 += p.rg_cap) {
		run_desc r = { .rg0 = rg0, .cg0 = 0, .cgn = p.CG };
		r.rgn = p.RG - rg0 < p.rg_cap ? p.RG - rg0 : p.rg_cap;
		b.len = 0;
		rc = emit_load_x(&b, &p, &r, xbank);
		if (!rc)
			rc = buf_reserve(&b, 5);
		if (rc) {
			rc = dev_fail(d, QA_ERR_NOMEM, "out of memory");
			goto out;
		}
		put8(&b, OP_NET_RUN);
		put8(&b, xbank);
		put16(&b, (unsigned)r.rgn);
		put8(&b, rows_in_group(&p, r.rg0 + r.rgn - 1));
		rc = dev_write(d, &b);
		if (rc)
			goto out;
		runs++;
		/* the last layer reads bank xbank ^ ((n-1) & 1): load the next
		 * batch into the other one while it runs */
		xbank ^= ((d->net.nlayers - 1) & 1u) ^ 1u;
		int had = pipe.have;
		rc = pipe_push(d, &p, &pipe, &r, tmp, y);
		if (rc)
			goto out;
		if (had) /* the batch before this one is in y */
			*done = rg0 * R;
	}
	rc = pipe_flush(d, &p, &pipe, tmp, y);
	if (rc)
		goto out;
	*done = m;
	rc = dev_finish(d, &mk, runs, st);
out:
	free(b.p);
	free(tmp);
	return rc;
}

/* ---- running an operation again after the link lost data ------------------ */

/*
 * Line errors that the link cannot repair by sending frames again (a lost
 * response with results) fail an operation with QA_ERR_IO or
 * QA_ERR_TIMEOUT; where the transport can reset the link (framed targets:
 * RESET keeps the device's memories), the operation runs again, at most
 * DEV_RETRIES times in a row without progress: a GEMM or a network load
 * from the start, a network run from the first batch of rows whose results
 * had not all arrived (after the layer table is restored). The device's
 * figures in *st are those of the last attempt (for a network run: of the
 * rows it ran), while the wire bytes and link counters cover all attempts,
 * and st->retries counts the resets.
 */
#define DEV_RETRIES 16

typedef struct dev_call {
	int kind; /* 0 gemm, 1 net load, 2 net run */
	const qa_gemm_desc *g;
	const qa_net *net;
	size_t m, off; /* net run: rows, rows already done */
	const int8_t *x;
	int8_t *y;
	qa_stats *st;
} dev_call;

/* one attempt; a network run goes on from the rows already done, and
 * returns 1 in *progress when it got further */
static int call_once(qa_dev *d, dev_call *c, int *progress)
{
	size_t done = 0;
	int rc;
	*progress = 0;
	switch (c->kind) {
	case 0:
		return gemm_once(d, c->g, c->y, c->st);
	case 1:
		return net_load_once(d, c->net);
	default:
		if (c->off >= c->m) { /* all rows came; the counters did not */
			if (c->st)
				memset(c->st, 0, sizeof *c->st);
			return QA_OK;
		}
		rc = net_run_once(d, c->m - c->off,
				  c->x + c->off * d->net.k_in,
				  c->y + c->off * d->net.n_out, c->st, &done);
		c->off += done;
		*progress = done > 0;
		return rc;
	}
}

static int dev_retry(qa_dev *d, dev_call *c)
{
	qa_link_counts c0 = { 0 };
	uint64_t r0 = d->retries;
	if (d->ops->counts)
		d->ops->counts(d->ctx, &c0);
	for (unsigned attempt = 0;; attempt++) {
		int progress;
		int rc = call_once(d, c, &progress);
		if (progress)
			attempt = 0;
		if (rc == QA_OK) {
			if (c->st && d->ops->counts) {
				qa_link_counts c1;
				d->ops->counts(d->ctx, &c1);
				c->st->wire_bytes_to_device = c1.wire_out - c0.wire_out;
				c->st->wire_bytes_from_device = c1.wire_in - c0.wire_in;
				c->st->link_resent = c1.resent - c0.resent;
				c->st->link_damaged = c1.damaged - c0.damaged;
				c->st->link_probes = c1.probes - c0.probes;
			}
			if (c->st)
				c->st->retries = d->retries - r0;
			return QA_OK;
		}
		if ((rc != QA_ERR_IO && rc != QA_ERR_TIMEOUT) || !d->ops->reset ||
		    attempt >= DEV_RETRIES)
			return rc;
		char e[400];
		if (d->ops->reset(d->ctx, e, sizeof e) != QA_OK)
			return rc; /* the first failure says more */
		d->retries++;
		if (d->verbose)
			fprintf(stderr, "qarray: %s: link reset, running the "
				"operation again (attempt %u): %s\n",
				d->ops->name, attempt + 2, d->err);
		if (c->kind == 2 && d->net.loaded && !d->net.streamed) {
			buf b = { d->net.table, d->net.table_len,
				  d->net.table_len };
			int r2 = dev_write(d, &b);
			if (r2 != QA_OK)
				return r2;
		}
	}
}

/* figures of one more GEMM into a sum */
static void stats_add(qa_stats *sum, const qa_stats *one)
{
	sum->cycles += one->cycles;
	sum->busy_cycles += one->busy_cycles;
	sum->stall_cycles += one->stall_cycles;
	sum->macs += one->macs;
	sum->saturated += one->saturated;
	sum->bytes_to_device += one->bytes_to_device;
	sum->bytes_from_device += one->bytes_from_device;
	sum->wire_bytes_to_device += one->wire_bytes_to_device;
	sum->wire_bytes_from_device += one->wire_bytes_from_device;
	sum->link_resent += one->link_resent;
	sum->link_damaged += one->link_damaged;
	sum->link_probes += one->link_probes;
	sum->retries += one->retries;
	sum->runs += one->runs;
}

/*
 * A streamed network's run: the rows in chunks of as many as one X bank
 * holds for the widest layer input, and each chunk through the layers as
 * GEMMs (each layer's int8 results the next one's input). Every GEMM is an
 * operation of its own for dev_retry, so line errors cost at most one
 * chunk's layer; the figures are the GEMMs' sums.
 */
static int net_stream_run(qa_dev *d, size_t m, const int8_t *x, int8_t *y,
			  qa_stats *st)
{
	d->err[0] = '\0';
	if (!x || !y || m == 0)
		return dev_fail(d, QA_ERR_INVALID, "no input or output");
	const qa_net *net = &d->net.snet;
	size_t width = 0, kmax = 1;
	for (unsigned l = 0; l < net->nlayers; l++) {
		if (l + 1 < net->nlayers && net->layers[l].n > width)
			width = net->layers[l].n;
		if (net->layers[l].k > kmax)
			kmax = net->layers[l].k;
	}
	size_t chunk = (size_t)d->info.rows * (d->info.xb_depth / kmax);
	if (chunk == 0 || chunk > m)
		chunk = m;
	int8_t *a = NULL, *b = NULL;
	if (width) {
		a = malloc(chunk * width);
		b = malloc(chunk * width);
		if (!a || !b) {
			free(a);
			free(b);
			return dev_fail(d, QA_ERR_NOMEM, "out of memory");
		}
	}
	qa_stats sum = { 0 }, one;
	int rc = QA_OK;
	for (size_t r0 = 0; r0 < m && rc == QA_OK; r0 += chunk) {
		size_t mc = m - r0 < chunk ? m - r0 : chunk;
		const int8_t *in = x + r0 * net->layers[0].k;
		for (unsigned l = 0; l < net->nlayers; l++) {
			const qa_layer *L = &net->layers[l];
			int8_t *out = l + 1 == net->nlayers ? y + r0 * L->n :
				      (l & 1)		 ? b :
							   a;
			qa_gemm_desc g = { .m = mc, .k = L->k, .n = L->n,
					   .x = in, .w = L->w,
					   .bias = L->bias, .shift = L->shift,
					   .round = net->round, .lo = L->lo,
					   .hi = L->hi };
			dev_call c = { .kind = 0, .g = &g, .y = out,
				       .st = &one };
			rc = dev_retry(d, &c);
			if (rc) {
				char e[sizeof d->err];
				snprintf(e, sizeof e, "%s", d->err);
				dev_fail(d, rc, "rows %zu..%zu, layer %u: %s",
					 r0, r0 + mc - 1, l, e);
				break;
			}
			stats_add(&sum, &one);
			in = out;
		}
	}
	free(a);
	free(b);
	if (!rc && st)
		*st = sum;
	return rc;
}

int qa_dev_gemm(qa_dev *d, const qa_gemm_desc *g, int8_t *y, qa_stats *st)
{
	if (!d)
		return QA_ERR_INVALID;
	dev_call c = { .kind = 0, .g = g, .y = y, .st = st };
	return dev_retry(d, &c);
}

int qa_dev_net_load(qa_dev *d, const qa_net *net)
{
	if (!d)
		return QA_ERR_INVALID;
	dev_call c = { .kind = 1, .net = net };
	return dev_retry(d, &c);
}

int qa_dev_net_streamed(const qa_dev *d)
{
	return d && d->net.loaded && d->net.streamed;
}

int qa_dev_net_run(qa_dev *d, size_t m, const int8_t *x, int8_t *y,
		   qa_stats *st)
{
	if (!d)
		return QA_ERR_INVALID;
	if (d->net.loaded && d->net.streamed)
		return net_stream_run(d, m, x, y, st);
	dev_call c = { .kind = 2, .m = m, .x = x, .y = y, .st = st };
	return dev_retry(d, &c);
}
