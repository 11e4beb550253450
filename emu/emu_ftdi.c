/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_ftdi.c - the emulated FTDI bridge behind umockdev (see qa_emu.h).
 *
 * umockdev 0.17 gives every device node a unix socket; the preloaded
 * library turns each ioctl() of a client on that node into a message, and
 * the "handle-ioctl" signal of our UMockdevIoctlBase runs on the testbed's
 * worker thread. The client's memory is reached only through
 * umockdev_ioctl_data_resolve() (a local copy, written back when the ioctl
 * completes), which works the same whether the client is this process or
 * another one.
 *
 * The usbdevfs side is what libusb-1.0's Linux backend uses: SUBMITURB,
 * REAPURBNDELAY and DISCARDURB for transfers, CLAIM/RELEASEINTERFACE,
 * GETDRIVER and IOCTL(DISCONNECT) for the kernel driver, SETCONFIGURATION,
 * RESET, GET_CAPABILITIES. The device node of a umockdev device is a regular
 * file, so poll() on it is always ready and libusb reaps in a loop; URB
 * completion is therefore decided when a reap comes in: OUT URBs complete
 * once all their bytes fit into the chip's TX FIFO, IN URBs when the URB is
 * full of max-size packets or the latency timer has run out (then a short
 * packet, at least the two status bytes, ends it), as on the chip.
 *
 * umockdev cannot raise POLLERR on the node, so an unplug completes the
 * URBs in flight with -ESHUTDOWN (libusb: LIBUSB_TRANSFER_NO_DEVICE) and
 * fails every later ioctl with ENODEV (libusb: LIBUSB_ERROR_NO_DEVICE).
 */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include "qa_emu.h"

#include "emu_line.h"
#include "qarray.h"

#include <umockdev.h>

#include <errno.h>
#include <linux/usbdevice_fs.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

extern char **environ;

#define MAX_BRIDGES 16
#define MAX_URB_LEN (1u << 20)
#define EEPROM_WORDS 1024

/* FTDI vendor requests (libftdi's SIO_*_REQUEST values) */
enum {
	RQ_RESET = 0x00,
	RQ_MODEM_CTRL = 0x01,
	RQ_FLOW_CTRL = 0x02,
	RQ_SET_BAUD = 0x03,
	RQ_SET_DATA = 0x04,
	RQ_POLL_MODEM = 0x05,
	RQ_EVENT_CHAR = 0x06,
	RQ_ERROR_CHAR = 0x07,
	RQ_SET_LATENCY = 0x09,
	RQ_GET_LATENCY = 0x0a,
	RQ_SET_BITMODE = 0x0b,
	RQ_READ_PINS = 0x0c,
	RQ_READ_EEPROM = 0x90,
	RQ_WRITE_EEPROM = 0x91,
	RQ_ERASE_EEPROM = 0x92,
};

/* one URB the host submitted and has not reaped yet */
typedef struct urb_rec {
	struct urb_rec *next;
	UMockdevIoctlClient *client;  /* referenced */
	unsigned long uaddr;          /* the URB's address in the client */
	unsigned type, ep, chan;
	int len;                      /* buffer_length */
	uint8_t *data;                /* len bytes */
	int actual, status, done;
	int out_off;                  /* OUT: bytes already in the TX FIFO */
} urb_rec;

typedef struct chan {
	emu_line *line;               /* NULL: nothing wired */
	unsigned latency_ms, bitmode, bitmask, modem, flow;
	uint64_t baud_num, baud_den;
	unsigned data_word;           /* last SET_DATA wValue */
	int64_t last_pkt_ns;          /* latency timer restarts here */
	UMockdevIoctlClient *claimed_by; /* interface claim, referenced */
	int driver_bound;             /* "ftdi_sio" until detached */
	uint64_t usb_out, usb_in;
} chan;

typedef struct bridge {
	qa_emu *emu;
	qa_emu_chip chip;
	unsigned bus, addr, nchan, mps, wired;
	char devnode[64], syspath[128];
	char manufacturer[64], product[64], serial[64];
	uint8_t dev_desc[18];
	uint8_t cfg_desc[64];
	size_t cfg_len;
	qa_board board;
	UMockdevIoctlBase *handler;
	pthread_mutex_t mu;
	chan ch[2];
	urb_rec *urbs;
	int unplugged, removed;
	uint64_t unplug_after, out_total;
	unsigned opens, claims, resets;
	uint16_t eeprom[EEPROM_WORDS];
} bridge;

struct qa_emu {
	UMockdevTestbed *tb;
	char *root;
	int verbose;
	pthread_mutex_t mu;
	bridge *br[MAX_BRIDGES];
	unsigned n;
};

const char *qa_emu_chip_name(qa_emu_chip chip)
{
	return chip == QA_EMU_FT231X ? "FT231X" : "FT2232H";
}

static int64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* ---- baud rates ----------------------------------------------------------- */

void qa_emu_decode_baud(qa_emu_chip chip, unsigned wvalue, unsigned windex,
			uint64_t *num, uint64_t *den)
{
	/* fractional-divisor code -> eighths (the inverse of FTDI's table) */
	static const unsigned eighths[8] = { 0, 4, 2, 1, 3, 5, 6, 7 };
	uint32_t enc;
	uint64_t base = 3000000; /* 48 MHz / 16 */
	if (chip == QA_EMU_FT2232H) {
		/* H chips carry divisor bits 16..23 in wIndex's high byte; its
		 * low byte selects the channel */
		enc = (uint32_t)(wvalue & 0xffffu) |
		      (uint32_t)((windex >> 8) & 0xffu) << 16;
		if (enc & 0x20000u)
			base = 12000000; /* 120 MHz / 10 */
	} else {
		enc = (uint32_t)(wvalue & 0xffffu) |
		      (uint32_t)(windex & 0xffffu) << 16;
	}
	unsigned n = enc & 0x3fffu;
	unsigned f = eighths[(enc >> 14) & 7u];
	if (n == 0 && f == 0) {
		*num = base;
		*den = 1;
	} else if (n == 1 && f == 0) {
		*num = base * 2;
		*den = 3;
	} else {
		*num = base * 8;
		*den = 8u * n + f;
	}
}

