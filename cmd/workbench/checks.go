package main

// Flag validation shared by the verbs: every value is checked before any
// work starts, with an error naming the flag and what it allows.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"

	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/store"
)

const (
	// maxSeedsFlag is the limit a spec's seeds have (experiment.MaxSeeds):
	// --seeds must not be a way around it.
	maxSeedsFlag = 1000
	// confirmAbove: training more runs than this in one command asks first
	// (--yes, or y on a terminal).
	confirmAbove = 200
	// maxGradCAM bounds Figure 4: two rows of four panels per image.
	maxGradCAM = 16
)

// maxJobs is the most runs trained at once: 4 per CPU. Each run trains on
// its own goroutines and holds its data set and network in memory; beyond
// that, more jobs only share the same cores and multiply the memory.
func maxJobs() int { return 4 * runtime.NumCPU() }

// checkRange refuses an integer flag outside [lo, hi] (hi = math.MaxInt:
// no upper bound); why says where a bound comes from.
func checkRange(verb, name string, v, lo, hi int, why string) error {
	if v >= lo && v <= hi {
		return nil
	}
	allowed := fmt.Sprintf("allowed: %d to %d", lo, hi)
	if hi == math.MaxInt {
		allowed = fmt.Sprintf("allowed: %d or more", lo)
	}
	if why != "" {
		allowed += "; " + why
	}
	return fmt.Errorf("%s: --%s %d is out of range (%s)", verb, name, v, allowed)
}

// checkRequired refuses an empty (or blank) value of a flag that needs one.
func checkRequired(verb, name, v, example string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("%s: --%s is empty: give a value, e.g. --%s %s", verb, name, name, example)
	}
	return nil
}

// checkDBFlag refuses --db values that are not a plain file path: empty,
// SQLite's in-memory name and file: URIs. A database in memory would lose
// every run when workbench exits; a URI could carry options (mode=,
// immutable=) that bypass how the workbench opens its store.
func checkDBFlag(verb, db string) error {
	if store.IsURL(db) {
		return nil // checked when connecting
	}
	if strings.TrimSpace(db) == "" {
		return fmt.Errorf("%s: --db is empty: name the runs database file, e.g. --db runs.db", verb)
	}
	if db == ":memory:" || strings.HasPrefix(strings.ToLower(db), "file:") {
		return fmt.Errorf("%s: --db %s: want a file path; in-memory databases and file: URIs are not accepted (every run would be lost when workbench exits)", verb, db)
	}
	if fi, err := os.Stat(db); err == nil && fi.IsDir() {
		return fmt.Errorf("%s: --db %s is a directory: name the database file in it, e.g. --db %s", verb, db, strings.TrimRight(db, "/")+"/runs.db")
	}
	return nil
}

// checkProfile refuses an unknown --profile ("" is the study's own).
func checkProfile(verb, profile string) error {
	if profile == "" {
		return nil
	}
	if _, err := experiment.LookupProfile(profile); err != nil {
		return fmt.Errorf("%s: --profile %q: unknown profile (allowed: %s)", verb, profile, strings.Join(experiment.ProfileNames(), ", "))
	}
	return nil
}

// validate checks the train flags: --jobs 0 (the machine's default) to
// maxJobs, --checkpoint-every 0 or more.
func (f trainFlags) validate(verb string) error {
	if err := checkRange(verb, "jobs", f.jobs, 0, maxJobs(),
		fmt.Sprintf("0 is the default; at most 4 per CPU, %d CPUs here: more runs at once only share the cores and multiply the memory", runtime.NumCPU())); err != nil {
		return err
	}
	return checkRange(verb, "checkpoint-every", f.checkpointEvery, 0, math.MaxInt, "0 checkpoints at epoch ends only")
}

// distinctRuns counts the runs of expanded studies by hash: a run two
// studies share trains once.
func distinctRuns(expanded ...[]experiment.RunSpec) map[string]bool {
	hashes := map[string]bool{}
	for _, rs := range expanded {
		for _, r := range rs {
			hashes[r.Hash] = true
		}
	}
	return hashes
}

// toTrain counts the runs of hashes that st (nil: no database yet) does
// not hold finished; with force every one trains.
func toTrain(ctx context.Context, st *store.Store, hashes map[string]bool, force bool) (int, error) {
	n := len(hashes)
	if st == nil || force || n <= confirmAbove {
		return n, nil
	}
	done, err := st.Runs(ctx, store.RunFilter{Statuses: []store.Status{store.Finished}})
	if err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	for _, r := range done {
		if hashes[r.ConfigHash] && !seen[r.ConfigHash] {
			seen[r.ConfigHash] = true
			n--
		}
	}
	return n, nil
}

// confirmRuns asks before training more than confirmAbove runs: --yes
// goes ahead, a terminal (stdin and stdout) gets a y/N question, anything
// else is refused with what to do.
func confirmRuns(io IO, verb string, n int, yes bool) error {
	if n <= confirmAbove || yes {
		return nil
	}
	in, ok := io.In.(*os.File)
	if !io.IsTTY || !ok || !isTerminal(in) {
		return fmt.Errorf("%s: %d runs to train (more than %d in one command): pass --yes to confirm", verb, n, confirmAbove)
	}
	fmt.Fprintf(io.Err, "%s: %d runs to train (more than %d). Continue? [y/N] ", verb, n, confirmAbove)
	line, err := bufio.NewReader(io.In).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("%s: %d runs not started: no answer", verb, n)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errors.New(verb + ": nothing started (answered no)")
}

// fileExists reports whether path exists (of any type).
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
