/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport_tty.c - the "tty" transport: a serial device of the kernel
 * (/dev/ttyUSBn of ftdi_sio, /dev/ttyACMn, a pseudo-terminal) with POSIX
 * termios, for users who keep the kernel's FTDI driver.
 *
 *   tty:PATH[,baud=N][,timeout=MS]
 *
 * The port is opened non-blocking, locked with flock() (a second qarray
 * gets "busy" instead of sharing the byte stream), put in raw mode (8N1, no
 * echo, no line editing, no CR/LF translation, no software or hardware flow
 * control, VMIN = VTIME = 0), set to the baud and flushed. On Linux the rate
 * goes through termios2/BOTHER, so any rate the driver accepts works
 * (ftdi_sio: 12 Mbaud on an FT2232H, 3 Mbaud on an FT231X) and the rate the
 * driver really set is read back; elsewhere only the POSIX rates up to
 * 230400 are available. Without baud=, a ttyUSB whose USB parent is an
 * FT2232H (0403:6010) gets 12000000, an FT231X (0403:6015) 3000000, anything
 * else 115200.
 *
 * While a write waits for room, whatever arrives is read into a queue that
 * the next read() takes first: the board may answer during a long write, and
 * a tty without flow control drops what its 4 KiB input buffer cannot hold.
 * Reads wait with poll() and fail with QA_ERR_TIMEOUT after `timeout` ms
 * (default 2000) without a byte; a hang-up (unplugged adapter, closed pty
 * master) fails at once with QA_ERR_IO.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "qa_ftdi.h"
#include "tty_speed.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define TTY_DEFAULT_TIMEOUT_MS 2000u

#define TTY_RXQ_MAX (64u << 20)

typedef struct tty_ctx {
	int fd;                 /* first member: the tests look at it */
	char path[256];
	unsigned baud, actual, timeout_ms;
	uint8_t *rxq;           /* read ahead during writes */
	size_t rx_head, rx_len, rx_cap;
} tty_ctx;

static int64_t tty_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int tty_parse(const char *arg, tty_ctx *c, char *err, size_t errlen)
{
	if (!arg || !*arg || *arg == ',') {
		snprintf(err, errlen, "tty target needs a device: tty:/dev/ttyUSB1");
		return QA_ERR_INVALID;
	}
	const char *comma = strchr(arg, ',');
	size_t plen = comma ? (size_t)(comma - arg) : strlen(arg);
	if (plen >= sizeof c->path) {
		snprintf(err, errlen, "tty path too long");
		return QA_ERR_INVALID;
	}
	memcpy(c->path, arg, plen);
	c->path[plen] = '\0';
	c->timeout_ms = TTY_DEFAULT_TIMEOUT_MS;
	const char *p = comma;
	while (p && *p == ',') {
		p++;
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char val[24];
		const char *key = NULL;
		if (len > 5 && strncmp(p, "baud=", 5) == 0)
			key = "baud";
		else if (len > 8 && strncmp(p, "timeout=", 8) == 0)
			key = "timeout";
		size_t klen = key ? strlen(key) + 1 : 0;
		if (!key || len - klen >= sizeof val)
			goto bad;
		memcpy(val, p + klen, len - klen);
		val[len - klen] = '\0';
		char *e;
		unsigned long v = strtoul(val, &e, 10);
		if (*e || val[0] == '-' || v == 0)
			goto bad;
		if (key[0] == 'b') {
			if (v < 50 || v > 12000000)
				goto bad;
			c->baud = (unsigned)v;
		} else {
			if (v > 3600000)
				goto bad;
			c->timeout_ms = (unsigned)v;
		}
		p = end;
		continue;
bad:
		snprintf(err, errlen,
			 "tty target: bad option '%.*s' (expected baud=50..12000000 "
			 "or timeout=MS)",
			 (int)len, p);
		return QA_ERR_INVALID;
	}
	return QA_OK;
}

