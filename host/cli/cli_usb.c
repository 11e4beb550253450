/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_usb.c - `qarray list` and `qarray emu` (see cli_usb.h, docs/cli.md).
 */
#include "cli_usb.h"

#include "qa_chip_sim.h"
#include "qa_ftdi.h"
#include "qarray.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CLI_OK = 0, CLI_USAGE = 1, CLI_DEVICE = 2 };

#define LIST_MAX 32

void cli_list_usage(FILE *f)
{
	fprintf(f,
		"Usage: qarray list [--json]\n"
		"List the boards a --target can name: FTDI USB bridges of the kind\n"
		"the iCEBreaker (FT2232H, 0403:6010) and the ULX3S (FT231X, 0403:6015)\n"
		"carry, attached now, one per line with the --target that selects it;\n"
		"then the simulated chips (--target sim-uart:BOARD).\n"
		"\n"
		"  --json      one JSON object per line instead\n"
		"  -h, --help  show this help\n"
		"\n"
		"A bridge whose strings cannot be read is listed with the reason\n"
		"(usually: install the udev rules, see udev/README.md).\n"
		"Exit status: 0 (also when no board is attached), 1 bad usage,\n"
		"2 USB could not be listed.\n");
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

int cli_list(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int json = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else if (c == 'h') {
			cli_list_usage(stdout);
			return CLI_OK;
		} else {
			fprintf(stderr, "qarray: list: unknown option '%s'\n",
				argv[optind - 1]);
			return CLI_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "qarray: list: unexpected argument '%s'\n",
			argv[optind]);
		return CLI_USAGE;
	}
	qa_ftdi_board b[LIST_MAX];
	size_t n = 0;
	char err[300];
	int rc = qa_ftdi_list(b, LIST_MAX, &n, err, sizeof err);
	if (rc != QA_OK) {
		fprintf(stderr, "qarray: list: %s: %s\n", qa_strerror(rc), err);
		return CLI_DEVICE;
	}
	for (size_t i = 0; i < n && i < LIST_MAX; i++) {
		if (json) {
			char target[96];
			if (b[i].serial[0])
				snprintf(target, sizeof target, "ftdi:s:%s", b[i].serial);
			else
				snprintf(target, sizeof target, "ftdi:d:%u:%u",
					 b[i].bus, b[i].addr);
			printf("{\"kind\":\"usb\",\"type\":");
			json_str(b[i].type);
			printf(",\"vid\":\"%04x\",\"pid\":\"%04x\",\"bus\":%u,"
			       "\"addr\":%u,\"serial\":", b[i].vid, b[i].pid,
			       b[i].bus, b[i].addr);
			json_str(b[i].serial);
			printf(",\"description\":");
			json_str(b[i].description);
			printf(",\"note\":");
			json_str(b[i].note);
			printf(",\"target\":");
			json_str(target);
			printf("}\n");
		} else {
			char line[400];
			qa_ftdi_board_line(&b[i], line, sizeof line);
			printf("%s\n", line);
		}
	}
	if (!n && !json)
		printf("no FTDI bridge attached (looked for FT2232H 0403:6010 and "
		       "FT231X 0403:6015)\n");
	size_t nm;
	const qa_chip_model_info *m = qa_chip_models(&nm);
	for (size_t i = 0; i < nm; i++) {
		if (json)
			printf("{\"kind\":\"sim\",\"board\":\"%s\",\"rows\":%u,"
			       "\"cols\":%u,\"clock_hz\":%" PRIu64 ",\"baud\":%" PRIu32
			       ",\"target\":\"sim-uart:%s\"}\n", m[i].name, m[i].rows,
			       m[i].cols, m[i].clock_hz, m[i].baud, m[i].name);
		else
			printf("simulated  %-13s %ux%u, %.0f MHz, %" PRIu32
			       " baud  target=sim-uart:%s\n", m[i].name, m[i].rows,
			       m[i].cols, (double)m[i].clock_hz / 1e6, m[i].baud,
			       m[i].name);
	}
	return CLI_OK;
}

void cli_emu_usage(FILE *f)
{
	fprintf(f,
		"Usage: qarray emu [--board BOARD] [EMU-OPTIONS] -- COMMAND [ARG...]\n"
		"Run COMMAND with an emulated board attached: an FTDI USB bridge\n"
		"(FT2232H for icebreaker, FT231X for ulx3s, ulx3s-45f, ulx3s-25f)\n"
		"that COMMAND's libusb and libftdi find as real hardware (umockdev),\n"
		"its UART wired bit by bit to the cycle-accurate RTL of the whole chip\n"
		"built with that board's parameters (`qarray list` shows the built\n"
		"boards; default icebreaker). In COMMAND, the board is\n"
		"--target ftdi (the only bridge) or $QARRAY_EMU_TARGET (which also\n"
		"sets the board's baud). For example\n"
		"\n"
		"  qarray emu --board icebreaker -- qarray gemm --target ftdi \\\n"
		"      --x X.npy --w W.npy --out Y.npy --check\n"
		"\n"
		"This runs the qarray-emu program installed beside qarray; its options\n"
		"(qarray-emu --help): --chip, --echo, --serial, --realtime, --pty,\n"
		"--unplug-after-bytes, -v. Exit status: COMMAND's; 125 when the\n"
		"emulator cannot start, 127 when COMMAND is not found.\n");
}

int cli_emu(int argc, char **argv)
{
	char self[PATH_MAX], path[PATH_MAX + 16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
			  strcmp(argv[1], "--help") == 0)) {
		cli_emu_usage(stdout);
		return CLI_OK;
	}
	if (n <= 0) {
		fprintf(stderr, "qarray: emu: cannot find this program's directory: "
			"%s\n", strerror(errno));
		return 125;
	}
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	snprintf(path, sizeof path, "%s/qarray-emu", self);
	argv[0] = path;
	execv(path, argv);
	fprintf(stderr, "qarray: emu: cannot run %s: %s (build it with `make`; it "
		"needs the umockdev package)\n", path, strerror(errno));
	return 125;
}
