/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qa_emu.h - an emulated FTDI USB-serial bridge (FT2232H or FT231X) wired to
 * a board model, visible to the unmodified libusb/libftdi through umockdev.
 *
 * qa_emu_new() makes a umockdev testbed (a private sysfs and /dev in a temp
 * directory; it sets UMOCKDEV_DIR in this process's environment, so there is
 * at most one emulator per process). qa_emu_add() puts a bridge in it with
 * the chip's real descriptors and answers the usbdevfs ioctls of its device
 * node: control requests (reset, purge, baud divisor, data format, latency
 * timer, bit mode, modem status, EEPROM), bulk OUT into the chip's TX FIFO
 * and bulk IN with two status bytes at the start of every max-size packet,
 * honouring the latency timer. The UART channel's serial lines run bit by bit
 * into the board model (qa_board.h) at the baud the host set.
 *
 * Programs see the bridge when libumockdev-preload is loaded into them:
 *   - in the same process: link with -Wl,--no-as-needed -lumockdev-preload
 *     placed before the other libraries (the tests do this);
 *   - in another program: qa_emu_spawn() runs it with LD_PRELOAD and
 *     UMOCKDEV_DIR set, as umockdev-wrapper does (emu/qarray-emu does this).
 *
 * Functions return QA_OK or a negative qa_err (qarray.h) with a message in
 * err. The ioctl handlers run on umockdev's worker thread; every function
 * here may be called from any thread except where noted.
 */
#ifndef QA_EMU_H
#define QA_EMU_H

#include "qa_board.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qa_emu_chip {
	QA_EMU_FT2232H = 0, /* 0403:6010 bcdDevice 0x0700, high speed, 512 B, channels A+B */
	QA_EMU_FT231X = 1   /* 0403:6015 bcdDevice 0x1000, full speed, 64 B, one channel */
} qa_emu_chip;

typedef struct qa_emu qa_emu;

typedef struct qa_emu_bridge_cfg {
	qa_emu_chip chip;
	/* USB strings; NULL = the chip's factory defaults ("FTDI",
	 * "Dual RS232-HS" / "FT231X USB UART") and serial "QAEMU<n>" */
	const char *manufacturer, *product, *serial;
	/* wired to the UART channel (B on the FT2232H as on the iCEBreaker,
	 * the only one on the FT231X); the emulator takes it over and destroys
	 * it. board.step == NULL leaves the channel unconnected. */
	qa_board board;
	/* 1: simulated time never runs ahead of the wall clock (the link then
	 * moves bytes at the real line rate); 0: as fast as the model goes */
	int realtime;
	/* a faulty serial line both ways, for testing the link (spec of
	 * host/src/faults.h: "flip=P,drop=P,dup=P,garbage=P[,seed=N]");
	 * NULL = a perfect line */
	const char *link_faults;
} qa_emu_bridge_cfg;

typedef struct qa_emu_info {
	qa_emu_chip chip;
	unsigned bus, addr;
	char devnode[64];     /* /dev/bus/usb/BBB/DDD */
	char serial[64];
	int plugged;
	/* the wired channel, as the host configured it */
	uint64_t baud_num, baud_den;  /* rate = num / den bit/s */
	unsigned data_bits, parity, stop_bits;
	unsigned latency_ms, bitmode;
	unsigned opens, claims, resets;
	/* traffic */
	uint64_t usb_out, usb_in;     /* payload bytes over bulk OUT / IN */
	uint64_t host_bytes, board_bytes; /* bytes on the serial lines */
	uint64_t framing, parity_err, overrun;
	uint64_t cycles;              /* board clock cycles simulated */
} qa_emu_info;

const char *qa_emu_chip_name(qa_emu_chip chip);

/*
 * Decode an FTDI SET_BAUDRATE request (wValue, wIndex) for `chip` into the
 * exact rate num/den bit/s the chip would run: 3 MHz (or 12 MHz with the
 * FT2232H's divide-by-10 bit) / (n + k/8), with n = 0 -> base rate,
 * n = 1 -> base / 1.5.
 */
void qa_emu_decode_baud(qa_emu_chip chip, unsigned wvalue, unsigned windex,
			uint64_t *num, uint64_t *den);

int qa_emu_new(qa_emu **emu, int verbose, char *err, size_t errlen);
/* Stop every bridge and remove the testbed. */
void qa_emu_free(qa_emu *emu);
/* The testbed root (what UMOCKDEV_DIR says). */
const char *qa_emu_dir(const qa_emu *emu);

/* Plug in a bridge; *index (may be NULL) receives its number. */
int qa_emu_add(qa_emu *emu, const qa_emu_bridge_cfg *cfg, unsigned *index,
	       char *err, size_t errlen);
int qa_emu_info_get(qa_emu *emu, unsigned index, qa_emu_info *info);
/* One line of the board model's own counters ("" if it has none). */
void qa_emu_board_describe(qa_emu *emu, unsigned index, char *buf, size_t len);
/* What the faulty line (link_faults) did, both ways. */
void qa_emu_faults_describe(qa_emu *emu, unsigned index, char *buf, size_t len);

/*
 * Pull the plug: transfers in flight complete with -ESHUTDOWN (libusb
 * reports LIBUSB_ERROR_NO_DEVICE), every later ioctl on an open handle
 * fails with ENODEV, and the device leaves sysfs and /dev.
 */
int qa_emu_unplug(qa_emu *emu, unsigned index);
/* Pull the plug once the host has sent `bytes` bytes over bulk OUT (0 =
 * never); the board receives exactly that many. The device leaves sysfs
 * at the next qa_emu_poll(). */
int qa_emu_unplug_after(qa_emu *emu, unsigned index, uint64_t bytes);
/* Finish deferred work (sysfs removal after an automatic unplug). Call it
 * from the thread that made the emulator, now and then. */
void qa_emu_poll(qa_emu *emu);
/* chmod the device node (e.g. 0 to test "permission denied"). */
int qa_emu_chmod(qa_emu *emu, unsigned index, unsigned mode, char *err,
		 size_t errlen);

/*
 * Start argv[0] (searched in PATH) with libumockdev-preload in LD_PRELOAD
 * and UMOCKDEV_DIR set, so that it sees the emulated bridges and nothing
 * else. The caller waits for *pid (and calls qa_emu_poll meanwhile).
 */
int qa_emu_spawn(qa_emu *emu, char *const argv[], pid_t *pid, char *err,
		 size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
