/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tty_speed.c - arbitrary tty line rates on Linux (see tty_speed.h).
 *
 * struct termios2 carries the rate as a number in c_ispeed / c_ospeed when
 * the CBAUD field holds BOTHER; the kernel hands that number to the serial
 * driver (ftdi_sio computes the FTDI divisor from it and reports the rate it
 * really set). Elsewhere only the POSIX Bxxx rates exist, and the caller
 * uses cfsetospeed() instead.
 */
#include "tty_speed.h"

#include <errno.h>

#ifdef __linux__

#include <asm/termbits.h>
#include <sys/ioctl.h>

int qa_tty_set_speed(int fd, unsigned baud, unsigned *actual)
{
	struct termios2 t;
	if (ioctl(fd, TCGETS2, &t) < 0)
		return -1;
	t.c_cflag &= ~(tcflag_t)(CBAUD | (CBAUD << IBSHIFT));
	t.c_cflag |= BOTHER | (BOTHER << IBSHIFT);
	t.c_ispeed = baud;
	t.c_ospeed = baud;
	if (ioctl(fd, TCSETS2, &t) < 0)
		return -1;
	if (ioctl(fd, TCGETS2, &t) < 0)
		return -1;
	*actual = t.c_ospeed;
	return 0;
}

int qa_tty_get_speed(int fd, unsigned *baud)
{
	struct termios2 t;
	if (ioctl(fd, TCGETS2, &t) < 0)
		return -1;
	*baud = t.c_ospeed;
	return 0;
}

#else

int qa_tty_set_speed(int fd, unsigned baud, unsigned *actual)
{
	(void)fd;
	(void)baud;
	(void)actual;
	errno = ENOSYS;
	return -1;
}

int qa_tty_get_speed(int fd, unsigned *baud)
{
	(void)fd;
	(void)baud;
	errno = ENOSYS;
	return -1;
}

#endif