/* the default rate from the USB parent of a ttyUSB/ttyACM, if any */
static unsigned default_baud(const char *path)
{
	const char *name = strrchr(path, '/');
	name = name ? name + 1 : path;
	char sys[512], id[16] = "";
	snprintf(sys, sizeof sys, "/sys/class/tty/%s/device/../../idProduct", name);
	FILE *f = fopen(sys, "r");
	if (f) {
		if (!fgets(id, sizeof id, f))
			id[0] = '\0';
		fclose(f);
	}
	if (strncmp(id, "6010", 4) == 0)
		return 12000000;
	if (strncmp(id, "6015", 4) == 0)
		return 3000000;
	return 115200;
}

static void list_ports(char *buf, size_t len)
{
	static const char *const pats[] = { "/dev/ttyUSB*", "/dev/ttyACM*" };
	size_t used = 0;
	buf[0] = '\0';
	for (size_t k = 0; k < 2; k++) {
		glob_t g;
		if (glob(pats[k], 0, NULL, &g) != 0)
			continue;
		for (size_t i = 0; i < g.gl_pathc && used + 2 < len; i++) {
			int w = snprintf(buf + used, len - used, "%s%s", used ? " " : "",
					 g.gl_pathv[i]);
			if (w > 0)
				used += (size_t)w;
		}
		globfree(&g);
	}
}

static int posix_speed(unsigned baud, speed_t *sp)
{
	static const struct { unsigned baud; speed_t sp; } tab[] = {
		{ 50, B50 }, { 75, B75 }, { 110, B110 }, { 134, B134 },
		{ 150, B150 }, { 200, B200 }, { 300, B300 }, { 600, B600 },
		{ 1200, B1200 }, { 1800, B1800 }, { 2400, B2400 }, { 4800, B4800 },
		{ 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 },
#ifdef B57600
		{ 57600, B57600 },
#endif
#ifdef B115200
		{ 115200, B115200 },
#endif
#ifdef B230400
		{ 230400, B230400 },
#endif
#ifdef B460800
		{ 460800, B460800 },
#endif
#ifdef B500000
		{ 500000, B500000 }, { 576000, B576000 }, { 921600, B921600 },
		{ 1000000, B1000000 }, { 1152000, B1152000 }, { 1500000, B1500000 },
		{ 2000000, B2000000 }, { 2500000, B2500000 }, { 3000000, B3000000 },
		{ 3500000, B3500000 }, { 4000000, B4000000 },
#endif
	};
	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
		if (tab[i].baud == baud) {
			*sp = tab[i].sp;
			return 0;
		}
	return -1;
}

static int set_raw(tty_ctx *c, char *err, size_t errlen)
{
	struct termios t;
	if (tcgetattr(c->fd, &t) != 0) {
		snprintf(err, errlen, "%s is not a terminal (%s)", c->path,
			 strerror(errno));
		return errno == ENOTTY ? QA_ERR_INVALID : QA_ERR_IO;
	}
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
				 IGNCR | ICRNL | IXON | IXOFF | IXANY | INPCK);
	t.c_oflag &= ~(tcflag_t)OPOST;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB);
#ifdef CRTSCTS
	t.c_cflag &= ~(tcflag_t)CRTSCTS;
#endif
	t.c_cflag |= CS8 | CLOCAL | CREAD;
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	/* a named rate the portable way; any other one through termios2 */
	speed_t sp;
	int named = posix_speed(c->baud, &sp) == 0;
	if (named) {
		cfsetispeed(&t, sp);
		cfsetospeed(&t, sp);
	}
#ifndef __linux__
	if (!named) {
		snprintf(err, errlen,
			 "%u baud has no Bxxx constant here; other rates need Linux "
			 "(termios2)", c->baud);
		return QA_ERR_UNSUPPORTED;
	}
