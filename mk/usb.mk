# SPDX-License-Identifier: Apache-2.0
# usb.mk - the emulated board (emu/: an FTDI bridge under umockdev wired to
# the chip's RTL), qarray-emu, and the USB test programs.
#
# The USB transports themselves (host/ftdi/) are part of libqarray
# (host.mk). umockdev is only needed here: qarray-emu links libumockdev,
# and test_ftdi_emu links libumockdev-preload first so that libusb's calls
# in the same process reach the emulator (emu/qa_emu.h).

EMU_CFLAGS = $(shell pkg-config --cflags umockdev-1.0)
EMU_LIBS   = $(shell pkg-config --libs umockdev-1.0)
EMU_PRELOAD := -Wl,--no-as-needed -lumockdev-preload -Wl,--as-needed

EMU_OBJS   := $(patsubst emu/%.c,$(BUILD)/emu/%.o,emu/board_echo.c emu/board_chip.c \
              emu/emu_line.c emu/emu_ftdi.c)
QARRAY_EMU := $(BUILD)/qarray-emu
USB_TEST_BINS := $(BUILD)/tests/test_ftdi_emu $(BUILD)/tests/test_tty_pty \
                 $(BUILD)/tests/ftdi_echo

$(BUILD)/emu/%.o: emu/%.c $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -Iemu $(EMU_CFLAGS) -c $< -o $@

$(QARRAY_EMU): $(BUILD)/emu/qarray_emu.o $(EMU_OBJS) $(LIBQARRAY)
	$(CC) $(SANFLAGS) -o $@ $< $(EMU_OBJS) $(LIBQARRAY) $(EMU_LIBS) $(LDLIBS_QA)

$(BUILD)/tests/test_ftdi_emu.o: HOST_CFLAGS += -Iemu $(EMU_CFLAGS)
$(BUILD)/tests/test_ftdi_emu: $(BUILD)/tests/test_ftdi_emu.o $(EMU_OBJS) $(LIBQARRAY)
	$(CC) $(SANFLAGS) -o $@ $(EMU_PRELOAD) $< $(EMU_OBJS) $(LIBQARRAY) $(EMU_LIBS) $(LDLIBS_QA)

-include $(EMU_OBJS:.o=.d) $(BUILD)/emu/qarray_emu.d
