# SPDX-License-Identifier: Apache-2.0
# host.mk - libqarray (host C + simulator), the qarray CLI, test programs.

HOST_SRCS := $(wildcard host/src/*.c)
HOST_OBJS := $(patsubst host/src/%.c,$(BUILD)/host/%.o,$(HOST_SRCS))
HOST_CFLAGS := $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -Ihost/include -Isim -MMD -MP
LDLIBS_QA := -lstdc++ -lz -lpthread -lm

LIBQARRAY := $(BUILD)/libqarray.a
QARRAY    := $(BUILD)/qarray

$(BUILD)/host/%.o: host/src/%.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

# One archive with everything a program needs: host code, simulator driver,
# bindings, Verilated models and the Verilator runtime.
$(LIBQARRAY): $(HOST_OBJS) $(SIM_DRIVER) $(SIM_BINDINGS) $(SIM_RUNTIME) $(SIM_ARCHIVES)
	@rm -f $@
	{ echo "create $@"; \
	  for o in $(HOST_OBJS) $(SIM_DRIVER) $(SIM_BINDINGS) $(SIM_RUNTIME); do echo "addmod $$o"; done; \
	  for a in $(SIM_ARCHIVES); do echo "addlib $$a"; done; \
	  echo save; echo end; } | $(AR) -M

$(BUILD)/cli/%.o: host/cli/%.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

$(QARRAY): $(BUILD)/cli/qarray.o $(LIBQARRAY)
	$(CC) $(SANFLAGS) -o $@ $< $(LIBQARRAY) $(LDLIBS_QA)

# test programs: tests/NAME.c -> build/tests/NAME
$(BUILD)/tests/%.o: tests/%.c tests/check.h $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -Itests -c $< -o $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIBQARRAY)
	$(CC) $(SANFLAGS) -o $@ $< $(LIBQARRAY) $(LDLIBS_QA)

-include $(HOST_OBJS:.o=.d) $(BUILD)/cli/qarray.d
