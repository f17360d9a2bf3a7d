package main

// What the run-management verbs (rm, archive, note, tag, diff) and runs
// share: run ids on the command line, the filter, the marks in listings.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mksmt/workbench/internal/filter"
	"github.com/mksmt/workbench/internal/store"
)

// selectRuns lists the runs of base (the store's filter built from --study,
// --status, --variant, --param, --limit) that the --where filters select,
// archived ones as arch says. Param names and filter fields are checked
// against what the store and a run's config know: a typo is an error with
// the nearest names, never an empty list.
func selectRuns(ctx context.Context, st *store.Store, verb string, base store.RunFilter, params map[string]string, where []string, arch filter.Archived) (filter.Selection, *filter.Filter, error) {
	var known filter.Known
	if len(params) > 0 || len(where) > 0 {
		var err error
		if known, err = filter.KnownIn(ctx, st); err != nil {
			return filter.Selection{}, nil, err
		}
	}
	for _, k := range slicesSorted(params) {
		if err := known.CheckParam(k); err != nil {
			return filter.Selection{}, nil, fmt.Errorf("%s: --param %s=%s: %w", verb, k, params[k], err)
		}
	}
	f, err := filter.ParseAll(where, known)
	if err != nil {
		return filter.Selection{}, nil, fmt.Errorf("%s: --where: %w", verb, err)
	}
	sel, err := filter.Select(ctx, st, base, f, arch)
	if err != nil {
		return filter.Selection{}, nil, err
	}
	return sel, f, nil
}

