# SPDX-License-Identifier: Apache-2.0
# host.mk - libqarray (host C + simulator), the qarray CLI, test programs.

# The USB transports (host/ftdi/) use libftdi1 and libusb-1.0. Their flags
# are recursive variables, expanded in recipes only: on a fresh machine
# pkg-config knows them once `make deps` (a prerequisite) has run.
USB_PKGS  := libftdi1 libusb-1.0
USB_CFLAGS = $(shell pkg-config --cflags $(USB_PKGS))
USB_LIBS   = $(shell pkg-config --libs $(USB_PKGS))

HOST_SRCS := $(wildcard host/src/*.c) $(wildcard host/ftdi/*.c)
HOST_OBJS := $(patsubst host/%.c,$(BUILD)/host/%.o,$(HOST_SRCS))
HOST_CFLAGS = $(CSTD) $(WARN) $(OPT) $(SANFLAGS) -Ihost/include -Ihost/src \
              -Ihost/ftdi -Isim $(USB_CFLAGS) -MMD -MP
LDLIBS_QA  = -lstdc++ -lz -lpthread -lm $(USB_LIBS)

LIBQARRAY := $(BUILD)/libqarray.a
QARRAY    := $(BUILD)/qarray

$(BUILD)/host/%.o: host/%.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

# One archive with everything a program needs: host code, simulator driver,
# bindings, Verilated models and the Verilator runtime.
$(LIBQARRAY): $(HOST_OBJS) $(SIM_DRIVER) $(SIM_BINDINGS) $(CHIP_BINDINGS) $(SIM_RUNTIME) $(SIM_ARCHIVES) $(CHIP_ARCHIVES)
	@rm -f $@
	{ echo "create $@"; \
	  for o in $(HOST_OBJS) $(SIM_DRIVER) $(SIM_BINDINGS) $(CHIP_BINDINGS) $(SIM_RUNTIME); do echo "addmod $$o"; done; \
	  for a in $(SIM_ARCHIVES) $(CHIP_ARCHIVES); do echo "addlib $$a"; done; \
	  echo save; echo end; } | $(AR) -M

$(BUILD)/cli/%.o: host/cli/%.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

CLI_OBJS := $(patsubst host/cli/%.c,$(BUILD)/cli/%.o,$(wildcard host/cli/*.c))
$(QARRAY): $(CLI_OBJS) $(LIBQARRAY)
	$(CC) $(SANFLAGS) -o $@ $(CLI_OBJS) $(LIBQARRAY) $(LDLIBS_QA)

# test programs: tests/NAME.c -> build/tests/NAME
$(BUILD)/tests/%.o: tests/%.c tests/check.h $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -Itests -c $< -o $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIBQARRAY)
	$(CC) $(SANFLAGS) -o $@ $< $(LIBQARRAY) $(LDLIBS_QA)

-include $(HOST_OBJS:.o=.d) $(CLI_OBJS:.o=.d)