#endif
	if (tcsetattr(c->fd, TCSANOW, &t) != 0) {
		snprintf(err, errlen, "cannot configure %s: %s", c->path,
			 strerror(errno));
		return QA_ERR_IO;
	}
	c->actual = c->baud;
#ifdef __linux__
	if (!named && qa_tty_set_speed(c->fd, c->baud, &c->actual) != 0) {
		snprintf(err, errlen, "%s refused %u baud: %s", c->path, c->baud,
			 strerror(errno));
		return QA_ERR_RANGE;
	}
	if (named)
		qa_tty_get_speed(c->fd, &c->actual);
	/* a rate more than 3% off does not talk to a UART at the asked rate */
	if ((uint64_t)c->actual * 100 > (uint64_t)c->baud * 103 ||
	    (uint64_t)c->actual * 103 < (uint64_t)c->baud * 100) {
		snprintf(err, errlen, "%s runs %u baud when asked for %u", c->path,
			 c->actual, c->baud);
		return QA_ERR_RANGE;
	}
#endif
	tcflush(c->fd, TCIOFLUSH);
	return QA_OK;
}

static void tty_close(void *ctx)
{
	tty_ctx *c = ctx;
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->rxq);
	free(c);
}

static int tty_open(void **ctxp, const char *arg, const qa_dev_opts *opts,
		    char *err, size_t errlen)
{
	*ctxp = NULL;
	tty_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return QA_ERR_NOMEM;
	c->fd = -1;
	int rc = tty_parse(arg, c, err, errlen);
	if (rc != QA_OK)
		goto out;
	if (!c->baud)
		c->baud = default_baud(c->path);
	c->fd = open(c->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (c->fd < 0) {
		int e = errno;
		char ports[256];
		if (e == EACCES || e == EPERM) {
			snprintf(err, errlen,
				 "permission denied opening %s: add yourself to the group "
				 "that owns it (Debian: sudo usermod -aG dialout $USER, then "
				 "log in again), or use --target ftdi with the udev rules "
				 "in udev/",
				 c->path);
		} else if (e == ENOENT || e == ENODEV || e == ENXIO) {
			list_ports(ports, sizeof ports);
			snprintf(err, errlen, "no serial device %s (%s); present: %s",
				 c->path, strerror(e), ports[0] ? ports : "none");
		} else if (e == EBUSY) {
			snprintf(err, errlen, "%s is busy (%s)", c->path, strerror(e));
		} else {
			snprintf(err, errlen, "cannot open %s: %s", c->path, strerror(e));
		}
		rc = QA_ERR_IO;
		goto out;
	}
	if (flock(c->fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "%s is busy: another program holds it (flock: %s)",
			 c->path, strerror(errno));
		rc = QA_ERR_IO;
		goto out;
	}
	rc = set_raw(c, err, errlen);
	if (rc != QA_OK)
		goto out;
	if (opts && opts->verbose)
		fprintf(stderr, "qarray: tty: %s raw 8N1 at %u baud (driver: %u), "
			"timeout %u ms\n", c->path, c->baud, c->actual, c->timeout_ms);
	*ctxp = c;
	c = NULL;
out:
	tty_close(c);
	return rc;
}

static int hangup(const tty_ctx *c, const char *what, int e, size_t done,
		  size_t n, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "%s was disconnected during a %s (%s; %zu of %zu bytes done)",
		 c->path, what, e ? strerror(e) : "hang-up", done, n);
	return QA_ERR_IO;
}

/* read what has arrived, without waiting, into the queue; returns 0 or
 * the errno of a hang-up. (With VMIN = VTIME = 0 a read of a tty without
 * data returns 0, not EAGAIN: a hang-up shows as EIO or in poll().) */
