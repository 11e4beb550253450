/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qarray.c - the qarray command-line tool.
 *
 * Runs one int8 GEMM, Y = clamp(round_shift(X.W + bias, shift), lo, hi), on a
 * qarray device (by default the Verilator model of the core) from .npy files,
 * and reports the device's configuration and its built simulator models. It
 * also trains float MLPs and quantizes them to power-of-two int8 models
 * ("train", "quantize"; host only, no device), runs such a model with the
 * whole network resident on a device ("run") and measures it against its
 * float model and the golden int8 model ("eval"). It uses only the public
 * API of libqarray (host/include/qarray.h, host/include/qarray_nn.h).
 *
 * Order of work in "gemm", "run" and "eval": parse every option, read and
 * check every input file, check the output path, and only then open the
 * device; the checks that need the device (K against its k_max, a network
 * against its memories) follow qa_dev_info, before anything runs. The
 * output is written (atomically, by qa_npy_write) only after the device
 * has produced it.
 *
 * Exit codes (docs/cli.md): 0 success, 1 bad usage or bad input, 2 device
 * or transport error, 3 device result differs from the golden model.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_usb.h"
#include "qarray.h"
#include "qarray_nn.h"

enum {
	EXIT_USAGE = 1,    /* bad usage or bad input */
	EXIT_DEVICE = 2,   /* device or transport error */
	EXIT_MISMATCH = 3  /* --check found outputs that differ */
};

/* How many differing outputs --check lists on stderr. */
#define MISMATCH_SHOW 10

/* Long-only options get values above any character, so that an option
 * error can tell a long option (use its argv text) from a short one. */
enum {
	OPT_HELP = 256,
	OPT_VERSION,
	OPT_VERBOSE,
	OPT_TARGET,
	OPT_TRACE,
	OPT_LINK_FAULTS,
	OPT_X,
	OPT_W,
	OPT_BIAS,
	OPT_SHIFT,
	OPT_ROUND,
	OPT_CLAMP,
	OPT_RELU,
	OPT_OUT,
	OPT_STATS,
	OPT_CHECK,
	OPT_Y,
	OPT_HIDDEN,
	OPT_EPOCHS,
	OPT_SEED,
	OPT_QAT,
	OPT_QAT_EPOCHS,
	OPT_BATCH,
	OPT_LR,
	OPT_JSON,
	OPT_MODEL,
	OPT_CALIB,
	OPT_METHOD,
	OPT_PERCENTILE,
	OPT_PER_CHANNEL,
	OPT_WEIGHT_BITS,
	OPT_FIT_SHIFTS,
	OPT_QAT_BITS,
	OPT_FLOAT_MODEL
};

/* Verbosity of the tool itself (-v); the tool, not the library, may keep
 * process-wide state. */
static int verbosity;

#if defined(__GNUC__)
#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))
#else
#define PRINTF_LIKE(a, b)
#endif

