/*
 * help — what `kept help`, `kept help COMMAND` and `kept COMMAND ... --help`
 * print: every command with its flags, what each does, and an example. The
 * one place the CLI's documentation lives (README's client section shows a
 * session; the usage line a command prints on a mistake points here).
 */
#ifndef KEPT_CLI_HELP_H
#define KEPT_CLI_HELP_H

#include <stdbool.h>
#include <stdio.h>

/* The list of commands, the environment and the exit codes. */
void help_overview(FILE *out);

/* The help of `command` ("pay", "plan", ...); false when there is no such command. */
bool help_command(const char *command, FILE *out);

#endif
