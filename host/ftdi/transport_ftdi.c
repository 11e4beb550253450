/* SPDX-License-Identifier: Apache-2.0 */
/*
 * transport_ftdi.c - the "ftdi" transport: an FT2232H or FT231X USB-serial
 * bridge driven from user space with libftdi1 on libusb-1.0 (qa_ftdi.h has
 * the target syntax, docs/usb.md the background).
 *
 * Open: list the USB devices, keep the FTDI bridges (0403:6010, 0403:6015),
 * pick one by serial or bus:address, try libusb_open() on it first (so a
 * permission problem is told apart from a busy device, which libftdi's
 * return codes do not do), then let libftdi open it (it detaches ftdi_sio
 * and claims the interface), reset it, and set bit mode (plain UART), baud,
 * 8N1, no flow control, the latency timer, and purge both FIFOs.
 *
 * Data: libftdi's own ftdi_read_data() polls the bulk IN endpoint only
 * while it is called, so during a long write nothing reads, the bridge's RX
 * FIFO (4 KiB on the FT2232H, 512 B on the FT231X) fills with what the
 * board answers meanwhile and overruns; these boards wire no RTS/CTS to stop
 * the FPGA. So the transport keeps one asynchronous bulk IN transfer in
 * flight from open to close (libusb completes it inside every libusb call
 * that handles events, including the synchronous OUT transfers of a write),
 * strips the two status bytes of every max-size packet itself and queues
 * the data until read() asks for it. libftdi opens and configures the chip;
 * it exposes the libusb handle, endpoints and packet size for this.
 *
 * Read fails with QA_ERR_TIMEOUT after `timeout` ms without a new byte (a
 * live bridge answers every IN request within one latency period, with just
 * the status bytes when it has nothing), naming line errors the bridge
 * flagged in the status bytes (framing errors: a baud mismatch). A write
 * fails with QA_ERR_TIMEOUT after `timeout` ms without progress. An
 * unplugged bridge fails both with QA_ERR_IO at once.
 *
 * Built with QA_NO_LIBFTDI defined (no libftdi1 on the machine), the
 * transport exists but every open fails with QA_ERR_UNSUPPORTED.
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "qa_ftdi.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void qa_ftdi_actual_rate(int high_speed, uint32_t baud, uint64_t *num,
			 uint64_t *den)
{
	uint64_t base = (high_speed && (uint64_t)baud * 10 > 120000000u / 0x3fffu) ?
				12000000u : 3000000u;
	if (baud == 0)
		baud = 1;
	if (baud >= base) {
		*num = base;
		*den = 1;
	} else if ((uint64_t)baud * 3 >= base * 2) { /* divisor 1.5 */
		*num = base * 2;
		*den = 3;
	} else if ((uint64_t)baud * 2 >= base) { /* divisor 2 */
		*num = base;
		*den = 2;
	} else {
		/* eighths, rounded as libftdi does; 17 bits at most */
		uint64_t d16 = base * 16 / baud;
		uint64_t d8 = d16 / 2 + (d16 & 1u);
		if (d8 > 0x20000u)
			d8 = 0x1ffffu;
		*num = base * 8;
		*den = d8;
	}
}

void qa_ftdi_board_line(const qa_ftdi_board *b, char *buf, size_t len)
{
	char target[96];
	if (b->access == QA_OK && b->serial[0])
		snprintf(target, sizeof target, "ftdi:s:%s", b->serial);
	else
		snprintf(target, sizeof target, "ftdi:d:%u:%u", b->bus, b->addr);
	if (b->access == QA_OK)
		snprintf(buf, len, "%-8s %03u:%03u  serial=%s  \"%s%s%s\"  target=%s",
			 b->type, b->bus, b->addr,
			 b->serial[0] ? b->serial : "(none)", b->manufacturer,
			 b->manufacturer[0] ? " " : "", b->description, target);
	else
		snprintf(buf, len, "%-8s %03u:%03u  (%s)  target=%s", b->type,
			 b->bus, b->addr, b->note, target);
}

#ifdef QA_NO_LIBFTDI

static int ftdi_open_stub(void **ctx, const char *arg, const qa_dev_opts *opts,
			  char *err, size_t errlen)
{
	(void)arg;
	(void)opts;
	*ctx = NULL;
	snprintf(err, errlen,
		 "this libqarray was built without libftdi1; install it "
		 "(Debian: libftdi1-dev) and rebuild, or use --target tty:/dev/ttyUSBn");
	return QA_ERR_UNSUPPORTED;
}