/* An error message: "qarray: ..." on stderr. */
PRINTF_LIKE(1, 2)
static void err(const char *fmt, ...)
{
	va_list ap;

	fputs("qarray: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A progress or detail message, shown from verbosity level `level` on. */
PRINTF_LIKE(2, 3)
static void note(int level, const char *fmt, ...)
{
	va_list ap;

	if (verbosity < level)
		return;
	fputs("qarray: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- help texts --------------------------------------------------------- */

static void usage_main(FILE *f)
{
	fprintf(f,
		"Usage: qarray [-v] COMMAND [OPTIONS]\n"
		"       qarray --help | --version\n"
		"\n"
		"Commands:\n"
		"  gemm     run Y = clamp(round_shift(X.W + bias, shift)) on a device\n"
		"  info     print the device's configuration as one JSON line\n"
		"  models   list the built simulator models, one per line\n"
		"  train    train a float MLP classifier from .npy data\n"
		"  quantize quantize a float model to a power-of-two int8 .qam\n"
		"  run      run a quantized network on a device, write its logits\n"
		"  eval     accuracy of float, golden int8 and device on labelled data\n"
		"  list     list attached boards (FTDI bridges) and simulated chips\n"
		"  emu      run a command with an emulated board attached\n"
		"  help     show the help of a command (qarray help gemm)\n"
		"\n"
		"Global options:\n"
		"  -h, --help     show this help and exit\n"
		"      --version  print the version and exit\n"
		"  -v, --verbose  more detail on stderr (repeat for more)\n"
		"\n"
		"Exit status: 0 ok, 1 bad usage or input, 2 device error,\n"
		"3 result differs from the golden model (--check, eval).\n"
		"See docs/cli.md for the full reference.\n");
}

static void usage_gemm(FILE *f)
{
	fprintf(f,
		"Usage: qarray gemm [--target T] --x X.npy --w W.npy [--bias B.npy]\n"
		"                   [--shift S|--shift S.npy] [--round MODE]\n"
		"                   [--clamp LO:HI] [--relu] --out Y.npy\n"
		"                   [--stats] [--check] [--trace FILE.fst]\n"
		"                   [--link-faults SPEC] [-v]\n"
		"\n"
		"Computes Y[M,N] = clamp(round_shift(X[M,K].W[K,N] + B[N], S[N]), LO, HI)\n"
		"on the device and writes Y as int8 .npy.\n"
		"\n"
		"Options:\n"
		"      --target T      device: sim (default), sim:RxC, sim-uart[:BOARD],\n"
		"                      ftdi[:SELECTOR], tty:PATH (see qarray list)\n"
		"      --x X.npy       int8 matrix (M,K)\n"
		"      --w W.npy       int8 matrix (K,N)\n"
		"      --bias B.npy    int32 vector (N,); default all zero\n"
		"      --shift S       right shift 0..31 for every column (default 0), or\n"
		"      --shift S.npy   int8/uint8/int32/int64 vector (N,) of shifts 0..31;\n"
		"                      an argument that is a decimal integer is a scalar\n"
		"      --round MODE    floor, half_up (default), half_away, half_even\n"
		"      --clamp LO:HI   output range, -128 <= LO <= HI <= 127\n"
		"                      (default -128:127)\n"
		"      --relu          raise LO to at least 0\n"
		"      --out Y.npy     output file (int8 (M,N)), written only on success\n"
		"      --stats         print the run's figures as one JSON line on stdout\n"
		"      --check         compare with the golden model; exit 3 on mismatch\n"
		"      --trace F.fst   simulator: write an FST waveform of the session\n"
		"      --link-faults SPEC  sim-uart: a faulty line both ways, for testing\n"
		"                      flip=P,drop=P,dup=P,garbage=P[,seed=N] per byte\n"
		"  -v, --verbose       more detail on stderr (repeat for more)\n"
		"  -h, --help          show this help and exit\n");
}

static void usage_info(FILE *f)
{
	fprintf(f,
		"Usage: qarray info [--target T] [--trace FILE.fst] [-v]\n"
		"\n"
		"Opens the device and prints its configuration as one JSON line:\n"
		"rows, cols, data_w, acc_w, k_max, xb_depth, wb_depth, pg_max,\n"
		"clock_hz, version, qarray_version, target.\n"
		"\n"
		"Options:\n"
		"      --target T      device: sim (default), sim:RxC, sim-uart[:BOARD],\n"
		"                      ftdi[:SELECTOR], tty:PATH (see qarray list)\n"
		"      --trace F.fst   simulator: write an FST waveform of the session\n"
		"  -v, --verbose       more detail on stderr (repeat for more)\n"
		"  -h, --help          show this help and exit\n");
}

static void usage_models(FILE *f)
{
	fprintf(f,
		"Usage: qarray models\n"
		"\n"
		"Lists the simulator models built into this qarray, one per line\n"
		"(ROWSxCOLS, e.g. 4x4); use one as --target sim:ROWSxCOLS.\n"
		"\n"
		"Options:\n"
		"  -h, --help          show this help and exit\n");
}

/*
 * Report an option error returned by getopt_long (opterr is 0 and the
 * option string starts with ':', so c is ':' for a missing argument and '?'
 * otherwise). Long options have values >= OPT_HELP or set optopt to 0.
 */
static void option_error(int c, char **argv, const char *cmd)
{
	const char *where = cmd ? cmd : "";
	const char *colon = cmd ? ": " : "";

	if (optopt == 0 || optopt >= OPT_HELP) {
		const char *arg = argv[optind - 1];

		if (c == ':')
			err("%s%soption '%s' needs an argument", where, colon, arg);
		else
			err("%s%sunknown or malformed option '%s'", where, colon,
			    arg);
	} else if (c == ':') {
		err("%s%soption '-%c' needs an argument", where, colon,
		    optopt);
	} else {
		err("%s%sunknown option '-%c'", where, colon, optopt);
	}
	if (cmd)
		fprintf(stderr, "Try 'qarray %s --help'.\n", cmd);
	else
		fprintf(stderr, "Try 'qarray --help'.\n");
}

/* ---- argument parsing ---------------------------------------------------- */

/*
 * Parse a whole string as a decimal integer: optional sign, then at least
 * one digit, nothing else (no blanks). Returns 0 on success, -1 if the
 * string is not such an integer, -2 if it is one but does not fit a long
 * (then *value is LONG_MIN or LONG_MAX, out of every range used here).
 */
static int parse_decimal(const char *s, long *value)
{
	const char *p = s;
	char *end;
	long v;

	if (*p == '+' || *p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0')
		return -1;
	*value = v;
	return errno == ERANGE ? -2 : 0;
}

/* Parse "LO:HI" into two int8 bounds with lo <= hi. */
static int parse_clamp(const char *arg, int *lo, int *hi)
{
	const char *colon = strchr(arg, ':');
	char lo_text[32];
	size_t len;
	long l, h;

	if (!colon || strchr(colon + 1, ':')) {
		err("--clamp '%s': expected LO:HI, e.g. -128:127", arg);
		return -1;
	}
	len = (size_t)(colon - arg);
	if (len == 0 || len >= sizeof(lo_text)) {
		err("--clamp '%s': expected LO:HI, e.g. -128:127", arg);
		return -1;
	}
	memcpy(lo_text, arg, len);
	lo_text[len] = '\0';
	if (parse_decimal(lo_text, &l) == -1 ||
	    parse_decimal(colon + 1, &h) == -1) {
		err("--clamp '%s': LO and HI must be decimal integers", arg);
		return -1;
	}
	if (l < -128 || l > 127 || h < -128 || h > 127) {
		err("--clamp '%s': LO and HI must lie in -128..127", arg);
		return -1;
	}
	if (l > h) {
		err("--clamp '%s': LO is greater than HI", arg);
		return -1;
	}
	*lo = (int)l;
	*hi = (int)h;
	return 0;
}

/*
 * Pre-check a simulator target against the built models, so that a typo
 * is a usage error (exit 1) found before any device is opened. Other
 * target names are left to qa_dev_open.
 */
static int check_target(const char *target)
{
	const char *const *models;
	const char *model;

	if (target[0] == '\0') {
		err("--target: empty target name");
		return -1;
	}
	if (strncmp(target, "sim", 3) != 0 ||
	    (target[3] != '\0' && target[3] != ':'))
		return 0;
	if (target[3] == '\0')
		return 0;
	model = target + 4;
	models = qa_sim_models();
	for (; models && *models; models++)
		if (strcmp(*models, model) == 0)
			return 0;
	err("--target '%s': no simulator model '%s' is built "
	    "(see 'qarray models')", target, model);
	return -1;
}

/*
 * Check that a file can be created at path before any work is done: it
 * must not be a directory, an existing entry must be a regular file when
 * `regular` is set (qa_npy_write replaces it by rename), and its directory
 * must exist and be writable.
 */
static int check_out_path(const char *path, const char *opt, int regular)
{
	struct stat st;
	const char *slash;
	char *dir = NULL;
	size_t len = strlen(path);
	int rc = -1;

	if (len == 0) {
		err("%s: empty file name", opt);
		goto out;
	}
	if (path[len - 1] == '/') {
		err("%s '%s': names a directory", opt, path);
		goto out;
	}
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			err("%s '%s': is a directory", opt, path);
			goto out;
		}
		if (regular && !S_ISREG(st.st_mode)) {
			err("%s '%s': exists and is not a regular file", opt,
			    path);
			goto out;
		}
	} else if (errno != ENOENT) {
		err("%s '%s': %s", opt, path, strerror(errno));
		goto out;
	}
	slash = strrchr(path, '/');
	if (!slash) {
		dir = malloc(2);
		if (dir)
			strcpy(dir, ".");
	} else {
		size_t dlen = slash == path ? 1 : (size_t)(slash - path);

		dir = malloc(dlen + 1);
		if (dir) {
			memcpy(dir, path, dlen);
			dir[dlen] = '\0';
		}
	}
	if (!dir) {
		err("out of memory");
		goto out;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		err("%s '%s': directory '%s' does not exist", opt, path, dir);
		goto out;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		err("%s '%s': directory '%s' is not writable: %s", opt, path,
		    dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

/* ---- input files ---------------------------------------------------------- */

/* Read one .npy file; on failure print why and leave *arr zeroed. */
static int load_npy(const char *path, const char *opt, qa_array *arr)
{
	char msg[256] = "";
	qa_array tmp;
	int rc;

	memset(&tmp, 0, sizeof(tmp));
	rc = qa_npy_read(path, &tmp, msg, sizeof(msg));
	if (rc != QA_OK) {
		if (!msg[0])
			err("%s '%s': %s", opt, path, qa_strerror(rc));
		else if (strncmp(msg, path, strlen(path)) == 0)
			err("%s %s", opt, msg); /* the message names the file */
		else
			err("%s '%s': %s", opt, path, msg);
		return -1;
	}
	*arr = tmp;
	note(2, "%s '%s': %s, %u dimension(s), %zu element(s)", opt, path,
	     qa_dtype_name(arr->dtype), arr->ndim, arr->count);
	return 0;
}

/* Text of an array's shape, "(3, 4)" style, for messages. */
static const char *shape_text(const qa_array *a, char *buf, size_t len)
{
	size_t used = 0;
	unsigned i;

	used += (size_t)snprintf(buf, len, "(");
	for (i = 0; i < a->ndim && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%zu",
					 i ? ", " : "", a->shape[i]);
	if (a->ndim == 1 && used < len)
		used += (size_t)snprintf(buf + used, len - used, ",");
	if (used < len)
		snprintf(buf + used, len - used, ")");
	return buf;
}

/* Check an array's rank and that none of its dimensions is empty. */
static int check_rank(const qa_array *a, const char *opt, const char *path,
		      unsigned ndim, const char *what)
{
	char buf[96];
	unsigned i;

	if (a->ndim != ndim) {
		err("%s '%s': expected %s, got shape %s", opt, path, what,
		    shape_text(a, buf, sizeof(buf)));
		return -1;
	}
	for (i = 0; i < ndim; i++) {
		if (a->shape[i] == 0) {
			err("%s '%s': empty dimension in shape %s", opt, path,
			    shape_text(a, buf, sizeof(buf)));
			return -1;
		}
	}
	return 0;
}

static int check_dtype(const qa_array *a, const char *opt, const char *path,
		       qa_dtype want)
{
	if (a->dtype != want) {
		err("%s '%s': dtype %s, expected %s", opt, path,
		    qa_dtype_name(a->dtype), qa_dtype_name(want));
		return -1;
	}
	return 0;
}

/* Convert a shift vector of any accepted integer dtype, checking 0..31. */
static int convert_shift(const qa_array *a, const char *path, uint8_t *shift)
{
	size_t i;

	for (i = 0; i < a->count; i++) {
		int64_t v;

		switch (a->dtype) {
		case QA_DT_INT8:
			v = ((const int8_t *)a->data)[i];
			break;
		case QA_DT_UINT8:
			v = ((const uint8_t *)a->data)[i];
			break;
		case QA_DT_INT32:
			v = ((const int32_t *)a->data)[i];
			break;
		case QA_DT_INT64:
			v = ((const int64_t *)a->data)[i];
			break;
		default: /* float32, refused by the caller */
			err("--shift '%s': dtype %s, expected an integer dtype",
			    path, qa_dtype_name(a->dtype));
			return -1;
		}
		if (v < 0 || v > QA_SHIFT_MAX) {
			err("--shift '%s': value %" PRId64 " at index %zu is "
			    "outside 0..%d", path, v, i, QA_SHIFT_MAX);
			return -1;
		}
		shift[i] = (uint8_t)v;
	}
	return 0;
}

/* ---- output --------------------------------------------------------------- */

/* Print s as a JSON string literal. */
static void json_string(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static double ratio(uint64_t num, uint64_t den_a, uint64_t den_b)
{
	double den = (double)den_a * (double)den_b;

	return den > 0.0 ? (double)num / den : 0.0;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* The device's counters, the middle of a --stats line (gemm and run). */
static void print_counters(const qa_info *info, const qa_stats *st)
{
	uint64_t peak = (uint64_t)info->rows * info->cols;

	printf(",\"rows\":%u,\"cols\":%u", info->rows, info->cols);
	printf(",\"cycles\":%" PRIu64, st->cycles);
	printf(",\"busy_cycles\":%" PRIu64, st->busy_cycles);
	printf(",\"stall_cycles\":%" PRIu64, st->stall_cycles);
	printf(",\"macs\":%" PRIu64, st->macs);
	printf(",\"peak_macs_per_cycle\":%" PRIu64, peak);
	printf(",\"utilization\":%.6f", ratio(st->macs, st->cycles, peak));
	printf(",\"compute_utilization\":%.6f",
	       ratio(st->macs, st->busy_cycles, peak));
	printf(",\"saturated\":%" PRIu64, st->saturated);
	printf(",\"runs\":%u", st->runs);
	printf(",\"bytes_to_device\":%" PRIu64, st->bytes_to_device);
	printf(",\"bytes_from_device\":%" PRIu64, st->bytes_from_device);
	printf(",\"wire_bytes_to_device\":%" PRIu64, st->wire_bytes_to_device);
	printf(",\"wire_bytes_from_device\":%" PRIu64,
	       st->wire_bytes_from_device);
	printf(",\"link_resent\":%" PRIu64 ",\"link_damaged\":%" PRIu64
	       ",\"link_probes\":%" PRIu64 ",\"retries\":%" PRIu64,
	       st->link_resent, st->link_damaged, st->link_probes, st->retries);
}

/* The end of a --stats line. */
static void print_stats_end(double wall_s, int checked, uint64_t mismatches)
{
	printf(",\"wall_s\":%.6f", wall_s);
	printf(",\"checked\":%s", checked ? "true" : "false");
	printf(",\"mismatches\":%" PRIu64 "}\n", mismatches);
	fflush(stdout);
}

/* The --stats line of gemm. */
static void print_stats(const char *target, const qa_info *info,
			const qa_stats *st, const qa_gemm_desc *d,
			double wall_s, int checked, uint64_t mismatches)
{
	printf("{\"target\":");
	json_string(stdout, target);
	printf(",\"m\":%zu,\"k\":%zu,\"n\":%zu", d->m, d->k, d->n);
	print_counters(info, st);
	print_stats_end(wall_s, checked, mismatches);
}

/*
 * Compare a device result (rows, cols) with the golden model's, as --check
 * does: the count of differing elements and the first MISMATCH_SHOW of
 * them (as NAME[r,c]) on stderr, and a warning when the saturation counts
 * differ. Returns the number of differing elements.
 */
static uint64_t compare_golden(const int8_t *y, const int8_t *golden,
			       size_t rows, size_t cols, const char *name,
			       uint64_t dev_sat, uint64_t ref_sat)
{
	uint64_t bad = 0;
	size_t i, total = rows * cols;
	int shown = 0;

	for (i = 0; i < total; i++)
		if (y[i] != golden[i])
			bad++;
	if (bad) {
		err("check: %" PRIu64 " of %zu outputs differ from the golden "
		    "model", bad, total);
		for (i = 0; i < total && shown < MISMATCH_SHOW; i++) {
			if (y[i] == golden[i])
				continue;
			err("%s[%zu,%zu]: device %d, golden %d", name, i / cols,
			    i % cols, y[i], golden[i]);
			shown++;
		}
	} else {
		note(1, "check: all %zu outputs match the golden model", total);
	}
	/* (after a link reset in a network run the device's counters cover
	 * only the rows run since: the callers pass UINT64_MAX then) */
	if (dev_sat != UINT64_MAX && dev_sat != ref_sat)
		err("warning: device counted %" PRIu64 " saturated outputs, "
		    "golden model %" PRIu64, dev_sat, ref_sat);
	return bad;
}

/* Write an int8 matrix (rows, cols) to path (atomically, qa_npy_write). */
static int write_int8_matrix(const char *path, const char *opt, int8_t *data,
			     size_t rows, size_t cols)
{
	qa_array a;
	char msg[512] = "";
	int r;

	memset(&a, 0, sizeof(a));
	a.dtype = QA_DT_INT8;
	a.ndim = 2;
	a.shape[0] = rows;
	a.shape[1] = cols;
	a.count = rows * cols;
	a.data = data;
	r = qa_npy_write(path, &a, msg, sizeof(msg));
	if (r != QA_OK) {
		err("%s '%s': %s", opt, path, msg[0] ? msg : qa_strerror(r));
		return -1;
	}
	note(1, "wrote %s", path);
	return 0;
}

/*
 * Print why opening a device failed. qa_dev_open fills errbuf; the error
 * code says what kind of failure it was.
 */
static void open_error(const char *target, int rc, const char *msg)
{
	err("cannot open target '%s': %s%s%s", target, qa_strerror(rc),
	    msg[0] ? ": " : "", msg);
}

static void device_error(const char *what, qa_dev *dev, int rc)
{
	const char *detail = qa_dev_errmsg(dev);

	err("%s: %s%s%s", what, qa_strerror(rc),
	    detail && detail[0] ? ": " : "", detail ? detail : "");
}

/* ---- qarray gemm ------------------------------------------------------------ */

struct gemm_opts {
	const char *target;
	const char *x_path, *w_path, *bias_path, *shift_path, *out_path;
	const char *trace_path, *link_faults;
	long shift_scalar;     /* used when shift_path is NULL */
	qa_round round;
	int lo, hi;
	int relu, stats, check;
};

/* Parse the options of "qarray gemm". Returns -1 (error), 0 (go on) or
 * 1 (help printed, exit 0). */
static int gemm_parse(int argc, char **argv, struct gemm_opts *o)
{
	static const struct option longopts[] = {
		{"target", required_argument, NULL, OPT_TARGET},
		{"x", required_argument, NULL, OPT_X},
		{"w", required_argument, NULL, OPT_W},
		{"bias", required_argument, NULL, OPT_BIAS},
		{"shift", required_argument, NULL, OPT_SHIFT},
		{"round", required_argument, NULL, OPT_ROUND},
		{"clamp", required_argument, NULL, OPT_CLAMP},
		{"relu", no_argument, NULL, OPT_RELU},
		{"out", required_argument, NULL, OPT_OUT},
		{"stats", no_argument, NULL, OPT_STATS},
		{"check", no_argument, NULL, OPT_CHECK},
		{"trace", required_argument, NULL, OPT_TRACE},
		{"link-faults", required_argument, NULL, OPT_LINK_FAULTS},
		{"verbose", no_argument, NULL, OPT_VERBOSE},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0}
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+:hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_HELP:
			usage_gemm(stdout);
			return 1;
		case 'v':
		case OPT_VERBOSE:
			verbosity++;
			break;
		case OPT_TARGET:
			o->target = optarg;
			break;
		case OPT_TRACE:
			o->trace_path = optarg;
			break;
		case OPT_LINK_FAULTS:
			o->link_faults = optarg;
			break;
		case OPT_X:
			o->x_path = optarg;
			break;
		case OPT_W:
			o->w_path = optarg;
			break;
		case OPT_BIAS:
			o->bias_path = optarg;
			break;
		case OPT_SHIFT:
			if (parse_decimal(optarg, &o->shift_scalar) != -1) {
				o->shift_path = NULL;
				if (o->shift_scalar < 0 ||
				    o->shift_scalar > QA_SHIFT_MAX) {
					err("--shift %s: a shift must lie in "
					    "0..%d", optarg, QA_SHIFT_MAX);
					return -1;
				}
			} else {
				o->shift_path = optarg;
			}
			break;
		case OPT_ROUND:
			if (qa_round_parse(optarg, &o->round) != QA_OK) {
				err("--round '%s': expected floor, half_up, "
				    "half_away or half_even", optarg);
				return -1;
			}
			break;
		case OPT_CLAMP:
			if (parse_clamp(optarg, &o->lo, &o->hi))
				return -1;
			break;
		case OPT_RELU:
			o->relu = 1;
			break;
		case OPT_OUT:
			o->out_path = optarg;
			break;
		case OPT_STATS:
			o->stats = 1;
			break;
		case OPT_CHECK:
			o->check = 1;
			break;
		default:
			option_error(c, argv, "gemm");
			return -1;
		}
	}
	if (optind < argc) {
		err("gemm: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (!o->x_path || !o->w_path || !o->out_path) {
		err("gemm: missing required option %s",
		    !o->x_path ? "--x" : !o->w_path ? "--w" : "--out");
		fprintf(stderr, "Try 'qarray gemm --help'.\n");
		return -1;
	}
	if (o->relu && o->lo < 0)
		o->lo = 0;
	if (o->lo > o->hi) {
		err("--relu raises LO to 0, above HI %d: empty output range",
		    o->hi);
		return -1;
	}
	if (check_target(o->target))
		return -1;
	return 0;
}

static int cmd_gemm(int argc, char **argv)
{
	struct gemm_opts o;
	qa_array x, w, bias, shift_arr;
	qa_gemm_desc d;
	qa_dev_opts dopts;
	qa_info info;
	qa_stats st;
	qa_dev *dev = NULL;
	uint8_t *shift = NULL;
	int8_t *y = NULL, *golden = NULL;
	uint64_t mismatches = 0;
	char msg[512] = "";
	struct timespec t0;
	double wall_s;
	int rc = EXIT_USAGE, r;
	size_t m, k, n;

	memset(&o, 0, sizeof(o));
	memset(&x, 0, sizeof(x));
	memset(&w, 0, sizeof(w));
	memset(&bias, 0, sizeof(bias));
	memset(&shift_arr, 0, sizeof(shift_arr));
	memset(&d, 0, sizeof(d));
	memset(&st, 0, sizeof(st));
	memset(&info, 0, sizeof(info));
	o.target = "sim";
	o.round = QA_ROUND_HALF_UP;
	o.lo = -128;
	o.hi = 127;

	r = gemm_parse(argc, argv, &o);
	if (r) {
		rc = r > 0 ? 0 : EXIT_USAGE;
		goto out;
	}

	/* Inputs: read and check everything before the device is opened. */
	if (load_npy(o.x_path, "--x", &x) ||
	    check_dtype(&x, "--x", o.x_path, QA_DT_INT8) ||
	    check_rank(&x, "--x", o.x_path, 2, "a matrix (M, K)"))
		goto out;
	if (load_npy(o.w_path, "--w", &w) ||
	    check_dtype(&w, "--w", o.w_path, QA_DT_INT8) ||
	    check_rank(&w, "--w", o.w_path, 2, "a matrix (K, N)"))
		goto out;
	m = x.shape[0];
	k = x.shape[1];
	n = w.shape[1];
	if (w.shape[0] != k) {
		err("shape mismatch: --x '%s' is (%zu, %zu) but --w '%s' has "
		    "%zu rows (K must agree)", o.x_path, m, k, o.w_path,
		    w.shape[0]);
		goto out;
	}
	if (o.bias_path) {
		if (load_npy(o.bias_path, "--bias", &bias) ||
		    check_dtype(&bias, "--bias", o.bias_path, QA_DT_INT32) ||
		    check_rank(&bias, "--bias", o.bias_path, 1,
			       "a vector (N,)"))
			goto out;
		if (bias.shape[0] != n) {
			err("shape mismatch: --bias '%s' has %zu entries, "
			    "N is %zu", o.bias_path, bias.shape[0], n);
			goto out;
		}
	}
	shift = malloc(n);
	if (!shift) {
		err("out of memory");
		goto out;
	}
	if (o.shift_path) {
		if (load_npy(o.shift_path, "--shift", &shift_arr))
			goto out;
		if (shift_arr.dtype == QA_DT_FLOAT32) {
			err("--shift '%s': dtype %s, expected an integer dtype "
			    "(int8, uint8, int32, int64)", o.shift_path,
			    qa_dtype_name(shift_arr.dtype));
			goto out;
		}
		if (check_rank(&shift_arr, "--shift", o.shift_path, 1,
			       "a vector (N,)"))
			goto out;
		if (shift_arr.shape[0] != n) {
			err("shape mismatch: --shift '%s' has %zu entries, "
			    "N is %zu", o.shift_path, shift_arr.shape[0], n);
			goto out;
		}
		if (convert_shift(&shift_arr, o.shift_path, shift))
			goto out;
	} else {
		memset(shift, (int)o.shift_scalar, n);
	}
	if (n > SIZE_MAX / m) {
		err("output of %zu x %zu elements is too large", m, n);
		goto out;
	}

	d.m = m;
	d.k = k;
	d.n = n;
	d.x = x.data;
	d.w = w.data;
	d.bias = o.bias_path ? bias.data : NULL;
	d.shift = shift;
	d.round = o.round;
	d.lo = o.lo;
	d.hi = o.hi;
	r = qa_gemm_validate(&d);
	if (r != QA_OK) {
		err("invalid GEMM: %s", qa_strerror(r));
		goto out;
	}
	if (check_out_path(o.out_path, "--out", 1))
		goto out;
	if (o.trace_path && check_out_path(o.trace_path, "--trace", 0))
		goto out;
	y = malloc(m * n);
	if (o.check)
		golden = malloc(m * n);
	if (!y || (o.check && !golden)) {
		err("out of memory");
		goto out;
	}
	note(1, "gemm M=%zu K=%zu N=%zu, round %s, clamp %d:%d, shift %s",
	     m, k, n, qa_round_name(o.round), o.lo, o.hi,
	     o.shift_path ? o.shift_path : "scalar");

	/* The device. */
	memset(&dopts, 0, sizeof(dopts));
	dopts.trace_path = o.trace_path;
	dopts.link_faults = o.link_faults;
	dopts.verbose = verbosity;
	r = qa_dev_open(&dev, o.target, &dopts, msg, sizeof(msg));
	if (r != QA_OK) {
		dev = NULL;
		open_error(o.target, r, msg);
		rc = EXIT_DEVICE;
		goto out;
	}
	r = qa_dev_info(dev, &info);
	if (r != QA_OK) {
		device_error("device info", dev, r);
		rc = EXIT_DEVICE;
		goto out;
	}
	note(1, "target %s: %ux%u array, k_max %u", o.target, info.rows,
	     info.cols, info.k_max);
	if (k > info.k_max) {
		err("K = %zu exceeds the device's k_max = %u (target '%s')",
		    k, info.k_max, o.target);
		rc = EXIT_USAGE;
		goto out;
	}
	if (isatty(STDERR_FILENO) && verbosity == 0)
		fprintf(stderr, "qarray: running %zux%zux%zu GEMM on %s...\r",
			m, k, n, o.target);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = qa_dev_gemm(dev, &d, y, &st);
	wall_s = seconds_since(&t0);
	if (isatty(STDERR_FILENO) && verbosity == 0)
		fprintf(stderr, "\033[K");
	if (r != QA_OK) {
		device_error("gemm failed", dev, r);
		rc = EXIT_DEVICE;
		goto out;
	}
	note(1, "device done in %.3f s: %" PRIu64 " cycles, %u run(s)",
	     wall_s, st.cycles, st.runs);

	if (o.check) {
		uint64_t ref_sat = 0;

		r = qa_ref_gemm(&d, golden, &ref_sat);
		if (r != QA_OK) {
			err("golden model failed: %s", qa_strerror(r));
			goto out;
		}
		mismatches = compare_golden(y, golden, m, n, "Y", st.saturated,
					    ref_sat);
	}

	if (write_int8_matrix(o.out_path, "--out", y, m, n)) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (o.stats)
		print_stats(o.target, &info, &st, &d, wall_s, o.check,
			    mismatches);
	rc = mismatches ? EXIT_MISMATCH : 0;
out:
	if (dev)
		qa_dev_close(dev);
	free(golden);
	free(y);
	free(shift);
	if (shift_arr.data)
		qa_array_free(&shift_arr);
	if (bias.data)
		qa_array_free(&bias);
	if (w.data)
		qa_array_free(&w);
	if (x.data)
		qa_array_free(&x);
	return rc;
}

/* ---- qarray info ------------------------------------------------------------ */

static int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"target", required_argument, NULL, OPT_TARGET},
		{"trace", required_argument, NULL, OPT_TRACE},
		{"verbose", no_argument, NULL, OPT_VERBOSE},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0}
	};
	const char *target = "sim", *trace = NULL;
	qa_dev_opts dopts;
	qa_dev *dev = NULL;
	qa_info info;
	char msg[512] = "";
	int c, r, rc = EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+:hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_HELP:
			usage_info(stdout);
			rc = 0;
			goto out;
		case 'v':
		case OPT_VERBOSE:
			verbosity++;
			break;
		case OPT_TARGET:
			target = optarg;
			break;
		case OPT_TRACE:
			trace = optarg;
			break;
		default:
			option_error(c, argv, "info");
			goto out;
		}
	}
	if (optind < argc) {
		err("info: unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (check_target(target))
		goto out;
	if (trace && check_out_path(trace, "--trace", 0))
		goto out;

	memset(&dopts, 0, sizeof(dopts));
	dopts.trace_path = trace;
	dopts.verbose = verbosity;
	r = qa_dev_open(&dev, target, &dopts, msg, sizeof(msg));
	if (r != QA_OK) {
		dev = NULL;
		open_error(target, r, msg);
		rc = EXIT_DEVICE;
		goto out;
	}
	memset(&info, 0, sizeof(info));
	r = qa_dev_info(dev, &info);
	if (r != QA_OK) {
		device_error("device info", dev, r);
		rc = EXIT_DEVICE;
		goto out;
	}
	printf("{\"rows\":%u,\"cols\":%u,\"data_w\":%u,\"acc_w\":%u,"
	       "\"k_max\":%u,\"xb_depth\":%u,\"wb_depth\":%u,\"pg_max\":%u,"
	       "\"nl_max\":%u,\"clock_hz\":%" PRIu32 ",\"version\":%u,"
	       "\"qarray_version\":",
	       info.rows, info.cols, info.data_w, info.acc_w, info.k_max,
	       info.xb_depth, info.wb_depth, info.pg_max, info.nl_max,
	       info.clock_hz, info.version);
	json_string(stdout, QA_VERSION_STRING);
	printf(",\"target\":");
	json_string(stdout, target);
	printf("}\n");
	rc = 0;
out:
	if (dev)
		qa_dev_close(dev);
	return rc;
}

/* ---- qarray models ------------------------------------------------------------ */

static int cmd_models(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0}
	};
	const char *const *models;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_HELP:
			usage_models(stdout);
			return 0;
		default:
			option_error(c, argv, "models");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		err("models: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	models = qa_sim_models();
	for (; models && *models; models++)
		printf("%s\n", *models);
	return 0;
}

/* ---- networks: shared helpers ------------------------------------------------ */

/*
 * Check a directory that a command will create or fill: an existing entry
 * must be a directory we may write into; a missing one needs an existing,
 * writable parent.
 */
static int check_out_dir(const char *path, const char *opt)
{
	struct stat st;
	const char *slash;
	char *parent = NULL;
	size_t len = strlen(path);
	int rc = -1;

	if (len == 0) {
		err("%s: empty directory name", opt);
		goto out;
	}
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			err("%s '%s': exists and is not a directory", opt,
			    path);
			goto out;
		}
		if (access(path, W_OK | X_OK) != 0) {
			err("%s '%s': directory is not writable: %s", opt,
			    path, strerror(errno));
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (errno != ENOENT) {
		err("%s '%s': %s", opt, path, strerror(errno));
		goto out;
	}
	while (len > 1 && path[len - 1] == '/')
		len--;
	parent = malloc(len + 2);
	if (!parent) {
		err("out of memory");
		goto out;
	}
	memcpy(parent, path, len);
	parent[len] = '\0';
	slash = strrchr(parent, '/');
	if (!slash)
		strcpy(parent, ".");
	else
		parent[slash == parent ? 1 : (size_t)(slash - parent)] = '\0';
	if (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode)) {
		err("%s '%s': parent directory '%s' does not exist", opt, path,
		    parent);
		goto out;
	}
	if (access(parent, W_OK | X_OK) != 0) {
		err("%s '%s': parent directory '%s' is not writable: %s", opt,
		    path, parent, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(parent);
	return rc;
}

/* Features (float32 or uint8 (N, D)) from a .npy file. */
static int load_features(const char *path, const char *opt, qa_array *arr,
			 float **x)
{
	char msg[256] = "";

	if (load_npy(path, opt, arr))
		return -1;
	if (qa_nn_features(arr, x, msg, sizeof(msg)) != QA_OK) {
		err("%s '%s': %s", opt, path, msg);
		return -1;
	}
	return 0;
}

/* Print a number for JSON: finite with %.6g-like precision. */
static void json_number(FILE *f, double v)
{
	if (!(v == v) || v > 1e300 || v < -1e300)
		fputs("null", f);
	else
		fprintf(f, "%.6g", v);
}

/* ---- qarray train --------------------------------------------------------------- */

static void usage_train(FILE *f)
{
	fprintf(f,
		"Usage: qarray train --x X.npy --y Y.npy --hidden W[,W...]\n"
		"                    [--epochs N] [--seed S] [--qat] [--qat-epochs N]\n"
		"                    [--qat-bits B] [--batch B] [--lr LR] [--json] [-v]\n"
		"                    --out DIR\n"
		"\n"
		"Trains a float MLP classifier (ReLU hidden layers, softmax\n"
		"cross-entropy, Adam) and writes it as a model directory\n"
		"(DIR/manifest.txt and float32 .npy files, see docs/models.md).\n"
		"\n"
		"Options:\n"
		"      --x X.npy       features, float32 or uint8 (N,D); uint8 is\n"
		"                      taken by value (no scaling)\n"
		"      --y Y.npy       labels (N,), any integer dtype, 0..C-1;\n"
		"                      C = largest label + 1 outputs\n"
		"      --hidden W,...  hidden layer widths, e.g. 32 or 64,32\n"
		"      --epochs N      float training epochs (default 40)\n"
		"      --seed S        seed of every random choice (default 1)\n"
		"      --qat           then quantization-aware fine-tuning epochs\n"
		"      --qat-epochs N  their number (default epochs/4, at least 1)\n"
		"      --qat-bits B    weight grid of those epochs, 2..8 (default 8)\n"
		"      --batch B       mini-batch size (default 32)\n"
		"      --lr LR         Adam step size (default 0.01)\n"
		"      --out DIR       model directory, created if missing\n"
		"      --json          print a summary as one JSON line on stdout\n"
		"  -v, --verbose       one line per epoch on stderr\n"
		"  -h, --help          show this help and exit\n");
}

struct train_opts {
	const char *x_path, *y_path, *out_dir;
	size_t hidden[QA_NN_MAX_LAYERS];
	unsigned nhidden;
	int json, qat_bits_given;
	qa_train_opts t;
};

/* "32" or "64,32": widths 1..QA_NN_MAX_DIM. */
static int parse_hidden(const char *arg, size_t *hidden, unsigned *n)
{
	const char *p = arg;

	*n = 0;
	for (;;) {
		char num[16];
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		long v;

		if (len == 0 || len >= sizeof(num))
			goto bad;
		memcpy(num, p, len);
		num[len] = '\0';
		if (parse_decimal(num, &v) != 0 || num[0] == '+' ||
		    num[0] == '-')
			goto bad;
		if (v < 1 || v > QA_NN_MAX_DIM) {
			err("--hidden '%s': width %ld outside 1..%d", arg, v,
			    QA_NN_MAX_DIM);
			return -1;
		}
		if (*n == QA_NN_MAX_LAYERS - 1) {
			err("--hidden '%s': more than %d hidden layers", arg,
			    QA_NN_MAX_LAYERS - 1);
			return -1;
		}
		hidden[(*n)++] = (size_t)v;
		if (!comma)
			return 0;
		p = comma + 1;
	}
bad:
	err("--hidden '%s': expected widths like 32 or 64,32", arg);
	return -1;
}

/* A count option 1..max. */
static int parse_count(const char *arg, const char *opt, long max,
		       unsigned *out)
{
	long v;

	if (parse_decimal(arg, &v) != 0 || v < 1 || v > max) {
		err("%s '%s': expected an integer 1..%ld", opt, arg, max);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

static int train_parse(int argc, char **argv, struct train_opts *o)
{
	static const struct option longopts[] = {
		{"x", required_argument, NULL, OPT_X},
		{"y", required_argument, NULL, OPT_Y},
		{"hidden", required_argument, NULL, OPT_HIDDEN},
		{"epochs", required_argument, NULL, OPT_EPOCHS},
		{"seed", required_argument, NULL, OPT_SEED},
		{"qat", no_argument, NULL, OPT_QAT},
		{"qat-epochs", required_argument, NULL, OPT_QAT_EPOCHS},
		{"qat-bits", required_argument, NULL, OPT_QAT_BITS},
		{"batch", required_argument, NULL, OPT_BATCH},
		{"lr", required_argument, NULL, OPT_LR},
		{"out", required_argument, NULL, OPT_OUT},
		{"json", no_argument, NULL, OPT_JSON},
		{"verbose", no_argument, NULL, OPT_VERBOSE},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0}
	};
	int c, have_hidden = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+:hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_HELP:
			usage_train(stdout);
			return 1;
		case 'v':
		case OPT_VERBOSE:
			verbosity++;
			break;
		case OPT_X:
			o->x_path = optarg;
			break;
		case OPT_Y:
			o->y_path = optarg;
			break;
		case OPT_HIDDEN:
			if (parse_hidden(optarg, o->hidden, &o->nhidden))
				return -1;
			have_hidden = 1;
			break;
		case OPT_EPOCHS:
			if (parse_count(optarg, "--epochs", 100000,
					&o->t.epochs))
				return -1;
			break;
		case OPT_QAT_EPOCHS:
			if (parse_count(optarg, "--qat-epochs", 100000,
					&o->t.qat_epochs))
				return -1;
			break;
		case OPT_BATCH:
			if (parse_count(optarg, "--batch", 65536, &o->t.batch))
				return -1;
			break;
		case OPT_QAT_BITS:
			if (parse_count(optarg, "--qat-bits", 8,
					&o->t.qat_weight_bits))
				return -1;
			if (o->t.qat_weight_bits < 2) {
				err("--qat-bits '%s': expected 2..8", optarg);
				return -1;
			}
			o->qat_bits_given = 1;
			break;
		case OPT_SEED: {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end ||
			    errno == ERANGE) {
				err("--seed '%s': expected an integer "
				    "0..18446744073709551615", optarg);
				return -1;
			}
			o->t.seed = (uint64_t)v;
			break;
		}
		case OPT_LR: {
			char *end;
			double v;

			errno = 0;
			v = strtod(optarg, &end);
			if (end == optarg || *end || errno == ERANGE ||
			    !(v > 0.0 && v <= 1.0)) {
				err("--lr '%s': expected a number in (0, 1]",
				    optarg);
				return -1;
			}
			o->t.lr = v;
			break;
		}
		case OPT_QAT:
			o->t.qat = 1;
			break;
		case OPT_OUT:
			o->out_dir = optarg;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		default:
			option_error(c, argv, "train");
			return -1;
		}
	}
	if (optind < argc) {
		err("train: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (!o->x_path || !o->y_path || !have_hidden || !o->out_dir) {
		err("train: missing required option %s",
		    !o->x_path ? "--x" : !o->y_path ? "--y" :
		    !have_hidden ? "--hidden" : "--out");
		fprintf(stderr, "Try 'qarray train --help'.\n");
		return -1;
	}
	if ((o->t.qat_epochs || o->qat_bits_given) && !o->t.qat) {
		err("%s needs --qat", o->t.qat_epochs ? "--qat-epochs" :
		    "--qat-bits");
		return -1;
	}
	return 0;
}

/* Progress of training: a status line on a terminal, or -v lines. */
struct train_progress_ctx {
	int tty;
};

static void train_progress(void *ctx, const qa_train_progress *p)
{
	const struct train_progress_ctx *pc = ctx;

	if (verbosity > 0) {
		note(1, "epoch %u/%u%s: loss %.4f, training accuracy %.2f%%",
		     p->epoch, p->epochs, p->qat ? " (qat)" : "", p->loss,
		     100.0 * p->accuracy);
	} else if (pc->tty) {
		fprintf(stderr, "qarray: training: epoch %u/%u%s, loss %.4f, "
			"accuracy %.2f%%\033[K\r", p->epoch, p->epochs,
			p->qat ? " (qat)" : "", p->loss, 100.0 * p->accuracy);
	}
}

static int cmd_train(int argc, char **argv)
{
	struct train_opts o;
	struct train_progress_ctx pc;
	qa_array xa, ya;
	qa_fmodel fm;
	qa_train_progress fin;
	float *x = NULL;
	int32_t *y = NULL;
	unsigned classes = 0;
	char msg[512] = "", comment[256];
	struct timespec t0;
	double wall_s;
	int rc = EXIT_USAGE, r;

	memset(&o, 0, sizeof(o));
	memset(&xa, 0, sizeof(xa));
	memset(&ya, 0, sizeof(ya));
	memset(&fm, 0, sizeof(fm));
	memset(&fin, 0, sizeof(fin));
	qa_train_opts_init(&o.t);

	r = train_parse(argc, argv, &o);
	if (r) {
		rc = r > 0 ? 0 : EXIT_USAGE;
		goto out;
	}
	if (load_features(o.x_path, "--x", &xa, &x))
		goto out;
	if (load_npy(o.y_path, "--y", &ya))
		goto out;
	if (qa_nn_labels(&ya, &y, &classes, msg, sizeof(msg)) != QA_OK) {
		err("--y '%s': %s", o.y_path, msg);
		goto out;
	}
	if (ya.shape[0] != xa.shape[0]) {
		err("shape mismatch: --x '%s' has %zu rows but --y '%s' has "
		    "%zu labels", o.x_path, xa.shape[0], o.y_path,
		    ya.shape[0]);
		goto out;
	}
	if (classes < 2) {
		err("--y '%s': every label is 0; a classifier needs at least "
		    "two classes (labels 0..C-1)", o.y_path);
		goto out;
	}
	if (check_out_dir(o.out_dir, "--out"))
		goto out;
	note(1, "train: %zu examples, %zu features, %u classes, %u hidden "
	     "layer(s), %u epochs%s, seed %" PRIu64, xa.shape[0], xa.shape[1],
	     classes, o.nhidden, o.t.epochs, o.t.qat ? " + qat" : "",
	     o.t.seed);

	pc.tty = isatty(STDERR_FILENO);
	o.t.progress = train_progress;
	o.t.progress_ctx = &pc;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = qa_nn_train(&fm, xa.shape[0], xa.shape[1], x, y, classes,
			o.nhidden, o.hidden, &o.t, &fin, msg, sizeof(msg));
	wall_s = seconds_since(&t0);
	if (pc.tty && verbosity == 0)
		fprintf(stderr, "\033[K");
	if (r != QA_OK) {
		err("train: %s", msg[0] ? msg : qa_strerror(r));
		goto out;
	}
	snprintf(comment, sizeof(comment),
		 "trained by qarray %s: %u epochs%s, seed %" PRIu64
		 ", training accuracy %.2f%%", QA_VERSION_STRING, o.t.epochs,
		 o.t.qat ? " + quantization-aware" : "", o.t.seed,
		 100.0 * fin.accuracy);
	msg[0] = '\0';
	r = qa_fmodel_save(&fm, o.out_dir, comment, msg, sizeof(msg));
	if (r != QA_OK) {
		err("--out '%s': %s", o.out_dir, msg[0] ? msg : qa_strerror(r));
		goto out;
	}
	note(1, "trained in %.2f s: loss %.4f, training accuracy %.2f%%; "
	     "wrote %s", wall_s, fin.loss, 100.0 * fin.accuracy, o.out_dir);
	if (o.json) {
		printf("{\"inputs\":%zu,\"hidden\":[", xa.shape[1]);
		for (unsigned i = 0; i < o.nhidden; i++)
			printf("%s%zu", i ? "," : "", o.hidden[i]);
		printf("],\"classes\":%u,\"examples\":%zu", classes,
		       xa.shape[0]);
		printf(",\"parameters\":%zu",
		       qa_fmodel_param_bytes(&fm) / sizeof(float));
		printf(",\"epochs\":%u,\"qat_epochs\":%u,\"seed\":%" PRIu64,
		       o.t.epochs, fin.epochs - o.t.epochs, o.t.seed);
		printf(",\"loss\":");
		json_number(stdout, fin.loss);
		printf(",\"train_acc\":%.6f,\"wall_s\":%.3f,\"out\":",
		       fin.accuracy, wall_s);
		json_string(stdout, o.out_dir);
		printf("}\n");
	}
	rc = 0;
out:
	qa_fmodel_free(&fm);
	free(x);
	free(y);
	if (xa.data)
		qa_array_free(&xa);
	if (ya.data)
		qa_array_free(&ya);
	return rc;
}

/* ---- qarray quantize ----------------------------------------------------------- */

static void usage_quantize(FILE *f)
{
	fprintf(f,
		"Usage: qarray quantize --model DIR --calib X.npy\n"
		"                       [--method max|percentile|mse|floor]\n"
		"                       [--percentile P] [--per-channel]\n"
		"                       [--round MODE] [--weight-bits B]\n"
		"                       [--fit-shifts] [--json] --out M.qam\n"
		"\n"
		"Quantizes a float model directory to power-of-two int8 and writes\n"
		"it as one .qam file; prints the per-layer error against the float\n"
		"model on the calibration data (a table on stderr, or --json).\n"
		"\n"
		"Options:\n"
		"      --model DIR     float model directory (docs/models.md)\n"
		"      --calib X.npy   calibration inputs, float32 or uint8 (N,D)\n"
		"      --method M      activation steps: max (default), percentile,\n"
		"                      mse, or floor (the naive baseline: fixed\n"
		"                      Q0.7 steps and floor rounding everywhere)\n"
		"      --percentile P  for --method percentile, in (0, 100]\n"
		"                      (default 99.99)\n"
		"      --per-channel   one weight step per output column\n"
		"      --round MODE    requantization rounding: floor, half_up\n"
		"                      (default), half_away, half_even\n"
		"      --weight-bits B weights in 2..8 bits (default 8)\n"
		"      --fit-shifts    raise an output step that is finer than the\n"
		"                      layer's accumulator step instead of failing\n"
		"      --out M.qam     the quantized model, written only on success\n"
		"      --json          print the report as one JSON line on stdout\n"
		"                      instead of the table\n"
		"  -v, --verbose       more detail on stderr\n"
		"  -h, --help          show this help and exit\n");
}

struct quantize_opts {
	const char *model_dir, *calib_path, *out_path;
	int json, round_given, percentile_given;
	qa_nn_quant_opts q;
};

static int quantize_parse(int argc, char **argv, struct quantize_opts *o)
{
	static const struct option longopts[] = {
		{"model", required_argument, NULL, OPT_MODEL},
		{"calib", required_argument, NULL, OPT_CALIB},
		{"method", required_argument, NULL, OPT_METHOD},
		{"percentile", required_argument, NULL, OPT_PERCENTILE},
		{"per-channel", no_argument, NULL, OPT_PER_CHANNEL},
		{"round", required_argument, NULL, OPT_ROUND},
		{"weight-bits", required_argument, NULL, OPT_WEIGHT_BITS},
		{"fit-shifts", no_argument, NULL, OPT_FIT_SHIFTS},
		{"out", required_argument, NULL, OPT_OUT},
		{"json", no_argument, NULL, OPT_JSON},
		{"verbose", no_argument, NULL, OPT_VERBOSE},
		{"help", no_argument, NULL, OPT_HELP},
		{NULL, 0, NULL, 0}
	};
	unsigned bits;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+:hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_HELP:
			usage_quantize(stdout);
			return 1;
		case 'v':
		case OPT_VERBOSE:
			verbosity++;
			break;
		case OPT_MODEL:
			o->model_dir = optarg;
			break;
		case OPT_CALIB:
			o->calib_path = optarg;
			break;
		case OPT_METHOD:
			if (qa_nn_method_parse(optarg, &o->q.method) != QA_OK) {
				err("--method '%s': expected max, percentile, "
				    "mse or floor", optarg);
				return -1;
			}
			break;
		case OPT_PERCENTILE: {
			char *end;
			double v;

			errno = 0;
			v = strtod(optarg, &end);
			if (end == optarg || *end || errno == ERANGE ||
			    !(v > 0.0 && v <= 100.0)) {
				err("--percentile '%s': expected a number in "
				    "(0, 100]", optarg);
				return -1;
			}
			o->q.percentile = v;
			o->percentile_given = 1;
			break;
		}
		case OPT_PER_CHANNEL:
			o->q.per_channel = 1;
			break;
		case OPT_FIT_SHIFTS:
			o->q.fit_shifts = 1;
			break;
		case OPT_ROUND:
			if (qa_round_parse(optarg, &o->q.round) != QA_OK) {
				err("--round '%s': expected floor, half_up, "
				    "half_away or half_even", optarg);
				return -1;
			}
			o->round_given = 1;
			break;
		case OPT_WEIGHT_BITS:
			if (parse_count(optarg, "--weight-bits", 8, &bits))
				return -1;
			if (bits < 2) {
				err("--weight-bits '%s': expected 2..8",
				    optarg);
				return -1;
			}
			o->q.weight_bits = bits;
			break;
		case OPT_OUT:
			o->out_path = optarg;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		default:
			option_error(c, argv, "quantize");
			return -1;
		}
	}
	if (optind < argc) {
		err("quantize: unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (!o->model_dir || !o->calib_path || !o->out_path) {
		err("quantize: missing required option %s",
		    !o->model_dir ? "--model" : !o->calib_path ? "--calib" :
		    "--out");
		fprintf(stderr, "Try 'qarray quantize --help'.\n");
		return -1;
	}
	if (o->q.method == QA_NN_FLOOR && o->round_given &&
	    o->q.round != QA_ROUND_FLOOR) {
		err("--method floor always rounds with floor; --round %s "
		    "does not apply", qa_round_name(o->q.round));
		return -1;
	}
	if (o->q.method == QA_NN_FLOOR && o->q.per_channel) {
		err("--method floor uses one fixed step for every tensor; "
		    "--per-channel does not apply");
		return -1;
	}
	if (o->percentile_given && o->q.method != QA_NN_PERCENTILE) {
		err("--percentile needs --method percentile");
		return -1;
	}
	return 0;
}

/* An SNR for the table: "exact" for QA_NN_SNR_EXACT. */
static const char *snr_text(double db, char *buf, size_t len)
{
	if (db >= QA_NN_SNR_EXACT)
		snprintf(buf, len, "exact");
	else if (db <= -QA_NN_SNR_EXACT)
		snprintf(buf, len, "-inf");
	else
		snprintf(buf, len, "%.1f", db);
	return buf;
}

static void range_text(int a, int b, char *buf, size_t len)
{
	if (a == b)
		snprintf(buf, len, "%d", a);
	else
		snprintf(buf, len, "%d..%d", a, b);
}

static void print_report_table(const struct quantize_opts *o,
			       const qa_nn_report *rep)
{
	char s1[16], s2[16], kw[24], sh[24], shape[32];

	fprintf(stderr, "qarray: quantized %s: method %s%s, %s weights "
		"(%u bits), round %s, %zu calibration rows\n", o->model_dir,
		qa_nn_method_name(o->q.method),
		o->q.method == QA_NN_PERCENTILE ? " (percentile)" : "",
		o->q.per_channel ? "per-channel" : "per-tensor",
		o->q.weight_bits,
		qa_round_name(o->q.method == QA_NN_FLOOR ? QA_ROUND_FLOOR :
			      o->q.round), rep->rows);
	fprintf(stderr, "%-6s %-11s %5s %5s %-9s %-7s %7s %7s %9s %9s  %s\n",
		"layer", "shape", "k_in", "k_out", "k_w", "shift", "w_snr",
		"snr_dB", "max_err", "mean_err", "saturated");
	fprintf(stderr, "%-6s %-11s %5d %5s %-9s %-7s %7s %7s %9s %9s  "
		"%" PRIu64 "/%" PRIu64 "\n", "input", "", rep->k_in, "", "",
		"", "", snr_text(rep->in_snr_db, s1, sizeof(s1)), "", "",
		rep->in_saturated, rep->in_values);
	for (unsigned l = 0; l < rep->nlayers; l++) {
		const qa_nn_layer_report *R = &rep->layers[l];

		snprintf(shape, sizeof(shape), "%zux%zu", R->k, R->n);
		range_text(R->kw_min, R->kw_max, kw, sizeof(kw));
		range_text((int)R->shift_min, (int)R->shift_max, sh,
			   sizeof(sh));
		fprintf(stderr, "%-6u %-11s %5d %5d %-9s %-7s %7s %7s %9.4g "
			"%9.4g  %" PRIu64 "/%" PRIu64 "\n", l, shape, R->k_in,
			R->k_out, kw, sh,
			snr_text(R->w_snr_db, s1, sizeof(s1)),
			snr_text(R->snr_db, s2, sizeof(s2)), R->max_abs_err,
			R->mean_abs_err, R->saturated, R->outputs);
	}
	fprintf(stderr, "top-1 agreement with the float model: %zu/%zu "
		"(%.2f%%)\n", rep->agree, rep->rows,
		100.0 * (double)rep->agree / (double)rep->rows);
	fprintf(stderr, "model bytes: float32 %zu, int8 .qam %zu (%.2f%%)\n",
		rep->bytes_float, rep->bytes_int8,
		100.0 * (double)rep->bytes_int8 / (double)rep->bytes_float);
}

static void print_report_json(const struct quantize_opts *o,
			      const qa_nn_report *rep)
{
	printf("{\"model\":");
	json_string(stdout, o->model_dir);
	printf(",\"out\":");
	json_string(stdout, o->out_path);
	printf(",\"method\":\"%s\",\"per_channel\":%s,\"round\":\"%s\","
	       "\"weight_bits\":%u,\"fit_shifts\":%s",
	       qa_nn_method_name(o->q.method),
	       o->q.per_channel ? "true" : "false",
	       qa_round_name(o->q.method == QA_NN_FLOOR ? QA_ROUND_FLOOR :
			     o->q.round), o->q.weight_bits,
	       o->q.fit_shifts ? "true" : "false");
	if (o->q.method == QA_NN_PERCENTILE) {
		printf(",\"percentile\":");
		json_number(stdout, o->q.percentile);
	}
	printf(",\"rows\":%zu,\"k_in\":%d,\"input\":{\"snr_db\":", rep->rows,
	       rep->k_in);
	json_number(stdout, rep->in_snr_db);
	printf(",\"saturated\":%" PRIu64 ",\"values\":%" PRIu64 "}",
	       rep->in_saturated, rep->in_values);
	printf(",\"layers\":[");
	for (unsigned l = 0; l < rep->nlayers; l++) {
		const qa_nn_layer_report *R = &rep->layers[l];

		printf("%s{\"k\":%zu,\"n\":%zu,\"k_in\":%d,\"k_out\":%d,"
		       "\"kw_min\":%d,\"kw_max\":%d,\"shift_min\":%u,"
		       "\"shift_max\":%u,\"w_snr_db\":", l ? "," : "", R->k,
		       R->n, R->k_in, R->k_out, R->kw_min, R->kw_max,
		       R->shift_min, R->shift_max);
		json_number(stdout, R->w_snr_db);
		printf(",\"w_clipped\":%" PRIu64 ",\"snr_db\":", R->w_clipped);
		json_number(stdout, R->snr_db);
		printf(",\"max_abs_err\":");
		json_number(stdout, R->max_abs_err);
		printf(",\"mean_abs_err\":");
		json_number(stdout, R->mean_abs_err);
		printf(",\"float_max_abs\":");
		json_number(stdout, R->float_max_abs);
		printf(",\"saturated\":%" PRIu64 ",\"clamped\":%" PRIu64
		       ",\"outputs\":%" PRIu64 "}", R->saturated, R->clamped,
		       R->outputs);
	}
	printf("],\"agree\":%zu,\"agreement\":%.6f", rep->agree,
	       (double)rep->agree / (double)rep->rows);
	printf(",\"bytes_float\":%zu,\"bytes_int8\":%zu,\"size_ratio\":%.6f}\n",
	       rep->bytes_float, rep->bytes_int8,
	       (double)rep->bytes_int8 / (double)rep->bytes_float);
}

static int cmd_quantize(int argc, char **argv)
{
	struct quantize_opts o;
	qa_array ca;
	qa_fmodel fm;
	qa_qmodel qm;
	qa_nn_report *rep = NULL;
	float *calib = NULL;
	char msg[512] = "";
	int rc = EXIT_USAGE, r;

	memset(&o, 0, sizeof(o));
	memset(&ca, 0, sizeof(ca));
	memset(&fm, 0, sizeof(fm));
	memset(&qm, 0, sizeof(qm));
	qa_nn_quant_opts_init(&o.q);

	r = quantize_parse(argc, argv, &o);
	if (r) {
		rc = r > 0 ? 0 : EXIT_USAGE;
		goto out;
	}
	r = qa_fmodel_load(&fm, o.model_dir, msg, sizeof(msg));
	if (r != QA_OK) {
		err("--model '%s': %s", o.model_dir,
		    msg[0] ? msg : qa_strerror(r));
		goto out;
	}
	if (load_features(o.calib_path, "--calib", &ca, &calib))
		goto out;
	if (ca.shape[1] != fm.layers[0].in) {
		err("shape mismatch: --calib '%s' has %zu features, the model "
		    "takes %zu", o.calib_path, ca.shape[1], fm.layers[0].in);
		goto out;
	}
	if (check_out_path(o.out_path, "--out", 1))
		goto out;
	note(1, "quantize: %u layers, %zu calibration rows, method %s",
	     fm.nlayers, ca.shape[0], qa_nn_method_name(o.q.method));

	msg[0] = '\0';
	r = qa_nn_quantize(&fm, ca.shape[0], calib, &o.q, &qm, msg,
			   sizeof(msg));
	if (r != QA_OK) {
		err("quantize: %s", msg[0] ? msg : qa_strerror(r));
		goto out;
	}
	rep = calloc(1, sizeof(*rep));
	if (!rep) {
		err("out of memory");
		goto out;
	}
	r = qa_nn_report_compute(&fm, &qm, ca.shape[0], calib, rep, msg,
				 sizeof(msg));
	if (r != QA_OK) {
		err("quantize: report: %s", msg[0] ? msg : qa_strerror(r));
		goto out;
	}
	msg[0] = '\0';
	r = qa_qmodel_save(&qm, o.out_path, msg, sizeof(msg));
	if (r != QA_OK) {
		err("--out '%s': %s", o.out_path, msg[0] ? msg : qa_strerror(r));
		goto out;
	}
	note(1, "wrote %s (%zu bytes)", o.out_path, rep->bytes_int8);
	if (o.json)
		print_report_json(&o, rep);
	else
		print_report_table(&o, rep);
	rc = 0;
out:
	free(rep);
	qa_qmodel_free(&qm);
	qa_fmodel_free(&fm);
	free(calib);
	if (ca.data)
		qa_array_free(&ca);
	return rc;
}

/* ---- qarray run, qarray eval: networks resident on the device -------- */

static void usage_run(FILE *f)
{
	fprintf(f,
		"Usage: qarray run [--target T] --model M.qam --x X.npy --out L.npy\n"
		"                  [--stats] [--check] [--trace FILE.fst]\n"
		"                  [--link-faults SPEC] [-v]\n"
		"\n"
		"Makes the quantized network resident on the device (weights, biases\n"
		"and shifts are loaded once), runs every row of X through it and\n"
		"writes the int8 logits (N, C) as .npy. A device without a layer\n"
		"table, or a model too large for it, runs the model streamed: one\n"
		"GEMM per layer, the same logits (-v says which).\n"
		"\n"
		"Options:\n"
		"      --target T      device: sim (default), sim:RxC, sim-uart[:BOARD],\n"
		"                      ftdi[:SELECTOR], tty:PATH (see qarray list)\n"
		"      --model M.qam   quantized model (qarray quantize)\n"
		"      --x X.npy       inputs (N, D): float32 or uint8, quantized with the\n"
		"                      model's input step, or int8, taken as quantized\n"
		"      --out L.npy     output file (int8 (N, C)), written only on success\n"
		"      --stats         print the run's figures as one JSON line on stdout\n"
		"      --check         compare with the golden model; exit 3 on mismatch\n"
		"      --trace F.fst   simulator: write an FST waveform of the session\n"
		"      --link-faults SPEC  sim-uart: a faulty line both ways, for testing\n"
		"                      flip=P,drop=P,dup=P,garbage=P[,seed=N] per byte\n"
		"  -v, --verbose       more detail on stderr (repeat for more)\n"
		"  -h, --help          show this help and exit\n");
}

static void usage_eval(FILE *f)
{
	fprintf(f,
		"Usage: qarray eval [--target T] --model M.qam --float-model DIR\n"
		"                   --x X.npy --y Y.npy [--trace FILE.fst]\n"
		"                   [--link-faults SPEC] [-v]\n"
		"\n"
		"Measures a quantized model on labelled data three ways: the float\n"
		"model, the golden int8 model, and the device (the network resident,\n"
		"as in 'qarray run'). Prints one JSON line: float_acc, int8_acc,\n"
		"device_acc, device_matches_golden, n and the device's figures.\n"
		"Exit status 3 when any device output differs from the golden model.\n"
		"\n"
		"Options:\n"
		"      --target T      device: sim (default), sim:RxC, sim-uart[:BOARD],\n"
		"                      ftdi[:SELECTOR], tty:PATH (see qarray list)\n"
		"      --model M.qam   quantized model (qarray quantize)\n"
		"      --float-model DIR  the float model directory it was made from\n"
		"      --x X.npy       features, float32 or uint8 (N, D)\n"
		"      --y Y.npy       labels (N,), any integer dtype, 0..C-1\n"
		"      --trace F.fst   simulator: write an FST waveform of the session\n"
		"      --link-faults SPEC  sim-uart: a faulty line both ways, for testing\n"
		"                      flip=P,drop=P,dup=P,garbage=P[,seed=N] per byte\n"
		"  -v, --verbose       more detail on stderr (repeat for more)\n"
		"  -h, --help          show this help and exit\n");
}

/* The options of the network commands. One parser serves them all; each
 * command's longopts table says which options it takes. */
struct net_opts {
	const char *target, *trace_path, *link_faults;
	const char *model_path, *fmodel_dir, *x_path, *y_path, *out_path;
	int stats, check;
};

/* Returns -1 (error), 0 (go on) or 1 (help printed, exit 0). */
static int net_parse(int argc, char **argv, const char *cmd,
		     const struct option *longopts, void (*usage)(FILE *),
		     struct net_opts *o)
{
	int c;

	o->target = "sim";
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return 1;
		case 'v':
		case OPT_VERBOSE:
			verbosity++;
			break;
		case OPT_TARGET:
			o->target = optarg;
			break;
		case OPT_TRACE:
			o->trace_path = optarg;
			break;
		case OPT_LINK_FAULTS:
			o->link_faults = optarg;
			break;
		case OPT_MODEL:
			o->model_path = optarg;
			break;
		case OPT_FLOAT_MODEL:
			o->fmodel_dir = optarg;
			break;
		case OPT_X:
			o->x_path = optarg;
			break;
		case OPT_Y:
			o->y_path = optarg;
			break;
		case OPT_OUT:
			o->out_path = optarg;
			break;
		case OPT_STATS:
			o->stats = 1;
			break;
		case OPT_CHECK:
			o->check = 1;
			break;
		default:
			option_error(c, argv, cmd);
			return -1;
		}
	}
	if (optind < argc) {
		err("%s: unexpected argument '%s'", cmd, argv[optind]);
		return -1;
	}
	return check_target(o->target) ? -1 : 0;
}

