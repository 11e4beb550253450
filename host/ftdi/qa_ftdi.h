/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qa_ftdi.h - the USB-serial transports of libqarray (internal): "ftdi"
 * (libftdi1 on libusb-1.0) and "tty" (a kernel serial device with POSIX
 * termios), plus the listing of attached FTDI bridges for `qarray list`.
 *
 * Both transports move raw bytes; they know nothing of the wire protocol.
 * Target strings (docs/usb.md has the details):
 *
 *   ftdi[:OPT[,OPT...]]      OPT is one of
 *       s:SERIAL             the bridge with this USB serial number
 *       d:BUS:ADDR           the bridge at this USB bus and device address
 *                            (decimal, as lsusb prints them; BUS/ADDR works too)
 *       baud=N               line rate (default 12000000 on an FT2232H,
 *                            3000000 on an FT231X)
 *       latency=MS           FTDI latency timer, 1..255 (default 1)
 *       timeout=MS           a read fails after MS ms without a byte, a write
 *                            after MS ms without progress (default 2000)
 *       channel=A|B          FT2232H channel (default B, the UART on the
 *                            iCEBreaker; the FT231X has only A)
 *   tty:PATH[,baud=N][,timeout=MS]
 *
 * Without a selector the ftdi transport takes the only FT2232H/FT231X
 * attached and refuses to guess when there are several.
 */
#ifndef QA_FTDI_H
#define QA_FTDI_H

#include "transport.h"

#include <stddef.h>
#include <stdint.h>

extern const qa_transport_ops qa_transport_ftdi;
extern const qa_transport_ops qa_transport_tty;

/* One attached candidate board. */
typedef struct qa_ftdi_board {
	char type[16];          /* "FT2232H" or "FT231X" */
	uint16_t vid, pid;
	unsigned bus, addr;
	char serial[64];        /* "" when it could not be read */
	char manufacturer[64];
	char description[96];   /* the USB product string */
	int access;             /* QA_OK, or why the strings could not be read
				 * (QA_ERR_IO: permission denied, see note) */
	char note[96];          /* e.g. "permission denied: install udev/ rules" */
} qa_ftdi_board;

/*
 * List attached FT2232H (0403:6010) and FT231X (0403:6015) bridges into
 * boards[0..max), in bus/address order; *count receives how many exist
 * (may exceed max). Returns QA_OK, or QA_ERR_IO when libusb cannot start or
 * list devices (message in err).
 */
int qa_ftdi_list(qa_ftdi_board *boards, size_t max, size_t *count, char *err,
		 size_t errlen);

/*
 * One line for `qarray list`:
 *   FT2232H  001:004  serial=QAEMU1  "FTDI Dual RS232-HS"  target=ftdi:s:QAEMU1
 */
void qa_ftdi_board_line(const qa_ftdi_board *b, char *buf, size_t len);

/*
 * The rate an FTDI chip really runs for a requested baud (its divisor is
 * base/(n + k/8), base 12 MHz on the FT2232H above 733 baud, 3 MHz on the
 * FT231X, with n = 1 meaning 1.5 and 1 < n + k/8 < 2 not allowed), as the
 * fraction *num / *den. high_speed: 1 for the FT2232H.
 */
void qa_ftdi_actual_rate(int high_speed, uint32_t baud, uint64_t *num,
			 uint64_t *den);

#endif