/* ---- descriptors ------------------------------------------------------------ */

static void put_ep(uint8_t *p, unsigned addr, unsigned mps)
{
	const uint8_t d[7] = { 7, 5, (uint8_t)addr, 2, (uint8_t)(mps & 0xff),
			       (uint8_t)(mps >> 8), 0 };
	memcpy(p, d, 7);
}

static void put_intf(uint8_t *p, unsigned num)
{
	const uint8_t d[9] = { 9, 4, (uint8_t)num, 0, 2, 0xff, 0xff, 0xff, 2 };
	memcpy(p, d, 9);
}

static void build_descriptors(bridge *b)
{
	int hs = b->chip == QA_EMU_FT2232H;
	unsigned pid = hs ? 0x6010 : 0x6015;
	unsigned bcd = hs ? 0x0700 : 0x1000;
	const uint8_t dev[18] = {
		18, 1, 0x00, 0x02, 0, 0, 0, (uint8_t)(hs ? 64 : 8),
		0x03, 0x04, (uint8_t)(pid & 0xff), (uint8_t)(pid >> 8),
		(uint8_t)(bcd & 0xff), (uint8_t)(bcd >> 8), 1, 2, 3, 1
	};
	memcpy(b->dev_desc, dev, sizeof dev);
	uint8_t *c = b->cfg_desc;
	size_t len = 9;
	for (unsigned i = 0; i < b->nchan; i++) {
		put_intf(c + len, i);
		put_ep(c + len + 9, 0x81 + 2 * i, b->mps);
		put_ep(c + len + 16, 0x02 + 2 * i, b->mps);
		len += 23;
	}
	const uint8_t cfg[9] = { 9, 2, (uint8_t)len, 0, (uint8_t)b->nchan, 1, 0,
				 (uint8_t)(hs ? 0x80 : 0xa0),
				 (uint8_t)(hs ? 0x32 : 0x2d) };
	memcpy(c, cfg, 9);
	b->cfg_len = len;
}

static int string_desc(const bridge *b, unsigned idx, uint8_t *out, int max)
{
	uint8_t d[130];
	int n;
	if (idx == 0) {
		d[0] = 4;
		d[1] = 3;
		d[2] = 0x09; /* 0x0409 English (US) */
		d[3] = 0x04;
		n = 4;
	} else {
		const char *s = idx == 1 ? b->manufacturer :
				idx == 2 ? b->product :
				idx == 3 ? b->serial : NULL;
		if (!s)
			return -1;
		size_t k = strlen(s);
		if (k > 63)
			k = 63;
		d[0] = (uint8_t)(2 + 2 * k);
		d[1] = 3;
		for (size_t i = 0; i < k; i++) {
			d[2 + 2 * i] = (uint8_t)s[i];
			d[3 + 2 * i] = 0;
		}
		n = (int)(2 + 2 * k);
	}
	if (n > max)
		n = max;
	memcpy(out, d, (size_t)n);
	return n;
}

/* ---- channel state ------------------------------------------------------------ */

static void chan_defaults(chan *c)
{
	c->latency_ms = 16;
	c->bitmode = 0;
	c->bitmask = 0;
	c->modem = 0;
	c->flow = 0;
	c->baud_num = 9600;
	c->baud_den = 1;
	c->data_word = 8;
	c->last_pkt_ns = mono_ns();
}

static void chan_apply_format(chan *c)
{
	if (!c->line)
		return;
	unsigned w = c->data_word;
	emu_line_fmt f = {
		.baud_num = c->baud_num,
		.baud_den = c->baud_den,
		.data_bits = w & 0xffu,
		.parity = (w >> 8) & 7u,
		.stop_bits = ((w >> 11) & 3u) == 0 ? 1u : 2u,
		.brk = (w >> 14) & 1u,
	};
	emu_line_set_format(c->line, &f);
}

/* the channel a vendor request addresses (wIndex low byte: 0/1 = A, 2 = B) */
static chan *req_chan(bridge *b, unsigned windex)
{
	unsigned i = windex & 0xffu;
	if (b->chip == QA_EMU_FT231X)
		return &b->ch[0];
	return (i == 2) ? &b->ch[1] : &b->ch[0];
}

static unsigned line_status_base(chan *c)
{
	unsigned s = 0;
	if (!c->line || emu_line_tx_empty(c->line))
		s |= 0x60u; /* THRE | TEMT */
	return s;
}

/* A control request. Returns the number of data bytes for an IN request
 * (or 0), or -1 to stall. */