static void ftdi_close_stub(void *ctx)
{
	(void)ctx;
}

static int ftdi_io_stub(void *ctx, uint8_t *buf, size_t n, char *err,
			size_t errlen)
{
	(void)ctx;
	(void)buf;
	(void)n;
	snprintf(err, errlen, "not open");
	return QA_ERR_UNSUPPORTED;
}

static int ftdi_write_stub(void *ctx, const uint8_t *buf, size_t n, char *err,
			   size_t errlen)
{
	return ftdi_io_stub(ctx, (uint8_t *)(uintptr_t)buf, n, err, errlen);
}

int qa_ftdi_list(qa_ftdi_board *boards, size_t max, size_t *count, char *err,
		 size_t errlen)
{
	(void)boards;
	(void)max;
	*count = 0;
	snprintf(err, errlen, "built without libftdi1");
	return QA_ERR_UNSUPPORTED;
}

const qa_transport_ops qa_transport_ftdi = {
	.name = "ftdi",
	.open = ftdi_open_stub,
	.close = ftdi_close_stub,
	.write = ftdi_write_stub,
	.read = ftdi_io_stub,
	.cycles = NULL,
};

#else /* with libftdi1 */

#include <ftdi.h>
#include <libusb.h>

#define VID_FTDI 0x0403u
#define PID_2232H 0x6010u
#define PID_231X 0x6015u
#define MAX_CAND 16
#define DEFAULT_LATENCY_MS 1u
#define DEFAULT_TIMEOUT_MS 2000u
#define WRITE_CHUNK 16384

typedef struct ftdi_opts {
	char serial[64];
	int by_serial, by_addr;
	unsigned bus, addr;
	uint32_t baud;          /* 0 = the chip's default */
	unsigned latency_ms, timeout_ms;
	int channel;            /* 0 = default, 1 = A, 2 = B */
} ftdi_opts;

#define IN_XFER_LEN 4096
#define RXQ_MAX (64u << 20)   /* stop reading ahead beyond 64 MiB */

typedef struct ftdi_ctx {
	struct ftdi_context *f;
	const char *type;
	unsigned bus, addr;
	uint32_t baud;
	unsigned timeout_ms;
	int verbose;
	char where[48];         /* "FT2232H at 001:004" for messages */
	/* the bulk IN transfer kept in flight, and what it brought */
	struct libusb_transfer *in;
	uint8_t in_buf[IN_XFER_LEN];
	int in_busy;            /* submitted, callback not yet run */
	int in_stop;            /* do not resubmit (closing) */
	int in_err;             /* a libusb_transfer_status that ended it */
	uint8_t *rxq;           /* received bytes [rx_head, rx_head + rx_len) */
	size_t rx_head, rx_len, rx_cap;
	unsigned lsr;           /* line-status error bits seen */
	uint64_t rx_total;
} ftdi_ctx;

typedef struct cand {
	libusb_device *dev;
	const char *type;
	unsigned pid, bus, addr;
	char serial[64];
	int serial_rc;          /* libusb result of reading the serial */
} cand;

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int parse_uint(const char *s, size_t len, unsigned long max,
		      unsigned long *v)
{
	char tmp[24];
	if (len == 0 || len >= sizeof tmp)
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	char *end;
	unsigned long x = strtoul(tmp, &end, 10);
	if (*end || tmp[0] == '-' || x > max)
		return -1;
	*v = x;
	return 0;
}

