/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_tty_pty.c - the "tty" transport (host/ftdi/transport_tty.c) against
 * a pseudo-terminal whose master side is a loopback peer thread (echo,
 * echo +1, or mute). A pty has no baud rate of its own, so this checks the
 * termios handling, raw mode, the line-rate plumbing (termios2 on Linux),
 * timeouts, hang-ups and the error messages - not a baud mismatch (the
 * emulated FTDI bridge in test_ftdi_emu.c does that).
 */
#define _GNU_SOURCE /* syscall(), usleep(), openpty() */
#include "check.h"
#include "qa_ftdi.h"
#include "tty_speed.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef struct peer {
	int master;
	int mode;            /* 0 echo, 1 echo + 1, 2 mute */
	volatile int stop;
	pthread_t th;
	unsigned long long bytes;
} peer;

static void *peer_main(void *arg)
{
	peer *p = arg;
	uint8_t buf[4096];
	while (!p->stop) {
		struct pollfd pf = { p->master, POLLIN, 0 };
		if (poll(&pf, 1, 20) <= 0)
			continue;
		ssize_t r = read(p->master, buf, sizeof buf);
		if (r <= 0) {
			/* EIO: no slave open (yet, or any more): wait for one */
			if (r < 0 && errno == EIO)
				usleep(2000);
			if (r < 0 && (errno == EAGAIN || errno == EIO))
				continue;
			break;
		}
		p->bytes += (unsigned long long)r;
		if (p->mode == 2)
			continue;
		for (ssize_t i = 0; i < r; i++)
			buf[i] = (uint8_t)(buf[i] + (p->mode == 1));
		for (ssize_t off = 0; off < r && !p->stop;) {
			ssize_t w = write(p->master, buf + off, (size_t)(r - off));
			if (w > 0)
				off += w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				return NULL;
			else
				poll(&(struct pollfd){ p->master, POLLOUT, 0 }, 1, 20);
		}
	}
	return NULL;
}

/* a pty with a raw master; *name gets the slave's path */
static int make_pty(peer *p, int mode, char *name, size_t len)
{
	int m, s;
	char n[128];
	if (openpty(&m, &s, n, NULL, NULL) != 0)
		return -1;
	struct termios t;
	tcgetattr(m, &t);
	cfmakeraw(&t);
	tcsetattr(m, TCSANOW, &t);
	fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
	close(s); /* the transport opens the slave by name */
	memset(p, 0, sizeof *p);
	p->master = m;
	p->mode = mode;
	snprintf(name, len, "%s", n);
	return pthread_create(&p->th, NULL, peer_main, p) == 0 ? 0 : -1;
}

static void stop_peer(peer *p)
{
	p->stop = 1;
	pthread_join(p->th, NULL);
	if (p->master >= 0)
		close(p->master);
	p->master = -1;
}

static int caps_dac(int on)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0)
		return -1;
	uint32_t bits = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);
	if (on)
		d[0].effective |= bits & d[0].permitted;
	else
		d[0].effective &= ~bits;
	return (int)syscall(SYS_capset, &h, d);
}

/* the fd inside the transport's context: first member */
static int ctx_fd(void *ctx)
{
	return *(int *)ctx;
}

