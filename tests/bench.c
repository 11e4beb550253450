/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench.c - GEMM throughput of the cycle-accurate core (not a test: it
 * prints figures and never fails on them).
 *
 * For each shape it runs one GEMM of random int8 data on a simulator model
 * and prints:
 *   cycles      simulated cycles end to end (operands streamed in one byte
 *               per cycle through the command stream, results out)
 *   busy        cycles the core spent executing RUN commands
 *   util_busy   MACs / (busy * ROWS*COLS): utilization while computing,
 *               operands already on chip
 *   util_e2e    MACs / (cycles * ROWS*COLS): including operand streaming
 *   stall       busy cycles frozen by response backpressure
 *   bytes_in/out  command and response bytes
 *   Mcyc/s      simulated cycles per second of wall time
 * It also checks each result against the golden model and says so.
 *
 * With --net W0,W1,...,WL it instead makes a random network of those
 * widths resident on the device (ReLU on hidden layers) and runs --rows
 * input rows through it, printing cycles per inference and what the link
 * would allow.
 *
 * usage: bench [--model RxC] [MxKxN ...]
 *        bench [--model RxC] --net W0,W1,...,WL [--rows N]
 */
#include "qarray.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int bench_one(qa_dev *dev, const qa_info *in, size_t m, size_t k,
		     size_t n, uint32_t seed)
{
	int8_t *x = malloc(m * k), *w = malloc(k * n);
	int8_t *y = malloc(m * n), *yg = malloc(m * n);
	uint8_t *shift = malloc(n);
	int rc = QA_ERR_NOMEM;
	if (!x || !w || !y || !yg || !shift)
		goto out;
	for (size_t i = 0; i < m * k; i++)
		x[i] = (int8_t)((seed = seed * 1103515245u + 12345u) >> 16);
	for (size_t i = 0; i < k * n; i++)
		w[i] = (int8_t)((seed = seed * 1103515245u + 12345u) >> 16);
	memset(shift, 10, n);
	qa_gemm_desc d = { .m = m, .k = k, .n = n, .x = x, .w = w,
			   .shift = shift, .round = QA_ROUND_HALF_UP,
			   .lo = -128, .hi = 127 };
	qa_stats st;
	double t0 = now_s();
	rc = qa_dev_gemm(dev, &d, y, &st);
	double wall = now_s() - t0;
	if (rc) {
		fprintf(stderr, "bench: %zux%zux%zu: %s: %s\n", m, k, n,
			qa_strerror(rc), qa_dev_errmsg(dev));
		goto out;
	}
	rc = qa_ref_gemm(&d, yg, NULL);
	if (rc)
		goto out;
	int match = memcmp(y, yg, m * n) == 0;
	double peak = (double)in->rows * in->cols;
	printf("%4zux%4zux%4zu %10" PRIu64 " %10" PRIu64 " %8.1f%% %8.1f%% "
	       "%7" PRIu64 " %9" PRIu64 " %7" PRIu64 " %4u %7.2f  %s\n",
	       m, k, n, st.cycles, st.busy_cycles,
	       100.0 * (double)st.macs / ((double)st.busy_cycles * peak),
	       100.0 * (double)st.macs / ((double)st.cycles * peak),
	       st.stall_cycles, st.bytes_to_device, st.bytes_from_device,
	       st.runs, (double)st.cycles / wall / 1e6,
	       match ? "bit-exact" : "MISMATCH");
	fflush(stdout);
	rc = QA_OK;
out:
	free(x);
	free(w);
	free(y);
	free(yg);
	free(shift);
	return rc;
}