static int drain(tty_ctx *c)
{
	for (;;) {
		if (c->rx_len >= TTY_RXQ_MAX)
			return 0;
		if (c->rx_head + c->rx_len == c->rx_cap) {
			if (c->rx_head) {
				memmove(c->rxq, c->rxq + c->rx_head, c->rx_len);
				c->rx_head = 0;
			} else {
				size_t cap = c->rx_cap ? 2 * c->rx_cap : 65536;
				uint8_t *q = realloc(c->rxq, cap);
				if (!q)
					return 0; /* read it later */
				c->rxq = q;
				c->rx_cap = cap;
			}
		}
		size_t room = c->rx_cap - c->rx_head - c->rx_len;
		ssize_t r = read(c->fd, c->rxq + c->rx_head + c->rx_len, room);
		if (r > 0) {
			c->rx_len += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 || errno == EAGAIN)
			return 0;
		return errno;
	}
}

static int tty_write(void *ctx, const uint8_t *buf, size_t n, char *err,
		     size_t errlen)
{
	tty_ctx *c = ctx;
	size_t done = 0;
	int64_t last = tty_now_ms();
	while (done < n) {
		ssize_t w = write(c->fd, buf + done, n - done);
		if (w > 0) {
			done += (size_t)w;
			last = tty_now_ms();
		} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			return hangup(c, "write", errno, done, n, err, errlen);
		}
		int e = drain(c);
		if (e)
			return hangup(c, "write", e, done, n, err, errlen);
		if (w > 0 || done == n)
			continue;
		int64_t left = last + (int64_t)c->timeout_ms - tty_now_ms();
		if (left <= 0) {
			snprintf(err, errlen,
				 "%s accepted no data for %u ms (%zu of %zu bytes sent)",
				 c->path, c->timeout_ms, done, n);
			return QA_ERR_TIMEOUT;
		}
		struct pollfd p = { c->fd, POLLOUT | POLLIN, 0 };
		if (poll(&p, 1, (int)(left < INT_MAX ? left : INT_MAX)) < 0 &&
		    errno != EINTR)
			return hangup(c, "write", errno, done, n, err, errlen);
		if (!(p.revents & (POLLIN | POLLOUT)) &&
		    (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
			return hangup(c, "write", 0, done, n, err, errlen);
	}
	return QA_OK;
}

static int tty_read(void *ctx, uint8_t *buf, size_t n, char *err,
		    size_t errlen)
{
	tty_ctx *c = ctx;
	size_t got = c->rx_len < n ? c->rx_len : n;
	if (got) {
		memcpy(buf, c->rxq + c->rx_head, got);
		c->rx_head += got;
		c->rx_len -= got;
	}
	int64_t last = tty_now_ms();
	while (got < n) {
		ssize_t r = read(c->fd, buf + got, n - got);
		if (r > 0) {
			got += (size_t)r;
			last = tty_now_ms();
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN)
			return hangup(c, "read", errno, got, n, err, errlen);
		int64_t left = last + (int64_t)c->timeout_ms - tty_now_ms();
		if (left <= 0) {
			snprintf(err, errlen,
				 "timed out: no data from %s for %u ms (received %zu "
				 "of %zu bytes at %u baud); check the board is "
				 "programmed and its UART runs at that baud",
				 c->path, c->timeout_ms, got, n, c->baud);
			return QA_ERR_TIMEOUT;
		}
		struct pollfd p = { c->fd, POLLIN, 0 };
		int pr = poll(&p, 1, (int)(left < INT_MAX ? left : INT_MAX));
		if (pr < 0 && errno != EINTR)
			return hangup(c, "read", errno, got, n, err, errlen);
		/* with data pending, read it before believing a hang-up */
		if (pr > 0 && !(p.revents & POLLIN) &&
		    (p.revents & (POLLERR | POLLHUP | POLLNVAL)))
			return hangup(c, "read", 0, got, n, err, errlen);
	}
	return QA_OK;
}

const qa_transport_ops qa_transport_tty = {
	.name = "tty",
	.open = tty_open,
	.close = tty_close,
	.write = tty_write,
	.read = tty_read,
	.cycles = NULL,
};
