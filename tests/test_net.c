/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_net.c - whole networks resident on the device (NET_LOAD / NET_RUN,
 * results written back on chip between layers) against the golden model
 * (qa_ref_net, a chain of qa_ref_gemm), bit for bit.
 *
 * Random networks of 1 to 5 layers with widths that are and are not
 * multiples of the array, ReLU on hidden layers, random shifts and biases,
 * batches from one row to several NET_RUNs; plus the errors: a network that
 * does not fit (too many layers, too many weights), running with no network,
 * and a GEMM in between that overwrites the resident weights.
 *
 * usage: test_net [--model RxC | --target T]... [--count N] [--seed S]
 *                 [--stall PERMILLE]
 * (--target takes a full device target, e.g. sim-uart:icebreaker: a board's
 * chip model behind its UART and link)
 */
#include "check.h"
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

static int64_t rrange(rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnext(r) % ((uint64_t)(hi - lo) + 1u));
}

#define MAX_LAYERS 20

typedef struct net_case {
	qa_net net;
	qa_layer layers[MAX_LAYERS];
	int8_t *w[MAX_LAYERS];
	int32_t *b[MAX_LAYERS];
	uint8_t *s[MAX_LAYERS];
} net_case;

static void net_free(net_case *c)
{
	for (unsigned l = 0; l < MAX_LAYERS; l++) {
		free(c->w[l]);
		free(c->b[l]);
		free(c->s[l]);
	}
	memset(c, 0, sizeof *c);
}

/* a network with the given widths (nl+1 entries) and random contents */
static int net_make(net_case *c, rng *r, unsigned nl, const size_t *width)
{
	memset(c, 0, sizeof *c);
	for (unsigned l = 0; l < nl; l++) {
		size_t k = width[l], n = width[l + 1];
		c->w[l] = malloc(k * n);
		c->b[l] = malloc(n * sizeof(int32_t));
		c->s[l] = malloc(n);
		if (!c->w[l] || !c->b[l] || !c->s[l])
			return -1;
		for (size_t i = 0; i < k * n; i++)
			c->w[l][i] = (int8_t)rrange(r, -128, 127);
		/* shifts that keep activations in range: ~log2(k * 2^14 / 2^7) */
		unsigned base = 7;
		for (size_t kk = k; kk > 1; kk >>= 1)
			base++;
		for (size_t j = 0; j < n; j++) {
			c->s[l][j] = (uint8_t)rrange(r, base > 3 ? base - 3 : 0,
						     base + 1 > 31 ? 31 : base + 1);
			c->b[l][j] = (int32_t)rrange(r, -30000, 30000);
		}
		c->layers[l] = (qa_layer){ .k = k, .n = n, .w = c->w[l],
					   .bias = c->b[l], .shift = c->s[l],
					   .lo = (l + 1 < nl) ? 0 : -128,
					   .hi = 127 };
	}
	c->net = (qa_net){ .nlayers = nl, .layers = c->layers,
			   .round = (qa_round)rrange(r, 0, 3) };
	return 0;
}

