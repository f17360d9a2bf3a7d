package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mksmt/workbench/internal/filter"
	"github.com/mksmt/workbench/internal/report"
	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/train"
)

func init() {
	register(&command{
		Name:    "runs",
		Summary: "list runs: status, study, variant, seed, progress, accuracy",
		Run:     runRuns,
	})
}

// paramFlags collects repeated --param key=value flags.
type paramFlags map[string]string

func (p paramFlags) String() string { return "" }

func (p paramFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, e.g. steps=2 or profile=quick")
	}
	p[k] = v
	return nil
}

func runRuns(ctx context.Context, args []string, io IO) error {
	fs := flag.NewFlagSet("runs", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB)")
	study := fs.String("study", "", "only the runs this study uses (labelled as in the study)")
	status := fs.String("status", "", "only runs with these statuses, comma-separated: queued, running, finished, failed, interrupted, diverged")
	variant := fs.String("variant", "", "only runs of this variant label")
	params := paramFlags{}
	fs.Var(params, "param", "only runs with this param, key=value (repeatable), e.g. --param profile=quick")
	limit := fs.Int("limit", 0, "only the newest N runs")
	asJSON := fs.Bool("json", false, "write JSON records")
	asCSV := fs.Bool("csv", false, "write CSV, one row per run")
	var where multiFlag
	fs.Var(&where, "where", "only runs matching this filter (repeatable, ANDed), e.g. --where 'temperature=4 acc.S4>60 tag:keep'")
	archived := fs.Bool("archived", false, "only archived runs (hidden by default)")
	all := fs.Bool("all", false, "archived runs too")
	watch := fs.Bool("watch", false, "redraw whenever a run changes (PostgreSQL: at once, by LISTEN/NOTIFY; SQLite: every 2 s) until interrupted")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench runs [--where FILTER] [--study S] [--status S] [--variant V] [--param k=v] [--limit N] [--archived|--all] [--json|--csv|--watch] [--db runs.db]")
		fmt.Fprintln(io.Err, "\nA filter is terms ANDed, separated by spaces or commas: field=value, field:value,")
		fmt.Fprintln(io.Err, "field!=value, field>N (>=, <, <=), field~text (contains), -term (not); a|b for either value.")
		fmt.Fprintln(io.Err, "Fields: run fields (id, status, study, variant, seed, tag, note, archived, error, host, ...),")
		fmt.Fprintln(io.Err, "params by name (temperature=4) and summary keys (acc.S4>60). Archived runs are hidden")
		fmt.Fprintln(io.Err, "unless --archived, --all or the filter names archived.")
		fs.PrintDefaults()
	}
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if *asJSON && *asCSV {
		return errors.New("runs: choose one of --json and --csv")
	}
	if err := checkDBFlag("runs", *db); err != nil {
		return err
	}
	if err := checkRange("runs", "limit", *limit, 0, math.MaxInt, "0: every run"); err != nil {
		return err
	}
	filter, err := runFilter("runs", *study, *status, *variant, params)
	if err != nil {
		return err
	}
	if *limit > 0 {
		filter.Limit, filter.Newest = *limit, true
	}
	if *archived && *all {
		return errors.New("runs: choose one of --archived and --all")
	}
	if *watch && (*asJSON || *asCSV) {
		return errors.New("runs: --watch redraws the table; it does not go with --json or --csv")
	}
	st, err := openForRead(io, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	list := func(out IO) error {
		return listRuns(ctx, st, out, filter, params, where, archivedMode(*archived, *all), *asJSON, *asCSV)
	}
	if !*watch {
		return list(io)
	}
	return watchRuns(ctx, st, io, list)
}

