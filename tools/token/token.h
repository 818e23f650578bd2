/* sasl-mechs-token: obtains, shows, refreshes and revokes the token files
 * the XOAUTH2 and OAUTHBEARER client plugins read, and tests them against a
 * mail server.  A thin front end over the OAuth core (plugins/oauth): the
 * token file is written and locked by the same code the plugin uses.
 *
 * Each command is one function taking the arguments after its name
 * (argv[0] is the command's name) and returning the process exit status:
 * 0 done, 1 the operation failed (the reason printed on stderr), 2 usage. */
#ifndef TOKEN_H
#define TOKEN_H

int token_cmd_obtain(int argc, char **argv);   /* token_obtain.c */
int token_cmd_show(int argc, char **argv);     /* token_show.c */
int token_cmd_refresh(int argc, char **argv);  /* token_show.c */
int token_cmd_revoke(int argc, char **argv);   /* token_revoke.c */
int token_cmd_delete(int argc, char **argv);   /* token_revoke.c */
int token_cmd_test(int argc, char **argv);     /* token_test.c */

#endif