static int control(bridge *b, const uint8_t *setup, uint8_t *data, int dmax)
{
	unsigned rt = setup[0], rq = setup[1];
	unsigned wv = setup[2] | (unsigned)setup[3] << 8;
	unsigned wi = setup[4] | (unsigned)setup[5] << 8;
	unsigned wl = setup[6] | (unsigned)setup[7] << 8;
	int max = (int)wl < dmax ? (int)wl : dmax;
	if ((rt & 0x60u) == 0) { /* standard */
		switch (rq) {
		case 0x06: { /* GET_DESCRIPTOR */
			unsigned type = wv >> 8, idx = wv & 0xffu;
			const uint8_t *src = NULL;
			int n = 0;
			static const uint8_t qual[10] = { 10, 6, 0x00, 0x02, 0, 0, 0, 64, 1, 0 };
			if (type == 1) {
				src = b->dev_desc;
				n = 18;
			} else if (type == 2 && idx == 0) {
				src = b->cfg_desc;
				n = (int)b->cfg_len;
			} else if (type == 3) {
				return string_desc(b, idx, data, max);
			} else if (type == 6 && b->chip == QA_EMU_FT2232H) {
				src = qual;
				n = 10;
			} else {
				return -1;
			}
			if (n > max)
				n = max;
			memcpy(data, src, (size_t)n);
			return n;
		}
		case 0x00: /* GET_STATUS */
			if (max < 2)
				return max > 0 ? (data[0] = 0, 1) : 0;
			data[0] = 0;
			data[1] = 0;
			return 2;
		case 0x08: /* GET_CONFIGURATION */
			if (max < 1)
				return 0;
			data[0] = 1;
			return 1;
		case 0x0a: /* GET_INTERFACE */
			if (max < 1)
				return 0;
			data[0] = 0;
			return 1;
		case 0x01: /* CLEAR_FEATURE */
		case 0x03: /* SET_FEATURE */
		case 0x09: /* SET_CONFIGURATION */
		case 0x0b: /* SET_INTERFACE */
			return 0;
		default:
			return -1;
		}
	}
	if ((rt & 0x60u) != 0x40u) /* not vendor */
		return -1;
	chan *c = req_chan(b, wi);
	switch (rq) {
	case RQ_RESET:
		if (wv == 0) {
			if (c->line)
				emu_line_purge(c->line, 1, 1);
		} else if (wv == 1) { /* libftdi SIO_TCOFLUSH: host -> serial */
			if (c->line)
				emu_line_purge(c->line, 1, 0);
		} else if (wv == 2) { /* SIO_TCIFLUSH: serial -> host */
			if (c->line)
				emu_line_purge(c->line, 0, 1);
		}
		return 0;
	case RQ_MODEM_CTRL:
		c->modem = wv;
		return 0;
	case RQ_FLOW_CTRL:
		c->flow = wi >> 8;
		return 0;
	case RQ_SET_BAUD:
		qa_emu_decode_baud(b->chip, wv, wi, &c->baud_num, &c->baud_den);
		chan_apply_format(c);
		return 0;
	case RQ_SET_DATA:
		c->data_word = wv;
		chan_apply_format(c);
		return 0;
	case RQ_POLL_MODEM:
		if (max < 2)
			return -1;
		data[0] = 0x01;
		data[1] = (uint8_t)(line_status_base(c) |
				    (c->line ? emu_line_poll_errors(c->line) : 0));
		return 2;
	case RQ_EVENT_CHAR:
	case RQ_ERROR_CHAR:
		return 0;
	case RQ_SET_LATENCY:
		c->latency_ms = wv & 0xffu;
		return 0;
	case RQ_GET_LATENCY:
		if (max < 1)
			return -1;
		data[0] = (uint8_t)c->latency_ms;
		return 1;
	case RQ_SET_BITMODE:
		c->bitmask = wv & 0xffu;
		c->bitmode = wv >> 8;
		return 0;
	case RQ_READ_PINS:
		if (max < 1)
			return -1;
		data[0] = 0xff;
		return 1;
	case RQ_READ_EEPROM: {
		if (max < 2)
			return -1;
		uint16_t w = b->eeprom[wi % EEPROM_WORDS];
		data[0] = (uint8_t)(w & 0xff);
		data[1] = (uint8_t)(w >> 8);
		return 2;
	}
	case RQ_WRITE_EEPROM:
		b->eeprom[wi % EEPROM_WORDS] = (uint16_t)wv;
		return 0;
	case RQ_ERASE_EEPROM:
		for (unsigned i = 0; i < EEPROM_WORDS; i++)
			b->eeprom[i] = 0xffff;
		return 0;
	default:
		return -1;
	}
}

/* ---- URBs ------------------------------------------------------------------- */

static void urb_free(urb_rec *u)
{
	if (!u)
		return;
	if (u->client)
		g_object_unref(u->client);
	free(u->data);
	free(u);
}

/* with b->mu: the plug is pulled */
static void unplug_locked(bridge *b)
{
	if (b->unplugged)
		return;
	b->unplugged = 1;
	for (urb_rec *u = b->urbs; u; u = u->next)
		if (!u->done) {
			u->done = 1;
			u->status = -ESHUTDOWN;
			if (u->type == USBDEVFS_URB_TYPE_BULK && !(u->ep & 0x80u))
				u->actual = u->out_off;
		}
}

/*
 * Fill an IN URB with packets, as the chip answers IN tokens: a max-size
 * packet as soon as mps-2 bytes are waiting; otherwise nothing until the
 * latency timer (restarted by every packet sent) runs out, then a short
 * packet with whatever is there (at least the two status bytes), which ends
 * the URB. When the timer ran out while no URB was pending and the data came
 * only after that, the chip had already committed a status-only packet: it
 * goes first, and the data waits for the next timeout (so with latency
 * 16 ms a lone request/response takes about 16 ms, as on hardware).
 */
static void fill_in(bridge *b, urb_rec *u, int64_t now)
{
	chan *c = &b->ch[u->chan];
	int64_t lat_ns = (int64_t)(c->latency_ms ? c->latency_ms : 1) * 1000000;
	if (c->line)
		emu_line_host_polls(c->line);
	while (!u->done) {
		int room = u->len - u->actual;
		int cap = room < (int)b->mps ? room : (int)b->mps;
		if (cap < 2) {
			u->done = 1;
			break;
		}
		int want = cap - 2;
		int64_t since = 0;
		int avail = c->line ? (int)emu_line_rx_avail(c->line, &since) : 0;
		int expired = now - c->last_pkt_ns >= lat_ns;
		if (avail < want && !expired)
			break;
		int take = avail < want ? avail : want;
		if (expired && avail > 0 && since > c->last_pkt_ns + lat_ns)
			take = 0; /* the stale status-only packet */
		uint8_t *p = u->data + u->actual;
		unsigned lsr = 0;
		size_t got = c->line ? emu_line_read(c->line, p + 2, (size_t)take, &lsr) : 0;
		p[0] = 0x01;
		p[1] = (uint8_t)(line_status_base(c) | lsr | (got ? 0x01u : 0u));
		u->actual += 2 + (int)got;
		c->usb_in += got;
		c->last_pkt_ns = now;
		if (2 + (int)got < (int)b->mps) /* a short packet ends the URB */
			u->done = 1;
	}
}