// listRuns writes the runs a filter selects: a table, JSON or CSV.
func listRuns(ctx context.Context, st *store.Store, io IO, rf store.RunFilter, params paramFlags, where multiFlag,
	mode filter.Archived, asJSON, asCSV bool) error {
	sel, f, err := selectRuns(ctx, st, "runs", rf, params, where, mode)
	if err != nil {
		return err
	}
	runs := make([]store.Run, len(sel.Records))
	for i, r := range sel.Records {
		runs[i] = r.Run
	}
	if asJSON || asCSV {
		recs, err := loadRecords(ctx, st, runs, recordOptions{})
		if err != nil {
			return err
		}
		if asCSV {
			marks := make(map[int64]store.Marks, len(sel.Records))
			for _, rec := range sel.Records {
				marks[rec.Run.ID] = rec.Marks
			}
			return writeRecordsCSV(io.Out, recs, marks)
		}
		out := make([]markedRecord, len(recs))
		for i, rec := range recs {
			out[i] = withMarks(rec, sel.Records[i].Marks)
		}
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(runs) == 0 {
		fmt.Fprintln(io.Out, noRunsLine(sel, f))
		return nil
	}
	tw := tabwriter.NewWriter(io.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tSTUDY\tVARIANT\tSEED\tPROFILE\tPROGRESS\tacc.S3\tacc.S4\tTIME\tTAGS\tNOTE")
	count := map[store.Status]int{}
	for _, rec := range sel.Records {
		r, sums := rec.Run, rec.Summaries
		count[r.Status]++
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Status, r.Study, r.Variant, r.Seed,
			orDash(rec.Params["profile"]), progressCell(r), accCell(sums, r, train.KeyAccS3), accCell(sums, r, train.KeyAccS4),
			clock(r.Duration()), tagsCell(rec.Marks), markedNoteCell(r, rec.Marks))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var tally []string
	for _, s := range store.Statuses {
		if count[s] > 0 {
			tally = append(tally, fmt.Sprintf("%d %s", count[s], s))
		}
	}
	fmt.Fprintf(io.Out, "%d run(s): %s\n", len(runs), strings.Join(tally, ", "))
	if line := filterLine(sel, f); line != "" {
		fmt.Fprintln(io.Out, line)
	}
	return nil
}

// runFilter builds a store filter from the common flags.
func runFilter(verb, study, statuses, variant string, params map[string]string) (store.RunFilter, error) {
	f := store.RunFilter{Study: study, Params: params}
	if variant != "" {
		f.Variants = []string{variant}
	}
	for _, s := range strings.Split(statuses, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		st, err := store.ParseStatus(s)
		if err != nil {
			return f, fmt.Errorf("%s: --status: %w", verb, err)
		}
		f.Statuses = append(f.Statuses, st)
	}
	return f, nil
}

func progressCell(r store.Run) string {
	switch r.Status {
	case store.Finished:
		return "100%"
	case store.Queued:
		return "-"
	}
	if r.Progress.TotalBatches == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*r.Progress.Fraction())
}

// accCell is the final accuracy of a finished run, or the latest evaluated
// one (in parentheses) of a run still going or stopped.
func accCell(sums map[string]float64, r store.Run, key string) string {
	if v, ok := sums[key]; ok && !math.IsNaN(v) {
		return fmt.Sprintf("%.1f", v)
	}
	if v, ok := r.Progress.Latest[key]; ok && !math.IsNaN(v) {
		return fmt.Sprintf("(%.1f)", v)
	}
	return "-"
}

func noteCell(r store.Run) string {
	switch r.Status {
	case store.Diverged:
		return fmt.Sprintf("diverged at step %d", r.DivergedStep)
	case store.Running:
		return fmt.Sprintf("pid %d on %s, attempt %d, heartbeat %s ago", r.PID, r.Host, r.Attempts, clock(time.Since(r.Heartbeat)))
	}
	return trimText(firstLineOf(r.Error), 60)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clock is a run's duration or an age in the one format of the CLI and
// the TUI (report.Duration: 2s, 1m05s, 1h02m).
func clock(d time.Duration) string { return report.Duration(max(d, 0)) }

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// trimText shortens s to n runes, between words where it can, ending in
// "…" (show prints the whole text).
func trimText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := n - 1
	for i := cut; i > n/2; i-- {
		if r[i] == ' ' {
			cut = i
			break
		}
	}
	return strings.TrimRight(string(r[:cut]), " ,;:") + "…"
}

// watchRuns redraws the list every 2 s and, on PostgreSQL, as soon as a run
// changes (LISTEN/NOTIFY; changes within 200 ms are drawn once), falling
// back to the 2 s poll on SQLite or when the notification connection is
// lost, until ctx ends.
func watchRuns(ctx context.Context, st *store.Store, io IO, list func(IO) error) error {
	changes := st.Watch(ctx)
	how := "redrawn when a run changes"
	if changes == nil {
		how = "redrawn every 2 s"
	}
	for {
		var buf bytes.Buffer
		err := list(IO{In: io.In, Out: &buf, Err: io.Err, IsTTY: io.IsTTY, Getenv: io.Getenv})
		if ctx.Err() != nil {
			return nil // interrupted, perhaps in the middle of a redraw
		}
		if err != nil {
			return err
		}
		if io.IsTTY {
			fmt.Fprint(io.Out, "\x1b[H\x1b[2J") // home, clear
		}
		fmt.Fprintf(io.Out, "%s · %s · %s (ctrl+c ends)\n", st.Path(), time.Now().Format("15:04:05"), how)
		io.Out.Write(buf.Bytes())
		poll := time.After(2 * time.Second)
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-changes:
			if !ok { // the listening connection is gone: poll
				changes, how = nil, "redrawn every 2 s (change notices lost)"
			}
			time.Sleep(200 * time.Millisecond)
		case <-poll: // heartbeat ages move even when nothing else does
		}
	}
}
