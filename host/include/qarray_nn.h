/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qarray_nn.h - neural networks for qarray: float multilayer perceptrons,
 * their power-of-two int8 quantization, the model files, a small trainer,
 * and the golden int8 inference every device result is compared with.
 *
 * The pieces, in the order a user meets them:
 *
 *   qa_nn_train()           float MLP from (X, labels)       nn_train.c
 *   qa_fmodel_save/load     float model directory (manifest + .npy)
 *   qa_nn_quantize()        float model + calibration data -> int8 model
 *   qa_qmodel_save/load     the int8 model as one .qam file  nn_model.c
 *   qa_nn_quantize_input()  float input -> int8 with the model's input step
 *   qa_nn_ref_forward()     golden int8 inference, built only on qa_ref_gemm
 *   qa_nn_net_view()        the model as a qa_net for qa_dev_net_load
 *   qa_nn_report_compute()  per-layer error of the int8 model against float
 *
 * (quantization, inference and the report are in nn_quant.c, the data
 * helpers in nn_data.c)
 *
 * The number formats are in docs/numerics.md (one GEMM) and docs/models.md
 * (quantization, the manifest, the .qam layout); docs/cli.md shows the
 * `qarray train` and `qarray quantize` commands built on this API.
 *
 * Conventions are those of qarray.h: every function that can fail returns
 * QA_OK or a negative qa_err; functions that take errbuf/errlen (errbuf may
 * be NULL) write a one-line reason there on failure. Models are plain
 * structs whose fields callers may read (a device backend reads the layers
 * of a qa_qmodel directly); the *_init functions allocate them and the
 * *_free functions release them. The library keeps no global state.
 */
#ifndef QARRAY_NN_H
#define QARRAY_NN_H

#include <stddef.h>
#include <stdint.h>

#include "qarray.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QA_NN_MAX_LAYERS 64     /* layers of one model */
#define QA_NN_MAX_DIM 65536     /* inputs or outputs of one layer */
#define QA_NN_EXP_MIN (-100)    /* range of every power-of-two exponent */
#define QA_NN_EXP_MAX 100

/* ---- float models ---------------------------------------------------------- */

/*
 * A dense layer: y = x . W + b, then y = max(y, 0) when relu is set.
 * W is in x out, row-major: w[i * out + j] connects input i to output j
 * (the layout of a Keras Dense kernel; a PyTorch nn.Linear weight is its
 * transpose).
 */
typedef struct qa_flayer {
	size_t in, out;
	float *w;       /* in * out values */
	float *b;       /* out values */
	int relu;       /* 0 or 1 */
} qa_flayer;

/* A chain of dense layers; layers[l + 1].in == layers[l].out. */
typedef struct qa_fmodel {
	unsigned nlayers;
	qa_flayer *layers;
} qa_fmodel;

/*
 * Allocate a float model of nlayers layers with widths dims[0] (inputs),
 * dims[1], ..., dims[nlayers] (outputs); weights and biases are zero, relu
 * is set on every layer but the last. On error *m is left empty.
 */
int qa_fmodel_init(qa_fmodel *m, unsigned nlayers, const size_t *dims);
/* Release what *m owns and empty it; safe on an empty or zeroed model. */
void qa_fmodel_free(qa_fmodel *m);
/* Shapes chain, sizes within limits, pointers set, every value finite. */
int qa_fmodel_validate(const qa_fmodel *m, char *errbuf, size_t errlen);
/* Bytes of the parameters as float32 (4 per weight and bias). */
size_t qa_fmodel_param_bytes(const qa_fmodel *m);

/*
 * Float inference on rows inputs: x is rows x layers[0].in, y receives
 * rows x layers[nlayers-1].out (logits, no softmax).
 */
int qa_fmodel_forward(const qa_fmodel *m, size_t rows, const float *x,
		      float *y);

/*
 * Read a float model directory: DIR/manifest.txt names the layers and
 * their float32 .npy files (docs/models.md). Every shape, every value
 * (finite) and every file name is checked.
 */
int qa_fmodel_load(qa_fmodel *m, const char *dir, char *errbuf,
		   size_t errlen);