/* "s:SER,d:1:4,baud=...": options separated by commas */
static int parse_opts(const char *arg, ftdi_opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof *o);
	o->latency_ms = DEFAULT_LATENCY_MS;
	o->timeout_ms = DEFAULT_TIMEOUT_MS;
	const char *p = arg ? arg : "";
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		unsigned long v, v2;
		if (len > 2 && strncmp(p, "s:", 2) == 0) {
			if (len - 2 >= sizeof o->serial)
				goto bad;
			memcpy(o->serial, p + 2, len - 2);
			o->serial[len - 2] = '\0';
			o->by_serial = 1;
		} else if (len > 2 && strncmp(p, "d:", 2) == 0) {
			const char *a = p + 2;
			size_t alen = len - 2;
			const char *sep = memchr(a, ':', alen);
			if (!sep)
				sep = memchr(a, '/', alen);
			if (!sep || parse_uint(a, (size_t)(sep - a), 255, &v) ||
			    parse_uint(sep + 1, alen - (size_t)(sep - a) - 1, 255, &v2))
				goto bad;
			o->bus = (unsigned)v;
			o->addr = (unsigned)v2;
			o->by_addr = 1;
		} else if (len > 5 && strncmp(p, "baud=", 5) == 0) {
			if (parse_uint(p + 5, len - 5, 12000000, &v) || v < 300)
				goto bad;
			o->baud = (uint32_t)v;
		} else if (len > 8 && strncmp(p, "latency=", 8) == 0) {
			if (parse_uint(p + 8, len - 8, 255, &v) || v < 1)
				goto bad;
			o->latency_ms = (unsigned)v;
		} else if (len > 8 && strncmp(p, "timeout=", 8) == 0) {
			if (parse_uint(p + 8, len - 8, 3600000, &v) || v < 1)
				goto bad;
			o->timeout_ms = (unsigned)v;
		} else if (len == 9 && strncmp(p, "channel=", 8) == 0 &&
			   (p[8] == 'A' || p[8] == 'B' || p[8] == 'a' || p[8] == 'b')) {
			o->channel = (p[8] == 'A' || p[8] == 'a') ? 1 : 2;
		} else {
			goto bad;
		}
		if (o->by_serial && o->by_addr) {
			snprintf(err, errlen,
				 "ftdi target: give s:SERIAL or d:BUS:ADDR, not both");
			return QA_ERR_INVALID;
		}
		p += len;
		if (*p == ',')
			p++;
		continue;
bad:
		snprintf(err, errlen,
			 "ftdi target: bad option '%.*s' (expected s:SERIAL, "
			 "d:BUS:ADDR, baud=300..12000000, latency=1..255, "
			 "timeout=MS, channel=A|B)",
			 (int)len, p);
		return QA_ERR_INVALID;
	}
	return QA_OK;
}

static const char *type_of(unsigned pid)
{
	return pid == PID_2232H ? "FT2232H" : pid == PID_231X ? "FT231X" : NULL;
}

/* read a string descriptor; returns a libusb result (>= 0 = length) */
static int read_string(libusb_device *dev, uint8_t index, char *out,
		       size_t len, libusb_device_handle *h_in)
{
	libusb_device_handle *h = h_in;
	out[0] = '\0';
	if (index == 0)
		return 0;
	if (!h) {
		int r = libusb_open(dev, &h);
		if (r < 0)
			return r;
	}
	int r = libusb_get_string_descriptor_ascii(h, index, (unsigned char *)out,
						   (int)len);
	if (r < 0)
		out[0] = '\0';
	if (!h_in)
		libusb_close(h);
	return r;
}

static void access_hint(char *buf, size_t len, const char *what)
{
	snprintf(buf, len,
		 "permission denied opening %s: install the udev rules "
		 "(sudo cp udev/60-qarray-ftdi.rules /etc/udev/rules.d/ && "
		 "sudo udevadm control --reload, then re-plug the board; "
		 "see udev/README.md)",
		 what);
}

/* collect the FTDI bridges among libusb's devices; *others gets a short
 * list of what else is attached, for the "no device" message */
static size_t find_cands(libusb_device **list, cand *c, size_t max,
			 char *others, size_t olen, size_t *n_usb)
{
	size_t k = 0, used = 0;
	*n_usb = 0;
	if (olen)
		others[0] = '\0';
	for (size_t i = 0; list[i]; i++) {
		struct libusb_device_descriptor d;
		if (libusb_get_device_descriptor(list[i], &d) < 0)
			continue;
		(*n_usb)++;
		const char *t = d.idVendor == VID_FTDI ? type_of(d.idProduct) : NULL;
		unsigned bus = libusb_get_bus_number(list[i]);
		unsigned addr = libusb_get_device_address(list[i]);
		if (!t) {
			if (used + 40 < olen) {
				int w = snprintf(others + used, olen - used,
						 "%s%04x:%04x at %03u:%03u",
						 used ? ", " : "", d.idVendor,
						 d.idProduct, bus, addr);
				if (w > 0)
					used += (size_t)w;
			}
			continue;
		}
		if (k == max)
			continue;
		memset(&c[k], 0, sizeof c[k]);
		c[k].dev = list[i];
		c[k].type = t;
		c[k].pid = d.idProduct;
		c[k].bus = bus;
		c[k].addr = addr;
		c[k].serial_rc = read_string(list[i], d.iSerialNumber, c[k].serial,
					     sizeof c[k].serial, NULL);
		k++;
	}
	return k;
}

