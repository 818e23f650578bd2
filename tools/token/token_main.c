/* sasl-mechs-token's entry point: picks the command. */
#include <stdio.h>
#include <string.h>

#include "token.h"

struct token_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct token_command token_commands[] = {
    { "obtain",  token_cmd_obtain,  "sign in and write a new token file" },
    { "show",    token_cmd_show,    "describe a token file (never prints a token unless asked)" },
    { "refresh", token_cmd_refresh, "renew the access token now" },
    { "revoke",  token_cmd_revoke,  "revoke the grant at the provider and delete the file" },
    { "delete",  token_cmd_delete,  "delete the token file (no request)" },
    { "test",    token_cmd_test,    "authenticate to an SMTP or IMAP server through the plugin" },
};

static void token_usage(FILE *f)
{
    fputs("usage: sasl-mechs-token COMMAND [OPTIONS]\n\ncommands:\n", f);
    for (size_t i = 0; i < sizeof token_commands / sizeof token_commands[0]; i++)
        fprintf(f, "  %-8s %s\n", token_commands[i].name, token_commands[i].summary);
    fputs("\nsasl-mechs-token COMMAND --help describes a command; see sasl-mechs-token(1).\n", f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        token_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        token_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof token_commands / sizeof token_commands[0]; i++)
        if (strcmp(argv[1], token_commands[i].name) == 0)
            return token_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "sasl-mechs-token: unknown command '%s'\n", argv[1]);
    token_usage(stderr);
    return 2;
}
