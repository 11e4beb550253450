/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rtl.c - the cycle-accurate RTL (through libqarray's sim target)
 * against the golden model, bit for bit.
 *
 * For each array shape: directed cases (K = 1, K = k_max with the largest
 * accumulators, rounding ties, saturation at both ends, bias extremes,
 * shapes that are not multiples of the array and shapes that need several
 * buffer panels), then random GEMMs of random shape, rounding mode, shifts,
 * bias and clamp. Every output byte, the saturation count and the MAC count
 * are compared. Each random case has its own generator seeded from
 * (--seed, case index), so a failure prints a command that replays exactly
 * that case, optionally with an FST trace.
 *
 * usage: test_rtl [--model RxC | --target T]... [--count N] [--seed S]
 *                 [--case I] [--stall PERMILLE] [--trace FILE] [--quiet]
 *                 [--random-only] [--record PREFIX]
 * --record writes the byte streams of the session for tests/tb_core.v.
 * --target runs the same cases on any target, e.g. sim-uart:ulx3s (the
 * whole chip through its UART and the wire protocol) or ftdi.
 * --link-faults flip=P,drop=P,dup=P,garbage=P corrupts the sim-uart line
 * both ways (docs/protocol.md, section 7): every result must still be
 * exact, and the summary counts the link's recoveries.
 *
 * On the simulator models (--model), a raw command stream also checks that a
 * RUN which waits behind an executing RUN keeps its own bounds check: out of
 * bounds it is refused, in bounds its W range stays protected from loads.
 */
#include "check.h"
#include "qa_sim.h"
#include "qarray.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rng {
	uint64_t s;
} rng;

