/*
 * main.c - the mxguard binary: one program, one subcommand per stage.
 *
 * Each stage can be run alone (parse today; check, replay, run and ctl
 * arrive with the rules engine and the daemon), so tests and users can
 * drive every stage by itself and read its one-line records.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "../common/log.h"
#include "commands.h"

#ifndef MXG_VERSION
#define MXG_VERSION "0.1.0"
#endif

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
	{ "parse", cmd_parse, "turn MTA log lines into typed events (JSON lines)" },
	{ "check", cmd_check, "validate a configuration file" },
	{ "replay", cmd_replay, "run the rules over old logs: what would have been decided" },
	{ "report", cmd_report, "a report directory (RRD, graphs, report files, dashboard) from old logs" },
	{ "run", cmd_run, "the live daemon: follow the logs, apply the rules (foreground)" },
	{ "agent", cmd_agent, "enforce a cluster's decisions at a gateway's firewall (no logs, no rules)" },
	{ "ctl", cmd_ctl, "talk to the running daemon: status, decisions, ban, unban, reload, ..." },
	{ "reputation", cmd_reputation, "what the reputation feeds say about addresses (JSON)" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: mxguard COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "  %-10s %s\n  %-10s %s\n", "version", "print the version",
	    "help", "this text; 'mxguard COMMAND --help' for a command");
}

int
main(int argc, char **argv)
{
	log_init("mxguard", 0);
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("mxguard %s\n", MXG_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	log_warnx("unknown command '%s'", argv[1]);
	usage(stderr);
	return EX_USAGE;
}