static void describe_cands(const cand *c, size_t n, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used + 8 < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s at %03u:%03u serial %s",
				 i ? "; " : "", c[i].type, c[i].bus, c[i].addr,
				 c[i].serial_rc == LIBUSB_ERROR_ACCESS ? "(permission denied)" :
				 c[i].serial[0] ? c[i].serial : "(none)");
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static void ftdi_close(void *ctx);
static int in_start(ftdi_ctx *x, char *err, size_t errlen);

/* turn the options into the bridge to open; *chosen set on success */
static int choose(const ftdi_opts *o, cand *c, size_t n, size_t n_usb,
		  const char *others, cand **chosen, char *err, size_t errlen)
{
	char found[512];
	describe_cands(c, n, found, sizeof found);
	size_t match = n, hits = 0;
	for (size_t i = 0; i < n; i++) {
		int ok = 1;
		if (o->by_addr)
			ok = c[i].bus == o->bus && c[i].addr == o->addr;
		if (o->by_serial)
			ok = strcmp(c[i].serial, o->serial) == 0;
		if (ok) {
			if (hits++ == 0)
				match = i;
		}
	}
	if (n == 0) {
		snprintf(err, errlen,
			 "no FTDI bridge found: looked for FT2232H (0403:6010) and "
			 "FT231X (0403:6015) among %zu USB device%s%s%s%s; is the "
			 "board plugged in?",
			 n_usb, n_usb == 1 ? "" : "s", others[0] ? " (" : "", others,
			 others[0] ? ")" : "");
		return QA_ERR_IO;
	}
	if (hits == 0) {
		int denied = 0;
		for (size_t i = 0; i < n; i++)
			denied |= c[i].serial_rc == LIBUSB_ERROR_ACCESS;
		if (o->by_serial)
			snprintf(err, errlen,
				 "no FTDI bridge with serial '%s'; found: %s%s",
				 o->serial, found,
				 denied ? " (serials of some could not be read: "
					  "permission denied; see udev/README.md)" : "");
		else
			snprintf(err, errlen,
				 "no FTDI bridge at %03u:%03u; found: %s", o->bus,
				 o->addr, found);
		return QA_ERR_IO;
	}
	if (hits > 1) {
		snprintf(err, errlen,
			 "%zu FTDI bridges match; choose one with "
			 "ftdi:s:SERIAL or ftdi:d:BUS:ADDR: %s",
			 hits, found);
		return QA_ERR_INVALID;
	}
	*chosen = &c[match];
	return QA_OK;
}

static int configure(ftdi_ctx *x, const ftdi_opts *o, char *err, size_t errlen)
{
	struct ftdi_context *f = x->f;
	const char *step;
	int r;
	step = "bit mode";
	r = ftdi_set_bitmode(f, 0, BITMODE_RESET);
	if (r < 0)
		goto fail;
	r = ftdi_set_baudrate(f, (int)x->baud);
	if (r == -1) {
		uint64_t num, den;
		qa_ftdi_actual_rate(f->type == TYPE_2232H, x->baud, &num, &den);
		snprintf(err, errlen,
			 "the %s cannot run %u baud (nearest rate %.0f is more than "
			 "5%% off); %s",
			 x->where, x->baud, (double)num / (double)den,
			 f->type == TYPE_2232H ?
				 "the FT2232H does 12M, 8M, 6M and 12 MHz/(n+k/8)" :
				 "the FT231X does 3M, 2M, 1.5M and 3 MHz/(n+k/8)");
		return QA_ERR_RANGE;
	}
	step = "baud rate";
	if (r < 0)
		goto fail;
	step = "line properties (8N1)";
	r = ftdi_set_line_property(f, BITS_8, STOP_BIT_1, NONE);
	if (r < 0)
		goto fail;
	step = "flow control";
	r = ftdi_setflowctrl(f, SIO_DISABLE_FLOW_CTRL);
	if (r < 0)
		goto fail;
	step = "latency timer";
	r = ftdi_set_latency_timer(f, (unsigned char)o->latency_ms);
	if (r < 0)
		goto fail;
	step = "purge";
	r = ftdi_tcioflush(f);
	if (r < 0)
		goto fail;
	return QA_OK;
fail:
	snprintf(err, errlen, "%s: setting the %s failed: %s", x->where, step,
		 ftdi_get_error_string(f));
	return QA_ERR_IO;
}

