/*
 * commands.h - the subcommands of the mxguard binary.
 *
 * Each takes the arguments after its name (argv[0] is the subcommand) and
 * returns a sysexits(3) exit status.
 */
#ifndef MXG_COMMANDS_H
#define MXG_COMMANDS_H

int cmd_parse(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_reputation(int argc, char **argv);

/* Prints a configuration diagnostic on stderr (a conf_diag_fn). */
void print_diag(void *arg, int warning, const char *msg);

#endif
