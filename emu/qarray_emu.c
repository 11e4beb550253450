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
 * QARRAY_EMU_TARGET (e.g. "ftdi:s:QAEMU-ICEBREAKER,baud=12000000", the
 * board's line rate) in its environment.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* openpty(), cfmakeraw() */
#endif
#include "emu_line.h"
#include "qa_emu.h"
#include "qarray.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

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
		"  --board NAME          a chip model: icebreaker (FT2232H bridge;\n"
		"                        default), icebreaker-24 (24 MHz, 6 Mbaud),\n"
		"                        ulx3s (the 85F),\n"
		"                        ulx3s-45f, ulx3s-25f (FT231X bridge), wired to\n"
		"                        that board's chip: the cycle-accurate RTL of\n"
		"                        rtl/qa_chip.v built with the board's parameters\n"
		"  --chip ft2232h|ft231x override the board's bridge chip\n"
		"  --echo MODE           wire a C UART model instead of the chip, which\n"
		"                        does this with a byte: same, inc (+1), not (~),\n"
		"                        mute (nothing) - for testing the USB half alone\n"
		"  --board-clock HZ      the echo board's clock (default 48 MHz / 75 MHz)\n"
		"  --board-baud BAUD     the echo board's line rate (default 12000000 /\n"
		"                        3000000)\n"
		"  --serial S            USB serial number (default QAEMU-<BOARD>)\n"
		"  --realtime            keep simulated time behind the wall clock\n"
		"  --unplug-after-bytes N  pull the plug once the host sent N bytes\n"
		"  --link-faults SPEC    a faulty serial line both ways, for testing the\n"
		"                        link: flip=P,drop=P,dup=P,garbage=P[,seed=N]\n"
		"  --pty                 no USB: wire the board to a pseudo-terminal\n"
		"                        instead, for --target tty:PATH (the path is in\n"
		"                        $QARRAY_EMU_TARGET)\n"
		"  -v, --verbose         report the bridge and board counters at exit\n"
		"  -h, --help\n"
		"\n"
		"The board runs at its own baud; a host using another baud gets garbage,\n"
		"CRC errors or a timeout, as with hardware. COMMAND finds the bridge as\n"
		"--target ftdi (it is the only one) or $QARRAY_EMU_TARGET (which also\n"
		"sets the board's baud).\n"
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

/*
 * --pty: the board's UART behind a pseudo-terminal. The slave is what
 * COMMAND opens (tty:PATH); this process moves bytes between the master
 * and the serial lines of an emu_line at the board's baud, so the board
 * sees real 8N1 frames as it would behind a USB-serial adapter.
 */
static int run_pty(qa_board *board, uint32_t baud, char *const argv[],
		   const char *faults, int verbose)
{
	int m, s, status = 125;
	char name[128];
	if (openpty(&m, &s, name, NULL, NULL) != 0) {
		fprintf(stderr, "qarray-emu: openpty: %s\n", strerror(errno));
		return 125;
	}
	struct termios t;
	tcgetattr(m, &t);
	cfmakeraw(&t);
	tcsetattr(m, TCSANOW, &t);
	fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
	emu_line *l = NULL;
	if (emu_line_new(&l, board, 1u << 16, 1u << 16, 0) != 0) {
		fprintf(stderr, "qarray-emu: cannot start the line thread\n");
		goto out;
	}
	emu_line_fmt fmt = { baud, 1, 8, 0, 1, 0 };
	emu_line_set_format(l, &fmt);
	char ferr[200];
	if (faults && emu_line_set_faults(l, faults, ferr, sizeof ferr) != 0) {
		fprintf(stderr, "qarray-emu: %s\n", ferr);
		goto out;
	}
	char target[192];
	snprintf(target, sizeof target, "tty:%s,baud=%u", name, (unsigned)baud);
	setenv("QARRAY_EMU_TARGET", target, 1);
	if (verbose)
		fprintf(stderr, "qarray-emu: %s wired to the %s board at %u baud "
			"(target %s)\n", name, board->name, (unsigned)baud, target);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "qarray-emu: fork: %s\n", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(m);
		close(s);
		execvp(argv[0], argv);
		fprintf(stderr, "qarray-emu: cannot run '%s': %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	uint8_t in[4096], outb[4096];
	size_t in_len = 0;
	for (;;) {
		int ws;
		pid_t w = waitpid(pid, &ws, WNOHANG);
		if (w == pid) {
			status = WIFEXITED(ws) ? WEXITSTATUS(ws) :
				 WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : 125;
			break;
		}
		if (g_signal) {
			kill(pid, g_signal);
			g_signal = 0;
		}
		struct pollfd p = { m, POLLIN, 0 };
		poll(&p, 1, 1);
		if (in_len < sizeof in) {
			ssize_t r = read(m, in + in_len, sizeof in - in_len);
			if (r > 0)
				in_len += (size_t)r;
		}
		if (in_len) {
			size_t k = emu_line_write(l, in, in_len);
			memmove(in, in + k, in_len - k);
			in_len -= k;
		}
		emu_line_host_polls(l);
		size_t k = emu_line_read(l, outb, sizeof outb, NULL);
		for (size_t off = 0; off < k;) {
			ssize_t r = write(m, outb + off, k - off);
			if (r > 0)
				off += (size_t)r;
			else if (r < 0 && errno != EAGAIN && errno != EINTR)
				break;
			else
				poll(&(struct pollfd){ m, POLLOUT, 0 }, 1, 1);
		}
	}
out:
	emu_line_free(l);
	close(m);
	close(s);
	return status;
}

int main(int argc, char **argv)
{
	enum { O_BOARD = 256, O_CHIP, O_CLOCK, O_BAUD, O_ECHO, O_SERIAL,
	       O_REALTIME, O_UNPLUG, O_PTY, O_FAULTS };
	static const struct option lo[] = {
		{ "board", required_argument, NULL, O_BOARD },
		{ "chip", required_argument, NULL, O_CHIP },
		{ "board-clock", required_argument, NULL, O_CLOCK },
		{ "board-baud", required_argument, NULL, O_BAUD },
		{ "echo", required_argument, NULL, O_ECHO },
		{ "serial", required_argument, NULL, O_SERIAL },
		{ "realtime", no_argument, NULL, O_REALTIME },
		{ "unplug-after-bytes", required_argument, NULL, O_UNPLUG },
		{ "pty", no_argument, NULL, O_PTY },
		{ "link-faults", required_argument, NULL, O_FAULTS },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *board = "icebreaker", *chip = NULL, *serial = NULL;
	const char *faults = NULL;
	uint64_t clock = 0, baud = 0, unplug = 0;
	qa_echo_mode mode = QA_ECHO_SAME;
	int realtime = 0, verbose = 0, echo = 0, pty = 0, opt;
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
			echo = 1;
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
		case O_PTY:
			pty = 1;
			break;
		case O_FAULTS:
			faults = optarg;
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
	/* the bridge by board family: the chip model's name starts with it */
	if (strncmp(board, "icebreaker", 10) == 0) {
		cfg.chip = QA_EMU_FT2232H;
		ecfg.clock_hz = 48000000;
		ecfg.baud = 12000000;
	} else if (strncmp(board, "ulx3s", 5) == 0) {
		cfg.chip = QA_EMU_FT231X;
		ecfg.clock_hz = 75000000;
		ecfg.baud = 3000000;
	} else {
		fprintf(stderr, "qarray-emu: --board icebreaker|ulx3s[-45f|-25f], "
			"not '%s'\n", board);
		return 125;
	}
	size_t sl = (size_t)snprintf(serial_buf, sizeof serial_buf, "QAEMU-");
	for (const char *p = board; *p && sl + 1 < sizeof serial_buf; p++)
		serial_buf[sl++] = (char)toupper((unsigned char)*p);
	serial_buf[sl] = '\0';
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
	cfg.link_faults = faults;

	char err[512];
	int rc;
	if ((clock || baud) && !echo) {
		fprintf(stderr, "qarray-emu: --board-clock and --board-baud apply "
			"to an --echo board; the chip runs at the clock and baud "
			"it was built for\n");
		return 125;
	}
	if (echo)
		rc = qa_echo_board_new(&cfg.board, &ecfg, err, sizeof err);
	else
		rc = qa_chip_board_new(&cfg.board, board, err, sizeof err);
	if (rc) {
		fprintf(stderr, "qarray-emu: %s\n", rc == -2 ? "out of memory" : err);
		return 125;
	}
	qa_emu *emu = NULL;
	int status = 125;
	if (pty) {
		struct sigaction sp;
		memset(&sp, 0, sizeof sp);
		sp.sa_handler = on_signal;
		sigaction(SIGINT, &sp, NULL);
		sigaction(SIGTERM, &sp, NULL);
		status = run_pty(&cfg.board, echo ? ecfg.baud :
				 qa_chip_board_baud(&cfg.board), argv + optind,
				 faults, verbose);
		cfg.board.destroy(cfg.board.ctx);
		return status;
	}
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
	/* the board's own line rate, so that COMMAND's host matches it (an
	 * icebreaker-24 runs at 6 Mbaud, not the FT2232H's default 12) */
	char target[128];
	snprintf(target, sizeof target, "ftdi:s:%s,baud=%u", info.serial,
		 echo ? ecfg.baud : qa_chip_board_baud(&cfg.board));
	setenv("QARRAY_EMU_TARGET", target, 1);
	if (verbose)
		fprintf(stderr,
			"qarray-emu: %s 0403:%04x at %03u:%03u serial %s (%s); UART "
			"wired to %s %s board, %llu Hz, %u baud%s\n",
			qa_emu_chip_name(info.chip),
			info.chip == QA_EMU_FT2232H ? 0x6010u : 0x6015u, info.bus,
			info.addr, info.serial, info.devnode,
			echo ? "a C echo" : "the RTL of the", cfg.board.name,
			(unsigned long long)cfg.board.clock_hz,
			echo ? ecfg.baud : qa_chip_board_baud(&cfg.board),
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
		if (faults) {
			qa_emu_faults_describe(emu, idx, line, sizeof line);
			fprintf(stderr, "qarray-emu: faulty line: %s\n", line);
		}
	}
out:
	qa_emu_free(emu);
	return status;
}
