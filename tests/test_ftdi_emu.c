/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ftdi_emu.c - the "ftdi" transport (host/ftdi/transport_ftdi.c, with
 * the real libftdi1 and libusb-1.0) against emulated FT2232H and FT231X
 * bridges (emu/) wired to C UART boards, in this process.
 *
 * The program is linked with libumockdev-preload first, so libusb's open()
 * and ioctl() calls reach the emulator's handlers through umockdev 0.17.
 * Every check is on observable behaviour: bytes that came back through the
 * board's UART (with the board's transform), the baud the emulated chip
 * decoded from libftdi's divisor, error codes and their messages, and time
 * (no check may hang: every blocking step has a deadline).
 */
#define _GNU_SOURCE /* syscall(), usleep(), openpty() */
#include "check.h"
#include "qa_emu.h"
#include "qa_ftdi.h"

#include <errno.h>
#include <ftdi.h>
#include <libusb.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng_next(&seed) >> 24);
}

typedef struct conn {
	void *ctx;
	int rc;
	char err[512];
} conn;

static int link_open(conn *l, const char *arg)
{
	qa_dev_opts o;
	memset(&o, 0, sizeof o);
	l->ctx = NULL;
	l->err[0] = '\0';
	l->rc = qa_transport_ftdi.open(&l->ctx, arg, &o, l->err, sizeof l->err);
	return l->rc;
}

static void link_close(conn *l)
{
	if (l->ctx)
		qa_transport_ftdi.close(l->ctx);
	l->ctx = NULL;
}

/* send n random bytes, read n back, count the ones that differ from
 * xform(sent); returns the transport result of the read */
static int echo_round(conn *l, size_t n, uint32_t seed, int xform,
		      size_t *bad, char *err, size_t errlen)
{
	uint8_t *tx = malloc(n), *rx = malloc(n);
	int rc = QA_ERR_NOMEM;
	*bad = n;
	if (!tx || !rx)
		goto out;
	fill(tx, n, seed);
	memset(rx, 0, n);
	rc = qa_transport_ftdi.write(l->ctx, tx, n, err, errlen);
	if (rc != QA_OK)
		goto out;
	rc = qa_transport_ftdi.read(l->ctx, rx, n, err, errlen);
	if (rc != QA_OK)
		goto out;
	*bad = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned want = xform == 1 ? (tx[i] + 1u) & 0xffu :
				xform == 2 ? ~tx[i] & 0xffu : tx[i];
		*bad += rx[i] != want;
	}
out:
	free(tx);
	free(rx);
	return rc;
}

static int add_bridge(qa_emu *emu, qa_emu_chip chip, const char *serial,
		      uint64_t clock, uint32_t baud, qa_echo_mode mode,
		      int realtime, unsigned *idx)
{
	qa_emu_bridge_cfg cfg;
	char err[256];
	memset(&cfg, 0, sizeof cfg);
	cfg.chip = chip;
	cfg.serial = serial;
	cfg.realtime = realtime;
	qa_echo_cfg e = { .clock_hz = clock, .baud = baud, .mode = mode };
	if (qa_echo_board_new(&cfg.board, &e, err, sizeof err) != 0) {
		fprintf(stderr, "echo board: %s\n", err);
		return -1;
	}
	if (qa_emu_add(emu, &cfg, idx, err, sizeof err) != QA_OK) {
		fprintf(stderr, "qa_emu_add: %s\n", err);
		return -1;
	}
	return 0;
}

/* ---- capabilities: "permission denied" as root --------------------------- */

static int caps_get(struct __user_cap_header_struct *h,
		    struct __user_cap_data_struct d[2])
{
	memset(h, 0, sizeof *h);
	h->version = _LINUX_CAPABILITY_VERSION_3;
	return (int)syscall(SYS_capget, h, d);
}

/* drop (or restore) CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from this
 * thread's effective set; they stay permitted, so they can come back */
static int caps_dac(int on)
{
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[2];
	if (caps_get(&h, d) != 0)
		return -1;
	uint32_t bits = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);
	if (on)
		d[0].effective |= bits & d[0].permitted;
	else
		d[0].effective &= ~bits;
	return (int)syscall(SYS_capset, &h, d);
}