/*
 * Write a float model directory: DIR is created if missing (its parent must
 * exist; a DIR created here is removed again if writing fails); layer
 * files l0_w.npy, l0_b.npy, l1_w.npy, ... are written first
 * and DIR/manifest.txt last, each through a temporary file and a rename;
 * an existing non-regular file at any of those names is an error. comment
 * (may be NULL; one line) goes into the manifest as a "# " line. Other
 * files in DIR are left alone.
 */
int qa_fmodel_save(const qa_fmodel *m, const char *dir, const char *comment,
		   char *errbuf, size_t errlen);

/* ---- quantized models --------------------------------------------------------- */

/* How activation exponents are chosen from calibration data. */
typedef enum qa_nn_method {
	QA_NN_MAX = 0,        /* smallest step with no clipping of max |a| */
	QA_NN_PERCENTILE = 1, /* no clipping of a percentile of |a| */
	QA_NN_MSE = 2,        /* least squared error, clipping included */
	QA_NN_FLOOR = 3       /* the naive baseline: fixed Q0.7 steps, floor */
} qa_nn_method;

/* "max", "percentile", "mse", "floor"; NULL for a bad value. */
const char *qa_nn_method_name(qa_nn_method method);
/* Parse a method name; QA_OK or QA_ERR_INVALID. */
int qa_nn_method_parse(const char *name, qa_nn_method *method);

/*
 * One quantized layer, the GEMM of docs/numerics.md plus the exponents that
 * give its integers a meaning: the layer input is x_q * 2^k_in, weight
 * column j is w_q[., j] * 2^kw[j], the output is y_q * 2^k_out, and
 *
 *   y_q = clamp(round_shift(x_q . w_q + bias, shift), lo, hi)
 *   shift[j] = k_out - k_in - kw[j]        (0..31)
 *   bias[j]  ~ b[j] / 2^(k_in + kw[j])     (the accumulator's scale)
 *
 * The fields k, n, w, bias, shift, lo, hi are exactly a qa_gemm_desc's, so
 * a device backend can run the layer as it stands.
 */
typedef struct qa_qlayer {
	size_t k, n;        /* inputs, outputs */
	int8_t *w;          /* k x n, row-major */
	int32_t *bias;      /* n */
	uint8_t *shift;     /* n, 0..QA_SHIFT_MAX */
	int *kw;            /* n weight exponents (all equal when per tensor) */
	int k_in, k_out;    /* exponents of the input and the output */
	int lo, hi;         /* clamp; a ReLU layer has lo = 0 */
} qa_qlayer;

/*
 * A quantized model. layers[0].k_in == k_in and layers[l+1].k_in ==
 * layers[l].k_out. The logits are the int8 outputs of the last layer, in
 * steps of 2^layers[nlayers-1].k_out.
 */
typedef struct qa_qmodel {
	unsigned nlayers;
	qa_qlayer *layers;
	qa_round round;       /* requantization rounding of every layer */
	qa_round in_round;    /* rounding of float inputs: half_away or floor */
	int k_in;             /* input step 2^k_in */
	/* how it was made (informational, kept in the file) */
	qa_nn_method method;
	int per_channel;      /* weight exponents per output column */
	unsigned weight_bits; /* 2..8 */
} qa_qmodel;

/*
 * Allocate a quantized model with widths dims[0..nlayers] (as for
 * qa_fmodel_init): all integers zero, exponents 0, clamp -128..127 (0..127
 * on every layer but the last), round half_up, in_round half_away, method
 * max, weight_bits 8. The caller fills in the values.
 */
int qa_qmodel_init(qa_qmodel *m, unsigned nlayers, const size_t *dims);
void qa_qmodel_free(qa_qmodel *m);

/*
 * Everything a .qam file must satisfy (docs/models.md): shapes chain and
 * lie within limits, exponents within QA_NN_EXP_MIN..MAX, k_in chain,
 * shift[j] == k_out - k_in - kw[j] and in 0..31, -128 <= lo <= hi <= 127,
 * weights within weight_bits, known modes and method.
 */
