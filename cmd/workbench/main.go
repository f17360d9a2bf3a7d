// Command workbench runs MKSMT ablation studies, stores every run in SQLite
// and renders the paper's comparison tables and plots.
//
// Each verb lives in its own file and registers itself in init, so that the
// command wiring stays thin and every verb can be tested on its own.
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
)

// IO holds the streams a verb writes to, so tests can capture them.
type IO struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	IsTTY  bool // Out is a terminal
	Getenv func(string) string
}

// command is one verb of the workbench CLI.
type command struct {
	Name    string
	Summary string
	// Run parses args (the words after the verb) and does the work.
	Run func(ctx context.Context, args []string, io IO) error
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.Name]; dup {
		panic("workbench: verb registered twice: " + c.Name)
	}
	commands[c.Name] = c
}

func main() {
	// SIGHUP too: closing the terminal should checkpoint running runs, not kill them.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	streams := IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, IsTTY: isTerminal(os.Stdout), Getenv: os.Getenv}
	os.Exit(runMain(ctx, os.Args[1:], streams))
}

// runMain dispatches to a verb and returns the process exit code.
func runMain(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 || (len(args) > 0 && len(args[0]) > 0 && args[0][0] == '-') {
		// No verb: the terminal UI, when it is registered and we are on a TTY.
		if tui, ok := commands["tui"]; ok && io.IsTTY {
			return exitCode(io, tui.Run(ctx, args, io))
		}
		if len(args) == 0 {
			usage(io.Err)
			return 2
		}
	}
	switch args[0] {
	case "help", "-h", "--help":
		usage(io.Out)
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(io.Err, "workbench: unknown command %q\n\n", args[0])
		usage(io.Err)
		return 2
	}
	return exitCode(io, c.Run(ctx, args[1:], io))
}

// exitCode maps a verb's error to the exit status. Verbs return
// flag.ErrHelp as their flag set gave it: -h printed the flags, which is
// success, here in one place for every verb.
func exitCode(io IO, err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(io.Err, "workbench: %v\n", err)
	return 1
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: workbench <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].Summary)
	}
	fmt.Fprintln(w, "\nRun 'workbench <command> -h' for the flags of a command.")
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	return fi.Mode()&os.ModeCharDevice != 0
}
