/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proto.h - the framed wire protocol of docs/protocol.md (internal): frame
 * encoding, incremental decoding with resynchronisation, CRC-32, opcodes,
 * status codes and the response checks every transport shares.
 *
 * A frame on the wire is 0x00 followed by the COBS encoding of the body
 *   op (1) seq (1) status (1) len (2, LE) payload (len) crc32 (4, LE)
 * with the CRC-32/ISO-HDLC (zlib's crc32) over op .. payload.
 *
 * Nothing here does I/O or keeps global state: a transport feeds received
 * bytes to a decoder it owns and sends the bytes the encoder wrote.
 */
#ifndef QA_PROTO_H
#define QA_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "qarray.h"

#define QA_PROTO_VERSION 1
#define QA_PROTO_SOF 0x00u          /* start marker */
#define QA_PROTO_HDR_LEN 5u         /* op, seq, status, len */
#define QA_PROTO_CRC_LEN 4u
#define QA_PROTO_OVERHEAD 9u        /* header + CRC */
#define QA_PROTO_PAYLOAD_LIMIT 65535u /* what a 16-bit len can say */
#define QA_PROTO_RSP 0x80u          /* op bit that marks a response */
#define QA_PROTO_MORE 0x80u         /* status bit: more frames of this response follow */
#define QA_PROTO_STATUS_MASK 0x7Fu

/* IDENT response: the core's 20 bytes, then the link's 16 */
#define QA_PROTO_IDENT_CORE_LEN 20u
#define QA_PROTO_IDENT_LEN 36u
/* arguments of the commands that have them */
#define QA_PROTO_LOAD_ARGS 3u    /* LOAD_X, LOAD_W, LOAD_P */
#define QA_PROTO_LOADA_ARGS 4u   /* LOAD_WA, LOAD_PA */
#define QA_PROTO_NET_LOAD_ARGS 1u
#define QA_PROTO_NET_RUN_ARGS 4u
#define QA_PROTO_RUN_ARGS 13u
#define QA_PROTO_LAYER_BYTES 12u /* one NET_LOAD layer descriptor */

/* opcodes (docs/protocol.md, section 3): 0x01-0x0B are the core's
 * (docs/architecture.md, command stream version 2), 0x40-0x7F the link's */
enum qa_proto_op {
	QA_POP_NOP = 0x00,
	QA_POP_IDENT = 0x01,
	QA_POP_LOAD_X = 0x02,
	QA_POP_LOAD_W = 0x03,
	QA_POP_LOAD_P = 0x04,
	QA_POP_RUN = 0x05,
	QA_POP_COUNTERS = 0x06,
	QA_POP_CLEAR = 0x07,
	QA_POP_LOAD_WA = 0x08,
	QA_POP_LOAD_PA = 0x09,
	QA_POP_NET_LOAD = 0x0A,
	QA_POP_NET_RUN = 0x0B,
	QA_POP_LOAD_MORE = 0x40,
	QA_POP_RESET = 0x41
};

/* status codes (docs/protocol.md, section 5) */
enum qa_proto_status {
	QA_PST_OK = 0x00,
	QA_PST_BAD_CRC = 0x01,
	QA_PST_BAD_LENGTH = 0x02,
	QA_PST_TIMEOUT = 0x03,
	QA_PST_OVERFLOW = 0x04,
	QA_PST_LINE_ERROR = 0x05,
	QA_PST_SEQUENCE = 0x06,
	QA_PST_UNKNOWN_OPCODE = 0x07,
	QA_PST_BAD_SIZE = 0x08,
	QA_PST_BAD_ARG = 0x09,
	QA_PST_BUSY = 0x0A,
	QA_PST_NO_LOAD = 0x0B,
	QA_PST_COUNT /* number of defined codes */
};

/* One frame. status is the byte as on the wire (MORE bit included). */
typedef struct qa_proto_frame {
	uint8_t op, seq, status;
	size_t len;
	const uint8_t *payload; /* len bytes (may be NULL when len is 0) */
} qa_proto_frame;

/*
 * CRC-32/ISO-HDLC, chainable like zlib's crc32(): start with crc = 0;
 * qa_crc32(0, "123456789", 9) = 0xCBF43926.
 */
uint32_t qa_crc32(uint32_t crc, const void *buf, size_t n);

/* Largest number of wire bytes a frame with this payload can take:
 * 1 + n + ceil(n / 254), n = payload_len + 9. */
size_t qa_proto_wire_max(size_t payload_len);

/*
 * Encode a frame into out (cap bytes; qa_proto_wire_max(f->len) always
 * suffices). *outlen receives the number of bytes written. Returns QA_OK,
 * QA_ERR_RANGE (payload above QA_PROTO_PAYLOAD_LIMIT) or QA_ERR_INVALID (bad
 * pointers, out too small).
 */
int qa_proto_encode(const qa_proto_frame *f, uint8_t *out, size_t cap,
		    size_t *outlen);

/* ---- incremental decoder ---------------------------------------------------- */

typedef struct qa_proto_dec qa_proto_dec;

typedef enum qa_proto_event {
	QA_PEV_NONE = 0,   /* all given bytes used, no frame finished */
	QA_PEV_FRAME,      /* a good frame: see the frame argument */
	QA_PEV_BAD_CRC,    /* a complete frame whose CRC did not match */
	QA_PEV_BAD_LENGTH, /* a frame whose len exceeds the decoder's maximum */
	QA_PEV_TRUNCATED   /* a frame cut short by a start marker (or a flush) */
} qa_proto_event;

typedef struct qa_proto_dec_stats {
	uint64_t frames, bad_crc, bad_length, truncated;
	uint64_t skipped; /* bytes outside any frame (noise, leftovers) */
} qa_proto_dec_stats;

/* Create a decoder for payloads up to max_payload (1..65535) bytes.
 * Returns QA_OK, QA_ERR_INVALID or QA_ERR_NOMEM (*d = NULL on error). */
int qa_proto_dec_new(qa_proto_dec **d, size_t max_payload);
void qa_proto_dec_free(qa_proto_dec *d);

/*
 * Feed received bytes. Consumes bytes until a frame finishes (good or bad) or
 * the input runs out; *used receives how many were consumed (call again with
 * the rest). On QA_PEV_FRAME, *f describes the frame; f->payload points into
 * the decoder and stays valid until the next call on d. The decoder always
 * resynchronises by itself on the next start marker.
 */
qa_proto_event qa_proto_dec_push(qa_proto_dec *d, const uint8_t *buf,
				 size_t n, size_t *used, qa_proto_frame *f);

/* Drop a partial frame (for a transport's timeout): QA_PEV_TRUNCATED if one
 * had begun, else QA_PEV_NONE. The decoder then waits for a start marker. */
qa_proto_event qa_proto_dec_flush(qa_proto_dec *d);

void qa_proto_dec_get_stats(const qa_proto_dec *d, qa_proto_dec_stats *st);

/* ---- responses ----------------------------------------------------------------- */

typedef enum qa_proto_match {
	QA_PM_MATCH = 0,     /* the response to this command */
	QA_PM_NOT_RESPONSE,  /* op without the response bit */
	QA_PM_WRONG_OP,      /* response to another opcode */
	QA_PM_WRONG_SEQ      /* response with another sequence number */
} qa_proto_match;

/* Is rsp the response to the command (cmd_op, cmd_seq)? */
qa_proto_match qa_proto_check_response(const qa_proto_frame *rsp,
				       uint8_t cmd_op, uint8_t cmd_seq);

/* 1 if the status says the frame was not accepted (BAD_CRC .. SEQUENCE): the
 * host goes back to the sequence number in the payload and sends again. */
int qa_proto_status_resend(unsigned status);

/* For an error response: the sequence number the device expects next
 * (its one payload byte); -1 if the frame has none. */
int qa_proto_expected_seq(const qa_proto_frame *rsp);

/* "OK", "BAD_CRC", ...; "?" for an unknown code. The MORE bit is ignored. */
const char *qa_proto_status_name(unsigned status);
/* "IDENT", "LOAD_MORE", ...; "?" for an unknown opcode. Bit 7 is ignored. */
const char *qa_proto_op_name(unsigned op);

/* The link part of an IDENT response (bytes 20..35). */
typedef struct qa_proto_link_info {
	unsigned version;      /* protocol version */
	unsigned max_frames;   /* frames the host may have unanswered */
	unsigned max_payload;  /* largest payload in either direction */
	uint32_t rx_buffer;    /* payload bytes the host may have unanswered */
	uint32_t baud;         /* line rate the design was built for */
	uint32_t timeout_cycles; /* partial-frame timeout */
} qa_proto_link_info;

/* Parse and check the link part of an IDENT payload (len must be 36).
 * Returns QA_OK, QA_ERR_DEVICE (impossible values) or QA_ERR_UNSUPPORTED
 * (another protocol version). */
int qa_proto_parse_link_info(const uint8_t *ident, size_t len,
			     qa_proto_link_info *li);

#endif