/* Report the first missing one of NULL-terminated (option name, value)
 * pairs. */
static int require_options(const char *cmd, ...)
{
	const char *name;
	va_list ap;
	int rc = 0;

	va_start(ap, cmd);
	while ((name = va_arg(ap, const char *)) != NULL) {
		if (!va_arg(ap, const char *)) {
			err("%s: missing required option %s", cmd, name);
			fprintf(stderr, "Try 'qarray %s --help'.\n", cmd);
			rc = -1;
			break;
		}
	}
	va_end(ap);
	return rc;
}

/* What run and eval read before they open the device. */
struct net_input {
	qa_qmodel qm;
	qa_array xa;
	float *xf;       /* the features as floats (not for int8 input) */
	int8_t *xq;      /* the quantized input, n x d */
	size_t n, d, c;  /* rows, inputs, outputs */
};

static void net_input_free(struct net_input *in)
{
	qa_qmodel_free(&in->qm);
	if (in->xa.data)
		qa_array_free(&in->xa);
	free(in->xf);
	free(in->xq);
}

/*
 * Load the model and X (N, D) with D the model's inputs: float32 or uint8
 * are quantized with the model's input step; int8 is taken as already
 * quantized when allow_int8 is set.
 */
static int net_input_load(const struct net_opts *o, int allow_int8,
			  struct net_input *in)
{
	const qa_qmodel *qm = &in->qm;
	qa_dtype dt;
	uint64_t sat = 0;
	char msg[512] = "";
	int r;

