/* SPDX-License-Identifier: Apache-2.0 */
/* Checked parsing of numbers, names and durations. 0 or -errno; ret_* written on success only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal unsigned integer with no sign, no spaces, <= max. -EINVAL / -ERANGE. */
int parse_u64(const char *s, uint64_t max, uint64_t *ret);
int parse_u32(const char *s, uint32_t max, uint32_t *ret);
/* Milliseconds from "250ms", "5s", "2m" or a bare number of seconds. */
int parse_duration_ms(const char *s, uint64_t *ret_ms);
/* Boolean: yes/no, true/false, on/off, 1/0. */
int parse_bool(const char *s, bool *ret);
/*
 * A key or backend name: 1..HWSIGN_MAX_NAME bytes of [A-Za-z0-9._-], starting with an
 * alphanumeric character (so a name is always a safe file name component).
 */
bool name_is_valid(const char *s);
