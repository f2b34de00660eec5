/*
 * commands.h - the subcommands of the mxguard binary.
 *
 * Each takes the arguments after its name (argv[0] is the subcommand) and
 * returns a sysexits(3) exit status.
 */
#ifndef MXG_COMMANDS_H
#define MXG_COMMANDS_H

int cmd_parse(int argc, char **argv);

#endif