static int ftdi_open(void **ctxp, const char *arg, const qa_dev_opts *opts,
		     char *err, size_t errlen)
{
	ftdi_opts o;
	libusb_device **list = NULL;
	cand cands[MAX_CAND];
	char others[256];
	size_t n_usb = 0;
	cand *c = NULL;
	int rc;
	*ctxp = NULL;
	rc = parse_opts(arg, &o, err, errlen);
	if (rc != QA_OK)
		return rc;
	ftdi_ctx *x = calloc(1, sizeof *x);
	if (!x)
		return QA_ERR_NOMEM;
	x->verbose = opts ? opts->verbose : 0;
	x->timeout_ms = o.timeout_ms;
	x->f = ftdi_new();
	if (!x->f) {
		snprintf(err, errlen, "libftdi could not start libusb (ftdi_new failed)");
		rc = QA_ERR_IO;
		goto out;
	}
	ssize_t nl = libusb_get_device_list(x->f->usb_ctx, &list);
	if (nl < 0) {
		snprintf(err, errlen, "cannot list USB devices: %s",
			 libusb_strerror((int)nl));
		list = NULL;
		rc = QA_ERR_IO;
		goto out;
	}
	size_t n = find_cands(list, cands, MAX_CAND, others, sizeof others, &n_usb);
	rc = choose(&o, cands, n, n_usb, others, &c, err, errlen);
	if (rc != QA_OK)
		goto out;
	x->type = c->type;
	x->bus = c->bus;
	x->addr = c->addr;
	snprintf(x->where, sizeof x->where, "%s at %03u:%03u", c->type, c->bus,
		 c->addr);

	/* tell "permission denied" from the rest before libftdi hides it */
	libusb_device_handle *probe = NULL;
	int r = libusb_open(c->dev, &probe);
	if (r == LIBUSB_ERROR_ACCESS) {
		char what[64];
		snprintf(what, sizeof what, "the %s", x->where);
		access_hint(err, errlen, what);
		rc = QA_ERR_IO;
		goto out;
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot open the %s: %s", x->where,
			 libusb_strerror(r));
		rc = QA_ERR_IO;
		goto out;
	}
	libusb_close(probe);

	int is_h = c->pid == PID_2232H;
	if (!is_h && o.channel == 2) {
		snprintf(err, errlen, "the %s has only channel A", x->where);
		rc = QA_ERR_INVALID;
		goto out;
	}
	enum ftdi_interface intf = !is_h || o.channel == 1 ? INTERFACE_A : INTERFACE_B;
	if (ftdi_set_interface(x->f, intf) < 0) {
		snprintf(err, errlen, "%s: %s", x->where, ftdi_get_error_string(x->f));
		rc = QA_ERR_IO;
		goto out;
	}
	r = ftdi_usb_open_dev(x->f, c->dev);
	if (r == -5 || r == -3) {
		snprintf(err, errlen,
			 "the %s is busy: interface %c could not be claimed (another "
			 "program has it open - a second qarray, iceprog, "
			 "openFPGALoader - or the ftdi_sio driver could not be "
			 "detached)",
			 x->where, intf == INTERFACE_A ? 'A' : 'B');
		rc = QA_ERR_IO;
		goto out;
	}
	if (r == -8) {
		char what[64];
		snprintf(what, sizeof what, "the %s", x->where);
		access_hint(err, errlen, what);
		rc = QA_ERR_IO;
		goto out;
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot open the %s: %s (libftdi %d)", x->where,
			 ftdi_get_error_string(x->f), r);
		rc = QA_ERR_IO;
		goto out;
	}
	if ((is_h && x->f->type != TYPE_2232H) || (!is_h && x->f->type != TYPE_230X)) {
		snprintf(err, errlen,
			 "the %s reports an unexpected chip type (libftdi type %d)",
			 x->where, (int)x->f->type);
		rc = QA_ERR_DEVICE;
		goto out;
	}
	x->baud = o.baud ? o.baud : is_h ? 12000000u : 3000000u;
		x->f->usb_write_timeout = (int)o.timeout_ms;
	rc = configure(x, &o, err, errlen);
	if (rc == QA_OK)
		rc = in_start(x, err, errlen);
	if (rc != QA_OK)
		goto out;
	if (x->verbose) {
		uint64_t num, den;
		qa_ftdi_actual_rate(is_h, x->baud, &num, &den);
		fprintf(stderr,
			"qarray: ftdi: %s serial %s channel %c, %u baud (bridge "
			"runs %.1f), 8N1, latency %u ms, timeout %u ms\n",
			x->where, c->serial[0] ? c->serial : "(none)",
			intf == INTERFACE_A ? 'A' : 'B', x->baud,
			(double)num / (double)den, o.latency_ms, o.timeout_ms);
	}
	*ctxp = x;
	x = NULL;
