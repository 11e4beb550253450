/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_usb.h - the qarray commands about boards: `qarray list` (attached FTDI
 * bridges) and `qarray emu` (run a command against an emulated board).
 * They follow the exit codes of qarray.c: 0 ok, 1 usage, 2 device.
 */
#ifndef QA_CLI_USB_H
#define QA_CLI_USB_H

#include <stdio.h>

int cli_list(int argc, char **argv);
void cli_list_usage(FILE *f);
int cli_emu(int argc, char **argv);
void cli_emu_usage(FILE *f);

#endif