int main(void)
{
	check_ctx cx = { 0 };
	char name[128], arg[256], err[512];
	peer p;
	void *ctx = NULL, *ctx2 = NULL;
	qa_dev_opts o;
	memset(&o, 0, sizeof o);
	const qa_transport_ops *t = &qa_transport_tty;
	int rc;

	if (make_pty(&p, 1, name, sizeof name) != 0) {
		printf("FAIL openpty: %s\n0 passed, 1 failed\n", strerror(errno));
		return 1;
	}
	/* an FT2232H rate that no Bxxx constant names */
	snprintf(arg, sizeof arg, "%s,baud=12000000,timeout=500", name);
	rc = t->open(&ctx, arg, &o, err, sizeof err);
	check(&cx, rc == QA_OK, "open_pty_12M", "rc %s '%s'", qa_errname(rc), err);
	if (rc == QA_OK) {
		struct termios tio;
		unsigned speed = 0;
		int fd = ctx_fd(ctx);
		int ok = tcgetattr(fd, &tio) == 0 && !(tio.c_lflag & (ICANON | ECHO | ISIG)) &&
			 (tio.c_cflag & CSIZE) == CS8 && !(tio.c_cflag & (PARENB | CSTOPB)) &&
			 !(tio.c_iflag & (IXON | ICRNL)) && !(tio.c_oflag & OPOST);
		check(&cx, ok, "raw_mode_8N1", "lflag %o cflag %o", (unsigned)tio.c_lflag,
		      (unsigned)tio.c_cflag);
		check(&cx, qa_tty_get_speed(fd, &speed) == 0 && speed == 12000000,
		      "termios2_speed_12000000", "speed %u", speed);

		/* 100000 bytes with every byte value, through the +1 peer, in
		 * blocks of 4096 (the link never has more in flight; a pty
		 * with both directions' buffers full can stall in the kernel,
		 * which a real UART, having no backpressure, cannot) */
		size_t n = 100000;
		uint8_t *tx = malloc(n), *rx = malloc(n);
		for (size_t i = 0; i < n; i++)
			tx[i] = (uint8_t)(i * 7u + (i >> 8));
		double t0 = now_s();
		rc = QA_OK;
		for (size_t off = 0; rc == QA_OK && off < n; off += 4096) {
			size_t k = n - off < 4096 ? n - off : 4096;
			rc = t->write(ctx, tx + off, k, err, sizeof err);
			if (rc == QA_OK)
				rc = t->read(ctx, rx + off, k, err, sizeof err);
		}
		size_t bad = 0;
		for (size_t i = 0; rc == QA_OK && i < n; i++)
			bad += rx[i] != (uint8_t)(tx[i] + 1);
		check(&cx, rc == QA_OK && bad == 0, "echo_100000_bytes_all_values",
		      "rc %s bad %zu '%s'", qa_errname(rc), bad, err);
		printf("  100000 bytes through the pty in %.3f s\n", now_s() - t0);
		free(tx);
		free(rx);

		/* a second user of the same port is refused */
		rc = t->open(&ctx2, arg, &o, err, sizeof err);
		check(&cx, rc == QA_ERR_IO && strstr(err, "busy"), "second_open_busy",
		      "rc %s '%s'", qa_errname(rc), err);
		printf("  message: %s\n", err);
		if (ctx2)
			t->close(ctx2);

		/* the peer hangs up: the next read fails at once */
		stop_peer(&p);
		uint8_t b[4] = { 1, 2, 3, 4 };
		t0 = now_s();
		rc = t->write(ctx, b, 4, err, sizeof err);
		if (rc == QA_OK)
			rc = t->read(ctx, b, 4, err, sizeof err);
		double dt = now_s() - t0;
		check(&cx, rc == QA_ERR_IO && strstr(err, "disconnected") && dt < 0.4,
		      "hangup_is_io_error", "rc %s %.2f s '%s'", qa_errname(rc), dt, err);
		printf("  message: %s\n", err);
		t->close(ctx);
		ctx = NULL;
	} else {
		stop_peer(&p);
	}

	/* a standard rate, the default timeout, and a silent peer */
	if (make_pty(&p, 2, name, sizeof name) == 0) {
		snprintf(arg, sizeof arg, "%s,baud=115200,timeout=300", name);
		rc = t->open(&ctx, arg, &o, err, sizeof err);
		if (rc == QA_OK) {
			struct termios tio;
			tcgetattr(ctx_fd(ctx), &tio);
			check(&cx, cfgetospeed(&tio) == B115200, "standard_rate_115200",
			      "speed code %o", (unsigned)cfgetospeed(&tio));
			uint8_t b[8] = { 0 };
			double t0 = now_s();
			rc = t->write(ctx, b, 8, err, sizeof err);
			if (rc == QA_OK)
				rc = t->read(ctx, b, 8, err, sizeof err);
			double dt = now_s() - t0;
			check(&cx, rc == QA_ERR_TIMEOUT && strstr(err, "timed out") &&
				       strstr(err, "received 0 of 8") && dt >= 0.29 && dt < 1.5,
			      "silent_peer_times_out", "rc %s %.2f s '%s'", qa_errname(rc), dt, err);
			printf("  message: %s\n", err);
			t->close(ctx);
			ctx = NULL;
		} else {
			check(&cx, 0, "silent_peer_times_out", "open: %s", err);
		}

		/* permission denied (root: CAP_DAC_OVERRIDE dropped in this thread) */
		chmod(name, 0);
		int dropped = geteuid() != 0 || caps_dac(0) == 0;
		if (dropped) {
			rc = t->open(&ctx, name, &o, err, sizeof err);
			check(&cx, rc == QA_ERR_IO && strstr(err, "permission denied") &&
				       strstr(err, "dialout"),
			      "permission_denied", "rc %s '%s'", qa_errname(rc), err);
			printf("  message: %s\n", err);
			if (ctx)
				t->close(ctx);
			ctx = NULL;
			if (geteuid() == 0)
				caps_dac(1);
		} else {
			printf("  cannot drop CAP_DAC_OVERRIDE: permission check skipped\n");
		}
		stop_peer(&p);
	}

	rc = t->open(&ctx, "/dev/ttyQAnothere0", &o, err, sizeof err);
	check(&cx, rc == QA_ERR_IO && strstr(err, "no serial device"), "no_such_device",
	      "rc %s '%s'", qa_errname(rc), err);
	printf("  message: %s\n", err);
	rc = t->open(&ctx, "/dev/null", &o, err, sizeof err);
	check(&cx, rc == QA_ERR_INVALID && strstr(err, "not a terminal"), "not_a_terminal",
	      "rc %s '%s'", qa_errname(rc), err);
	rc = t->open(&ctx, "/dev/null,speed=9", &o, err, sizeof err);
	check(&cx, rc == QA_ERR_INVALID && strstr(err, "speed=9"), "bad_option",
	      "rc %s '%s'", qa_errname(rc), err);
	rc = t->open(&ctx, "", &o, err, sizeof err);
	check(&cx, rc == QA_ERR_INVALID, "empty_path", "rc %s", qa_errname(rc));
	return check_summary(&cx);
}