int qa_qmodel_validate(const qa_qmodel *m, char *errbuf, size_t errlen);

/* Size in bytes of the model's .qam encoding (0 if it is invalid). */
size_t qa_qmodel_file_bytes(const qa_qmodel *m);

/*
 * Encode into buf (cap bytes; *len receives the size, which
 * qa_qmodel_file_bytes gives in advance) and decode from a buffer. Decoding
 * checks the magic, the version, the declared size, the CRC-32 and the
 * whole layer table before it allocates anything, then every value;
 * errors are QA_ERR_FORMAT with a message, and leave *m empty.
 */
int qa_qmodel_encode(const qa_qmodel *m, void *buf, size_t cap, size_t *len,
		     char *errbuf, size_t errlen);
int qa_qmodel_decode(qa_qmodel *m, const void *buf, size_t len, char *errbuf,
		     size_t errlen);

/* Read / write a .qam file (written through a temporary file and a rename;
 * an existing non-regular file at path is refused). */
int qa_qmodel_load(qa_qmodel *m, const char *path, char *errbuf,
		   size_t errlen);
int qa_qmodel_save(const qa_qmodel *m, const char *path, char *errbuf,
		   size_t errlen);

/* ---- quantization --------------------------------------------------------------- */

typedef struct qa_nn_quant_opts {
	qa_nn_method method;  /* activation (and input) exponents */
	int per_channel;      /* weight exponent per output column */
	qa_round round;       /* requantization mode (QA_NN_FLOOR: floor) */
	double percentile;    /* QA_NN_PERCENTILE: in (0, 100], e.g. 99.99 */
	unsigned mse_window;  /* QA_NN_MSE: exponents tried below max's, 1..32 */
	unsigned weight_bits; /* 2..8: weights in +-(2^(bits-1) - 1) */
	int fit_shifts;       /* 1: a layer whose shift would be negative gets
			       * the output step of its coarsest accumulator
			       * instead of an error */
} qa_nn_quant_opts;

/* Defaults: max, per tensor, half_up, 99.99, window 8, 8 bits, no
 * fit_shifts. */
void qa_nn_quant_opts_init(qa_nn_quant_opts *o);

/*
 * The smallest integer k with maxabs / 2^k <= qmax (qmax >= 1), i.e. the
 * finest power-of-two step that does not clip maxabs. maxabs must be finite
 * and > 0; QA_ERR_RANGE if k falls outside QA_NN_EXP_MIN..MAX.
 */
int qa_nn_exponent(double maxabs, int qmax, int *k);

/*
 * round(v / 2^k) with a qa_round mode (half_away for weights, biases and
 * inputs; floor for the baseline), clamped to lo..hi; *saturated (may be
 * NULL) is set when the clamp changed the value. v must be finite.
 */
int qa_nn_quantize_value(double v, int k, qa_round mode, int lo, int hi,
			 int *saturated);

/* The exponent of an all-zero weight column or tensor: any step holds it
 * exactly, and qa_nn_quantize gives it the one that makes its shift 0. */
#define QA_NN_EXP_ANY (-32768)

/*
 * Weight exponents of a k x n matrix for weight_bits bits: one for the
 * tensor (copied into all n entries of kw) or one per column, each the
 * qa_nn_exponent of the max |w| it covers with qmax = 2^(bits-1) - 1, or
 * QA_NN_EXP_ANY when that max is 0.
 */
int qa_nn_weight_exponents(const float *w, size_t k, size_t n,
			   int per_channel, unsigned weight_bits, int *kw);

/*
 * The exponent of one activation tensor (count values, e.g. rows x width)
 * whose integers will be clamped to lo..hi (lo <= 0 < hi), by o->method
 * (max, percentile or mse, fitting |a| into hi; floor gives -7). All-zero
 * data (no step can be derived from it) or data that needs an exponent
 * outside QA_NN_EXP_MIN..MAX gives QA_ERR_RANGE with *k unchanged.
 */
int qa_nn_calibrate(const float *a, size_t count, int lo, int hi,
		    const qa_nn_quant_opts *o, int *k);

