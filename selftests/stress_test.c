// SPDX-License-Identifier: GPL-2.0
/* Placeholder: the race stress lands in the next commit. */
#include "kselftest_harness.h"

TEST(placeholder) {}

TEST_HARNESS_MAIN
