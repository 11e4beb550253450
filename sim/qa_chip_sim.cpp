// SPDX-License-Identifier: Apache-2.0
// qa_chip_sim.cpp - the C API of qa_chip_sim.h over the chip models built
// into the library. The build passes the list of models as
//   -DQA_CHIP_MODEL_LIST='QA_C(ulx3s_25f,"ulx3s-25f",4,7,75000000,3000000) ...'
// (identifier, name, rows, cols, clock in Hz, baud), the default first.
#include "qa_chip_sim.h"
#include "qa_chip_model.h"

#include <cstring>
#include <new>

#ifndef QA_CHIP_MODEL_LIST
#error "QA_CHIP_MODEL_LIST must name the built chip models"
#endif

#define QA_C(id, name, r, c, hz, baud) qa_chip_model *qa_chip_new_##id();
QA_CHIP_MODEL_LIST
#undef QA_C

namespace {

struct entry {
	qa_chip_model_info info;
	qa_chip_model *(*create)();
};

#define QA_C(id, name, r, c, hz, baud) { { name, r, c, hz, baud }, qa_chip_new_##id },
const entry models[] = { QA_CHIP_MODEL_LIST };
#undef QA_C
const size_t n_models = sizeof models / sizeof models[0];
qa_chip_model_info infos[sizeof models / sizeof models[0]];

} // namespace

struct qa_chip_sim {
	qa_chip_model *m;
	const qa_chip_model_info *info;
	uint64_t cycles;
	bool tracing;
};

const qa_chip_model_info *qa_chip_models(size_t *count)
{
	for (size_t i = 0; i < n_models; i++)
		infos[i] = models[i].info;
	if (count)
		*count = n_models;
	return infos;
}

int qa_chip_sim_create(qa_chip_sim **sp, const char *name)
{
	*sp = nullptr;
	const entry *e = nullptr;
	for (size_t i = 0; i < n_models && !e; i++)
		if (!name || !*name || std::strcmp(name, models[i].info.name) == 0)
			e = &models[i];
	if (!e)
		return -1;
	qa_chip_sim *s = new (std::nothrow) qa_chip_sim;
	if (!s)
		return -2;
	s->m = e->create();
	if (!s->m) {
		delete s;
		return -2;
	}
	s->info = &e->info;
	s->cycles = 0;
	s->tracing = false;
	s->m->set_clk(false);
	s->m->set_rx(true);
	s->m->eval();
	qa_chip_sim_reset(s, 4);
	*sp = s;
	return 0;
}

void qa_chip_sim_destroy(qa_chip_sim *s)
{
	if (!s)
		return;
	delete s->m;
	delete s;
}

const qa_chip_model_info *qa_chip_sim_info(const qa_chip_sim *s)
{
	return s->info;
}

// one clock cycle: rising edge, then falling edge (two trace points)
static void cycle(qa_chip_sim *s)
{
	s->m->set_clk(true);
	s->m->eval();
	if (s->tracing)
		s->m->trace_dump(2 * s->cycles + 1);
	s->m->set_clk(false);
	s->m->eval();
	s->cycles++;
	if (s->tracing)
		s->m->trace_dump(2 * s->cycles);
}

void qa_chip_sim_reset(qa_chip_sim *s, unsigned n)
{
	s->m->set_rst(true);
	s->m->set_rx(true);
	for (unsigned i = 0; i < (n ? n : 1); i++)
		cycle(s);
	s->m->set_rst(false);
	s->m->eval();
}

uint64_t qa_chip_sim_step(qa_chip_sim *s, int rx, uint64_t n, int *tx)
{
	s->m->set_rx(rx != 0);
	bool before = s->m->tx();
	uint64_t i = 0;
	while (i < n) {
		cycle(s);
		i++;
		if (s->m->tx() != before)
			break;
	}
	if (tx)
		*tx = s->m->tx() ? 1 : 0;
	return i;
}

int qa_chip_sim_tx(const qa_chip_sim *s)
{
	return s->m->tx() ? 1 : 0;
}

int qa_chip_sim_busy(const qa_chip_sim *s)
{
	return s->m->busy() ? 1 : 0;
}

unsigned qa_chip_sim_leds(const qa_chip_sim *s)
{
	return s->m->leds();
}

uint64_t qa_chip_sim_cycles(const qa_chip_sim *s)
{
	return s->cycles;
}

int qa_chip_sim_trace_open(qa_chip_sim *s, const char *path)
{
	if (!s->m->trace_open(path))
		return -1;
	s->tracing = true;
	s->m->trace_dump(2 * s->cycles);
	return 0;
}

void qa_chip_sim_trace_close(qa_chip_sim *s)
{
	s->m->trace_close();
	s->tracing = false;
}