out:
	if (list)
		libusb_free_device_list(list, 1);
	ftdi_close(x);
	return rc;
}

/* ---- the bulk IN stream ---------------------------------------------------- */

static int rxq_append(ftdi_ctx *x, const uint8_t *p, size_t n)
{
	if (x->rx_head + x->rx_len + n > x->rx_cap) {
		if (x->rx_head) {
			memmove(x->rxq, x->rxq + x->rx_head, x->rx_len);
			x->rx_head = 0;
		}
		if (x->rx_len + n > x->rx_cap) {
			size_t cap = x->rx_cap ? x->rx_cap : 65536;
			while (cap < x->rx_len + n)
				cap *= 2;
			uint8_t *q = realloc(x->rxq, cap);
			if (!q)
				return -1;
			x->rxq = q;
			x->rx_cap = cap;
		}
	}
	memcpy(x->rxq + x->rx_head + x->rx_len, p, n);
	x->rx_len += n;
	x->rx_total += n;
	return 0;
}

static int in_submit(ftdi_ctx *x)
{
	int r = libusb_submit_transfer(x->in);
	if (r == 0) {
		x->in_busy = 1;
		return 0;
	}
	x->in_err = r == LIBUSB_ERROR_NO_DEVICE ? LIBUSB_TRANSFER_NO_DEVICE :
		    LIBUSB_TRANSFER_ERROR;
	return r;
}

static void LIBUSB_CALL in_done(struct libusb_transfer *t)
{
	ftdi_ctx *x = t->user_data;
	x->in_busy = 0;
	if (t->status != LIBUSB_TRANSFER_COMPLETED) {
		if (t->status != LIBUSB_TRANSFER_CANCELLED)
			x->in_err = (int)t->status;
		return;
	}
	/* every max-size packet starts with modem status and line status */
	size_t mps = x->f->max_packet_size ? x->f->max_packet_size : 64;
	for (size_t at = 0; at < (size_t)t->actual_length; at += mps) {
		size_t len = (size_t)t->actual_length - at;
		if (len > mps)
			len = mps;
		if (len < 2)
			break;
		x->lsr |= t->buffer[at + 1] & 0x1eu;
		if (len > 2 && rxq_append(x, t->buffer + at + 2, len - 2) != 0) {
			x->in_err = LIBUSB_TRANSFER_OVERFLOW;
			return;
		}
	}
	if (!x->in_stop && x->rx_len < RXQ_MAX)
		in_submit(x);
}

/* handle libusb events for up to ms milliseconds */
static void pump(ftdi_ctx *x, int64_t ms)
{
	if (!x->in_busy && !x->in_err && !x->in_stop && x->rx_len < RXQ_MAX)
		in_submit(x);
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
	libusb_handle_events_timeout_completed(x->f->usb_ctx, &tv, NULL);
}

static int in_start(ftdi_ctx *x, char *err, size_t errlen)
{
	x->in = libusb_alloc_transfer(0);
	if (!x->in) {
		snprintf(err, errlen, "out of memory");
		return QA_ERR_NOMEM;
	}
	libusb_fill_bulk_transfer(x->in, x->f->usb_dev, (unsigned char)x->f->out_ep,
				  x->in_buf, IN_XFER_LEN, in_done, x, 0);
	int r = in_submit(x);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot start reading: %s", x->where,
			 libusb_strerror(r));
		return QA_ERR_IO;
	}
	return QA_OK;
}