	r = qa_qmodel_load(&in->qm, o->model_path, msg, sizeof(msg));
	if (r != QA_OK) {
		err("--model '%s': %s", o->model_path,
		    msg[0] ? msg : qa_strerror(r));
		return -1;
	}
	if (load_npy(o->x_path, "--x", &in->xa))
		return -1;
	dt = in->xa.dtype;
	if (dt != QA_DT_FLOAT32 && dt != QA_DT_UINT8 &&
	    (dt != QA_DT_INT8 || !allow_int8)) {
		err("--x '%s': dtype %s, expected float32 or uint8%s", o->x_path,
		    qa_dtype_name(dt), allow_int8 ?
		    " (features) or int8 (quantized)" : " (features)");
		return -1;
	}
	if (check_rank(&in->xa, "--x", o->x_path, 2, "a matrix (N, D)"))
		return -1;
	in->n = in->xa.shape[0];
	in->d = in->xa.shape[1];
	in->c = qm->layers[qm->nlayers - 1].n;
	if (in->d != qm->layers[0].k) {
		err("shape mismatch: --x '%s' has %zu features, the model "
		    "takes %zu", o->x_path, in->d, qm->layers[0].k);
		return -1;
	}
	if (in->c > SIZE_MAX / in->n) {
		err("output of %zu x %zu logits is too large", in->n, in->c);
		return -1;
	}
	in->xq = malloc(in->xa.count);
	if (!in->xq) {
		err("out of memory");
		return -1;
	}
	if (dt == QA_DT_INT8) {
		memcpy(in->xq, in->xa.data, in->xa.count);
		return 0;
	}
	if (qa_nn_features(&in->xa, &in->xf, msg, sizeof(msg)) != QA_OK) {
		err("--x '%s': %s", o->x_path, msg);
		return -1;
	}
	r = qa_nn_quantize_input(qm, in->xa.count, in->xf, in->xq, &sat);
	if (r != QA_OK) {
		err("--x '%s': %s", o->x_path, qa_strerror(r));
		return -1;
	}
	note(1, "input: %zu rows of %zu, step 2^%d, %" PRIu64 " of %zu "
	     "values saturated", in->n, in->d, qm->k_in, sat, in->xa.count);
	return 0;
}

