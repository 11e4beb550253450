/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qarray_emu.c - qarray-emu: run a command with an emulated board attached.
 *
 *   qarray-emu [--board icebreaker|ulx3s] [options] -- COMMAND [ARG...]
 *
 * Plugs an emulated FTDI bridge into a umockdev testbed (FT2232H for the
 * iCEBreaker, FT231X for the ULX3S), wires its UART channel to a board
 * model, and runs COMMAND with libumockdev-preload in LD_PRELOAD, so the
 * unmodified libusb/libftdi in COMMAND see that bridge and nothing else.
 * The emulator itself is not preloaded: its threads serve the command's
 * ioctls over umockdev's socket. This is what `qarray emu` is meant to run.
 *
 * Exit status: COMMAND's; 128+N when it died of signal N; 125 when the
 * emulator could not start, 127 when COMMAND was not found. COMMAND gets
 * QARRAY_EMU_TARGET (e.g. "ftdi:s:QAEMU-ICEBREAKER") in its environment.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "qa_emu.h"
#include "qarray.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
	g_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: qarray-emu [options] -- COMMAND [ARG...]\n"
		"Run COMMAND with an emulated FTDI USB bridge and board attached\n"
		"(umockdev; COMMAND sees it through libusb/libftdi as real hardware).\n"
		"\n"
		"  --board NAME          icebreaker (FT2232H, 48 MHz, 12000000 baud; default)\n"
		"                        or ulx3s (FT231X, 75 MHz, 3000000 baud)\n"
		"  --chip ft2232h|ft231x override the board's bridge chip\n"
		"  --board-clock HZ      board clock\n"
		"  --board-baud BAUD     the board UART's line rate\n"
		"  --echo MODE           what the board does with a byte: same (default),\n"
		"                        inc (+1), not (~), mute (nothing)\n"
		"  --serial S            USB serial number (default QAEMU-<BOARD>)\n"
		"  --realtime            keep simulated time behind the wall clock\n"
		"  --unplug-after-bytes N  pull the plug once the host sent N bytes\n"
		"  -v, --verbose         report the bridge and board counters at exit\n"
		"  -h, --help\n"
		"\n"
		"The board is a C UART model that echoes bytes at its own baud; a host\n"
		"using another baud gets garbage or a timeout, as with hardware.\n"
		"Exit status: COMMAND's (128+N after signal N), 125 emulator error,\n"
		"127 COMMAND not found.\n");
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-')
		return -1;
	*v = x;
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_BOARD = 256, O_CHIP, O_CLOCK, O_BAUD, O_ECHO, O_SERIAL,
	       O_REALTIME, O_UNPLUG };
	static const struct option lo[] = {
		{ "board", required_argument, NULL, O_BOARD },
		{ "chip", required_argument, NULL, O_CHIP },
		{ "board-clock", required_argument, NULL, O_CLOCK },
		{ "board-baud", required_argument, NULL, O_BAUD },
		{ "echo", required_argument, NULL, O_ECHO },
		{ "serial", required_argument, NULL, O_SERIAL },
		{ "realtime", no_argument, NULL, O_REALTIME },
		{ "unplug-after-bytes", required_argument, NULL, O_UNPLUG },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *board = "icebreaker", *chip = NULL, *serial = NULL;
	uint64_t clock = 0, baud = 0, unplug = 0;
	qa_echo_mode mode = QA_ECHO_SAME;
	int realtime = 0, verbose = 0, opt;
	while ((opt = getopt_long(argc, argv, "+vh", lo, NULL)) != -1) {
		switch (opt) {
		case O_BOARD:
			board = optarg;
			break;
		case O_CHIP:
			chip = optarg;
			break;
		case O_CLOCK:
		case O_BAUD:
		case O_UNPLUG: {
			uint64_t v;
			if (parse_u64(optarg, &v) || (opt != O_UNPLUG && v == 0)) {
				fprintf(stderr, "qarray-emu: bad number '%s'\n", optarg);
				return 125;
			}
			*(opt == O_CLOCK ? &clock : opt == O_BAUD ? &baud : &unplug) = v;
			break;
		}
		case O_ECHO:
			if (qa_echo_mode_parse(optarg, &mode)) {
				fprintf(stderr, "qarray-emu: --echo same|inc|not|mute, not '%s'\n",
					optarg);
				return 125;
			}
			break;
		case O_SERIAL:
			serial = optarg;
			break;
		case O_REALTIME:
			realtime = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 125;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "qarray-emu: no COMMAND given\n");
		usage(stderr);
		return 125;
	}

	qa_emu_bridge_cfg cfg;
	memset(&cfg, 0, sizeof cfg);
	qa_echo_cfg ecfg = { .mode = mode };
	char serial_buf[64];
	if (strcmp(board, "icebreaker") == 0) {
		cfg.chip = QA_EMU_FT2232H;
		ecfg.clock_hz = 48000000;
		ecfg.baud = 12000000;
		snprintf(serial_buf, sizeof serial_buf, "QAEMU-ICEBREAKER");
	} else if (strcmp(board, "ulx3s") == 0) {
		cfg.chip = QA_EMU_FT231X;
		ecfg.clock_hz = 75000000;
		ecfg.baud = 3000000;
		snprintf(serial_buf, sizeof serial_buf, "QAEMU-ULX3S");
	} else {
		fprintf(stderr, "qarray-emu: --board icebreaker|ulx3s, not '%s'\n", board);
		return 125;
	}
	if (chip) {
		if (strcmp(chip, "ft2232h") == 0)
			cfg.chip = QA_EMU_FT2232H;
		else if (strcmp(chip, "ft231x") == 0)
			cfg.chip = QA_EMU_FT231X;
		else {
			fprintf(stderr, "qarray-emu: --chip ft2232h|ft231x, not '%s'\n", chip);
			return 125;
		}
	}
	if (clock)
		ecfg.clock_hz = clock;
	if (baud)
		ecfg.baud = baud > UINT32_MAX ? UINT32_MAX : (uint32_t)baud;
	cfg.serial = serial ? serial : serial_buf;
	cfg.realtime = realtime;

	char err[512];
	int rc = qa_echo_board_new(&cfg.board, &ecfg, err, sizeof err);
	if (rc) {
		fprintf(stderr, "qarray-emu: %s\n", rc == -2 ? "out of memory" : err);
		return 125;
	}
	qa_emu *emu = NULL;
	int status = 125;
	unsigned idx = 0;
	if (qa_emu_new(&emu, verbose, err, sizeof err) != QA_OK ||
	    qa_emu_add(emu, &cfg, &idx, err, sizeof err) != QA_OK) {
		fprintf(stderr, "qarray-emu: %s\n", err);
		if (!emu && cfg.board.destroy)
			cfg.board.destroy(cfg.board.ctx);
		goto out;
	}
	if (unplug)
		qa_emu_unplug_after(emu, idx, unplug);
	qa_emu_info info;
	qa_emu_info_get(emu, idx, &info);
	char target[96];
	snprintf(target, sizeof target, "ftdi:s:%s", info.serial);
	setenv("QARRAY_EMU_TARGET", target, 1);
	if (verbose)
		fprintf(stderr,
			"qarray-emu: %s 0403:%04x at %03u:%03u serial %s (%s); UART "
			"wired to a C %s board, %llu Hz, %u baud%s\n",
			qa_emu_chip_name(info.chip),
			info.chip == QA_EMU_FT2232H ? 0x6010u : 0x6015u, info.bus,
			info.addr, info.serial, info.devnode, cfg.board.name,
			(unsigned long long)ecfg.clock_hz, ecfg.baud,
			realtime ? ", real time" : "");

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	pid_t pid;
	if (qa_emu_spawn(emu, argv + optind, &pid, err, sizeof err) != QA_OK) {
		fprintf(stderr, "qarray-emu: %s\n", err);
		status = strstr(err, "No such file") ? 127 : 126;
		goto out;
	}
	for (;;) {
		int ws;
		pid_t w = waitpid(pid, &ws, WNOHANG);
		if (w == pid) {
			status = WIFEXITED(ws) ? WEXITSTATUS(ws) :
				 WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : 125;
			break;
		}
		if (w < 0 && errno != EINTR) {
			fprintf(stderr, "qarray-emu: waitpid: %s\n", strerror(errno));
			break;
		}
		if (g_signal) {
			kill(pid, g_signal);
			g_signal = 0;
		}
		qa_emu_poll(emu);
		struct timespec ts = { 0, 5000000 };
		nanosleep(&ts, NULL);
	}
	if (verbose) {
		qa_emu_info_get(emu, idx, &info);
		char line[256];
		qa_emu_board_describe(emu, idx, line, sizeof line);
		fprintf(stderr,
			"qarray-emu: host set %.1f baud, %u data bits, latency %u ms; "
			"USB %llu bytes out, %llu in; line %llu bytes to the board, "
			"%llu from it, %llu framing errors; %llu cycles\n"
			"qarray-emu: %s\n",
			(double)info.baud_num / (double)info.baud_den, info.data_bits,
			info.latency_ms, (unsigned long long)info.usb_out,
			(unsigned long long)info.usb_in,
			(unsigned long long)info.host_bytes,
			(unsigned long long)info.board_bytes,
			(unsigned long long)info.framing,
			(unsigned long long)info.cycles, line);
	}
out:
	qa_emu_free(emu);
	return status;
}