func slicesSorted(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func archivedMode(only, all bool) filter.Archived {
	switch {
	case only:
		return filter.OnlyArchived
	case all:
		return filter.WithArchived
	}
	return filter.HideArchived
}

// noRunsLine says why a listing is empty.
func noRunsLine(sel filter.Selection, f *filter.Filter) string {
	if f.Empty() && sel.Hidden == 0 {
		return "no runs"
	}
	line := "no runs"
	if !f.Empty() {
		line = fmt.Sprintf("no runs match %s (of %d run(s) listed)", f, sel.Considered)
	}
	if sel.Hidden > 0 {
		line += fmt.Sprintf("; %d archived run(s) hidden (--all shows them)", sel.Hidden)
	}
	return line
}

// filterLine follows a listing: what the filter was and what it hid.
func filterLine(sel filter.Selection, f *filter.Filter) string {
	var parts []string
	if !f.Empty() {
		parts = append(parts, fmt.Sprintf("filter: %s (%d of %d run(s) match)", f, sel.Matched+sel.Hidden, sel.Considered))
	}
	if sel.Hidden > 0 {
		parts = append(parts, fmt.Sprintf("%d archived run(s) hidden (--all shows them)", sel.Hidden))
	}
	return strings.Join(parts, "; ")
}

func tagsCell(m store.Marks) string {
	if len(m.Tags) == 0 {
		return "-"
	}
	return strings.Join(m.Tags, ",")
}

// markedNoteCell is the run's note (its first line), then what the
// workbench says about it (an error, where it runs).
func markedNoteCell(r store.Run, m store.Marks) string {
	auto := noteCell(r)
	note := firstLineOf(m.Note)
	switch {
	case note == "":
		return auto
	case auto == "":
		return trimText(note, 60)
	}
	return trimText(note+" · "+auto, 60)
}

// markedRecord is a run's record with its marks (runs --json, show --json).
type markedRecord struct {
	runRecord
	Archived *time.Time `json:"archived,omitempty"`
	Note     string     `json:"note,omitempty"`
	Tags     []string   `json:"tags,omitempty"`
}

func withMarks(rec runRecord, m store.Marks) markedRecord {
	out := markedRecord{runRecord: rec, Note: m.Note, Tags: m.Tags}
	if m.IsArchived() {
		t := m.Archived.UTC()
		out.Archived = &t
	}
	return out
}

// maxIDRange caps a range of run ids (3-9) on the command line.
const maxIDRange = 100000

// parseRunIDs reads run ids: 3, #3, ranges 3-9 and lists 3,5,7-9, in the
// order given, each once.
func parseRunIDs(verb string, args []string) ([]int64, error) {
	var ids []int64
	add := func(id int64) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, arg := range args {
		for _, part := range strings.Split(arg, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if a, b, ok := strings.Cut(part, "-"); ok && a != "" {
				lo, err := parseRunID(verb, a)
				if err != nil {
					return nil, err
				}
				hi, err := parseRunID(verb, b)
				if err != nil {
					return nil, err
				}
				if hi < lo || hi-lo >= maxIDRange {
					return nil, fmt.Errorf("%s: %q is not a range of run ids (from low to high, at most %d)", verb, part, maxIDRange)
				}
				for id := lo; id <= hi; id++ {
					add(id)
				}
				continue
			}
			id, err := parseRunID(verb, part)
			if err != nil {
				return nil, err
			}
			add(id)
		}
	}
	return ids, nil
}

// namedRuns reads the runs ids names; an id that is no run is an error
// naming it (and the database).
func namedRuns(ctx context.Context, st *store.Store, verb string, ids []int64) ([]store.Run, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	runs, err := st.Runs(ctx, store.RunFilter{IDs: ids})
	if err != nil {
		return nil, err
	}
	byID := map[int64]store.Run{}
	for _, r := range runs {
		byID[r.ID] = r
	}
	var missing []string
	out := make([]store.Run, 0, len(ids))
	for _, id := range ids {
		r, ok := byID[id]
		if !ok {
			missing = append(missing, strconv.FormatInt(id, 10))
			continue
		}
		out = append(out, r)
	}
	switch len(missing) {
	case 0:
		return out, nil
	case 1:
		return nil, fmt.Errorf("%s: no run %s in %s (see workbench runs)", verb, missing[0], st.Path())
	}
	return nil, fmt.Errorf("%s: no runs %s in %s (see workbench runs)", verb, strings.Join(missing, ", "), st.Path())
}

// runLabel names a run in messages: "run 3 (table9 / baseline, seed 1)".
func runLabel(r store.Run) string {
	return fmt.Sprintf("run %d (%s / %s, seed %d)", r.ID, r.Study, r.Variant, r.Seed)
}

// busyRun refuses a run that is queued or running: a process or a
// worker's lease holds it.
func busyRun(verb string, r store.Run, nothing string) error {
	switch r.Status {
	case store.Running:
		return fmt.Errorf("%s: %s is running (pid %d on %s): wait for it to end or stop it first; %s", verb, runLabel(r), r.PID, orDash(r.Host), nothing)
	case store.Queued:
		return fmt.Errorf("%s: %s is queued: a runner or worker will start it; stop that first; %s", verb, runLabel(r), nothing)
	}
	return nil
}

// openForMarks opens --db for a verb that changes runs: an SQLite file
// that must exist, or a PostgreSQL URL. artifacts is the artifacts
// directory (needed on PostgreSQL only by the verbs that remove files:
// need).
func openForMarks(io IO, verb, db, artifacts string, need bool) (*store.Store, error) {
	if err := checkDBFlag(verb, db); err != nil {
		return nil, err
	}
	if artifacts == "" {
		artifacts = artifactsDefault(io)
	}
	if store.IsURL(db) {
		if artifacts == "" && !need {
			// Notes, tags and archive marks touch no file; the store
			// still wants a directory.
			artifacts = os.TempDir()
		}
		return openShared(io, verb, db, artifacts)
	}
	st, err := openForWrite(io, db, true)
	if err != nil || artifacts == "" {
		return st, err
	}
	st.Close()
	return store.OpenWith(db, store.Options{Artifacts: artifacts, NoRecover: true})
}

// storeErr strips the store's prefix and sentinel from a refusal the CLI
// did not see coming (a run started between its check and the write).
func storeErr(verb string, err error) error {
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		msg := strings.TrimPrefix(err.Error(), "store: ")
		msg = strings.TrimSuffix(strings.TrimSuffix(msg, ": "+store.ErrConflict.Error()), ": "+store.ErrNotFound.Error())
		return fmt.Errorf("%s: %s", verb, msg)
	}
	return fmt.Errorf("%s: %w", verb, err)
}