/*
 * Open the target and load the model (resident, or streamed where it does
 * not fit). Returns 0 or an exit status: a layer wider than k_max is bad
 * input (1, as gemm's K > k_max), any other failure a device error (2).
 */
static int net_device_load(const struct net_opts *o, const qa_qmodel *qm,
			   qa_dev **dev, qa_info *info)
{
	qa_layer layers[QA_NN_MAX_LAYERS];
	qa_dev_opts dopts;
	qa_net net;
	char msg[512] = "";
	int r;

	memset(&dopts, 0, sizeof(dopts));
	dopts.trace_path = o->trace_path;
	dopts.link_faults = o->link_faults;
	dopts.verbose = verbosity;
	r = qa_dev_open(dev, o->target, &dopts, msg, sizeof(msg));
	if (r != QA_OK) {
		*dev = NULL;
		open_error(o->target, r, msg);
		return EXIT_DEVICE;
	}
	r = qa_dev_info(*dev, info);
	if (r != QA_OK) {
		device_error("device info", *dev, r);
		return EXIT_DEVICE;
	}
	r = qa_nn_net_view(qm, layers, &net);
	if (r != QA_OK) {
		err("--model '%s': %s", o->model_path, qa_strerror(r));
		return EXIT_USAGE;
	}
	r = qa_dev_net_load(*dev, &net);
	if (r == QA_ERR_RANGE) {
		err("--model '%s' on target '%s': %s", o->model_path,
		    o->target, qa_dev_errmsg(*dev));
		return EXIT_USAGE;
	}
	if (r != QA_OK) {
		device_error("loading the network", *dev, r);
		return EXIT_DEVICE;
	}
	note(1, "target %s: %ux%u array; %u layers %s", o->target,
	     info->rows, info->cols, qm->nlayers,
	     qa_dev_net_streamed(*dev) ? "streamed, one GEMM each" :
					 "resident");
	return 0;
}