/*
 * Quantize a float model (docs/models.md, "Quantization"): the input
 * exponent and each layer's output exponent from the float activations of
 * calib (rows x input width), weight exponents from the weights, int8
 * weights, int32 biases at the accumulator's scale, shifts. Fails with
 * QA_ERR_RANGE and a message naming the layer and column when a bias does
 * not fit an int32 or a shift would be negative (unless o->fit_shifts).
 * A column whose shift would exceed 31 (weights below 2^-24 output steps)
 * gets a coarser weight step that makes it 31. On error *qm is empty.
 */
int qa_nn_quantize(const qa_fmodel *fm, size_t rows, const float *calib,
		   const qa_nn_quant_opts *o, qa_qmodel *qm, char *errbuf,
		   size_t errlen);

/*
 * Float input -> int8 with the model's input step and in_round:
 * xq[i] = clamp(round(x[i] / 2^k_in), -128, 127). *saturated (may be NULL)
 * receives the number of clamped values. Every x[i] must be finite.
 */
int qa_nn_quantize_input(const qa_qmodel *m, size_t count, const float *x,
			 int8_t *xq, uint64_t *saturated);

/* ---- golden int8 inference ------------------------------------------------------- */

/*
 * The golden model of a whole network on rows int8 inputs (rows x
 * layers[0].k): one qa_ref_gemm per layer and nothing else. logits
 * receives rows x layers[nlayers-1].n. saturated (may be NULL) is an array
 * of nlayers counts of clamped outputs per layer. A device's result must
 * equal this bit for bit.
 */
int qa_nn_ref_forward(const qa_qmodel *m, size_t rows, const int8_t *x,
		      int8_t *logits, uint64_t *saturated);

/*
 * The same, keeping every layer's output: outs[l] (nlayers pointers) must
 * hold rows x layers[l].n values.
 */
int qa_nn_ref_layers(const qa_qmodel *m, size_t rows, const int8_t *x,
		     int8_t *const *outs, uint64_t *saturated);

/*
 * The model as a qa_net of qarray.h, for the device path:
 *
 *   qa_layer layers[QA_NN_MAX_LAYERS]; qa_net net;
 *   qa_nn_net_view(&model, layers, &net);
 *   qa_dev_net_load(dev, &net);  qa_dev_net_run(dev, rows, xq, y, &st);
 *
 * layers must hold m->nlayers entries; the view points into m's arrays
 * and is valid while m is. The device's y must equal qa_nn_ref_forward's.
 */
int qa_nn_net_view(const qa_qmodel *m, qa_layer *layers, qa_net *net);

/* ---- error report ------------------------------------------------------------------ */

/* SNR values: 10 log10(signal power / error power) in dB; QA_NN_SNR_EXACT
 * when the error is zero, -QA_NN_SNR_EXACT when the signal is zero and the
 * error is not. */
#define QA_NN_SNR_EXACT 999.0

typedef struct qa_nn_layer_report {
	size_t k, n;
	int k_in, k_out;
	int kw_min, kw_max;            /* weight exponents */
	unsigned shift_min, shift_max;
	double w_snr_db;               /* int8 weights vs float weights */
	uint64_t w_clipped;            /* weights the clamp changed */
	/* this layer's output, int8 * 2^k_out vs float, over all inputs
	 * (errors of earlier layers included) */
	double snr_db;
	double max_abs_err, mean_abs_err;
	double float_max_abs;          /* max |float output| */
	uint64_t outputs;              /* rows x n */
	/* outputs the int8 range cut off: rounded value above hi, or below
	 * lo on a layer whose lo is -128 (a ReLU's zeros do not count) */
	uint64_t saturated;
	/* every output the clamp changed, ReLU zeros included: what
	 * qa_ref_gemm and the device's counter report */
	uint64_t clamped;
} qa_nn_layer_report;