static void in_stop(ftdi_ctx *x)
{
	if (!x->in)
		return;
	x->in_stop = 1;
	if (x->in_busy) {
		libusb_cancel_transfer(x->in);
		int64_t until = now_ms() + 2000;
		while (x->in_busy && now_ms() < until) {
			struct timeval tv = { 0, 50000 };
			libusb_handle_events_timeout_completed(x->f->usb_ctx, &tv, NULL);
		}
	}
	/* a transfer that never came back is leaked rather than freed under
	 * libusb's feet */
	if (!x->in_busy)
		libusb_free_transfer(x->in);
	x->in = NULL;
}

static void ftdi_close(void *ctx)
{
	ftdi_ctx *x = ctx;
	if (!x)
		return;
	if (x->f) {
		in_stop(x);
		if (x->f->usb_dev)
			ftdi_usb_close(x->f);
		ftdi_free(x->f);
	}
	free(x->rxq);
	free(x);
}

static int gone(int status_or_err)
{
	return status_or_err == LIBUSB_ERROR_NO_DEVICE ||
	       status_or_err == LIBUSB_TRANSFER_NO_DEVICE;
}

static int usb_fail(ftdi_ctx *x, int libusb_err, int xfer_status,
		    const char *what, size_t done, size_t n, char *err,
		    size_t errlen)
{
	if (gone(libusb_err) || xfer_status == LIBUSB_TRANSFER_NO_DEVICE) {
		snprintf(err, errlen,
			 "the %s was disconnected during a %s (%zu of %zu bytes done)",
			 x->where, what, done, n);
		return QA_ERR_IO;
	}
	snprintf(err, errlen, "USB %s on the %s failed: %s (%zu of %zu bytes done)",
		 what, x->where,
		 libusb_err ? libusb_strerror(libusb_err) :
		 xfer_status == LIBUSB_TRANSFER_OVERFLOW ? "receive buffer overflow" :
		 xfer_status == LIBUSB_TRANSFER_STALL ? "endpoint stalled" :
		 "transfer error",
		 done, n);
	return QA_ERR_IO;
}

static int ftdi_write(void *ctx, const uint8_t *buf, size_t n, char *err,
		      size_t errlen)
{
	ftdi_ctx *x = ctx;
	struct ftdi_context *f = x->f;
	size_t done = 0;
	int64_t last = now_ms();
	if (x->in_err)
		return usb_fail(x, 0, x->in_err, "write", 0, n, err, errlen);
	while (done < n) {
		size_t chunk = n - done < WRITE_CHUNK ? n - done : WRITE_CHUNK;
		int actual = 0;
		/* keep the IN transfer going: libusb completes it while it
		 * waits for this one */
		if (!x->in_busy && !x->in_err && x->rx_len < RXQ_MAX)
			in_submit(x);
		int r = libusb_bulk_transfer(f->usb_dev, (unsigned char)f->in_ep,
					     (unsigned char *)(uintptr_t)(buf + done),
					     (int)chunk, &actual, (unsigned)x->timeout_ms);
		if (actual > 0) {
			done += (size_t)actual;
			last = now_ms();
		}
		if (r == 0 || (r == LIBUSB_ERROR_TIMEOUT && actual > 0))
			continue;
		if (r == LIBUSB_ERROR_TIMEOUT) {
			if (now_ms() - last < (int64_t)x->timeout_ms)
				continue;
			snprintf(err, errlen,
				 "the %s accepted no data for %u ms (%zu of %zu "
				 "bytes sent): the board is not draining the link",
				 x->where, x->timeout_ms, done, n);
			return QA_ERR_TIMEOUT;
		}
		return usb_fail(x, r, 0, "write", done, n, err, errlen);
	}
	return QA_OK;
}

static void line_errors(const ftdi_ctx *x, char *buf, size_t len)
{
	static const struct { unsigned bit; const char *what; } names[] = {
		{ 0x08u, "framing errors" }, { 0x04u, "parity errors" },
		{ 0x02u, "overruns" }, { 0x10u, "a break" },
	};
	char list[80] = "";
	size_t used = 0;
	for (size_t i = 0; i < 4; i++)
		if (x->lsr & names[i].bit) {
			int w = snprintf(list + used, sizeof list - used, "%s%s",
					 used ? ", " : "", names[i].what);
			if (w > 0 && (size_t)w < sizeof list - used)
				used += (size_t)w;
		}
	buf[0] = '\0';
	if (used)
		snprintf(buf, len, "; the bridge flagged %s on its RX line (a baud "
			 "mismatch with the board?)", list);
}