/* run m rows through the device and the golden model and compare */
static int net_compare(check_ctx *chk, qa_dev *dev, const net_case *c, rng *r,
		       size_t m, const char *name)
{
	const qa_net *net = &c->net;
	size_t kin = net->layers[0].k, nout = net->layers[net->nlayers - 1].n;
	int8_t *x = malloc(m * kin), *yd = malloc(m * nout), *yg = malloc(m * nout);
	int ok = 0;
	char detail[400] = "";
	if (!x || !yd || !yg) {
		snprintf(detail, sizeof detail, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < m * kin; i++)
		x[i] = (int8_t)rrange(r, -128, 127);
	memset(yd, 0x5a, m * nout);
	uint64_t sat = 0, macs = 0;
	int rc = qa_ref_net(net, m, x, yg, &sat);
	if (rc) {
		snprintf(detail, sizeof detail, "golden: %s", qa_strerror(rc));
		goto out;
	}
	qa_stats st;
	rc = qa_dev_net_run(dev, m, x, yd, &st);
	if (rc) {
		snprintf(detail, sizeof detail, "device: %s: %s",
			 qa_strerror(rc), qa_dev_errmsg(dev));
		goto out;
	}
	size_t bad = 0, first = 0;
	for (size_t i = 0; i < m * nout; i++)
		if (yd[i] != yg[i] && bad++ == 0)
			first = i;
	for (unsigned l = 0; l < net->nlayers; l++)
		macs += (uint64_t)m * net->layers[l].k * net->layers[l].n;
	/* resident: only the outputs and one COUNTERS response come back;
	 * streamed: every layer's outputs, and a COUNTERS response for each
	 * of the GEMMs (at least one per layer, more where the rows go in
	 * chunks) */
	uint64_t back = m * nout + 20, gemms = 1;
	int streamed = qa_dev_net_streamed(dev);
	if (streamed) {
		back = 0;
		for (unsigned l = 0; l < net->nlayers; l++)
			back += (uint64_t)m * net->layers[l].n;
		gemms = st.bytes_from_device > back ?
				(st.bytes_from_device - back) / 20 : 0;
		back += 20 * gemms;
	}
	if (bad)
		snprintf(detail, sizeof detail,
			 "%zu of %zu outputs differ; first y[%zu,%zu] device %d "
			 "golden %d",
			 bad, m * nout, first / nout, first % nout, yd[first],
			 yg[first]);
	else if (st.macs != macs)
		snprintf(detail, sizeof detail,
			 "MAC counter %" PRIu64 ", expected %" PRIu64, st.macs,
			 macs);
	else if (st.saturated != sat)
		snprintf(detail, sizeof detail,
			 "saturation counter %" PRIu64 ", golden %" PRIu64,
			 st.saturated, sat);
	else if (st.bytes_from_device != back ||
		 (streamed && (gemms < net->nlayers || gemms % net->nlayers)))
		snprintf(detail, sizeof detail,
			 "%" PRIu64 " bytes came back for %zu outputs, "
			 "expected %" PRIu64 " (%s)",
			 st.bytes_from_device, m * nout, back,
			 qa_dev_net_streamed(dev) ? "streamed" : "resident");
	else
		ok = 1;
out:
	check(chk, ok, name, "m=%zu layers=%u round=%s: %s", m, net->nlayers,
	      qa_round_name(net->round), detail);
	free(x);
	free(yd);
	free(yg);
	return ok;
}

static void test_model(check_ctx *chk, const char *model, uint64_t seed,
		       long count, unsigned stall)
{
	char target[96], err[512], name[160];
	/* a bare RxC is a core model; anything with a ':' is a whole target */
	snprintf(target, sizeof target, "%s%s", strchr(model, ':') ? "" : "sim:",
		 model);
	qa_dev *dev = NULL;
	qa_dev_opts opts = { .sim_stall_permille = stall };
	int rc = qa_dev_open(&dev, target, &opts, err, sizeof err);
	if (!check(chk, rc == QA_OK, target, "open: %s", err))
		return;
	qa_info in;
	qa_dev_info(dev, &in);
	rng r = { seed };
	net_case c;

	/* no network yet */
	{
		int8_t x[4] = { 0 }, y[4];
		rc = qa_dev_net_run(dev, 1, x, y, NULL);
		snprintf(name, sizeof name, "%s/run_without_network", model);
		check(chk, rc == QA_ERR_INVALID, name, "rc %s",
		      qa_errname(rc));
	}

	/* a three-layer MLP shaped like the digits demo, several batches */
	{
		size_t width[] = { 64, 32, 16, 10 };
		if (net_make(&c, &r, 3, width) == 0 &&
		    qa_dev_net_load(dev, &c.net) == QA_OK) {
			snprintf(name, sizeof name, "%s/mlp_64_32_16_10_one_row",
				 model);
			net_compare(chk, dev, &c, &r, 1, name);
			snprintf(name, sizeof name, "%s/mlp_64_32_16_10_batch",
				 model);
			net_compare(chk, dev, &c, &r, 360, name);
		} else {
			check(chk, 0, "mlp_load", "%s", qa_dev_errmsg(dev));
		}
		/* resident: a GEMM in between overwrites the weights, so
		 * running again must be refused, and loading again must work;
		 * streamed (the weights stay on the host): running again works */
		int8_t gx[4] = { 1, 2, 3, 4 }, gw[4] = { 1, 0, 0, 1 }, gy[4];
		uint8_t gs[2] = { 0, 0 };
		qa_gemm_desc g = { .m = 2, .k = 2, .n = 2, .x = gx, .w = gw,
				   .shift = gs, .lo = -128, .hi = 127 };
		int8_t x1[64] = { 0 }, y1[10];
		rc = qa_dev_gemm(dev, &g, gy, NULL);
		int streamed = qa_dev_net_streamed(dev);
		int rc2 = qa_dev_net_run(dev, 1, x1, y1, NULL);
		snprintf(name, sizeof name, "%s/gemm_unloads_network", model);
		check(chk, rc == QA_OK &&
			      rc2 == (streamed ? QA_OK : QA_ERR_INVALID), name,
		      "gemm %s, net_run %s (%s)", qa_errname(rc),
		      qa_errname(rc2), streamed ? "streamed" : "resident");
		/* the table decides: streamed exactly when it holds none */
		snprintf(name, sizeof name, "%s/streamed_iff_no_table", model);
		check(chk, streamed == (in.nl_max == 0), name,
		      "streamed %d, nl_max %u", streamed, in.nl_max);
		rc = qa_dev_net_load(dev, &c.net);
		snprintf(name, sizeof name, "%s/reload_after_gemm", model);
		if (check(chk, rc == QA_OK, name, "%s", qa_dev_errmsg(dev)))
			net_compare(chk, dev, &c, &r, 7, name);
		net_free(&c);
	}

	/* does not fit the table: more layers than it holds; the network
	 * then runs streamed, layer by layer, with the same results */
	{
		unsigned nl = in.nl_max + 1 > MAX_LAYERS ? MAX_LAYERS :
							   in.nl_max + 1;
		size_t width[MAX_LAYERS + 1];
		for (unsigned l = 0; l <= nl; l++)
			width[l] = 3;
		if (nl > in.nl_max && net_make(&c, &r, nl, width) == 0) {
			rc = qa_dev_net_load(dev, &c.net);
			snprintf(name, sizeof name, "%s/too_many_layers", model);
			if (check(chk, rc == QA_OK && qa_dev_net_streamed(dev),
				  name, "rc %s, streamed %d: %s",
				  qa_errname(rc), qa_dev_net_streamed(dev),
				  qa_dev_errmsg(dev)))
				net_compare(chk, dev, &c, &r, 2 * in.rows + 1,
					    name);
		}
		net_free(&c);
	}
	/* does not fit: more weight memory than the device has (streamed) */
	{
		size_t k = in.k_max;
		size_t n = (2u * in.wb_depth / k + 1) * in.cols;
		size_t width[] = { k, n };
		if (net_make(&c, &r, 1, width) == 0) {
			rc = qa_dev_net_load(dev, &c.net);
			snprintf(name, sizeof name, "%s/weights_do_not_fit",
				 model);
			if (check(chk, rc == QA_OK && qa_dev_net_streamed(dev),
				  name, "rc %s, streamed %d: %s",
				  qa_errname(rc), qa_dev_net_streamed(dev),
				  qa_dev_errmsg(dev)))
				net_compare(chk, dev, &c, &r, 3, name);
		}
		net_free(&c);
	}
	/* a layer no GEMM can run (K beyond k_max): refused either way */
	{
		size_t width[] = { 3, (size_t)in.k_max + 1, 2 };
		if (net_make(&c, &r, 2, width) == 0) {
			rc = qa_dev_net_load(dev, &c.net);
			snprintf(name, sizeof name, "%s/k_beyond_k_max", model);
			check(chk, rc == QA_ERR_RANGE &&
				      strstr(qa_dev_errmsg(dev), "k_max") &&
				      !qa_dev_net_streamed(dev),
			      name, "rc %s: %s", qa_errname(rc),
			      qa_dev_errmsg(dev));
		}
		net_free(&c);
	}

	/* random networks */
	unsigned before = chk->failed;
	int q = chk->quiet;
	chk->quiet = 1;
	for (long i = 0; i < count && chk->failed - before < 5; i++) {
		unsigned nl = (unsigned)rrange(&r, 1, 5);
		size_t width[6];
		for (unsigned l = 0; l <= nl; l++)
			width[l] = (size_t)rrange(&r, 1, 3 * in.cols + 5);
		if (net_make(&c, &r, nl, width) != 0) {
			check(chk, 0, "alloc", "out of memory");
			break;
		}
		rc = qa_dev_net_load(dev, &c.net);
		snprintf(name, sizeof name, "%s/random_%ld", model, i);
		if (check(chk, rc == QA_OK, name, "load: %s",
			  qa_dev_errmsg(dev))) {
			size_t m = (size_t)rrange(&r, 1, 4 * in.rows + 3);
			net_compare(chk, dev, &c, &r, m, name);
		}
		net_free(&c);
	}
	chk->quiet = q;
	printf("%s: %ld random networks\n", model, count);
	qa_dev_close(dev);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "model", required_argument, 0, 'm' },
		{ "target", required_argument, 0, 't' },
		{ "count", required_argument, 0, 'n' },
		{ "seed", required_argument, 0, 's' },
		{ "stall", required_argument, 0, 'b' },
		{ 0, 0, 0, 0 },
	};
	const char *models[16];
	unsigned nmodels = 0;
	long count = 300;
	unsigned stall = 0;
	uint64_t seed = 20261127;
	int o;
	check_ctx chk = { 0 };
	while ((o = getopt_long(argc, argv, "m:t:n:s:b:", lopts, NULL)) != -1) {
		if ((o == 'm' || o == 't') && nmodels < 16)
			models[nmodels++] = optarg;
		else if (o == 'n')
			count = strtol(optarg, NULL, 10);
		else if (o == 's')
			seed = strtoull(optarg, NULL, 10);
		else if (o == 'b')
			stall = (unsigned)strtoul(optarg, NULL, 10);
		else if (o != 'm' && o != 't') {
			fprintf(stderr,
				"usage: %s [--model RxC | --target T]... [--count N] "
				"[--seed S] [--stall PERMILLE]\n",
				argv[0]);
			return 2;
		}
	}
	if (!nmodels) {
		const char *const *all = qa_sim_models();
		for (unsigned i = 0; all[i] && nmodels < 16; i++)
			models[nmodels++] = all[i];
	}
	printf("test_net: seed %" PRIu64 ", %ld random networks per model\n",
	       seed, count);
	for (unsigned i = 0; i < nmodels; i++)
		test_model(&chk, models[i], seed, count, stall);
	return check_summary(&chk);
}
