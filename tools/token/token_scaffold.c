/* SCAFFOLD, to be replaced: the commands not written yet fail loudly. */
#include <stdio.h>

#include "token.h"

static int token_not_yet(const char *name)
{
    fprintf(stderr, "sasl-mechs-token %s: not implemented yet\n", name);
    return 1;
}

int token_cmd_test(int argc, char **argv) { (void)argc; return token_not_yet(argv[0]); }
