/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tty_speed.h - set any line rate on a Linux tty (termios2 with BOTHER).
 *
 * Kept in its own file because <asm/termbits.h>, which defines struct
 * termios2, cannot be included together with the C library's <termios.h>.
 */
#ifndef QA_TTY_SPEED_H
#define QA_TTY_SPEED_H

/*
 * Set input and output speed of the tty fd to baud bit/s exactly as asked
 * (the driver may round: *actual receives what it reports back). Returns 0,
 * or -1 with errno set (ENOTTY: not a tty, EINVAL: rate refused, ENOSYS:
 * not Linux).
 */
int qa_tty_set_speed(int fd, unsigned baud, unsigned *actual);
/* The output speed the tty reports, in bit/s. Returns 0 or -1 (errno). */
int qa_tty_get_speed(int fd, unsigned *baud);

#endif
