/* SCAFFOLD, to be replaced: the commands not written yet fail loudly. */
#include <stdio.h>

#include "token.h"

static int token_not_yet(const char *name)
{
    fprintf(stderr, "sasl-mechs-token %s: not implemented yet\n", name);
    return 1;
}

int token_cmd_obtain(int argc, char **argv) { (void)argc; return token_not_yet(argv[0]); }
int token_cmd_show(int argc, char **argv) { (void)argc; return token_not_yet(argv[0]); }
int token_cmd_refresh(int argc, char **argv) { (void)argc; return token_not_yet(argv[0]); }
int token_cmd_revoke(int argc, char **argv) { (void)argc; return token_not_yet(argv[0]); }
int token_cmd_delete(int argc, char **argv) { (void)argc; return token_not_yet(argv[0]); }