/* splitmix64 (Steele, Lea, Flood 2014) */
static uint64_t rnext(rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* uniform in [lo, hi] */
static int64_t rrange(rng *r, int64_t lo, int64_t hi)
{
	uint64_t span = (uint64_t)(hi - lo) + 1u;
	return lo + (int64_t)(rnext(r) % span);
}

typedef struct gemm_case {
	qa_gemm_desc d;
	int8_t *x, *w;
	int32_t *bias;
	uint8_t *shift;
	char name[96];
} gemm_case;

static void case_free(gemm_case *c)
{
	free(c->x);
	free(c->w);
	free(c->bias);
	free(c->shift);
	memset(c, 0, sizeof *c);
}

static int case_alloc(gemm_case *c, size_t m, size_t k, size_t n)
{
	memset(c, 0, sizeof *c);
	c->x = malloc(m * k);
	c->w = malloc(k * n);
	c->bias = malloc(n * sizeof *c->bias);
	c->shift = malloc(n);
	if (!c->x || !c->w || !c->bias || !c->shift) {
		case_free(c);
		return -1;
	}
	memset(c->bias, 0, n * sizeof *c->bias);
	memset(c->shift, 0, n);
	c->d = (qa_gemm_desc){ .m = m, .k = k, .n = n, .x = c->x, .w = c->w,
			       .bias = c->bias, .shift = c->shift,
			       .round = QA_ROUND_HALF_UP, .lo = -128,
			       .hi = 127 };
	return 0;
}

typedef struct ctx {
	check_ctx chk;
	const char *model;
	uint64_t seed;
	const char *argv0;
	unsigned stall;
	uint64_t cycles, macs;
	uint64_t resent, damaged, probes, retries; /* link recoveries */
} ctx;

/* run one case on the device and compare with the golden model */
static int run_case(ctx *t, qa_dev *dev, gemm_case *c, long idx)
{
	const qa_gemm_desc *d = &c->d;
	size_t mn = d->m * d->n;
	int8_t *yd = malloc(mn), *yg = malloc(mn);
	uint64_t sat_g = 0;
	qa_stats st;
	int ok = 0;
	char detail[512] = "";
	if (!yd || !yg) {
		snprintf(detail, sizeof detail, "out of memory");
		goto out;
	}
	memset(yd, 0x5a, mn);
	int rc = qa_ref_gemm(d, yg, &sat_g);
	if (rc) {
		snprintf(detail, sizeof detail, "golden model: %s",
			 qa_strerror(rc));
		goto out;
	}
	rc = qa_dev_gemm(dev, d, yd, &st);
	if (rc) {
		snprintf(detail, sizeof detail, "device: %s: %s",
			 qa_strerror(rc), qa_dev_errmsg(dev));
		goto out;
	}
	size_t bad = 0, first = 0;
	for (size_t i = 0; i < mn; i++)
		if (yd[i] != yg[i] && bad++ == 0)
			first = i;
	if (bad) {
		snprintf(detail, sizeof detail,
			 "%zu of %zu outputs differ; first Y[%zu,%zu] device "
			 "%d golden %d",
			 bad, mn, first / d->n, first % d->n, yd[first],
			 yg[first]);
		goto out;
	}
	if (st.saturated != sat_g) {
		snprintf(detail, sizeof detail,
			 "saturation count: device %" PRIu64 " golden %" PRIu64,
			 st.saturated, sat_g);
		goto out;
	}
	uint64_t macs = (uint64_t)d->m * d->k * d->n;
	if (st.macs != macs) {
		snprintf(detail, sizeof detail,
			 "MAC counter %" PRIu64 ", expected M*K*N = %" PRIu64,
			 st.macs, macs);
		goto out;
	}
	t->cycles += st.cycles;
	t->macs += st.macs;
	t->resent += st.link_resent;
	t->damaged += st.link_damaged;
	t->probes += st.link_probes;
	t->retries += st.retries;
	ok = 1;
out:
	{
		char name[160];
		snprintf(name, sizeof name, "%s/%s", t->model, c->name);
		check(&t->chk, ok, name,
		      "M=%zu K=%zu N=%zu round=%s clamp=%d:%d: %s\n"
		      "  reproduce: %s --model %s --seed %" PRIu64
		      " --case %ld%s --trace fail.fst",
		      d->m, d->k, d->n, qa_round_name(d->round), d->lo, d->hi,
		      detail, t->argv0, t->model, t->seed, idx,
		      t->stall ? " --stall N" : "");
	}
	free(yd);
	free(yg);
	return ok;
}

static void fill_rand(rng *r, int8_t *p, size_t n, int extreme)
{
	for (size_t i = 0; i < n; i++) {
		if (extreme)
			p[i] = (rnext(r) & 1) ? 127 : -128;
		else
			p[i] = (int8_t)rrange(r, -128, 127);
	}
}

/* ---- directed cases (negative indices in reproducers) -------------------- */

static void directed(ctx *t, qa_dev *dev, const qa_info *in)
{
	gemm_case c;
	unsigned R = in->rows, C = in->cols;
	rng r = { 7 };

	/* K = 1, every rounding mode */
	for (int mode = 0; mode < 4; mode++) {
		if (case_alloc(&c, R + 1, 1, C + 1))
			return;
		fill_rand(&r, c.x, c.d.m, 0);
		fill_rand(&r, c.w, c.d.n, 0);
		for (size_t j = 0; j < c.d.n; j++)
			c.shift[j] = (uint8_t)(j % 4);
		c.d.round = (qa_round)mode;
		snprintf(c.name, sizeof c.name, "k1_%s",
			 qa_round_name((qa_round)mode));
		run_case(t, dev, &c, -1 - mode);
		case_free(&c);
	}

	/* K = k_max, all operands -128: the largest accumulator k_max * 2^14 */
	if (case_alloc(&c, R + 1, in->k_max, C) == 0) {
		memset(c.x, 0x80, c.d.m * c.d.k);
		memset(c.w, 0x80, c.d.k * c.d.n);
		for (size_t j = 0; j < c.d.n; j++)
			c.shift[j] = (uint8_t)(24 + j % 8);
		c.d.round = QA_ROUND_HALF_EVEN;
		snprintf(c.name, sizeof c.name, "kmax_all_min_operands");
		run_case(t, dev, &c, -10);
		/* and the most negative sum: -128 * 127 everywhere */
		memset(c.w, 0x7f, c.d.k * c.d.n);
		c.d.round = QA_ROUND_HALF_AWAY;
		snprintf(c.name, sizeof c.name, "kmax_most_negative_sum");
		run_case(t, dev, &c, -11);
		case_free(&c);
	}

	/* rounding ties of both signs: X = identity-like, bias makes t exact */
	for (int mode = 0; mode < 4; mode++) {
		if (case_alloc(&c, 1, 1, 32))
			return;
		c.x[0] = 1;
		for (size_t j = 0; j < 32; j++) {
			unsigned s = 1 + (unsigned)(j % 8);
			c.w[j] = 0;
			c.shift[j] = (uint8_t)s;
			/* t = +-(2n+1) * 2^(s-1): exactly half-way */
			int32_t odd = (int32_t)(2 * (j / 8) + 1);
			int32_t v = odd * (1 << (s - 1));
			c.bias[j] = (j & 1) ? -v : v;
		}
		c.d.round = (qa_round)mode;
		snprintf(c.name, sizeof c.name, "ties_%s",
			 qa_round_name((qa_round)mode));
		run_case(t, dev, &c, -20 - mode);
		case_free(&c);
	}

	/* saturation at both ends, bias extremes, and ReLU */
	if (case_alloc(&c, 2 * R + 1, 3, 2 * C + 1) == 0) {
		fill_rand(&r, c.x, c.d.m * c.d.k, 1);
		fill_rand(&r, c.w, c.d.k * c.d.n, 1);
		for (size_t j = 0; j < c.d.n; j++)
			c.bias[j] = (j % 3 == 0) ? INT32_MAX :
				    (j % 3 == 1) ? INT32_MIN : 0;
		snprintf(c.name, sizeof c.name, "sat_bias_extremes");
		run_case(t, dev, &c, -30);
		c.d.lo = 0;
		for (size_t j = 0; j < c.d.n; j++)
			c.shift[j] = (uint8_t)(j % 32);
		snprintf(c.name, sizeof c.name, "relu_bias_extremes");
		run_case(t, dev, &c, -31);
		c.d.lo = -5;
		c.d.hi = -5;
		snprintf(c.name, sizeof c.name, "clamp_single_value");
		run_case(t, dev, &c, -32);
		case_free(&c);
	}

	/* several buffer panels in both directions (K near k_max / 2) */
	{
		size_t k = in->k_max / 2 + 3;
		if (case_alloc(&c, 2 * R + 1, k, 2 * C + 3) == 0) {
			fill_rand(&r, c.x, c.d.m * k, 0);
			fill_rand(&r, c.w, k * c.d.n, 0);
			for (size_t j = 0; j < c.d.n; j++)
				c.shift[j] = 14;
			snprintf(c.name, sizeof c.name, "multi_panel");
			run_case(t, dev, &c, -40);
			case_free(&c);
		}
	}
}

/* ---- the raw command stream: RUNs that wait ------------------------------ */

static size_t put_cmd(uint8_t *p, uint8_t op, const uint8_t *a, size_t n)
{
	p[0] = op;
	memcpy(p + 1, a, n);
	return 1 + n;
}

/* a load of count units (words or groups) of unit bytes, all `v` */
static size_t put_load(uint8_t *p, uint8_t op, unsigned bank, unsigned count,
		       size_t unit, uint8_t v)
{
	uint8_t a[3] = { (uint8_t)bank, (uint8_t)count, (uint8_t)(count >> 8) };
	size_t at = put_cmd(p, op, a, sizeof a);
	memset(p + at, v, count * unit);
	return at + count * unit;
}

static size_t put_run(uint8_t *p, unsigned xbank, unsigned wbank, unsigned rg,
		      unsigned cg, unsigned k, unsigned R, unsigned C)
{
	uint8_t a[13] = { (uint8_t)xbank, (uint8_t)wbank, (uint8_t)rg,
			  (uint8_t)(rg >> 8), (uint8_t)cg, (uint8_t)(cg >> 8),
			  (uint8_t)k, (uint8_t)(k >> 8), (uint8_t)R, (uint8_t)C,
			  QA_ROUND_HALF_UP, 0x80, 0x7f };
	return put_cmd(p, 0x05, a, sizeof a);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* A model of R x C with the common loads done: X bank 0 and W bank 0 hold
 * KA words of zeros, X bank 1 RGB*KB words of ones, W bank 1 KB words of
 * ones, both parameter banks group 0 bias 0 shift 0; counters cleared.
 * *xb is the model's XB_DEPTH. Returns NULL (after a failed check) when
 * the model does not answer. */
enum { KA = 256, KB = 100, RGB = 4 };

static qa_sim *raw_open(ctx *t, unsigned R, unsigned C, unsigned *xb,
			const char *name)
{
	qa_sim *sim = NULL;
	uint8_t id[20], op = 0x01;
	uint8_t *cmd = NULL;
	if (qa_sim_create(&sim, R, C) != 0) {
		check(&t->chk, 0, name, "no simulator model %ux%u", R, C);
		return NULL;
	}
	/* IDENT first: the X depth decides the out-of-bounds RUN */
	if (qa_sim_push(sim, &op, 1) || qa_sim_wait_out(sim, 20, 100000) ||
	    qa_sim_pull(sim, id, 20) != 20) {
		check(&t->chk, 0, name, "IDENT did not answer");
		goto fail;
	}
	*xb = (unsigned)id[8] | (unsigned)id[9] << 8;
	if (*xb < RGB * KB || *xb < KA) {
		check(&t->chk, 0, name, "XB_DEPTH %u too small for the test", *xb);
		goto fail;
	}
	cmd = malloc(64 + (size_t)KA * (R + C) + (size_t)RGB * KB * R +
		     (size_t)KB * C + 10 * (size_t)C);
	if (!cmd) {
		check(&t->chk, 0, name, "out of memory");
		goto fail;
	}
	size_t at = 0;
	at += put_load(cmd + at, 0x02, 0, KA, R, 0);
	at += put_load(cmd + at, 0x03, 0, KA, C, 0);
	at += put_load(cmd + at, 0x04, 0, 1, 5 * (size_t)C, 0);
	at += put_load(cmd + at, 0x02, 1, RGB * KB, R, 1);
	at += put_load(cmd + at, 0x03, 1, KB, C, 1);
	at += put_load(cmd + at, 0x04, 1, 1, 5 * (size_t)C, 0);
	cmd[at++] = 0x07; /* CLEAR */
	if (qa_sim_push(sim, cmd, at)) {
		check(&t->chk, 0, name, "out of memory");
		goto fail;
	}
	free(cmd);
	return sim;
fail:
	free(cmd);
	qa_sim_destroy(sim);
	return NULL;
}

/* push cmd, wait for exactly want response bytes (and no more) into out */
static size_t raw_exchange(qa_sim *sim, const uint8_t *cmd, size_t n,
			   uint8_t *out, size_t want, size_t cap)
{
	if (qa_sim_push(sim, cmd, n))
		return 0;
	qa_sim_wait_out(sim, want, 100000);
	qa_sim_step(sim, 5000);
	return qa_sim_pull(sim, out, cap);
}

/* The core checks a RUN's bounds in P_CHECK and starts it in P_EXEC, where it
 * waits while another RUN executes. Whatever it waited, (1) a RUN with
 * rg*k > XB_DEPTH is refused (status bit 2, no results), and (2) a good RUN
 * that waited still holds off a W load into the words it reads: RUN B reads
 * W bank 1 once per row group while a LOAD_W of zeros into those words
 * follows it; the load must wait for B, so all of B's outputs stay KB. */
static void raw_waiting_runs(ctx *t, unsigned R, unsigned C)
{
	char name[160];
	uint8_t cmd[64], out[64 * 64 * (RGB + 1) + 128];
	size_t rc = (size_t)R * C, at, got = 0, want;
	unsigned xb;
	uint32_t macs_a = (uint32_t)(rc * KA);

	/* (1) A, then an out-of-bounds RUN that waits for it, then COUNTERS */
	snprintf(name, sizeof name, "%s/raw_waiting_run_out_of_bounds_refused",
		 t->model);
	qa_sim *sim = raw_open(t, R, C, &xb, name);
	if (sim) {
		at = put_run(cmd, 0, 0, 1, 1, KA, R, C);
		at += put_run(cmd + at, 1, 0, 2, 1, xb, R, C);
		cmd[at++] = 0x06;
		want = rc + 20;
		got = raw_exchange(sim, cmd, at, out, want, sizeof out);
		int ok = got == want && le32(out + rc + 16) == 4 &&
			 le32(out + rc + 4) == macs_a;
		for (size_t i = 0; ok && i < rc; i++)
			ok = out[i] == 0;
		check(&t->chk, ok, name,
		      "%zu response bytes (want %zu: RUN A's, then COUNTERS); "
		      "status %u (want 4), macs %u (want %u)",
		      got, want, got >= rc + 20 ? le32(out + rc + 16) : 0,
		      got >= rc + 20 ? le32(out + rc + 4) : 0, macs_a);
		qa_sim_destroy(sim);
	}

	/* (2) A, then B waiting for it, then a LOAD_W into B's W words */
	snprintf(name, sizeof name, "%s/raw_waiting_run_keeps_its_w_range",
		 t->model);
	sim = raw_open(t, R, C, &xb, name);
	if (sim) {
		size_t rb = RGB * rc, bad = 0;
		uint8_t *ld = malloc(8 + (size_t)KB * C);
		int ok = 0;
		if (ld) {
			at = put_run(cmd, 0, 0, 1, 1, KA, R, C);
			at += put_run(cmd + at, 1, 1, RGB, 1, KB, R, C);
			size_t nl = put_load(ld, 0x03, 1, KB, C, 0);
			ld[nl++] = 0x06;
			if (qa_sim_push(sim, cmd, at) == 0) {
				want = rc + rb + 20;
				got = raw_exchange(sim, ld, nl, out, want,
						   sizeof out);
				for (size_t i = 0; got == want && i < rb; i++)
					bad += out[rc + i] != KB;
				ok = got == want && bad == 0 &&
				     le32(out + rc + rb + 16) == 0 &&
				     le32(out + rc + rb + 4) ==
					     macs_a + (uint32_t)(rb * KB);
			}
			free(ld);
		}
		check(&t->chk, ok, name,
		      "%zu response bytes (want %zu), %zu of %zu outputs of RUN B "
		      "differ from %d",
		      got, rc + rb + 20, bad, rb, KB);
		qa_sim_destroy(sim);
	}
}

/* ---- random cases -------------------------------------------------------- */

static int random_case(gemm_case *c, uint64_t seed, long idx,
		       const qa_info *in)
{
	rng r = { seed * 0x100000001b3ull + (uint64_t)idx };
	unsigned R = in->rows, C = in->cols;
	size_t m = (size_t)rrange(&r, 1, 3 * R + 2);
	size_t n = (size_t)rrange(&r, 1, 3 * C + 2);
	unsigned kind = (unsigned)rrange(&r, 0, 99);
	size_t kcap = in->k_max < 48 ? in->k_max : 48;
	size_t k = (size_t)rrange(&r, 1, (int64_t)kcap);
	if (kind < 3) /* a few long dot products */
		k = (size_t)rrange(&r, 1, in->k_max);
	if (case_alloc(c, m, k, n))
		return -1;
	int extreme = rrange(&r, 0, 9) == 0;
	fill_rand(&r, c->x, m * k, extreme);
	fill_rand(&r, c->w, k * n, extreme);
	/* shifts around where results land in int8, sometimes anything */
	int wide_shift = rrange(&r, 0, 4) == 0;
	for (size_t j = 0; j < n; j++) {
		c->shift[j] = wide_shift ? (uint8_t)rrange(&r, 0, 31) :
					   (uint8_t)rrange(&r, 4, 14);
		int bias_kind = (int)rrange(&r, 0, 9);
		c->bias[j] = bias_kind == 0 ? (int32_t)rrange(&r, INT32_MIN,
							      INT32_MAX) :
			     bias_kind < 5 ? (int32_t)rrange(&r, -40000, 40000) :
					     0;
	}
	c->d.round = (qa_round)rrange(&r, 0, 3);
	int clamp = (int)rrange(&r, 0, 3);
	if (clamp == 1) {
		c->d.lo = 0; /* ReLU */
	} else if (clamp == 2) {
		int a = (int)rrange(&r, -128, 127), b = (int)rrange(&r, -128, 127);
		c->d.lo = a < b ? a : b;
		c->d.hi = a < b ? b : a;
	}
	snprintf(c->name, sizeof c->name, "random_%ld", idx);
	return 0;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--model RxC | --target T]... [--count N] [--seed S] [--case I]\n"
		"          [--stall PERMILLE] [--trace FILE] [--quiet]\n"
		"          [--random-only] [--record PREFIX] [--link-faults SPEC]\n",
		argv0);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "model", required_argument, 0, 'm' },
		{ "target", required_argument, 0, 'T' },
		{ "count", required_argument, 0, 'n' },
		{ "seed", required_argument, 0, 's' },
		{ "case", required_argument, 0, 'c' },
		{ "stall", required_argument, 0, 'b' },
		{ "link-faults", required_argument, 0, 'F' },
		{ "trace", required_argument, 0, 't' },
		{ "quiet", no_argument, 0, 'q' },
		{ "record", required_argument, 0, 'r' },
		{ "random-only", no_argument, 0, 'o' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *models[16];
	unsigned nmodels = 0;
	int by_target = 0; /* models[] holds whole --target strings */
	long count = 2500, only = 0;
	int have_only = 0;
	const char *trace = NULL, *record = NULL, *faults = NULL;
	int random_only = 0;
	ctx t = { .seed = 20261126, .argv0 = argv[0] };
	int o;
	while ((o = getopt_long(argc, argv, "m:T:n:s:c:b:t:F:qh", lopts, NULL)) != -1) {
		switch (o) {
		case 'm':
		case 'T':
			if (nmodels < 16)
				models[nmodels++] = optarg;
			by_target |= o == 'T';
			break;
		case 'n':
			count = strtol(optarg, NULL, 10);
			break;
		case 's':
			t.seed = strtoull(optarg, NULL, 10);
			break;
		case 'c':
			only = strtol(optarg, NULL, 10);
			have_only = 1;
			break;
		case 'b':
			t.stall = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'F':
			faults = optarg;
			break;
		case 't':
			trace = optarg;
			break;
		case 'q':
			t.chk.quiet = 1;
			break;
		case 'r':
			record = optarg;
			break;
		case 'o':
			random_only = 1;
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (!nmodels) {
		const char *const *all = qa_sim_models();
		for (unsigned i = 0; all[i] && nmodels < 16; i++)
			models[nmodels++] = all[i];
	}
	printf("test_rtl: seed %" PRIu64 ", %ld random GEMMs per model%s\n",
	       t.seed, have_only ? 1L : count,
	       t.stall ? ", random stream stalls" : "");

	for (unsigned mi = 0; mi < nmodels; mi++) {
		char target[32], err[512];
		snprintf(target, sizeof target, "%s%s", by_target ? "" : "sim:",
			 models[mi]);
		t.model = models[mi];
		qa_dev_opts opts = { .trace_path = trace,
				     .sim_stall_permille = t.stall,
				     .sim_record = record,
				     .link_faults = faults };
		qa_dev *dev = NULL;
		int rc = qa_dev_open(&dev, target, &opts, err, sizeof err);
		if (!check(&t.chk, rc == QA_OK, target, "open: %s: %s",
			   qa_strerror(rc), err))
			continue;
		qa_info in;
		qa_dev_info(dev, &in);
		check(&t.chk, by_target || (in.rows * in.cols > 0 &&
			      (unsigned)snprintf(err, sizeof err, "%ux%u",
						 in.rows, in.cols) > 0 &&
			      strcmp(err, models[mi]) == 0),
		      "ident_shape", "device reports %ux%u for model %s",
		      in.rows, in.cols, models[mi]);
		unsigned before = t.chk.failed;
		t.cycles = t.macs = 0;
		t.resent = t.damaged = t.probes = t.retries = 0;
		if ((!have_only || only < 0) && !random_only) {
			directed(&t, dev, &in);
			if (!by_target)
				raw_waiting_runs(&t, in.rows, in.cols);
		}
		int q = t.chk.quiet;
		t.chk.quiet = 1;
		long lo = have_only ? only : 0, hi = have_only ? only + 1 : count;
		for (long i = (lo < 0 ? 0 : lo); i < hi; i++) {
			gemm_case c;
			if (random_case(&c, t.seed, i, &in)) {
				check(&t.chk, 0, "alloc", "out of memory");
				break;
			}
			run_case(&t, dev, &c, i);
			case_free(&c);
			if (t.chk.failed - before >= 5) {
				printf("%s: stopping after 5 failures\n",
				       models[mi]);
				break;
			}
		}
		t.chk.quiet = q;
		printf("%s: %ld random GEMMs done, %" PRIu64
		       " simulated cycles, %" PRIu64 " MACs\n",
		       models[mi], hi - (lo < 0 ? 0 : lo), t.cycles, t.macs);
		if (faults)
			printf("%s: link faults %s: %" PRIu64 " damaged responses, "
			       "%" PRIu64 " frames sent again, %" PRIu64 " probes, "
			       "%" PRIu64 " GEMMs run again\n", models[mi], faults,
			       t.damaged, t.resent, t.probes, t.retries);
		qa_dev_close(dev);
	}
	return check_summary(&t.chk);
}