/* ---- unplug from another thread while the main thread waits ---------------- */

static int LIBUSB_CALL on_left(libusb_context *ctx, libusb_device *dev,
			       libusb_hotplug_event ev, void *user)
{
	(void)ctx;
	(void)ev;
	*(unsigned *)user = libusb_get_device_address(dev);
	return 0;
}

typedef struct unplugger {
	qa_emu *emu;
	unsigned idx;
	unsigned delay_ms;
} unplugger;

static void *unplug_later(void *arg)
{
	unplugger *u = arg;
	struct timespec ts = { (time_t)(u->delay_ms / 1000),
			       (long)(u->delay_ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	qa_emu_unplug(u->emu, u->idx);
	return NULL;
}

int main(int argc, char **argv)
{
	check_ctx cx = { 0 };
	char err[512], name[128];
	qa_emu *emu = NULL;
	conn l = { 0 }, l2 = { 0 };
	int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	size_t bad;
	double t0;
	int rc;

	if (qa_emu_new(&emu, verbose, err, sizeof err) != QA_OK) {
		printf("FAIL emu_new: %s\n0 passed, 1 failed\n", err);
		return 1;
	}

	/* no bridge yet */
	rc = link_open(&l, NULL);
	check(&cx, rc == QA_ERR_IO && strstr(l.err, "no FTDI bridge found"),
	      "no_device", "rc %s, '%s'", qa_errname(rc), l.err);
	printf("  message: %s\n", l.err);
	link_close(&l);

	unsigned ib, ulx, ib1m, ib115k, mute, unp_w, unp_r, perm, rt;
	if (add_bridge(emu, QA_EMU_FT2232H, "QAEMU-IB", 48000000, 12000000, QA_ECHO_INC, 0, &ib) ||
	    add_bridge(emu, QA_EMU_FT231X, "QAEMU-ULX", 75000000, 3000000, QA_ECHO_NOT, 0, &ulx) ||
	    add_bridge(emu, QA_EMU_FT2232H, "QAEMU-1M", 48000000, 1000000, QA_ECHO_SAME, 0, &ib1m) ||
	    add_bridge(emu, QA_EMU_FT2232H, "QAEMU-115K", 48000000, 115200, QA_ECHO_SAME, 0, &ib115k) ||
	    add_bridge(emu, QA_EMU_FT231X, "QAEMU-MUTE", 75000000, 3000000, QA_ECHO_MUTE, 0, &mute) ||
	    add_bridge(emu, QA_EMU_FT2232H, "QAEMU-UNPW", 48000000, 12000000, QA_ECHO_SAME, 0, &unp_w) ||
	    add_bridge(emu, QA_EMU_FT231X, "QAEMU-UNPR", 75000000, 3000000, QA_ECHO_MUTE, 0, &unp_r) ||
	    add_bridge(emu, QA_EMU_FT231X, "QAEMU-PERM", 75000000, 3000000, QA_ECHO_SAME, 0, &perm) ||
	    add_bridge(emu, QA_EMU_FT231X, "QAEMU-RT", 75000000, 3000000, QA_ECHO_SAME, 1, &rt)) {
		printf("FAIL setup\n");
		qa_emu_free(emu);
		return 1;
	}

	/* qarray list */
	qa_ftdi_board boards[16];
	size_t nb = 0;
	rc = qa_ftdi_list(boards, 16, &nb, err, sizeof err);
	int list_ok = rc == QA_OK && nb == 9;
	for (size_t i = 0; list_ok && i < nb; i++) {
		char line[256];
		qa_ftdi_board_line(&boards[i], line, sizeof line);
		printf("  list: %s\n", line);
		list_ok = boards[i].access == QA_OK && boards[i].bus == 1 &&
			  boards[i].addr == 2 + i;
	}
	check(&cx, list_ok && strcmp(boards[0].type, "FT2232H") == 0 &&
		       strcmp(boards[0].serial, "QAEMU-IB") == 0 &&
		       strcmp(boards[1].type, "FT231X") == 0 &&
		       strcmp(boards[1].description, "FT231X USB UART") == 0,
	      "list_bridges", "rc %s, %zu boards", qa_errname(rc), nb);

	rc = link_open(&l, "baud=3000000");
	check(&cx, rc == QA_ERR_INVALID && strstr(l.err, "9 FTDI bridges match"),
	      "ambiguous_without_selector", "rc %s '%s'", qa_errname(rc), l.err);
	link_close(&l);

	rc = link_open(&l, "s:NOPE");
	check(&cx, rc == QA_ERR_IO && strstr(l.err, "no FTDI bridge with serial 'NOPE'") &&
		       strstr(l.err, "QAEMU-ULX"),
	      "unknown_serial_lists_found", "rc %s '%s'", qa_errname(rc), l.err);
	link_close(&l);

	rc = link_open(&l, "s:QAEMU-IB,bogus=1");
	check(&cx, rc == QA_ERR_INVALID && strstr(l.err, "bogus"), "bad_option",
	      "rc %s '%s'", qa_errname(rc), l.err);
	link_close(&l);

	/* FT2232H at its default 12 Mbaud, board +1 */
	rc = link_open(&l, "s:QAEMU-IB");
	check(&cx, rc == QA_OK, "open_ft2232h_by_serial", "rc %s '%s'", qa_errname(rc), l.err);
	if (rc == QA_OK) {
		qa_emu_info in;
		qa_emu_info_get(emu, ib, &in);
		check(&cx, in.baud_num == 12000000 * in.baud_den && in.data_bits == 8 &&
			       in.parity == 0 && in.stop_bits == 1 && in.latency_ms == 1 &&
			       in.bitmode == 0,
		      "ft2232h_configured_12M_8N1_latency1", "baud %llu/%llu bits %u lat %u",
		      (unsigned long long)in.baud_num, (unsigned long long)in.baud_den,
		      in.data_bits, in.latency_ms);
		t0 = now_s();
		rc = echo_round(&l, 20000, 1, 1, &bad, err, sizeof err);
		double dt = now_s() - t0;
		check(&cx, rc == QA_OK && bad == 0, "ft2232h_echo_20000_bytes_12M",
		      "rc %s bad %zu '%s'", qa_errname(rc), bad, err);
		printf("  20000 bytes through the 12 Mbaud echo board in %.3f s\n", dt);
		/* request/response: the answer arrives one latency period late */
		t0 = now_s();
		int ok = 1;
		for (int i = 0; i < 20 && ok; i++)
			ok = echo_round(&l, 1, 100u + (unsigned)i, 1, &bad, err, sizeof err) == QA_OK && !bad;
		dt = (now_s() - t0) / 20;
		check(&cx, ok, "ft2232h_20_single_byte_round_trips", "'%s'", err);
		printf("  single-byte round trip at latency 1 ms: %.2f ms\n", dt * 1e3);

		/* a second open of the same bridge is refused as busy */
		rc = link_open(&l2, "s:QAEMU-IB");
		check(&cx, rc == QA_ERR_IO && strstr(l2.err, "busy"), "second_open_busy",
		      "rc %s '%s'", qa_errname(rc), l2.err);
		printf("  message: %s\n", l2.err);
		link_close(&l2);
		qa_emu_info_get(emu, ib, &in);
		check(&cx, in.usb_out == 20020 && in.board_bytes == 20020,
		      "ft2232h_counters", "usb_out %llu board %llu",
		      (unsigned long long)in.usb_out, (unsigned long long)in.board_bytes);
	}
	link_close(&l);

	/* latency 16 ms (the FTDI default): a lone byte waits for the timer */
	rc = link_open(&l, "s:QAEMU-IB,latency=16");
	if (rc == QA_OK) {
		usleep(50000); /* let the timer run out once, as between requests */
		t0 = now_s();
		rc = echo_round(&l, 1, 7, 1, &bad, err, sizeof err);
		double dt = now_s() - t0;
		check(&cx, rc == QA_OK && !bad && dt >= 0.015 && dt < 0.5,
		      "latency_timer_16ms_honoured", "rc %s, %.1f ms", qa_errname(rc), dt * 1e3);
		printf("  single-byte round trip at latency 16 ms: %.1f ms\n", dt * 1e3);

	} else {
		check(&cx, 0, "latency_timer_16ms_honoured", "open: %s", l.err);
	}
	link_close(&l);

	/* FT231X by bus:address, default 3 Mbaud, board inverts */
	snprintf(name, sizeof name, "d:1:%u", 2 + ulx);
	rc = link_open(&l, name);
	check(&cx, rc == QA_OK, "open_ft231x_by_bus_addr", "rc %s '%s'", qa_errname(rc), l.err);
	if (rc == QA_OK) {
		qa_emu_info in;
		qa_emu_info_get(emu, ulx, &in);
		check(&cx, in.baud_num == 3000000 * in.baud_den, "ft231x_default_3M",
		      "%llu/%llu", (unsigned long long)in.baud_num, (unsigned long long)in.baud_den);
		rc = echo_round(&l, 5000, 2, 2, &bad, err, sizeof err);
		check(&cx, rc == QA_OK && bad == 0, "ft231x_echo_5000_bytes_3M",
		      "rc %s bad %zu '%s'", qa_errname(rc), bad, err);
	}
	link_close(&l);

	/* a rate the FT231X cannot make (its maximum is 3 Mbaud) */
	rc = link_open(&l, "s:QAEMU-ULX,baud=5000000");
	check(&cx, rc == QA_ERR_RANGE && strstr(l.err, "cannot run 5000000 baud"),
	      "ft231x_refuses_5M", "rc %s '%s'", qa_errname(rc), l.err);
	printf("  message: %s\n", l.err);
	link_close(&l);
	snprintf(name, sizeof name, "d:001/%03u,baud=3000000", 2 + ulx);
	rc = link_open(&l, name);
	check(&cx, rc == QA_OK, "bus_slash_addr_selector", "rc %s '%s'", qa_errname(rc), l.err);
	link_close(&l);

	/* other matching rates */
	rc = link_open(&l, "s:QAEMU-1M,baud=1000000");
	rc = rc ? rc : echo_round(&l, 3000, 3, 0, &bad, err, sizeof err);
	check(&cx, rc == QA_OK && bad == 0, "echo_1M_matching", "rc %s bad %zu '%s%s'",
	      qa_errname(rc), bad, l.err, err);
	link_close(&l);
	rc = link_open(&l, "s:QAEMU-115K,baud=115200");
	rc = rc ? rc : echo_round(&l, 300, 4, 0, &bad, err, sizeof err);
	check(&cx, rc == QA_OK && bad == 0, "echo_115200_matching", "rc %s bad %zu '%s%s'",
	      qa_errname(rc), bad, l.err, err);
	link_close(&l);

	/* mismatched rates: garbage or a timeout, never the right bytes */
	struct { const char *arg; const char *what; int xform; } mism[] = {
		{ "s:QAEMU-IB,baud=6000000,timeout=300", "host_6M_board_12M", 1 },
		{ "s:QAEMU-ULX,baud=2000000,timeout=300", "host_2M_board_3M", 2 },
		{ "s:QAEMU-1M,baud=921600,timeout=300", "host_921600_board_1M", 0 },
		{ "s:QAEMU-115K,baud=1000000,timeout=300", "host_1M_board_115200", 0 },
	};
	for (size_t i = 0; i < sizeof mism / sizeof mism[0]; i++) {
		snprintf(name, sizeof name, "baud_mismatch_%s", mism[i].what);
		rc = link_open(&l, mism[i].arg);
		if (rc != QA_OK) {
			check(&cx, 0, name, "open: %s", l.err);
			continue;
		}
		err[0] = '\0';
		t0 = now_s();
		rc = echo_round(&l, 200, 5, mism[i].xform, &bad, err, sizeof err);
		double dt = now_s() - t0;
		check(&cx, (rc == QA_ERR_TIMEOUT || (rc == QA_OK && bad > 0)) && dt < 3.0, name,
		      "rc %s bad %zu in %.2f s", qa_errname(rc), bad, dt);
		printf("  %s: %s\n", mism[i].what,
		       rc == QA_OK ? "garbled bytes" : err);
		link_close(&l);
	}

	/* a board that never answers: a timeout with a clear message */
	rc = link_open(&l, "s:QAEMU-MUTE,timeout=300");
	if (rc == QA_OK) {
		t0 = now_s();
		rc = echo_round(&l, 16, 6, 0, &bad, err, sizeof err);
		double dt = now_s() - t0;
		check(&cx, rc == QA_ERR_TIMEOUT && strstr(err, "timed out") &&
			       strstr(err, "received 0 of 16") && dt >= 0.29 && dt < 2.0,
		      "silent_board_times_out", "rc %s %.2f s '%s'", qa_errname(rc), dt, err);
		printf("  message: %s\n", err);
	} else {
		check(&cx, 0, "silent_board_times_out", "open: %s", l.err);
	}
	link_close(&l);

	/* the divisor libftdi encodes, decoded by the emulated chip, equals
	 * the rate qa_ftdi_actual_rate() predicts */
	{
		static const int rates[] = { 12000000, 8000000, 6000000, 4000000, 3000000,
					     2000000, 1500000, 1000000, 921600, 500000,
					     460800, 230400, 115200, 57600, 19200, 9600,
					     1200, 300 };
		struct ftdi_context *f = ftdi_new();
		int nbad = 0, ntried = 0;
		const char *which[2] = { "QAEMU-IB", "QAEMU-ULX" };
		for (int chip = 0; f && chip < 2; chip++) {
			ftdi_set_interface(f, chip == 0 ? INTERFACE_B : INTERFACE_A);
			if (ftdi_usb_open_desc(f, 0x0403, chip == 0 ? 0x6010 : 0x6015, NULL,
					       which[chip]) < 0) {
				nbad++;
				printf("  open %s: %s\n", which[chip], ftdi_get_error_string(f));
				continue;
			}
			for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
				if (ftdi_set_baudrate(f, rates[i]) < 0)
					continue; /* outside the chip's range */
				qa_emu_info in;
				qa_emu_info_get(emu, chip == 0 ? ib : ulx, &in);
				uint64_t num, den;
				qa_ftdi_actual_rate(chip == 0, (uint32_t)rates[i], &num, &den);
				ntried++;
				if (in.baud_num * den != num * in.baud_den) {
					nbad++;
					printf("  %s %d: chip %.2f, predicted %.2f\n", which[chip],
					       rates[i], (double)in.baud_num / (double)in.baud_den,
					       (double)num / (double)den);
				}
			}
			if (chip == 0) {
				/* the other vendor requests libftdi has */
				unsigned char lat = 0, pins = 0;
				unsigned short st = 0;
				int ok = ftdi_set_latency_timer(f, 7) == 0 &&
					 ftdi_get_latency_timer(f, &lat) == 0 && lat == 7 &&
					 ftdi_poll_modem_status(f, &st) == 0 && (st & 0x6000u) == 0x6000u &&
					 ftdi_set_bitmode(f, 0xff, BITMODE_BITBANG) == 0 &&
					 ftdi_read_pins(f, &pins) == 0 &&
					 ftdi_set_bitmode(f, 0, BITMODE_RESET) == 0 &&
					 ftdi_setdtr_rts(f, 1, 1) == 0 &&
					 ftdi_set_event_char(f, 0x7e, 1) == 0 &&
					 ftdi_set_line_property2(f, BITS_7, STOP_BIT_2, EVEN, BREAK_OFF) == 0;
				qa_emu_info in;
				qa_emu_info_get(emu, ib, &in);
				check(&cx, ok && in.data_bits == 7 && in.parity == 2 && in.stop_bits == 2,
				      "vendor_requests_latency_status_bitmode_format",
				      "ok %d lat %u st 0x%04x bits %u par %u stop %u (%s)", ok, lat, st,
				      in.data_bits, in.parity, in.stop_bits, ftdi_get_error_string(f));
				int r = ftdi_read_eeprom(f);
				unsigned char ee[256];
				memset(ee, 0, sizeof ee);
				int blank = r == 0 && ftdi_get_eeprom_buf(f, ee, 256) == 0;
				for (int i = 0; blank && i < 256; i++)
					blank = ee[i] == 0xff;
				check(&cx, blank, "eeprom_reads_blank", "ftdi_read_eeprom %d (%s)", r,
				      ftdi_get_error_string(f));
			}
			ftdi_usb_close(f);
		}
		if (f)
			ftdi_free(f);
		check(&cx, f && nbad == 0 && ntried >= 30, "baud_divisor_decode_matches_prediction",
		      "%d of %d differ", nbad, ntried);
	}

	/* unplugged in the middle of a write: QA_ERR_IO, no hang, and the board
	 * got exactly the bytes sent before the plug came out */
	rc = link_open(&l, "s:QAEMU-UNPW,timeout=2000");
	if (rc == QA_OK) {
		uint8_t buf[8192];
		fill(buf, sizeof buf, 9);
		qa_emu_unplug_after(emu, unp_w, 3000);
		t0 = now_s();
		rc = qa_transport_ftdi.write(l.ctx, buf, sizeof buf, err, sizeof err);
		double dt = now_s() - t0;
		check(&cx, rc == QA_ERR_IO && strstr(err, "disconnected") && dt < 1.0,
		      "unplug_during_write", "rc %s %.2f s '%s'", qa_errname(rc), dt, err);
		printf("  message: %s\n", err);
		rc = qa_transport_ftdi.read(l.ctx, buf, 10, err, sizeof err);
		check(&cx, rc == QA_ERR_IO && strstr(err, "disconnected"),
		      "read_after_unplug", "rc %s '%s'", qa_errname(rc), err);
		qa_emu_info in;
		for (int i = 0; i < 100; i++) { /* let the board finish the line */
			qa_emu_info_get(emu, unp_w, &in);
			if (in.host_bytes == 3000)
				break;
			usleep(2000);
		}
		check(&cx, in.usb_out == 3000 && in.host_bytes == 3000 && !in.plugged,
		      "unplug_after_exactly_3000_bytes", "usb_out %llu line %llu",
		      (unsigned long long)in.usb_out, (unsigned long long)in.host_bytes);
	} else {
		check(&cx, 0, "unplug_during_write", "open: %s", l.err);
	}
	link_close(&l);
	qa_emu_poll(emu);
	rc = link_open(&l, "s:QAEMU-UNPW");
	check(&cx, rc == QA_ERR_IO && strstr(l.err, "no FTDI bridge with serial"),
	      "unplugged_bridge_gone", "rc %s '%s'", qa_errname(rc), l.err);
	link_close(&l);

	/* unplugged while the host waits for an answer; a libusb context
	 * listening for hotplug events sees the bridge leave */
	libusb_context *hctx = NULL;
	libusb_hotplug_callback_handle hh;
	unsigned left_addr = 0;
	if (libusb_init(&hctx) == 0)
		libusb_hotplug_register_callback(hctx, LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0,
						 0x0403, LIBUSB_HOTPLUG_MATCH_ANY,
						 LIBUSB_HOTPLUG_MATCH_ANY, on_left, &left_addr, &hh);
	rc = link_open(&l, "s:QAEMU-UNPR,timeout=5000");
	if (rc == QA_OK) {
		uint8_t buf[16] = { 1, 2, 3 };
		pthread_t th;
		unplugger u = { emu, unp_r, 200 };
		rc = qa_transport_ftdi.write(l.ctx, buf, 3, err, sizeof err);
		pthread_create(&th, NULL, unplug_later, &u);
		t0 = now_s();
		rc = qa_transport_ftdi.read(l.ctx, buf, sizeof buf, err, sizeof err);
		double dt = now_s() - t0;
		pthread_join(th, NULL);
		check(&cx, rc == QA_ERR_IO && strstr(err, "disconnected") && dt > 0.15 && dt < 2.0,
		      "unplug_during_read", "rc %s %.2f s '%s'", qa_errname(rc), dt, err);
		printf("  message: %s\n", err);
	} else {
		check(&cx, 0, "unplug_during_read", "open: %s", l.err);
	}
	link_close(&l);
	for (int i = 0; hctx && i < 40 && !left_addr; i++) {
		struct timeval tv = { 0, 25000 };
		libusb_handle_events_timeout_completed(hctx, &tv, NULL);
	}
	check(&cx, left_addr == 2 + unp_r, "hotplug_left_event", "left 001:%03u", left_addr);
	if (hctx)
		libusb_exit(hctx);

	/* permission denied: the node without access rights (as root, with
	 * CAP_DAC_OVERRIDE dropped from this thread) */
	if (qa_emu_chmod(emu, perm, 0, err, sizeof err) == QA_OK) {
		int dropped = geteuid() != 0 || caps_dac(0) == 0;
		if (!dropped) {
			printf("  cannot drop CAP_DAC_OVERRIDE (%s): permission check skipped\n",
			       strerror(errno));
		} else {
			rc = link_open(&l, "s:QAEMU-PERM");
			link_close(&l);
			check(&cx, rc == QA_ERR_IO && strstr(l.err, "no FTDI bridge with serial") &&
				       strstr(l.err, "permission denied"),
			      "permission_denied_by_serial", "rc %s '%s'", qa_errname(rc), l.err);
			snprintf(name, sizeof name, "d:1:%u", 2 + perm);
			rc = link_open(&l, name);
			link_close(&l);
			check(&cx, rc == QA_ERR_IO && strstr(l.err, "permission denied") &&
				       strstr(l.err, "udev"),
			      "permission_denied_by_addr", "rc %s '%s'", qa_errname(rc), l.err);
			printf("  message: %s\n", l.err);
			rc = qa_ftdi_list(boards, 16, &nb, err, sizeof err);
			int seen = 0;
			for (size_t i = 0; i < nb && i < 16; i++)
				if (boards[i].addr == 2 + perm && boards[i].access != QA_OK &&
				    strstr(boards[i].note, "permission denied")) {
					char line[256];
					qa_ftdi_board_line(&boards[i], line, sizeof line);
					printf("  list: %s\n", line);
					seen = 1;
				}
			check(&cx, rc == QA_OK && seen, "list_shows_permission_denied", "rc %s",
			      qa_errname(rc));
			if (geteuid() == 0)
				caps_dac(1);
		}
		qa_emu_chmod(emu, perm, 0644, err, sizeof err);
		rc = link_open(&l, "s:QAEMU-PERM");
		rc = rc ? rc : echo_round(&l, 100, 8, 0, &bad, err, sizeof err);
		check(&cx, rc == QA_OK && bad == 0, "permission_restored_works", "rc %s '%s%s'",
		      qa_errname(rc), l.err, err);
		link_close(&l);
	} else {
		check(&cx, 0, "permission_denied_by_addr", "chmod: %s", err);
	}

	/* real-time pacing: 3000 bytes at 3 Mbaud take at least 10 ms of line time */
	rc = link_open(&l, "s:QAEMU-RT");
	if (rc == QA_OK) {
		t0 = now_s();
		rc = echo_round(&l, 3000, 10, 0, &bad, err, sizeof err);
		double dt = now_s() - t0;
		check(&cx, rc == QA_OK && bad == 0 && dt >= 0.0095, "realtime_3M_line_rate",
		      "rc %s bad %zu %.1f ms", qa_errname(rc), bad, dt * 1e3);
		printf("  3000 bytes echoed at 3 Mbaud in real time: %.1f ms (line: 10.0 ms)\n",
		       dt * 1e3);
	} else {
		check(&cx, 0, "realtime_3M_line_rate", "open: %s", l.err);
	}
	link_close(&l);

	if (verbose) {
		for (unsigned i = 0; i < 9; i++) {
			char line[256];
			qa_emu_board_describe(emu, i, line, sizeof line);
			printf("  bridge %u: %s\n", i, line);
		}
	}
	qa_emu_free(emu);
	return check_summary(&cx);
}
