/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qarray.h - public interface of libqarray, the host library of the qarray
 * int8 systolic-array accelerator.
 *
 * Conventions: every function that can fail returns an int that is QA_OK (0)
 * or a negative qa_err value; qa_strerror() names it. Handles are opaque and
 * every call takes its handle; the library keeps no global mutable state and
 * never exits the process. A device handle keeps a human-readable detail
 * string of its last error (qa_dev_errmsg()).
 *
 * The numerics are specified in docs/numerics.md; qa_ref_* is the golden
 * model that implements exactly that specification.
 */
#ifndef QARRAY_H
#define QARRAY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QA_VERSION_STRING "0.1.0"

/* ---- errors ------------------------------------------------------------ */

typedef enum qa_err {
	QA_OK = 0,
	QA_ERR_INVALID = -1,     /* bad argument or bad input data */
	QA_ERR_NOMEM = -2,       /* out of memory */
	QA_ERR_IO = -3,          /* file or transport I/O failed */
	QA_ERR_FORMAT = -4,      /* malformed file (e.g. .npy header) */
	QA_ERR_RANGE = -5,       /* value outside what the device supports */
	QA_ERR_TIMEOUT = -6,     /* device did not answer in time (or sim hang) */
	QA_ERR_DEVICE = -7,      /* device reported an error or a bad reply */
	QA_ERR_UNSUPPORTED = -8, /* target or configuration not available */
	QA_ERR_MISMATCH = -9     /* result differs from the golden model */
} qa_err;

/* Short description of an error code ("invalid argument", ...). Never NULL. */
const char *qa_strerror(int err);
/* Symbolic name of an error code ("QA_ERR_INVALID", ...). Never NULL. */
const char *qa_errname(int err);

/* ---- numerics (golden model) ------------------------------------------- */

typedef enum qa_round {
	QA_ROUND_FLOOR = 0,     /* r = floor(t / 2^s) */
	QA_ROUND_HALF_UP = 1,   /* nearest, ties toward +infinity (default) */
	QA_ROUND_HALF_AWAY = 2, /* nearest, ties away from zero */
	QA_ROUND_HALF_EVEN = 3  /* nearest, ties to even */
} qa_round;

#define QA_SHIFT_MAX 31

/* "floor", "half_up", "half_away", "half_even"; NULL for a bad value. */
const char *qa_round_name(qa_round mode);
/* Parse a rounding-mode name; returns QA_OK or QA_ERR_INVALID. */
int qa_round_parse(const char *name, qa_round *mode);

/*
 * One GEMM: Y[M,N] = clamp(round_shift(X[M,K] . W[K,N] + bias[N], shift[N]), lo, hi).
 * x is row-major M x K, w is row-major K x N, y is row-major M x N.
 * bias may be NULL (all zero). shift has N entries, each 0..31.
 */
typedef struct qa_gemm_desc {
	size_t m, k, n;
	const int8_t *x;
	const int8_t *w;
	const int32_t *bias;   /* N entries or NULL */
	const uint8_t *shift;  /* N entries, 0..QA_SHIFT_MAX */
	qa_round round;
	int lo, hi;            /* -128 <= lo <= hi <= 127 */
} qa_gemm_desc;

/* Check a descriptor (pointers, sizes, shift and clamp ranges). */
int qa_gemm_validate(const qa_gemm_desc *d);

/* round_shift(t, s) of docs/numerics.md; s in 0..31, |t| < 2^62. */
int64_t qa_ref_round_shift(int64_t t, unsigned s, qa_round mode);

/*
 * Golden model of one output element: requantize t = acc + bias.
 * Returns the clamped int8 value; *saturated (may be NULL) is set to 1 when
 * the rounded value lay outside [lo, hi].
 */
int8_t qa_ref_requant(int64_t t, unsigned s, qa_round mode, int lo, int hi,
		      int *saturated);

/*
 * Golden model of a whole GEMM. y receives M*N values. *saturated (may be
 * NULL) receives the number of outputs that were clamped.
 */
int qa_ref_gemm(const qa_gemm_desc *d, int8_t *y, uint64_t *saturated);

/* ---- networks ------------------------------------------------------------- */

/*
 * A network is a chain of GEMM layers: layer l computes
 * Y_l = clamp(round_shift(Y_{l-1} . W_l + bias_l, shift_l), lo_l, hi_l)
 * with Y_{-1} = the int8 input, so layer l+1's k equals layer l's n. All
 * layers share one rounding mode. ReLU is lo = 0.
 */
