// SPDX-License-Identifier: Apache-2.0
// qa_sim_model.h - the pin-level interface every built Verilator model of
// qa_core implements, so that qa_sim.cpp can drive any array shape.
#ifndef QA_SIM_MODEL_H
#define QA_SIM_MODEL_H

#include <cstdint>

class qa_sim_model {
public:
	virtual ~qa_sim_model() {}
	// inputs
	virtual void set_clk(bool v) = 0;
	virtual void set_rst(bool v) = 0;
	virtual void set_cmd(uint8_t data, bool valid) = 0;
	virtual void set_rsp_ready(bool v) = 0;
	// evaluate the combinational logic / clock edge
	virtual void eval() = 0;
	// outputs
	virtual bool cmd_ready() const = 0;
	virtual bool rsp_valid() const = 0;
	virtual uint8_t rsp_data() const = 0;
	virtual bool busy() const = 0;
	virtual bool error() const = 0;
	// tracing: time in half-cycles
	virtual bool trace_open(const char *path) = 0;
	virtual void trace_dump(uint64_t time) = 0;
	virtual void trace_close() = 0;
};

struct qa_sim_model_entry {
	const char *name; // "RxC"
	unsigned rows, cols;
	qa_sim_model *(*create)();
};

#endif