static int ftdi_read(void *ctx, uint8_t *buf, size_t n, char *err,
		     size_t errlen)
{
	ftdi_ctx *x = ctx;
	size_t got = 0;
	int64_t last = now_ms();
	for (;;) {
		size_t k = x->rx_len < n - got ? x->rx_len : n - got;
		if (k) {
			memcpy(buf + got, x->rxq + x->rx_head, k);
			x->rx_head += k;
			x->rx_len -= k;
			got += k;
			last = now_ms();
		}
		if (got == n)
			return QA_OK;
		if (x->in_err)
			return usb_fail(x, 0, x->in_err, "read", got, n, err, errlen);
		int64_t left = last + (int64_t)x->timeout_ms - now_ms();
		if (left <= 0) {
			char lines[160];
			line_errors(x, lines, sizeof lines);
			snprintf(err, errlen,
				 "timed out: no data from the %s for %u ms "
				 "(received %zu of %zu bytes at %u baud)%s",
				 x->where, x->timeout_ms, got, n, x->baud, lines);
			return QA_ERR_TIMEOUT;
		}
		pump(x, left < 100 ? left : 100);
	}
}

int qa_ftdi_list(qa_ftdi_board *boards, size_t max, size_t *count, char *err,
		 size_t errlen)
{
	libusb_context *ctx = NULL;
	libusb_device **list = NULL;
	int rc = QA_OK;
	*count = 0;
	int r = libusb_init(&ctx);
	if (r < 0) {
		snprintf(err, errlen, "libusb_init: %s", libusb_strerror(r));
		return QA_ERR_IO;
	}
	ssize_t nl = libusb_get_device_list(ctx, &list);
	if (nl < 0) {
		snprintf(err, errlen, "cannot list USB devices: %s",
			 libusb_strerror((int)nl));
		rc = QA_ERR_IO;
		list = NULL;
		goto out;
	}
	for (ssize_t i = 0; i < nl; i++) {
		struct libusb_device_descriptor d;
		if (libusb_get_device_descriptor(list[i], &d) < 0 ||
		    d.idVendor != VID_FTDI || !type_of(d.idProduct))
			continue;
		/* insertion by bus, then address */
		qa_ftdi_board b;
		memset(&b, 0, sizeof b);
		snprintf(b.type, sizeof b.type, "%s", type_of(d.idProduct));
		b.vid = d.idVendor;
		b.pid = d.idProduct;
		b.bus = libusb_get_bus_number(list[i]);
		b.addr = libusb_get_device_address(list[i]);
		libusb_device_handle *h = NULL;
		r = libusb_open(list[i], &h);
		if (r == 0) {
			read_string(list[i], d.iSerialNumber, b.serial, sizeof b.serial, h);
			read_string(list[i], d.iManufacturer, b.manufacturer,
				    sizeof b.manufacturer, h);
			read_string(list[i], d.iProduct, b.description,
				    sizeof b.description, h);
			libusb_close(h);
		} else {
			b.access = QA_ERR_IO;
			if (r == LIBUSB_ERROR_ACCESS)
				snprintf(b.note, sizeof b.note,
					 "permission denied: install the udev rules, see udev/README.md");
			else
				snprintf(b.note, sizeof b.note, "cannot open: %s",
					 libusb_strerror(r));
		}
		size_t at = *count < max ? *count : max;
		while (at > 0 && (boards[at - 1].bus > b.bus ||
				  (boards[at - 1].bus == b.bus && boards[at - 1].addr > b.addr)))
			at--;
		if (at < max) {
			size_t last = *count < max ? *count : max - 1;
			memmove(&boards[at + 1], &boards[at], (last - at) * sizeof b);
			boards[at] = b;
		}
		(*count)++;
	}
out:
	if (list)
		libusb_free_device_list(list, 1);
	libusb_exit(ctx);
	return rc;
}

const qa_transport_ops qa_transport_ftdi = {
	.name = "ftdi",
	.open = ftdi_open,
	.close = ftdi_close,
	.write = ftdi_write,
	.read = ftdi_read,
	.cycles = NULL,
};

#endif
