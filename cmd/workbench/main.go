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

	"github.com/charmbracelet/x/term"
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
	run := c.Run
	c.Run = func(ctx context.Context, args []string, io IO) error {
		return checkedOutput(c.Name, io, run, ctx, args)
	}
	commands[c.Name] = c
}

// checkedOutput runs a verb with its standard output checked: when a write
// failed (closed stdout or pipe, full disk) and the verb did not already
// fail, the lost output is the error. A terminal is left as it is: the UI
// and the width probe need the *os.File, and a terminal does not fill up.
func checkedOutput(verb string, io IO, run func(context.Context, []string, IO) error, ctx context.Context, args []string) error {
	if io.IsTTY {
		return run(ctx, args, io)
	}
	ew := &errWriter{w: io.Out}
	io.Out = ew
	err := run(ctx, args, io)
	if ew.err != nil && (err == nil || err == ew.err) { // a verb may return the write error as it got it
		return fmt.Errorf("%s: output lost: %w", verb, ew.err)
	}
	return err
}

func main() {
	// SIGHUP too: closing the terminal should checkpoint running runs, not
	// kill them; SIGUSR1 is Slurm's warning before a time limit
	// (sbatch --signal=B:USR1@120).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1)
	defer stop()
	// A closed pipe (workbench export | head -c1) then fails the write with
	// EPIPE, which the verb reports, instead of killing the process silently.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	streams := IO{In: os.Stdin, Out: stdout(), Err: os.Stderr, IsTTY: isTerminal(os.Stdout), Getenv: os.Getenv}
	os.Exit(runMain(ctx, os.Args[1:], streams))
}

// runMain dispatches to a verb and returns the process exit code.
func runMain(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 || (len(args[0]) > 0 && args[0][0] == '-' && args[0] != "-h" && args[0] != "--help") {
		// No verb: the terminal UI, when it is registered. Off a terminal
		// it says so (flags alone, as in workbench --db X, are the UI's),
		// and the verbs follow.
		tui, ok := commands["tui"]
		if ok && (io.IsTTY || len(args) > 0) {
			err := tui.Run(ctx, args, io)
			if errors.Is(err, errNoTerminal) {
				fmt.Fprintf(io.Err, "workbench: %v\n\n", err)
				usage(io.Err)
				return 2
			}
			return exitCode(io, err)
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

// isTerminal asks the terminal driver: /dev/null is a character device
// too, and must not count as one (workbench >/dev/null is a script).
func isTerminal(f *os.File) bool {
	return term.IsTerminal(f.Fd())
}
