/* SPDX-License-Identifier: MIT */
/* The includes every test_health_*.c needs (cmocka wants them in order). */
#ifndef XTEL_TEST_HEALTH_METHODS_H
#define XTEL_TEST_HEALTH_METHODS_H
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#endif