static void push_out(bridge *b, urb_rec *u)
{
	chan *c = &b->ch[u->chan];
	size_t left = (size_t)(u->len - u->out_off);
	if (b->unplug_after) {
		uint64_t room = b->unplug_after > b->out_total ?
					b->unplug_after - b->out_total :
					0;
		if (left > room)
			left = (size_t)room;
	}
	size_t k = c->line ? emu_line_write(c->line, u->data + u->out_off, left) : left;
	u->out_off += (int)k;
	c->usb_out += k;
	b->out_total += k;
	if (b->unplug_after && b->out_total >= b->unplug_after) {
		unplug_locked(b);
		return;
	}
	if (u->out_off == u->len) {
		u->done = 1;
		u->actual = u->len;
	}
}

/* with b->mu: move OUT data into the FIFOs and IN data out of them */
static void progress(bridge *b)
{
	int64_t now = mono_ns();
	int in_seen[2] = { 0, 0 }, out_seen[2] = { 0, 0 };
	for (urb_rec *u = b->urbs; u && !b->unplugged; u = u->next) {
		if (u->done || u->type != USBDEVFS_URB_TYPE_BULK)
			continue;
		/* only the oldest URB of an endpoint moves data */
		if (u->ep & 0x80) {
			if (in_seen[u->chan]++)
				continue;
			fill_in(b, u, now);
		} else {
			if (out_seen[u->chan]++)
				continue;
			push_out(b, u);
		}
	}
}

/* drop the claims and URBs of clients that closed the device */
static void sweep(bridge *b)
{
	for (unsigned i = 0; i < b->nchan; i++) {
		chan *c = &b->ch[i];
		if (c->claimed_by &&
		    !umockdev_ioctl_client_get_connected(c->claimed_by)) {
			g_object_unref(c->claimed_by);
			c->claimed_by = NULL;
		}
	}
	urb_rec **pp = &b->urbs;
	while (*pp) {
		urb_rec *u = *pp;
		if (!umockdev_ioctl_client_get_connected(u->client)) {
			*pp = u->next;
			urb_free(u);
		} else {
			pp = &u->next;
		}
	}
}

static int ep_chan(const bridge *b, unsigned ep, unsigned *chan_out)
{
	unsigned num = ep & 0x7fu;
	int in = (ep & 0x80u) != 0;
	for (unsigned i = 0; i < b->nchan; i++) {
		if ((in && num == 1 + 2 * i) || (!in && num == 2 + 2 * i)) {
			*chan_out = i;
			return 0;
		}
	}
	return -1;
}

/* usbfs claims an interface implicitly on the first URB */
static int claim(bridge *b, unsigned intf, UMockdevIoctlClient *client)
{
	chan *c = &b->ch[intf];
	if (c->claimed_by == client)
		return 0;
	if (c->claimed_by || c->driver_bound)
		return EBUSY;
	c->claimed_by = g_object_ref(client);
	b->claims++;
	return 0;
}

static int do_submit(bridge *b, UMockdevIoctlClient *client,
		     UMockdevIoctlData *arg)
{
	unsigned long uaddr = *(unsigned long *)(void *)arg->data;
	UMockdevIoctlData *ud =
		umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), NULL);
	if (!ud)
		return EFAULT;
	struct usbdevfs_urb *urb = (struct usbdevfs_urb *)(void *)ud->data;
	if (urb->buffer_length < 0 || (unsigned)urb->buffer_length > MAX_URB_LEN)
		return EINVAL;
	unsigned type = urb->type, ep = urb->endpoint, chan_i = 0;
	if (type == USBDEVFS_URB_TYPE_CONTROL) {
		if (urb->buffer_length < 8)
			return EINVAL;
	} else if (type == USBDEVFS_URB_TYPE_BULK) {
		if (ep_chan(b, ep, &chan_i) != 0)
			return ENOENT;
		int r = claim(b, chan_i, client);
		if (r)
			return r;
	} else {
		return EINVAL;
	}
	urb_rec *u = calloc(1, sizeof *u);
	if (!u)
		return ENOMEM;
	u->len = urb->buffer_length;
	u->data = calloc(1, (size_t)u->len + 1);
	if (!u->data) {
		free(u);
		return ENOMEM;
	}
	u->client = g_object_ref(client);
	u->uaddr = uaddr;
	u->type = type;
	u->ep = ep;
	u->chan = chan_i;
	int need_data = type == USBDEVFS_URB_TYPE_CONTROL || !(ep & 0x80u);
	if (need_data && u->len > 0) {
		UMockdevIoctlData *bd = umockdev_ioctl_data_resolve(
			ud, offsetof(struct usbdevfs_urb, buffer), (size_t)u->len, NULL);
		if (!bd) {
			urb_free(u);
			return EFAULT;
		}
		memcpy(u->data, bd->data, (size_t)u->len);
	}
	if (type == USBDEVFS_URB_TYPE_CONTROL) {
		int n = control(b, u->data, u->data + 8, u->len - 8);
		u->done = 1;
		if (n < 0) {
			u->status = -EPIPE;
		} else {
			unsigned wl = u->data[6] | (unsigned)u->data[7] << 8;
			u->actual = (u->data[0] & 0x80u) ? n : (int)wl;
			if (u->actual > u->len - 8)
				u->actual = u->len - 8;
		}
	}
	/* append: URBs are reaped in the order they complete, and an endpoint's
	 * URBs complete in submission order */
	urb_rec **pp = &b->urbs;
	while (*pp)
		pp = &(*pp)->next;
	*pp = u;
	progress(b);
	return 0;
}