/* Run the input through the resident network; 0 or EXIT_DEVICE. */
static int net_device_run(const struct net_opts *o, qa_dev *dev,
			  const struct net_input *in, int8_t *y, qa_stats *st,
			  double *wall_s)
{
	int tty = isatty(STDERR_FILENO) && verbosity == 0;
	struct timespec t0;
	int r;

	if (tty)
		fprintf(stderr, "qarray: running %zu inferences on %s...\r",
			in->n, o->target);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = qa_dev_net_run(dev, in->n, in->xq, y, st);
	*wall_s = seconds_since(&t0);
	if (tty)
		fprintf(stderr, "\033[K");
	if (r != QA_OK) {
		device_error("network run failed", dev, r);
		return EXIT_DEVICE;
	}
	note(1, "device done in %.3f s: %" PRIu64 " cycles, %u batch(es)",
	     *wall_s, st->cycles, st->runs);
	return 0;
}

/* The golden logits and the sum of the per-layer saturation counts. */
static int net_golden(const qa_qmodel *qm, const struct net_input *in,
		      int8_t *golden, uint64_t *saturated)
{
	uint64_t sat[QA_NN_MAX_LAYERS];
	int r;

	r = qa_nn_ref_forward(qm, in->n, in->xq, golden, sat);
	if (r != QA_OK) {
		err("golden model failed: %s", qa_strerror(r));
		return -1;
	}
	*saturated = 0;
	for (unsigned l = 0; l < qm->nlayers; l++)
		*saturated += sat[l];
	return 0;
}

