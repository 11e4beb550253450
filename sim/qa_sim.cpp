// SPDX-License-Identifier: Apache-2.0
// qa_sim.cpp - the clock/reset/stream driver behind the qa_sim C API.
//
// One call to tick() is one clock cycle: the stream inputs for the cycle are
// applied with the clock low, the handshakes are sampled after the
// combinational logic settles, then the rising edge is evaluated. The trace
// (when open) gets one sample per clock level.
#include "qa_sim.h"
#include "qa_sim_model.h"

#include <cstdio>
#include <cstring>
#include <new>
#include <vector>

// The build passes the list of models as QA_SIM_MODEL_LIST, e.g.
//   -DQA_SIM_MODEL_LIST='QA_M(4,4) QA_M(2,2)'
#ifndef QA_SIM_MODEL_LIST
#error "QA_SIM_MODEL_LIST must name the built models"
#endif

#define QA_M(r, c) qa_sim_model *qa_sim_new_##r##x##c();
QA_SIM_MODEL_LIST
#undef QA_M

namespace {

const qa_sim_model_entry k_models[] = {
#define QA_M(r, c) {#r "x" #c, r, c, qa_sim_new_##r##x##c},
	QA_SIM_MODEL_LIST
#undef QA_M
};
const size_t k_nmodels = sizeof k_models / sizeof k_models[0];

const char *const k_names[] = {
#define QA_M(r, c) #r "x" #c,
	QA_SIM_MODEL_LIST
#undef QA_M
	nullptr};

} // namespace

struct qa_sim {
	qa_sim_model *m = nullptr;
	unsigned rows = 0, cols = 0;
	std::vector<uint8_t> in;
	size_t in_pos = 0;
	std::vector<uint8_t> out;
	size_t out_pos = 0;
	uint64_t cycles = 0;
	bool tracing = false;
	unsigned rsp_stall = 0, cmd_stall = 0; // permille
	uint32_t rng = 1;
	FILE *rec_cmd = nullptr, *rec_rsp = nullptr;

	bool chance(unsigned permille)
	{
		if (!permille)
			return false;
		rng = rng * 1664525u + 1013904223u; // LCG (Numerical Recipes)
		return ((rng >> 8) % 1000u) < permille;
	}

	// one clock cycle; returns true when a byte moved
	bool tick(bool rst)
	{
		const bool have = in_pos < in.size();
		const bool cmd_valid = !rst && have && !chance(cmd_stall);
		const bool rsp_ready = !rst && !chance(rsp_stall);
		m->set_rst(rst);
		m->set_cmd(have ? in[in_pos] : 0, cmd_valid);
		m->set_rsp_ready(rsp_ready);
		m->set_clk(false);
		m->eval();
		const bool cmd_fire = cmd_valid && m->cmd_ready();
		const bool rsp_fire = rsp_ready && m->rsp_valid();
		const uint8_t rsp = m->rsp_data();
		if (tracing)
			m->trace_dump(2 * cycles);
		m->set_clk(true);
		m->eval();
		if (tracing)
			m->trace_dump(2 * cycles + 1);
		cycles++;
		if (cmd_fire) {
			if (rec_cmd)
				std::fprintf(rec_cmd, "%llx %02x\n",
					     (unsigned long long)cycles - 1, in[in_pos]);
			in_pos++;
		}
		if (rsp_fire) {
			if (rec_rsp)
				std::fprintf(rec_rsp, "%02x\n", rsp);
			out.push_back(rsp);
		}
		if (in_pos == in.size() && in_pos) {
			in.clear();
			in_pos = 0;
		}
		return cmd_fire || rsp_fire;
	}
};

extern "C" {

const char *const *qa_sim_models(void)
{
	return k_names;
}

int qa_sim_create(qa_sim **sim, unsigned rows, unsigned cols)
{
	*sim = nullptr;
	const qa_sim_model_entry *e = nullptr;
	for (size_t i = 0; i < k_nmodels; i++) {
		if ((rows == 0 && cols == 0) ||
		    (k_models[i].rows == rows && k_models[i].cols == cols)) {
			e = &k_models[i];
			break;
		}
	}
	if (!e)
		return -1;
	qa_sim *s = new (std::nothrow) qa_sim;
	if (!s)
		return -2;
	s->m = e->create();
	if (!s->m) {
		delete s;
		return -2;
	}
	s->rows = e->rows;
	s->cols = e->cols;
	qa_sim_reset(s, 4);
	*sim = s;
	return 0;
}

void qa_sim_destroy(qa_sim *sim)
{
	if (!sim)
		return;
	delete sim->m;
	delete sim;
}

unsigned qa_sim_rows(const qa_sim *sim) { return sim->rows; }
unsigned qa_sim_cols(const qa_sim *sim) { return sim->cols; }

void qa_sim_reset(qa_sim *sim, unsigned cycles)
{
	sim->in.clear();
	sim->in_pos = 0;
	sim->out.clear();
	sim->out_pos = 0;
	if (cycles == 0)
		cycles = 1;
	for (unsigned i = 0; i < cycles; i++)
		sim->tick(true);
}

void qa_sim_step(qa_sim *sim, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		sim->tick(false);
}

int qa_sim_push(qa_sim *sim, const uint8_t *buf, size_t n)
{
	try {
		sim->in.insert(sim->in.end(), buf, buf + n);
	} catch (...) {
		return -2;
	}
	return 0;
}

size_t qa_sim_out_avail(const qa_sim *sim)
{
	return sim->out.size() - sim->out_pos;
}

size_t qa_sim_in_pending(const qa_sim *sim)
{
	return sim->in.size() - sim->in_pos;
}

size_t qa_sim_pull(qa_sim *sim, uint8_t *buf, size_t n)
{
	size_t avail = qa_sim_out_avail(sim);
	if (n > avail)
		n = avail;
	if (n)
		std::memcpy(buf, sim->out.data() + sim->out_pos, n);
	sim->out_pos += n;
	if (sim->out_pos == sim->out.size()) {
		sim->out.clear();
		sim->out_pos = 0;
	}
	return n;
}

int qa_sim_wait_out(qa_sim *sim, size_t n, uint64_t idle_timeout)
{
	uint64_t idle = 0;
	while (qa_sim_out_avail(sim) < n) {
		if (sim->tick(false))
			idle = 0;
		else if (++idle >= idle_timeout)
			return -1;
	}
	return 0;
}

uint64_t qa_sim_cycles(const qa_sim *sim) { return sim->cycles; }
int qa_sim_busy(const qa_sim *sim) { return sim->m->busy(); }
int qa_sim_error(const qa_sim *sim) { return sim->m->error(); }

void qa_sim_set_stall(qa_sim *sim, unsigned rsp_permille, unsigned cmd_permille,
		      uint32_t seed)
{
	sim->rsp_stall = rsp_permille > 1000 ? 1000 : rsp_permille;
	sim->cmd_stall = cmd_permille > 1000 ? 1000 : cmd_permille;
	sim->rng = seed ? seed : 1;
}

void qa_sim_record(qa_sim *sim, FILE *cmd, FILE *rsp)
{
	sim->rec_cmd = cmd;
	sim->rec_rsp = rsp;
}

int qa_sim_trace_open(qa_sim *sim, const char *path)
{
	if (!sim->m->trace_open(path))
		return -1;
	sim->tracing = true;
	return 0;
}

void qa_sim_trace_close(qa_sim *sim)
{
	sim->m->trace_close();
	sim->tracing = false;
}

} // extern "C"