/* REAPURB(NDELAY): hand the first completed URB of this client back */
static int do_reap(bridge *b, UMockdevIoctlClient *client,
		   UMockdevIoctlData *arg)
{
	progress(b);
	urb_rec **pp = &b->urbs;
	while (*pp && !((*pp)->client == client && (*pp)->done))
		pp = &(*pp)->next;
	urb_rec *u = *pp;
	if (!u)
		return b->unplugged ? ENODEV : EAGAIN;
	*pp = u->next;

	int rc = EFAULT;
	/* *arg is where the kernel stores the URB's address */
	UMockdevIoctlData *slot =
		umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), NULL);
	if (!slot)
		goto out;
	memcpy(slot->data, &u->uaddr, sizeof u->uaddr);
	UMockdevIoctlData *ud = umockdev_ioctl_data_resolve(
		slot, 0, sizeof(struct usbdevfs_urb), NULL);
	if (!ud)
		goto out;
	struct usbdevfs_urb *urb = (struct usbdevfs_urb *)(void *)ud->data;
	urb->status = u->status;
	urb->actual_length = u->actual;
	int in_data = u->type == USBDEVFS_URB_TYPE_CONTROL ?
			      (u->data[0] & 0x80u) && u->actual > 0 :
			      (u->ep & 0x80u) && u->actual > 0;
	if (in_data) {
		UMockdevIoctlData *bd = umockdev_ioctl_data_resolve(
			ud, offsetof(struct usbdevfs_urb, buffer), (size_t)u->len, NULL);
		if (!bd)
			goto out;
		size_t off = u->type == USBDEVFS_URB_TYPE_CONTROL ? 8 : 0;
		memcpy(bd->data + off, u->data + off, (size_t)u->actual);
	}
	rc = 0;
out:
	urb_free(u);
	return rc;
}

static int do_discard(bridge *b, UMockdevIoctlClient *client,
		      UMockdevIoctlData *arg)
{
	unsigned long uaddr = *(unsigned long *)(void *)arg->data;
	for (urb_rec *u = b->urbs; u; u = u->next)
		if (u->client == client && u->uaddr == uaddr && !u->done) {
			u->done = 1;
			u->status = -ENOENT;
			if (u->type == USBDEVFS_URB_TYPE_BULK && !(u->ep & 0x80u))
				u->actual = u->out_off;
			return 0;
		}
	return EINVAL;
}

static int resolve_uint(UMockdevIoctlData *arg, unsigned *v)
{
	UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(unsigned), NULL);
	if (!d)
		return EFAULT;
	memcpy(v, d->data, sizeof *v);
	return 0;
}

static int do_getdriver(bridge *b, UMockdevIoctlData *arg)
{
	UMockdevIoctlData *d = umockdev_ioctl_data_resolve(
		arg, 0, sizeof(struct usbdevfs_getdriver), NULL);
	if (!d)
		return EFAULT;
	struct usbdevfs_getdriver *g = (struct usbdevfs_getdriver *)(void *)d->data;
	if (g->interface >= b->nchan)
		return EINVAL;
	chan *c = &b->ch[g->interface];
	if (c->claimed_by) {
		snprintf(g->driver, sizeof g->driver, "usbfs");
		return 0;
	}
	if (!c->driver_bound)
		return ENODATA;
	snprintf(g->driver, sizeof g->driver, "ftdi_sio");
	return 0;
}

static int do_usb_ioctl(bridge *b, UMockdevIoctlData *arg)
{
	UMockdevIoctlData *d = umockdev_ioctl_data_resolve(
		arg, 0, sizeof(struct usbdevfs_ioctl), NULL);
	if (!d)
		return EFAULT;
	struct usbdevfs_ioctl *io = (struct usbdevfs_ioctl *)(void *)d->data;
	if (io->ifno < 0 || (unsigned)io->ifno >= b->nchan)
		return EINVAL;
	chan *c = &b->ch[io->ifno];
	if ((unsigned)io->ioctl_code == (unsigned)USBDEVFS_DISCONNECT) {
		if (!c->driver_bound)
			return ENODATA;
		c->driver_bound = 0;
		return 0;
	}
	if ((unsigned)io->ioctl_code == (unsigned)USBDEVFS_CONNECT) {
		if (!c->claimed_by)
			c->driver_bound = 1;
		return 0;
	}
	return ENOTTY;
}

static int do_disconnect_claim(bridge *b, UMockdevIoctlClient *client,
			       UMockdevIoctlData *arg)
{
	UMockdevIoctlData *d = umockdev_ioctl_data_resolve(
		arg, 0, sizeof(struct usbdevfs_disconnect_claim), NULL);
	if (!d)
		return EFAULT;
	struct usbdevfs_disconnect_claim *dc =
		(struct usbdevfs_disconnect_claim *)(void *)d->data;
	if (dc->interface >= b->nchan)
		return EINVAL;
	b->ch[dc->interface].driver_bound = 0;
	return claim(b, dc->interface, client);
}