/*
 * Per-inference figures, defined as in tests/bench.c --net: compute-bound
 * on the core's busy cycles at the device's clock, link-bound on the bytes
 * each inference moves (both directions, 8N1 UART: 10 bits per byte).
 */
static void print_net_figures(const qa_info *info, const qa_stats *st,
			      size_t n)
{
	double cyc = (double)st->busy_cycles / (double)n;
	double bytes = (double)(st->bytes_to_device + st->bytes_from_device) /
		       (double)n;

	printf(",\"macs_per_inference\":%.1f", (double)st->macs / (double)n);
	printf(",\"cycles_per_inference\":%.1f", cyc);
	printf(",\"clock_mhz\":%.6g", info->clock_hz / 1e6);
	printf(",\"inferences_per_s_compute\":%.0f",
	       cyc > 0.0 ? info->clock_hz / cyc : 0.0);
	printf(",\"link_bytes_per_inference\":%.1f", bytes);
	printf(",\"inferences_per_s_link_3mbaud\":%.0f",
	       bytes > 0.0 ? 3e6 / 10.0 / bytes : 0.0);
	printf(",\"inferences_per_s_link_12mbaud\":%.0f",
	       bytes > 0.0 ? 12e6 / 10.0 / bytes : 0.0);
}

static const struct option run_longopts[] = {
	{"target", required_argument, NULL, OPT_TARGET},
	{"model", required_argument, NULL, OPT_MODEL},
	{"x", required_argument, NULL, OPT_X},
	{"out", required_argument, NULL, OPT_OUT},
	{"stats", no_argument, NULL, OPT_STATS},
	{"check", no_argument, NULL, OPT_CHECK},
	{"trace", required_argument, NULL, OPT_TRACE},
	{"link-faults", required_argument, NULL, OPT_LINK_FAULTS},
	{"verbose", no_argument, NULL, OPT_VERBOSE},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0}
};

