package main

// Helpers shared by the verbs: flag parsing, opening runs.db, the flags of
// the verbs that train.

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/term"

	"github.com/mksmt/workbench/internal/runner"
	"github.com/mksmt/workbench/internal/store"
)

// parseInterspersed parses flags that may come before, between or after
// the positional arguments (workbench table table9 --format md) and returns
// the positional ones. "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseFlagsOnly parses a verb that takes flags and no positional
// arguments.
func parseFlagsOnly(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err // -h: main exits 0
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

// trainFlags are the flags of every verb that trains: how many runs at
// once and how often they checkpoint.
type trainFlags struct {
	jobs            int
	checkpointEvery int
	dropCheckpoints bool
}

func (f *trainFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&f.jobs, "jobs", 0, fmt.Sprintf("runs trained at once (default %d on this machine: one per core)", runner.DefaultJobs()))
	fs.IntVar(&f.checkpointEvery, "checkpoint-every", 50, "write a checkpoint every N batches (0: at epoch ends only)")
	fs.BoolVar(&f.dropCheckpoints, "drop-checkpoints", false, "remove a run's checkpoint once it finishes (Figure 4's Grad-CAM maps need it; workbench gc removes them later)")
}

// checkJobs validates every train flag (see validate); the TUI calls it.
func (f trainFlags) checkJobs(verb string) error { return f.validate(verb) }

// openForRead opens the runs database for a verb that only reads it: it is
// opened read-only and never written (no migration, no sweep of abandoned
// runs), so listing works on a read-only file or directory and on a full
// disk. A missing file is an error that says how to make one.
func openForRead(io IO, path string) (*store.Store, error) {
	if store.IsURL(path) {
		return store.OpenURLReadOnly(path, artifactsDefault(io))
	}
	if err := mustExist(path); err != nil {
		return nil, err
	}
	st, err := store.OpenReadOnly(path)
	if err != nil {
		return nil, err
	}
	if ids := st.Recovered(); len(ids) > 0 {
		fmt.Fprintf(io.Err, "note: run(s) %s look abandoned (their workbench process is gone); workbench resume continues them\n", joinIDs(ids))
	}
	return st, nil
}

// openForWrite opens the runs database for a verb that writes it, creating
// it unless mustExist, applying pending migrations and marking runs whose
// process died interrupted (reported on io.Err).
func openForWrite(io IO, path string, mustExistAlready bool) (*store.Store, error) {
	if store.IsURL(path) {
		return openShared(io, "open", path, artifactsDefault(io))
	}
	if mustExistAlready {
		if err := mustExist(path); err != nil {
			return nil, err
		}
	}
	st, err := store.Open(path)
	if err != nil {
		return nil, err
	}
	if ids := st.Recovered(); len(ids) > 0 {
		fmt.Fprintf(io.Err, "marked %d run(s) interrupted whose workbench process is gone: %s (continue with workbench resume)\n",
			len(ids), joinIDs(ids))
	}
	return st, nil
}

func mustExist(path string) error {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no runs database at %s: run a study first (workbench run experiments/table9.toml, or workbench reproduce), or name another with --db", path)
		}
		return err
	}
	return nil
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

// termWidth is the width of the terminal Out writes to (0: unknown).
func termWidth(io IO) int {
	f, ok := io.Out.(*os.File)
	if !ok || !io.IsTTY {
		return 0
	}
	w, _, err := term.GetSize(f.Fd())
	if err != nil {
		return 0
	}
	return w
}

// envArtifacts names the artifacts directory of a PostgreSQL store when a
// verb has no --artifacts flag.
const envArtifacts = "WORKBENCH_ARTIFACTS"

func artifactsDefault(io IO) string {
	if io.Getenv != nil {
		return io.Getenv(envArtifacts)
	}
	return ""
}