static gboolean on_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client,
			 gpointer user)
{
	(void)handler;
	bridge *b = user;
	unsigned long req = umockdev_ioctl_client_get_request(client);
	UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
	long res = 0;
	int e = 0;

	pthread_mutex_lock(&b->mu);
	sweep(b);
	int reap = req == USBDEVFS_REAPURBNDELAY || req == USBDEVFS_REAPURB;
	if (b->unplugged && !reap) {
		e = ENODEV;
		goto done;
	}
	switch (req) {
	case USBDEVFS_GET_CAPABILITIES: {
		UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, 4, NULL);
		if (!d) {
			e = EFAULT;
			break;
		}
		uint32_t caps = USBDEVFS_CAP_BULK_CONTINUATION |
				USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
				USBDEVFS_CAP_ZERO_PACKET;
		memcpy(d->data, &caps, 4);
		break;
	}
	case USBDEVFS_SUBMITURB:
		e = do_submit(b, client, arg);
		break;
	case USBDEVFS_REAPURB:      /* libusb only uses NDELAY; treat alike */
	case USBDEVFS_REAPURBNDELAY:
		e = do_reap(b, client, arg);
		break;
	case USBDEVFS_DISCARDURB:
		e = do_discard(b, client, arg);
		break;
	case USBDEVFS_CLAIMINTERFACE: {
		unsigned intf;
		e = resolve_uint(arg, &intf);
		if (!e)
			e = intf < b->nchan ? claim(b, intf, client) : EINVAL;
		break;
	}
	case USBDEVFS_RELEASEINTERFACE: {
		unsigned intf;
		e = resolve_uint(arg, &intf);
		if (!e && (intf >= b->nchan || b->ch[intf].claimed_by != client))
			e = EINVAL;
		if (!e) {
			g_object_unref(b->ch[intf].claimed_by);
			b->ch[intf].claimed_by = NULL;
		}
		break;
	}
	case USBDEVFS_GETDRIVER:
		e = do_getdriver(b, arg);
		break;
	case USBDEVFS_IOCTL:
		e = do_usb_ioctl(b, arg);
		break;
	case USBDEVFS_DISCONNECT_CLAIM:
		e = do_disconnect_claim(b, client, arg);
		break;
	case USBDEVFS_SETCONFIGURATION: {
		unsigned v;
		e = resolve_uint(arg, &v);
		if (!e && v != 1 && v != (unsigned)-1)
			e = EINVAL;
		break;
	}
	case USBDEVFS_SETINTERFACE:
	case USBDEVFS_CLEAR_HALT:
	case USBDEVFS_RESETEP:
		break;
	case USBDEVFS_RESET:
		b->resets++;
		for (unsigned i = 0; i < b->nchan; i++) {
			chan_defaults(&b->ch[i]);
			chan_apply_format(&b->ch[i]);
			if (b->ch[i].line)
				emu_line_purge(b->ch[i].line, 1, 1);
		}
		break;
	case USBDEVFS_GET_SPEED:
		res = b->chip == QA_EMU_FT2232H ? 3 : 2; /* USB_SPEED_HIGH / FULL */
		break;
	default:
		if (b->emu->verbose)
			fprintf(stderr, "qa_emu: %s: unhandled ioctl 0x%lx\n",
				b->devnode, req);
		e = ENOTTY;
		break;
	}
done:
	pthread_mutex_unlock(&b->mu);
	umockdev_ioctl_client_complete(client, e ? -1 : res, e);
	return TRUE;
}

static void on_client(UMockdevIoctlBase *handler, UMockdevIoctlClient *client,
		      gpointer user)
{
	(void)handler;
	(void)client;
	bridge *b = user;
	pthread_mutex_lock(&b->mu);
	b->opens++;
	pthread_mutex_unlock(&b->mu);
}

/* ---- the testbed ------------------------------------------------------------- */

int qa_emu_new(qa_emu **ep, int verbose, char *err, size_t errlen)
{
	*ep = NULL;
	qa_emu *e = calloc(1, sizeof *e);
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return QA_ERR_NOMEM;
	}
	e->tb = umockdev_testbed_new();
	if (!e->tb) {
		free(e);
		snprintf(err, errlen, "umockdev_testbed_new failed");
		return QA_ERR_IO;
	}
	e->root = umockdev_testbed_get_root_dir(e->tb);
	e->verbose = verbose;
	pthread_mutex_init(&e->mu, NULL);
	*ep = e;
	return QA_OK;
}

const char *qa_emu_dir(const qa_emu *e)
{
	return e->root;
}

static void hexcat(char *dst, size_t cap, const uint8_t *p, size_t n)
{
	size_t at = strlen(dst);
	for (size_t i = 0; i < n && at + 3 < cap; i++, at += 2)
		snprintf(dst + at, cap - at, "%02x", p[i]);
}

