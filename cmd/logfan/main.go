// Command logfan is the operator's tool: replay events through the real
// handlers, generate sample events, run the local demo, redrive failures,
// and print onboarding steps. Each subcommand lives in its own file.
//
// Exit status: 0 when the job is done, 1 when it ran and something is not
// right, 2 for a usage error (a bad flag or argument, found before any work).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/logfan/logfan/internal/cli/usage"
)

// command is one subcommand: a one-line summary and its entry point.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

// register adds a subcommand; called from each cmd_*.go file's init.
func register(name, summary string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	commands[name] = command{summary: summary, run: run}
}

func init() {
	register("help", "show a command's flags: logfan help CMD (the same as logfan CMD -h)", runHelp)
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: logfan <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'logfan help <command>' (or 'logfan <command> -h') for a command's flags.")
}

// runHelp is `logfan help [CMD]`: the command list, or CMD's usage exactly
// as `logfan CMD -h` prints it.
func runHelp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		printUsage(stdout)
		return nil
	case len(args) > 1:
		return usage.Errorf("help takes one command, got %q", args)
	}
	cmd, ok := commands[args[0]]
	if !ok {
		return usage.Errorf("unknown command %q: 'logfan help' lists them", args[0])
	}
	if args[0] == "help" {
		printUsage(stdout)
		return nil
	}
	return cmd.run(ctx, []string{"-h"}, stdout, stderr)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run runs the command args name and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		printUsage(stdout)
		return 0
	case "-version", "--version":
		name = "version"
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "logfan: unknown command %q\n\n", name)
		printUsage(stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd.run(ctx, args[1:], stdout, stderr)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "logfan %s: %v\n", name, err)
	code := exitCode(err)
	if code == 2 {
		if name == "help" {
			fmt.Fprintln(stderr, "Run 'logfan help' for the commands.")
		} else {
			fmt.Fprintf(stderr, "Run 'logfan help %s' for usage.\n", name)
		}
	}
	return code
}

// exitCode is 2 for a usage error (a bad flag or argument, found before
// any work) and 1 for a failure of the work itself.
func exitCode(err error) int {
	if usage.Is(err) {
		return 2
	}
	return 1
}