/* a random network of the given widths, m rows through it, figures out */
static int bench_net(qa_dev *dev, const qa_info *in, const char *spec,
		     size_t m)
{
	enum { MAXL = 16 };
	size_t width[MAXL + 1];
	unsigned nw = 0;
	const char *p = spec;
	while (*p && nw <= MAXL) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);
		if (end == p || v == 0)
			break;
		width[nw++] = v;
		p = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end != '\0')
			break;
	}
	if (*p || nw < 2) {
		fprintf(stderr, "bench: bad --net '%s' (W0,W1,...)\n", spec);
		return QA_ERR_INVALID;
	}
	unsigned nl = nw - 1;
	qa_layer layers[MAXL];
	int8_t *w[MAXL] = { 0 };
	uint8_t *sh[MAXL] = { 0 };
	int8_t *x = malloc(m * width[0]), *y = malloc(m * width[nl]);
	int8_t *yg = malloc(m * width[nl]);
	int rc = QA_ERR_NOMEM;
	uint32_t seed = 12345;
	if (!x || !y || !yg)
		goto out;
	for (unsigned l = 0; l < nl; l++) {
		w[l] = malloc(width[l] * width[l + 1]);
		sh[l] = malloc(width[l + 1]);
		if (!w[l] || !sh[l])
			goto out;
		for (size_t i = 0; i < width[l] * width[l + 1]; i++)
			w[l][i] = (int8_t)((seed = seed * 1103515245u + 12345u) >> 16);
		memset(sh[l], 10, width[l + 1]);
		layers[l] = (qa_layer){ .k = width[l], .n = width[l + 1],
					.w = w[l], .shift = sh[l],
					.lo = l + 1 < nl ? 0 : -128, .hi = 127 };
	}
	for (size_t i = 0; i < m * width[0]; i++)
		x[i] = (int8_t)((seed = seed * 1103515245u + 12345u) >> 16);
	qa_net net = { .nlayers = nl, .layers = layers,
		       .round = QA_ROUND_HALF_UP };
	qa_stats st;
	rc = qa_dev_net_load(dev, &net);
	if (!rc)
		rc = qa_dev_net_run(dev, m, x, y, &st);
	if (rc) {
		fprintf(stderr, "bench: %s: %s\n", qa_strerror(rc),
			qa_dev_errmsg(dev));
		goto out;
	}
	rc = qa_ref_net(&net, m, x, yg, NULL);
	if (rc)
		goto out;
	double macs_per_inf = (double)st.macs / (double)m;
	double cyc_per_inf = (double)st.busy_cycles / (double)m;
	double bytes_per_inf = (double)(st.bytes_to_device + st.bytes_from_device) /
			       (double)m;
	printf("network %s, %zu rows (%u NET_RUN batches): %s\n", spec, m,
	       st.runs, memcmp(y, yg, m * width[nl]) ? "MISMATCH" : "bit-exact");
	printf("  MACs per inference          %10.0f\n", macs_per_inf);
	printf("  busy cycles per inference   %10.1f  (utilization %.1f%%)\n",
	       cyc_per_inf,
	       100.0 * macs_per_inf / (cyc_per_inf * in->rows * in->cols));
	printf("  all cycles per inference    %10.1f  (input streamed 1 byte/cycle)\n",
	       (double)st.cycles / (double)m);
	printf("  inferences/s at %.0f MHz    %10.0f  (compute, busy cycles)\n",
	       in->clock_hz / 1e6, in->clock_hz / cyc_per_inf);
	printf("  link bytes per inference    %10.1f  (in + out, core stream)\n",
	       bytes_per_inf);
	printf("  inferences/s, 3 Mbaud link  %10.0f  (8N1: 10 bits per byte)\n",
	       3e6 / 10.0 / bytes_per_inf);
	printf("  inferences/s, 12 Mbaud link %10.0f\n",
	       12e6 / 10.0 / bytes_per_inf);
	rc = QA_OK;
out:
	for (unsigned l = 0; l < nl && l < MAXL; l++) {
		free(w[l]);
		free(sh[l]);
	}
	free(x);
	free(y);
	free(yg);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "model", required_argument, 0, 'm' },
		{ "net", required_argument, 0, 'N' },
		{ "rows", required_argument, 0, 'r' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *model = NULL, *netspec = NULL;
	size_t rows = 360;
	int o;
	while ((o = getopt_long(argc, argv, "m:N:r:h", lopts, NULL)) != -1) {
		if (o == 'm') {
			model = optarg;
		} else if (o == 'N') {
			netspec = optarg;
		} else if (o == 'r') {
			rows = strtoul(optarg, NULL, 10);
		} else {
			fprintf(stderr,
				"usage: %s [--model RxC] [MxKxN ...]\n"
				"       %s [--model RxC] --net W0,W1,... [--rows N]\n",
				argv[0], argv[0]);
			return o == 'h' ? 0 : 2;
		}
	}
	char target[32], err[512];
	snprintf(target, sizeof target, "sim%s%s", model ? ":" : "",
		 model ? model : "");
	qa_dev *dev = NULL;
	int rc = qa_dev_open(&dev, target, NULL, err, sizeof err);
	if (rc) {
		fprintf(stderr, "bench: %s: %s\n", qa_strerror(rc), err);
		return 2;
	}
	qa_info in;
	qa_dev_info(dev, &in);
	printf("qarray bench: %s, %ux%u array (%u MACs/cycle), k_max %u, "
	       "X/W buffers %u/%u words per bank\n",
	       target, in.rows, in.cols, in.rows * in.cols, in.k_max,
	       in.xb_depth, in.wb_depth);
	if (netspec) {
		int st = bench_net(dev, &in, netspec, rows ? rows : 1) ? 2 : 0;
		qa_dev_close(dev);
		return st;
	}
	printf("%-14s %10s %10s %9s %9s %7s %9s %7s %4s %7s\n", "   MxKxN",
	       "cycles", "busy", "util_busy", "util_e2e", "stall",
	       "bytes_in", "out", "runs", "Mcyc/s");
	static const size_t defaults[][3] = {
		{ 0, 64, 0 }, /* 4*ROWS x 64 x 4*COLS, filled in below */
		{ 64, 64, 64 },
		{ 256, 256, 256 },
		{ 1, 64, 32 },
	};
	int status = 0;
	if (optind < argc) {
		for (int i = optind; i < argc; i++) {
			size_t m, k, n;
			if (sscanf(argv[i], "%zux%zux%zu", &m, &k, &n) != 3 ||
			    !m || !k || !n) {
				fprintf(stderr, "bench: bad shape '%s'\n",
					argv[i]);
				status = 2;
				continue;
			}
			if (bench_one(dev, &in, m, k, n, 1u + (unsigned)i))
				status = 2;
		}
	} else {
		for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
			size_t m = defaults[i][0] ? defaults[i][0] : 4 * in.rows;
			size_t n = defaults[i][2] ? defaults[i][2] : 4 * in.cols;
			if (bench_one(dev, &in, m, defaults[i][1], n,
				      1u + (unsigned)i))
				status = 2;
		}
	}
	qa_dev_close(dev);
	return status;
}