int qa_emu_add(qa_emu *e, const qa_emu_bridge_cfg *cfg, unsigned *index,
	       char *err, size_t errlen)
{
	int rc = QA_OK;
	char *rec = NULL;
	bridge *b = NULL;
	pthread_mutex_lock(&e->mu);
	if (e->n >= MAX_BRIDGES) {
		snprintf(err, errlen, "at most %d emulated bridges", MAX_BRIDGES);
		rc = QA_ERR_RANGE;
		goto out;
	}
	b = calloc(1, sizeof *b);
	if (!b)
		goto nomem;
	pthread_mutex_init(&b->mu, NULL);
	b->emu = e;
	b->chip = cfg->chip;
	int hs = cfg->chip == QA_EMU_FT2232H;
	b->nchan = hs ? 2 : 1;
	b->mps = hs ? 512 : 64;
	b->wired = hs ? 1 : 0; /* channel B on the FT2232H, A on the FT231X */
	b->bus = 1;
	b->addr = 2 + e->n;
	snprintf(b->devnode, sizeof b->devnode, "/dev/bus/usb/%03u/%03u", b->bus,
		 b->addr);
	snprintf(b->syspath, sizeof b->syspath, "/sys/devices/usb%u/%u-%u",
		 b->bus, b->bus, e->n + 1);
	snprintf(b->manufacturer, sizeof b->manufacturer, "%s",
		 cfg->manufacturer ? cfg->manufacturer : "FTDI");
	snprintf(b->product, sizeof b->product, "%s",
		 cfg->product ? cfg->product :
		 hs ? "Dual RS232-HS" : "FT231X USB UART");
	if (cfg->serial)
		snprintf(b->serial, sizeof b->serial, "%s", cfg->serial);
	else
		snprintf(b->serial, sizeof b->serial, "QAEMU%u", e->n + 1);
	for (unsigned i = 0; i < EEPROM_WORDS; i++)
		b->eeprom[i] = 0xffff;
	build_descriptors(b);
	for (unsigned i = 0; i < b->nchan; i++) {
		chan_defaults(&b->ch[i]);
		b->ch[i].driver_bound = 1; /* ftdi_sio, as on a Linux host */
	}
	b->board = cfg->board;
	if (b->board.step) {
		size_t fifo = hs ? 4096 : 512;
		if (emu_line_new(&b->ch[b->wired].line, &b->board, fifo, fifo,
				 cfg->realtime) != 0)
			goto nomem;
		if (cfg->link_faults &&
		    emu_line_set_faults(b->ch[b->wired].line, cfg->link_faults,
					err, errlen) != 0) {
			rc = QA_ERR_INVALID;
			goto out;
		}
		chan_apply_format(&b->ch[b->wired]);
	}

	b->handler = umockdev_ioctl_base_new();
	g_signal_connect(b->handler, "handle-ioctl", G_CALLBACK(on_ioctl), b);
	g_signal_connect(b->handler, "client-connected", G_CALLBACK(on_client), b);
	GError *gerr = NULL;
	/* the handler must be in place before the node appears */
	if (!umockdev_testbed_attach_ioctl(e->tb, b->devnode, b->handler, &gerr)) {
		snprintf(err, errlen, "umockdev_testbed_attach_ioctl(%s): %s",
			 b->devnode, gerr ? gerr->message : "failed");
		g_clear_error(&gerr);
		rc = QA_ERR_IO;
		goto out;
	}
	size_t cap = 4096;
	rec = calloc(1, cap);
	if (!rec)
		goto nomem;
	unsigned pid = hs ? 0x6010 : 0x6015;
	snprintf(rec, cap,
		 "P: %s\n"
		 "N: bus/usb/%03u/%03u\n"
		 "E: SUBSYSTEM=usb\n"
		 "E: DEVTYPE=usb_device\n"
		 "E: DRIVER=usb\n"
		 "E: BUSNUM=%03u\n"
		 "E: DEVNUM=%03u\n"
		 "E: DEVNAME=%s\n"
		 "E: PRODUCT=403/%x/%x\n"
		 "E: ID_VENDOR_ID=0403\n"
		 "E: ID_MODEL_ID=%04x\n"
		 "E: ID_SERIAL_SHORT=%s\n"
		 "A: idVendor=0403\\n\n"
		 "A: idProduct=%04x\\n\n"
		 "A: bcdDevice=%04x\\n\n"
		 "A: busnum=%u\\n\n"
		 "A: devnum=%u\\n\n"
		 "A: speed=%s\\n\n"
		 "A: bConfigurationValue=1\\n\n"
		 "A: bNumConfigurations=1\\n\n"
		 "A: bNumInterfaces= %u\\n\n"
		 "A: manufacturer=%s\\n\n"
		 "A: product=%s\\n\n"
		 "A: serial=%s\\n\n"
		 "H: descriptors=",
		 b->syspath + 4, b->bus, b->addr, b->bus, b->addr, b->devnode,
		 pid, hs ? 0x700u : 0x1000u, pid, b->serial, pid,
		 hs ? 0x700u : 0x1000u, b->bus, b->addr, hs ? "480" : "12",
		 b->nchan, b->manufacturer, b->product, b->serial);
	hexcat(rec, cap, b->dev_desc, sizeof b->dev_desc);
	hexcat(rec, cap, b->cfg_desc, b->cfg_len);
	strncat(rec, "\n", cap - strlen(rec) - 1);
	if (!umockdev_testbed_add_from_string(e->tb, rec, &gerr)) {
		snprintf(err, errlen, "umockdev_testbed_add_from_string: %s",
			 gerr ? gerr->message : "failed");
		g_clear_error(&gerr);
		umockdev_testbed_detach_ioctl(e->tb, b->devnode, NULL);
		rc = QA_ERR_IO;
		goto out;
	}
	e->br[e->n] = b;
	if (index)
		*index = e->n;
	e->n++;
	b = NULL;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
	rc = QA_ERR_NOMEM;
out:
	if (b) {
		/* not plugged in: undo what was made */
		if (b->handler)
			g_object_unref(b->handler);
		for (unsigned i = 0; i < 2; i++)
			emu_line_free(b->ch[i].line);
		if (b->board.destroy)
			b->board.destroy(b->board.ctx);
		pthread_mutex_destroy(&b->mu);
		free(b);
	} else if (rc != QA_OK && cfg->board.destroy) {
		cfg->board.destroy(cfg->board.ctx);
	}
	free(rec);
	pthread_mutex_unlock(&e->mu);
	return rc;
}

static bridge *get_bridge(qa_emu *e, unsigned index)
{
	pthread_mutex_lock(&e->mu);
	bridge *b = index < e->n ? e->br[index] : NULL;
	pthread_mutex_unlock(&e->mu);
	return b;
}

int qa_emu_info_get(qa_emu *e, unsigned index, qa_emu_info *in)
{
	bridge *b = get_bridge(e, index);
	if (!b)
		return QA_ERR_INVALID;
	memset(in, 0, sizeof *in);
	pthread_mutex_lock(&b->mu);
	chan *c = &b->ch[b->wired];
	in->chip = b->chip;
	in->bus = b->bus;
	in->addr = b->addr;
	snprintf(in->devnode, sizeof in->devnode, "%s", b->devnode);
	snprintf(in->serial, sizeof in->serial, "%s", b->serial);
	in->plugged = !b->unplugged;
	in->baud_num = c->baud_num;
	in->baud_den = c->baud_den;
	in->data_bits = c->data_word & 0xffu;
	in->parity = (c->data_word >> 8) & 7u;
	in->stop_bits = ((c->data_word >> 11) & 3u) == 0 ? 1u : 2u;
	in->latency_ms = c->latency_ms;
	in->bitmode = c->bitmode;
	in->opens = b->opens;
	in->claims = b->claims;
	in->resets = b->resets;
	in->usb_out = c->usb_out;
	in->usb_in = c->usb_in;
	emu_line *line = c->line;
	pthread_mutex_unlock(&b->mu);
	if (line) {
		emu_line_stats st;
		emu_line_get_stats(line, &st);
		in->host_bytes = st.host_bytes;
		in->board_bytes = st.board_bytes;
		in->framing = st.framing;
		in->parity_err = st.parity;
		in->overrun = st.overrun;
		in->cycles = st.cycles;
	}
	return QA_OK;
}