typedef struct qa_nn_report {
	size_t rows;
	unsigned nlayers;
	/* the input, x_q * 2^k_in vs x */
	int k_in;
	double in_snr_db;
	uint64_t in_saturated, in_values;
	qa_nn_layer_report layers[QA_NN_MAX_LAYERS];
	/* rows where argmax(int8 logits) == argmax(float logits) */
	size_t agree;
	size_t bytes_float;   /* qa_fmodel_param_bytes */
	size_t bytes_int8;    /* qa_qmodel_file_bytes */
} qa_nn_report;

/*
 * Run x (rows x input width, float) through the float model and through the
 * golden int8 model and compare them layer by layer. The two models must
 * have the same layer shapes (the int8 one made from the float one).
 */
int qa_nn_report_compute(const qa_fmodel *fm, const qa_qmodel *qm,
			 size_t rows, const float *x, qa_nn_report *rep,
			 char *errbuf, size_t errlen);

/* ---- data ------------------------------------------------------------------------------ */

/*
 * Features from an .npy array: float32 or uint8, shape (N, D), N and D >= 1.
 * uint8 values are taken as they are (3 -> 3.0f; no scaling), float32 must
 * be finite. *out receives N*D floats (free() it).
 */
int qa_nn_features(const qa_array *x, float **out, char *errbuf,
		   size_t errlen);

/*
 * Class labels from an .npy array: any integer dtype, shape (N,), values
 * 0..QA_NN_MAX_DIM-1. *out receives N int32 (free() it) and *classes the
 * largest label + 1.
 */
int qa_nn_labels(const qa_array *y, int32_t **out, unsigned *classes,
		 char *errbuf, size_t errlen);

/* Index of the largest of n values; the first one on ties. */
size_t qa_nn_argmax_f32(const float *v, size_t n);
size_t qa_nn_argmax_i8(const int8_t *v, size_t n);

/* ---- training ---------------------------------------------------------------------------- */

typedef struct qa_train_progress {
	unsigned epoch, epochs;   /* 1-based epoch just finished, of all */
	int qat;                  /* 1 during quantization-aware epochs */
	double loss;              /* mean cross-entropy over the epoch */
	double accuracy;          /* training accuracy over the epoch, 0..1 */
} qa_train_progress;

typedef struct qa_train_opts {
	unsigned epochs;          /* float epochs (1..100000) */
	unsigned batch;           /* mini-batch size (1..65536) */
	double lr;                /* Adam step size */
	double weight_decay;      /* decoupled (AdamW) decay per step * lr */
	uint64_t seed;            /* everything random derives from this */
	int qat;                  /* add quantization-aware fine-tuning */
	unsigned qat_epochs;      /* 0: epochs / 4, at least 1 */
	unsigned qat_weight_bits; /* weight grid of the fake quantizer, 2..8 */
	/* called after every epoch (may be NULL) */
	void (*progress)(void *ctx, const qa_train_progress *p);
	void *progress_ctx;
} qa_train_opts;

/* Defaults: 40 epochs, batch 32, lr 0.01, decay 0.0001, seed 1, no QAT,
 * 8-bit QAT grid. */
void qa_train_opts_init(qa_train_opts *o);

/*
 * Train an MLP dim -> hidden[0] -> ... -> hidden[nhidden-1] -> classes
 * (ReLU after every hidden layer) on rows examples x (rows x dim) with
 * labels y in 0..classes-1: softmax cross-entropy, Adam, mini-batches in a
 * seeded shuffled order, He initialisation (Xavier for the last layer).
 * Inputs are scaled by 1 / max|x| inside the trainer and the scale is
 * folded into the first layer, so *m takes x as given. With o->qat, the
 * float epochs are followed by quantization-aware epochs (fake power-of-two
 * quantization of the input, the weights and every layer output in the
 * forward pass, straight-through gradients), and *m holds the
 * fake-quantized weights. The result depends only on the inputs and
 * o (same binary). final (may be NULL) receives the loss and accuracy of
 * the returned model on the training data (epoch = epochs = all epochs).
 */
int qa_nn_train(qa_fmodel *m, size_t rows, size_t dim, const float *x,
		const int32_t *y, unsigned classes, unsigned nhidden,
		const size_t *hidden, const qa_train_opts *o,
		qa_train_progress *final, char *errbuf, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* QARRAY_NN_H */