static int cmd_run(int argc, char **argv)
{
	struct net_opts o;
	struct net_input in;
	qa_info info;
	qa_stats st;
	qa_dev *dev = NULL;
	int8_t *y = NULL, *golden = NULL;
	uint64_t mismatches = 0, ref_sat = 0;
	double wall_s = 0.0;
	int rc = EXIT_USAGE, r;

	memset(&o, 0, sizeof(o));
	memset(&in, 0, sizeof(in));
	memset(&info, 0, sizeof(info));
	memset(&st, 0, sizeof(st));
	r = net_parse(argc, argv, "run", run_longopts, usage_run, &o);
	if (r) {
		rc = r > 0 ? 0 : EXIT_USAGE;
		goto out;
	}
	if (require_options("run", "--model", o.model_path, "--x", o.x_path,
			    "--out", o.out_path, (const char *)NULL) ||
	    net_input_load(&o, 1, &in) ||
	    check_out_path(o.out_path, "--out", 1) ||
	    (o.trace_path && check_out_path(o.trace_path, "--trace", 0)))
		goto out;
	y = malloc(in.n * in.c);
	golden = o.check ? malloc(in.n * in.c) : NULL;
	if (!y || (o.check && !golden)) {
		err("out of memory");
		goto out;
	}
	rc = net_device_load(&o, &in.qm, &dev, &info);
	if (!rc)
		rc = net_device_run(&o, dev, &in, y, &st, &wall_s);
	if (rc)
		goto out;
	rc = EXIT_USAGE;
	if (o.check) {
		if (net_golden(&in.qm, &in, golden, &ref_sat))
			goto out;
		mismatches = compare_golden(y, golden, in.n, in.c, "logits",
					    st.retries ? UINT64_MAX : st.saturated,
					    ref_sat);
	}
	if (write_int8_matrix(o.out_path, "--out", y, in.n, in.c))
		goto out;
	if (o.stats) {
		printf("{\"target\":");
		json_string(stdout, o.target);
		printf(",\"n\":%zu,\"inputs\":%zu,\"outputs\":%zu,"
		       "\"layers\":%u", in.n, in.d, in.c, in.qm.nlayers);
		print_counters(&info, &st);
		print_net_figures(&info, &st, in.n);
		print_stats_end(wall_s, o.check, mismatches);
	}
	rc = mismatches ? EXIT_MISMATCH : 0;
out:
	if (dev)
		qa_dev_close(dev);
	free(golden);
	free(y);
	net_input_free(&in);
	return rc;
}

static const struct option eval_longopts[] = {
	{"target", required_argument, NULL, OPT_TARGET},
	{"model", required_argument, NULL, OPT_MODEL},
	{"float-model", required_argument, NULL, OPT_FLOAT_MODEL},
	{"x", required_argument, NULL, OPT_X},
	{"y", required_argument, NULL, OPT_Y},
	{"trace", required_argument, NULL, OPT_TRACE},
	{"link-faults", required_argument, NULL, OPT_LINK_FAULTS},
	{"verbose", no_argument, NULL, OPT_VERBOSE},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0}
};

/* The labels of eval: one per row of X, each a class the model has. */
static int eval_labels(const struct net_opts *o, const struct net_input *in,
		       qa_array *ya, int32_t **y)
{
	char msg[256] = "";
	unsigned classes = 0;

	if (load_npy(o->y_path, "--y", ya))
		return -1;
	if (qa_nn_labels(ya, y, &classes, msg, sizeof(msg)) != QA_OK) {
		err("--y '%s': %s", o->y_path, msg);
		return -1;
	}
	if (ya->shape[0] != in->n) {
		err("shape mismatch: --x '%s' has %zu rows but --y '%s' has "
		    "%zu labels", o->x_path, in->n, o->y_path, ya->shape[0]);
		return -1;
	}
	if (classes > in->c) {
		for (size_t i = 0; i < in->n; i++) {
			if ((size_t)(*y)[i] < in->c)
				continue;
			err("--y '%s': label %d at index %zu, but the model has "
			    "%zu outputs (classes 0..%zu)", o->y_path, (*y)[i],
			    i, in->c, in->c - 1);
			return -1;
		}
	}
	return 0;
}

/* The float model must have the quantized model's layer shapes. */
static int eval_float_model(const struct net_opts *o, const qa_qmodel *qm,
			    qa_fmodel *fm)
{
	char msg[512] = "";
	int r;

	r = qa_fmodel_load(fm, o->fmodel_dir, msg, sizeof(msg));
	if (r != QA_OK) {
		err("--float-model '%s': %s", o->fmodel_dir,
		    msg[0] ? msg : qa_strerror(r));
		return -1;
	}
	if (fm->nlayers != qm->nlayers) {
		err("--float-model '%s' has %u layers, --model '%s' %u",
		    o->fmodel_dir, fm->nlayers, o->model_path, qm->nlayers);
		return -1;
	}
	for (unsigned l = 0; l < qm->nlayers; l++) {
		const qa_flayer *F = &fm->layers[l];
		const qa_qlayer *Q = &qm->layers[l];

		if (F->in != Q->k || F->out != Q->n) {
			err("--float-model '%s' does not match --model '%s': "
			    "layer %u is %zux%zu in one and %zux%zu in the "
			    "other", o->fmodel_dir, o->model_path, l, F->in,
			    F->out, Q->k, Q->n);
			return -1;
		}
	}
	return 0;
}

/* Rows whose argmax equals the label. */
static size_t count_correct_i8(const int8_t *logits, const int32_t *y,
			       size_t n, size_t c)
{
	size_t ok = 0;

	for (size_t r = 0; r < n; r++)
		ok += qa_nn_argmax_i8(logits + r * c, c) == (size_t)y[r];
	return ok;
}

static int cmd_eval(int argc, char **argv)
{
	struct net_opts o;
	struct net_input in;
	qa_fmodel fm;
	qa_array ya;
	qa_info info;
	qa_stats st;
	qa_dev *dev = NULL;
	int32_t *labels = NULL;
	int8_t *y = NULL, *golden = NULL;
	float *fl = NULL;
	uint64_t mismatches = 0, ref_sat = 0;
	size_t ok_f = 0, ok_g, ok_d;
	double wall_s = 0.0;
	int rc = EXIT_USAGE, r;

	memset(&o, 0, sizeof(o));
	memset(&in, 0, sizeof(in));
	memset(&fm, 0, sizeof(fm));
	memset(&ya, 0, sizeof(ya));
	memset(&info, 0, sizeof(info));
	memset(&st, 0, sizeof(st));
	r = net_parse(argc, argv, "eval", eval_longopts, usage_eval, &o);
	if (r) {
		rc = r > 0 ? 0 : EXIT_USAGE;
		goto out;
	}
	if (require_options("eval", "--model", o.model_path, "--float-model",
			    o.fmodel_dir, "--x", o.x_path, "--y", o.y_path,
			    (const char *)NULL) ||
	    net_input_load(&o, 0, &in) ||
	    eval_float_model(&o, &in.qm, &fm) ||
	    eval_labels(&o, &in, &ya, &labels) ||
	    (o.trace_path && check_out_path(o.trace_path, "--trace", 0)))
		goto out;
	y = malloc(in.n * in.c);
	golden = malloc(in.n * in.c);
	fl = malloc(in.n * in.c * sizeof(float));
	if (!y || !golden || !fl) {
		err("out of memory");
		goto out;
	}
	if (qa_fmodel_forward(&fm, in.n, in.xf, fl) != QA_OK) {
		err("float model failed");
		goto out;
	}
	if (net_golden(&in.qm, &in, golden, &ref_sat))
		goto out;
	rc = net_device_load(&o, &in.qm, &dev, &info);
	if (!rc)
		rc = net_device_run(&o, dev, &in, y, &st, &wall_s);
	if (rc)
		goto out;
	mismatches = compare_golden(y, golden, in.n, in.c, "logits",
				    st.retries ? UINT64_MAX : st.saturated, ref_sat);
	for (size_t i = 0; i < in.n; i++)
		ok_f += qa_nn_argmax_f32(fl + i * in.c, in.c) ==
			(size_t)labels[i];
	ok_g = count_correct_i8(golden, labels, in.n, in.c);
	ok_d = count_correct_i8(y, labels, in.n, in.c);
	printf("{\"float_acc\":%.6f,\"int8_acc\":%.6f,\"device_acc\":%.6f",
	       (double)ok_f / (double)in.n, (double)ok_g / (double)in.n,
	       (double)ok_d / (double)in.n);
	printf(",\"device_matches_golden\":%s,\"mismatches\":%" PRIu64
	       ",\"n\":%zu,\"classes\":%zu,\"layers\":%u,\"target\":",
	       mismatches ? "false" : "true", mismatches, in.n, in.c,
	       in.qm.nlayers);
	json_string(stdout, o.target);
	printf(",\"model_bytes_float\":%zu,\"model_bytes_int8\":%zu",
	       qa_fmodel_param_bytes(&fm), qa_qmodel_file_bytes(&in.qm));
	print_net_figures(&info, &st, in.n);
	printf(",\"wall_s\":%.6f}\n", wall_s);
	fflush(stdout);
	rc = mismatches ? EXIT_MISMATCH : 0;
out:
	if (dev)
		qa_dev_close(dev);
	free(fl);
	free(golden);
	free(y);
	free(labels);
	if (ya.data)
		qa_array_free(&ya);
	qa_fmodel_free(&fm);
	net_input_free(&in);
	return rc;
}

/* ---- main ------------------------------------------------------------------------ */

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *f);
};

static const struct command commands[] = {
	{"gemm", cmd_gemm, usage_gemm},
	{"info", cmd_info, usage_info},
	{"models", cmd_models, usage_models},
	{"train", cmd_train, usage_train},
	{"quantize", cmd_quantize, usage_quantize},
	{"run", cmd_run, usage_run},
	{"eval", cmd_eval, usage_eval},
	{"list", cli_list, cli_list_usage},
	{"emu", cli_emu, cli_emu_usage},
	{NULL, NULL, NULL}
};

static const struct command *find_command(const char *name)
{
	const struct command *cmd;

	for (cmd = commands; cmd->name; cmd++)
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	return NULL;
}

/* "qarray help [COMMAND]" */
static int cmd_help(int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		usage_main(stdout);
		return 0;
	}
	if (argc > 2) {
		err("help: unexpected argument '%s'", argv[2]);
		return EXIT_USAGE;
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		err("help: unknown command '%s'", argv[1]);
		return EXIT_USAGE;
	}
	cmd->usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION},
		{"verbose", no_argument, NULL, OPT_VERBOSE},
		{NULL, 0, NULL, 0}
	};
	const struct command *cmd;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hv", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case OPT_HELP:
			usage_main(stdout);
			return 0;
		case OPT_VERSION:
			printf("qarray %s\n", QA_VERSION_STRING);
			return 0;
		case 'v':
		case OPT_VERBOSE:
			verbosity++;
			break;
		default:
			option_error(c, argv, NULL);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		err("no command given");
		usage_main(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0)
		return cmd_help(argc - optind, argv + optind);
	cmd = find_command(argv[optind]);
	if (!cmd) {
		err("unknown command '%s'", argv[optind]);
		fprintf(stderr, "Try 'qarray --help'.\n");
		return EXIT_USAGE;
	}
	return cmd->run(argc - optind, argv + optind);
}
