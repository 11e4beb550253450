/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport_sim.c - the Verilator model of qa_core as a transport.
 *
 * Target strings: "sim" (the default model) or "sim:RxC". Writes queue the
 * bytes in the simulator; reads run the clock until the bytes have arrived,
 * with a watchdog on stream progress.
 */
#include "transport.h"

#include "qa_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_DEFAULT_TIMEOUT 2000000u

typedef struct sim_ctx {
	qa_sim *sim;
	uint64_t timeout;
	int tracing;
	FILE *rec_cmd, *rec_rsp;
} sim_ctx;

static void sim_close(void *ctx);

static int open_record(sim_ctx *c, const char *prefix, char *err, size_t errlen)
{
	char path[4096];
	const char *sfx[2] = { ".cmd.hex", ".rsp.hex" };
	FILE **f[2] = { &c->rec_cmd, &c->rec_rsp };
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s%s", prefix, sfx[i]);
		*f[i] = fopen(path, "w");
		if (!*f[i]) {
			snprintf(err, errlen, "cannot create '%s'", path);
			return QA_ERR_IO;
		}
	}
	qa_sim_record(c->sim, c->rec_cmd, c->rec_rsp);
	return QA_OK;
}

static void list_models(char *buf, size_t len)
{
	const char *const *m = qa_sim_models();
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; m[i]; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
				 m[i]);
		if (w < 0 || (size_t)w >= len - used)
			break;
		used += (size_t)w;
	}
}

static int parse_shape(const char *arg, unsigned *rows, unsigned *cols)
{
	char *end;
	unsigned long r = strtoul(arg, &end, 10);
	if (end == arg || *end != 'x')
		return -1;
	const char *c0 = end + 1;
	unsigned long c = strtoul(c0, &end, 10);
	if (end == c0 || *end != '\0' || r == 0 || c == 0 || r > 64 || c > 64)
		return -1;
	*rows = (unsigned)r;
	*cols = (unsigned)c;
	return 0;
}

static int sim_open(void **ctxp, const char *arg, const qa_dev_opts *opts,
		    char *err, size_t errlen)
{
	unsigned rows = 0, cols = 0;
	char models[256];
	*ctxp = NULL;
	if (arg && parse_shape(arg, &rows, &cols) != 0) {
		list_models(models, sizeof models);
		snprintf(err, errlen,
			 "bad simulator shape '%s' (expected RxC; built: %s)",
			 arg, models);
		return QA_ERR_INVALID;
	}
	if (!arg && opts && (opts->sim_rows || opts->sim_cols)) {
		rows = opts->sim_rows;
		cols = opts->sim_cols;
	}
	sim_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return QA_ERR_NOMEM;
	int rc = qa_sim_create(&c->sim, rows, cols);
	if (rc != 0) {
		free(c);
		if (rc == -2)
			return QA_ERR_NOMEM;
		list_models(models, sizeof models);
		snprintf(err, errlen,
			 "no simulator model %ux%u was built (built: %s; "
			 "rebuild with SIM_MODELS=...)",
			 rows, cols, models);
		return QA_ERR_UNSUPPORTED;
	}
	c->timeout = (opts && opts->sim_timeout_cycles) ?
			     opts->sim_timeout_cycles :
			     SIM_DEFAULT_TIMEOUT;
	if (opts && opts->sim_stall_permille)
		qa_sim_set_stall(c->sim, opts->sim_stall_permille,
				 opts->sim_stall_permille, 12345u);
	if (opts && opts->trace_path) {
		if (qa_sim_trace_open(c->sim, opts->trace_path) != 0) {
			snprintf(err, errlen, "cannot open trace file '%s'",
				 opts->trace_path);
			qa_sim_destroy(c->sim);
			free(c);
			return QA_ERR_IO;
		}
		c->tracing = 1;
	}
	if (opts && opts->sim_record) {
		int rc2 = open_record(c, opts->sim_record, err, errlen);
		if (rc2 != QA_OK) {
			sim_close(c);
			return rc2;
		}
	}
	*ctxp = c;
	return QA_OK;
}

static void sim_close(void *ctx)
{
	sim_ctx *c = ctx;
	if (!c)
		return;
	if (c->tracing)
		qa_sim_trace_close(c->sim);
	qa_sim_destroy(c->sim);
	if (c->rec_cmd)
		fclose(c->rec_cmd);
	if (c->rec_rsp)
		fclose(c->rec_rsp);
	free(c);
}

static int sim_write(void *ctx, const uint8_t *buf, size_t n, char *err,
		     size_t errlen)
{
	sim_ctx *c = ctx;
	if (qa_sim_push(c->sim, buf, n) != 0) {
		snprintf(err, errlen, "out of memory queueing %zu bytes", n);
		return QA_ERR_NOMEM;
	}
	return QA_OK;
}

static int sim_read(void *ctx, uint8_t *buf, size_t n, char *err,
		    size_t errlen)
{
	sim_ctx *c = ctx;
	if (qa_sim_wait_out(c->sim, n, c->timeout) != 0) {
		snprintf(err, errlen,
			 "simulation hung: no stream progress for %llu cycles "
			 "(cycle %llu; waiting for %zu response bytes, %zu "
			 "arrived, %zu command bytes not accepted)",
			 (unsigned long long)c->timeout,
			 (unsigned long long)qa_sim_cycles(c->sim), n,
			 qa_sim_out_avail(c->sim), qa_sim_in_pending(c->sim));
		return QA_ERR_TIMEOUT;
	}
	size_t got = qa_sim_pull(c->sim, buf, n);
	if (got != n) {
		snprintf(err, errlen, "simulator returned %zu of %zu bytes",
			 got, n);
		return QA_ERR_IO;
	}
	return QA_OK;
}

static uint64_t sim_cycles(void *ctx)
{
	sim_ctx *c = ctx;
	return qa_sim_cycles(c->sim);
}

const qa_transport_ops qa_transport_sim = {
	.name = "sim",
	.open = sim_open,
	.close = sim_close,
	.write = sim_write,
	.read = sim_read,
	.cycles = sim_cycles,
};