typedef struct qa_layer {
	size_t k, n;
	const int8_t *w;       /* k x n, row-major */
	const int32_t *bias;   /* n entries or NULL */
	const uint8_t *shift;  /* n entries, 0..31 */
	int lo, hi;
} qa_layer;

typedef struct qa_net {
	unsigned nlayers;
	const qa_layer *layers;
	qa_round round;
} qa_net;

/* Check a network (shapes chain, pointers, shift and clamp ranges). */
int qa_net_validate(const qa_net *net);

/* Golden model of a network on m input rows: x is m x layers[0].k, y
 * receives m x layers[nlayers-1].n. *saturated (may be NULL) counts the
 * clamped outputs of every layer. Built on qa_ref_gemm. */
int qa_ref_net(const qa_net *net, size_t m, const int8_t *x, int8_t *y,
	       uint64_t *saturated);

/* ---- devices ------------------------------------------------------------ */

typedef struct qa_dev qa_dev;

typedef struct qa_dev_opts {
	/* Simulator: array shape to select among the built models
	 * (0 = the default model). */
	unsigned sim_rows, sim_cols;
	/* Simulator: watchdog, cycles without any stream progress before a
	 * hang is reported (0 = default, 2,000,000). */
	uint64_t sim_timeout_cycles;
	/* Simulator: write an FST waveform of the whole session here (NULL = none). */
	const char *trace_path;
	/* 0 = quiet; higher values log protocol traffic to stderr. */
	int verbose;
	/* Simulator, for testing: drop the stream handshakes (command valid,
	 * response ready) at random with this probability in 1/1000. */
	unsigned sim_stall_permille;
	/* Simulator: record the command and response byte streams, one hex
	 * byte per line, to RECORD.cmd.hex and RECORD.rsp.hex (NULL = off),
	 * to replay the session on another simulator (tests/tb_core.v). */
	const char *sim_record;
	/* sim-uart, for testing: a faulty wire in both directions,
	 * "flip=P,drop=P,dup=P,garbage=P[,seed=N]" (per-byte probabilities);
	 * NULL = a perfect line. (The emulated FTDI bridge takes the same
	 * spec: qarray emu --link-faults.) */
	const char *link_faults;
} qa_dev_opts;

/* What the device reports about itself (IDENT command). */
typedef struct qa_info {
	unsigned version;     /* core command-stream version */
	unsigned rows, cols;  /* array shape: rows*cols MACs per cycle */
	unsigned data_w;      /* operand bits (8) */
	unsigned acc_w;       /* accumulator bits */
	unsigned xb_depth;    /* X buffer words per bank (a word = rows bytes) */
	unsigned wb_depth;    /* W buffer words per bank (a word = cols bytes) */
	unsigned pg_max;      /* column groups of bias/shift per bank */
	unsigned k_max;       /* largest K of one GEMM */
	unsigned nl_max;      /* layers a resident network may have (0: none) */
	uint32_t clock_hz;    /* core clock the design was built for */
} qa_info;

/* Per-GEMM figures, from the device's counters and the transport. */
typedef struct qa_stats {
	uint64_t cycles;           /* transport cycles end to end (sim), else busy */
	uint64_t busy_cycles;      /* core cycles spent executing RUN commands */
	uint64_t stall_cycles;     /* busy cycles frozen by result backpressure */
	uint64_t macs;             /* useful multiply-accumulates issued */
	uint64_t saturated;        /* outputs that were clamped */
	uint64_t bytes_to_device;  /* the core's command and response streams */
	uint64_t bytes_from_device;
	/* bytes on the wire, framing included, on framed targets (sim-uart,
	 * ftdi, tty); 0 on "sim", whose wire is the core's stream */
	uint64_t wire_bytes_to_device;
	uint64_t wire_bytes_from_device;
	/* line errors the link recovered from (framed targets): frames sent
	 * again, responses damaged on the line, probes of where the device
	 * was, and whole operations run again after a response with results
	 * was lost (docs/protocol.md, section 7) */
	uint64_t link_resent, link_damaged, link_probes, retries;
	unsigned runs;             /* RUN commands issued */
} qa_stats;

