/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ftdi_echo.c - send bytes through a USB-serial transport and check what
 * comes back: the client the emulator tests run under qarray-emu, and a
 * quick link check on real hardware with a loopback bitstream.
 *
 *   ftdi_echo [-x same|inc|not] [-n BYTES] [-r ROUNDS] [--list] TARGET
 *
 * TARGET is a transport target: ftdi[:...] or tty:PATH[,...] (qa_ftdi.h).
 * Prints one line per round ("ok N bytes in T s" or the error) and exits 0
 * when every byte came back as expected, 1 on a mismatch, 2 on a transport
 * error (the message names it), 3 on bad usage. --list prints
 * qa_ftdi_list() and exits.
 */
#include "qa_ftdi.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int do_list(void)
{
	qa_ftdi_board b[32];
	size_t n = 0;
	char err[256];
	int rc = qa_ftdi_list(b, 32, &n, err, sizeof err);
	if (rc != QA_OK) {
		fprintf(stderr, "ftdi_echo: %s\n", err);
		return 2;
	}
	for (size_t i = 0; i < n && i < 32; i++) {
		char line[256];
		qa_ftdi_board_line(&b[i], line, sizeof line);
		printf("%s\n", line);
	}
	if (n == 0)
		printf("no FTDI bridges attached\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	size_t n = 1000;
	unsigned rounds = 1;
	int xform = 0, opt, verbose = 0;
	while ((opt = getopt_long(argc, argv, "x:n:r:lv", lo, NULL)) != -1) {
		switch (opt) {
		case 'x':
			xform = strcmp(optarg, "inc") == 0 ? 1 :
				strcmp(optarg, "not") == 0 ? 2 :
				strcmp(optarg, "same") == 0 ? 0 : -1;
			if (xform < 0) {
				fprintf(stderr, "ftdi_echo: -x same|inc|not\n");
				return 3;
			}
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			rounds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			return do_list();
		case 'v':
			verbose++;
			break;
		default:
			return 3;
		}
	}
	if (optind != argc - 1 || n == 0 || n > (64u << 20)) {
		fprintf(stderr, "usage: ftdi_echo [-x same|inc|not] [-n BYTES] [-r ROUNDS] [-v] TARGET\n"
				"       ftdi_echo --list\n");
		return 3;
	}
	const char *target = argv[optind];
	const qa_transport_ops *ops = NULL;
	const char *arg = NULL;
	if (strncmp(target, "ftdi", 4) == 0 && (target[4] == '\0' || target[4] == ':')) {
		ops = &qa_transport_ftdi;
		arg = target[4] ? target + 5 : NULL;
	} else if (strncmp(target, "tty:", 4) == 0) {
		ops = &qa_transport_tty;
		arg = target + 4;
	} else {
		fprintf(stderr, "ftdi_echo: target must be ftdi[:...] or tty:PATH\n");
		return 3;
	}
	qa_dev_opts o;
	memset(&o, 0, sizeof o);
	o.verbose = verbose;
	char err[512];
	void *ctx = NULL;
	int rc = ops->open(&ctx, arg, &o, err, sizeof err);
	if (rc != QA_OK) {
		printf("error %s: %s\n", qa_errname(rc), err);
		return 2;
	}
	uint8_t *tx = malloc(n), *rx = malloc(n);
	int status = 0;
	uint32_t seed = 12345;
	for (unsigned r = 0; r < rounds && status == 0 && tx && rx; r++) {
		for (size_t i = 0; i < n; i++) {
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			tx[i] = (uint8_t)(seed >> 24);
		}
		double t0 = now_s();
		rc = ops->write(ctx, tx, n, err, sizeof err);
		if (rc == QA_OK)
			rc = ops->read(ctx, rx, n, err, sizeof err);
		double dt = now_s() - t0;
		if (rc != QA_OK) {
			printf("error %s: %s\n", qa_errname(rc), err);
			status = 2;
			break;
		}
		size_t bad = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned want = xform == 1 ? (tx[i] + 1u) & 0xffu :
					xform == 2 ? ~tx[i] & 0xffu : tx[i];
			bad += rx[i] != want;
		}
		if (bad) {
			printf("mismatch: %zu of %zu bytes differ\n", bad, n);
			status = 1;
		} else {
			printf("ok %zu bytes in %.4f s\n", n, dt);
		}
	}
	if (!tx || !rx) {
		printf("error: out of memory\n");
		status = 2;
	}
	free(tx);
	free(rx);
	ops->close(ctx);
	return status;
}