void qa_emu_board_describe(qa_emu *e, unsigned index, char *buf, size_t len)
{
	bridge *b = get_bridge(e, index);
	if (len)
		buf[0] = '\0';
	if (b && b->ch[b->wired].line)
		emu_line_describe_board(b->ch[b->wired].line, buf, len);
}

void qa_emu_faults_describe(qa_emu *e, unsigned index, char *buf, size_t len)
{
	bridge *b = get_bridge(e, index);
	if (len)
		buf[0] = '\0';
	if (b && b->ch[b->wired].line)
		emu_line_describe_faults(b->ch[b->wired].line, buf, len);
}

int qa_emu_unplug(qa_emu *e, unsigned index)
{
	bridge *b = get_bridge(e, index);
	if (!b)
		return QA_ERR_INVALID;
	pthread_mutex_lock(&b->mu);
	unplug_locked(b);
	pthread_mutex_unlock(&b->mu);
	qa_emu_poll(e);
	return QA_OK;
}

int qa_emu_unplug_after(qa_emu *e, unsigned index, uint64_t bytes)
{
	bridge *b = get_bridge(e, index);
	if (!b)
		return QA_ERR_INVALID;
	pthread_mutex_lock(&b->mu);
	b->unplug_after = bytes ? b->out_total + bytes : 0;
	pthread_mutex_unlock(&b->mu);
	return QA_OK;
}

void qa_emu_poll(qa_emu *e)
{
	pthread_mutex_lock(&e->mu);
	for (unsigned i = 0; i < e->n; i++) {
		bridge *b = e->br[i];
		pthread_mutex_lock(&b->mu);
		int remove = b->unplugged && !b->removed;
		b->removed |= remove;
		pthread_mutex_unlock(&b->mu);
		if (remove) {
			/* remove_device() itself sends no uevent; libusb's
			 * hotplug monitor wants one */
			umockdev_testbed_uevent(e->tb, b->syspath, "remove");
			umockdev_testbed_remove_device(e->tb, b->syspath);
		}
	}
	pthread_mutex_unlock(&e->mu);
}

int qa_emu_chmod(qa_emu *e, unsigned index, unsigned mode, char *err,
		 size_t errlen)
{
	bridge *b = get_bridge(e, index);
	if (!b) {
		snprintf(err, errlen, "no bridge %u", index);
		return QA_ERR_INVALID;
	}
	char path[512];
	snprintf(path, sizeof path, "%s%s", e->root, b->devnode);
	if (chmod(path, (mode_t)mode) != 0) {
		snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		return QA_ERR_IO;
	}
	return QA_OK;
}

int qa_emu_spawn(qa_emu *e, char *const argv[], pid_t *pid, char *err,
		 size_t errlen)
{
	static const char preload[] = "libumockdev-preload.so.0";
	size_t n = 0;
	while (environ[n])
		n++;
	char **envp = calloc(n + 3, sizeof *envp);
	char *ld = NULL, *dir = NULL;
	int rc = QA_OK;
	if (!envp)
		goto nomem;
	const char *old = getenv("LD_PRELOAD");
	size_t ldlen = sizeof preload + 12 + (old ? strlen(old) + 1 : 0);
	ld = malloc(ldlen);
	size_t dirlen = strlen(e->root) + 16;
	dir = malloc(dirlen);
	if (!ld || !dir)
		goto nomem;
	snprintf(ld, ldlen, "LD_PRELOAD=%s%s%s", preload, old ? ":" : "",
		 old ? old : "");
	snprintf(dir, dirlen, "UMOCKDEV_DIR=%s", e->root);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0 &&
		    strncmp(environ[i], "UMOCKDEV_DIR=", 13) != 0)
			envp[k++] = environ[i];
	envp[k++] = ld;
	envp[k++] = dir;
	envp[k] = NULL;
	int r = posix_spawnp(pid, argv[0], NULL, NULL, argv, envp);
	if (r != 0) {
		snprintf(err, errlen, "cannot run '%s': %s", argv[0], strerror(r));
		rc = QA_ERR_IO;
	}
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
	rc = QA_ERR_NOMEM;
out:
	free(envp);
	free(ld);
	free(dir);
	return rc;
}

void qa_emu_free(qa_emu *e)
{
	if (!e)
		return;
	for (unsigned i = 0; i < e->n; i++) {
		bridge *b = e->br[i];
		umockdev_testbed_detach_ioctl(e->tb, b->devnode, NULL);
	}
	/* the testbed's worker thread stops here; no handler runs after it */
	g_object_unref(e->tb);
	for (unsigned i = 0; i < e->n; i++) {
		bridge *b = e->br[i];
		for (unsigned c = 0; c < 2; c++) {
			emu_line_free(b->ch[c].line);
			if (b->ch[c].claimed_by)
				g_object_unref(b->ch[c].claimed_by);
		}
		while (b->urbs) {
			urb_rec *u = b->urbs;
			b->urbs = u->next;
			urb_free(u);
		}
		if (b->board.destroy)
			b->board.destroy(b->board.ctx);
		g_object_unref(b->handler);
		pthread_mutex_destroy(&b->mu);
		free(b);
	}
	g_free(e->root);
	pthread_mutex_destroy(&e->mu);
	free(e);
}