/*
 * Open a target:
 *   "sim[:RxC]"        the Verilator model of the core, fed its command
 *                      stream directly
 *   "sim-uart[:BOARD][,baud=N][,timeout=CYCLES]"
 *                      the Verilator model of the whole chip (qa_chip),
 *                      through its UART pins and the wire protocol
 *   "ftdi[:SELECTOR]"  a board behind an FTDI bridge (libftdi1/libusb)
 *   "tty:PATH[,baud=N][,timeout=MS]"  a board behind a kernel serial port
 * (docs/cli.md and docs/usb.md have the options). Returns QA_OK and
 * a handle in *dev, or an error; on error *dev is NULL. opts may be NULL.
 * errbuf (may be NULL) receives a message when opening fails.
 */
int qa_dev_open(qa_dev **dev, const char *target, const qa_dev_opts *opts,
		char *errbuf, size_t errlen);
void qa_dev_close(qa_dev *dev);

/* Detail of the last error on this handle ("" if none). */
const char *qa_dev_errmsg(const qa_dev *dev);

/* Device configuration (read once at open, validated). */
int qa_dev_info(qa_dev *dev, qa_info *info);

/* Run one GEMM on the device; y receives M*N values. st may be NULL. */
int qa_dev_gemm(qa_dev *dev, const qa_gemm_desc *d, int8_t *y, qa_stats *st);

/*
 * Load a network for qa_dev_net_run. Where it fits the device's layer
 * table (nl_max layers) and memories, it is made resident: all weights,
 * biases, shifts and the layer table go into on-chip memory once, and a
 * later qa_dev_gemm may overwrite its weights (load it again then).
 * Otherwise - a device without a table (nl_max 0, the iCEBreaker build),
 * more layers than nl_max, or weights beyond the memories - the network is
 * streamed: the handle keeps a copy and every run sends the layers one by
 * one as GEMMs, with the same results. Fails with QA_ERR_RANGE when a
 * layer's K exceeds k_max (no GEMM could run it). Replaces any network
 * loaded before.
 */
int qa_dev_net_load(qa_dev *dev, const qa_net *net);

/* 1 when the loaded network is streamed (see qa_dev_net_load), 0 when it
 * is resident or none is loaded. */
int qa_dev_net_streamed(const qa_dev *dev);

/*
 * Run the loaded network on m input rows: x is m x k_in (int8), y
 * receives m x n_out. A resident network: only the input and the output
 * cross the link; the device runs the layers by itself and keeps the
 * activations on chip. A streamed one: one GEMM per layer; *st sums the
 * layers' figures.
 */
int qa_dev_net_run(qa_dev *dev, size_t m, const int8_t *x, int8_t *y,
		   qa_stats *st);

/* Names of the built simulator models, e.g. "4x4"; NULL-terminated. */
const char *const *qa_sim_models(void);

/* ---- .npy files ----------------------------------------------------------- */

typedef enum qa_dtype {
	QA_DT_INT8 = 0,
	QA_DT_UINT8,
	QA_DT_INT32,
	QA_DT_INT64,
	QA_DT_FLOAT32
} qa_dtype;

#define QA_NPY_MAX_DIMS 4

typedef struct qa_array {
	qa_dtype dtype;
	unsigned ndim;
	size_t shape[QA_NPY_MAX_DIMS];
	size_t count;   /* product of shape (1 for a 0-d array) */
	void *data;     /* count elements, native byte order, C order */
} qa_array;

/* "int8", "uint8", "int32", "int64", "float32" */
const char *qa_dtype_name(qa_dtype dt);
size_t qa_dtype_size(qa_dtype dt);

/*
 * Read a NumPy .npy file (format 1.0, 2.0 or 3.0; C order; little- or
 * big-endian data of the dtypes above). On error returns QA_ERR_IO,
 * QA_ERR_FORMAT or QA_ERR_NOMEM and writes a message into errbuf.
 */
int qa_npy_read(const char *path, qa_array *arr, char *errbuf, size_t errlen);

/*
 * Write a .npy file (format 1.0, little-endian, C order). Writes to a
 * temporary file in the same directory and renames it, so a failure never
 * leaves a partial file at path.
 */
int qa_npy_write(const char *path, const qa_array *arr, char *errbuf,
		 size_t errlen);

void qa_array_free(qa_array *arr);

#ifdef __cplusplus
}
#endif

#endif /* QARRAY_H */
