/* An in-memory auxprop for the fuzzers: one user, FUZZ_USER, whose
 * userPassword fuzz_mech.c sets afresh before every input. */
#ifndef FUZZ_AUXPROP_H
#define FUZZ_AUXPROP_H

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#define FUZZ_USER "user"

void fuzz_auxprop_set_password(const char *password);
int fuzz_auxprop_init(const sasl_utils_t *utils, int max_version, int *out_version,
                      sasl_auxprop_plug_t **plug, const char *plugname);

#endif
