package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mksmt/workbench/internal/store"
)

func init() {
	register(&command{
		Name:    "show",
		Summary: "show one run: status, provenance, config, summaries, metrics and artifacts",
		Run:     runShow,
	})
}

func runShow(ctx context.Context, args []string, io IO) error {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB)")
	asJSON := fs.Bool("json", false, "write the run as a JSON record")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench show RUN [--json] [--db runs.db]")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		fs.Usage()
		return errors.New("show: name one run id (see workbench runs)")
	}
	id, err := parseRunID("show", rest[0])
	if err != nil {
		return err
	}
	if err := checkDBFlag("show", *db); err != nil {
		return err
	}
	st, err := openForRead(io, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	run, err := st.Run(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("show: no run %d in %s", id, *db)
	}
	if err != nil {
		return err
	}
	recs, err := loadRecords(ctx, st, []store.Run{run}, recordOptions{artifacts: true, studies: true})
	if err != nil {
		return err
	}
	rec := recs[0]
	marks, err := st.Marks(ctx, id)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(withMarks(rec, marks[id]))
	}
	keys, err := st.MetricKeys(ctx, id)
	if err != nil {
		return err
	}
	series, err := st.Series(ctx, []int64{id}, keys, 0)
	if err != nil {
		return err
	}
	return writeShow(io, run, rec, marks[id], series)
}

func writeShow(io IO, run store.Run, rec runRecord, marks store.Marks, series []store.Series) error {
	w := tabwriter.NewWriter(io.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "Run %d\t%s / %s, seed %d\n", run.ID, run.Study, run.Variant, run.Seed)
	var also []string
	for _, m := range rec.Studies {
		if m.Study != run.Study || m.Variant != run.Variant {
			also = append(also, fmt.Sprintf("%s (%s)", m.Study, m.Variant))
		}
	}
	if len(also) > 0 {
		fmt.Fprintf(w, "Also used by\t%s\n", strings.Join(also, ", "))
	}
	status := string(run.Status)
	switch run.Status {
	case store.Diverged:
		status += fmt.Sprintf(" at step %d", run.DivergedStep)
	case store.Running:
		status += fmt.Sprintf(", %.0f%% (batch %d of %d, epoch %d), %.0f img/s", 100*run.Progress.Fraction(),
			run.Progress.Batch, run.Progress.TotalBatches, run.Progress.Epoch, run.Progress.ImagesPerSec)
	}
	if run.Attempts > 1 {
		status += fmt.Sprintf(" (%d attempts)", run.Attempts)
	}
	fmt.Fprintf(w, "Status\t%s\n", status)
	if run.Error != "" {
		for i, line := range strings.Split(strings.TrimRight(run.Error, "\n"), "\n") {
			label := ""
			if i == 0 {
				label = "Error"
			}
			fmt.Fprintf(w, "%s\t%s\n", label, line)
		}
	}
	if marks.IsArchived() {
		fmt.Fprintf(w, "Archived\t%s (workbench unarchive %d)\n", stamp(marks.Archived), run.ID)
	}
	if len(marks.Tags) > 0 {
		fmt.Fprintf(w, "Tags\t%s\n", strings.Join(marks.Tags, ", "))
	}
	for i, line := range strings.Split(strings.TrimRight(marks.Note, "\n"), "\n") {
		if line == "" && i == 0 {
			break
		}
		label := ""
		if i == 0 {
			label = "Note"
		}
		fmt.Fprintf(w, "%s\t%s\n", label, line)
	}
	fmt.Fprintf(w, "Created\t%s\n", stamp(run.Created))
	if !run.Started.IsZero() {
		fmt.Fprintf(w, "Started\t%s\n", stamp(run.Started))
	}
	if !run.Ended.IsZero() {
		fmt.Fprintf(w, "Ended\t%s (%s)\n", stamp(run.Ended), clock(run.Duration()))
	}
	if run.Status == store.Running || run.Status == store.Queued {
		fmt.Fprintf(w, "Heartbeat\t%s (%s ago)\n", stamp(run.Heartbeat), clock(time.Since(run.Heartbeat)))
	}
	dirty := ""
	if run.GitDirty {
		dirty = " (dirty)"
	}
	fmt.Fprintf(w, "Host\t%s, pid %d\n", orDash(run.Host), run.PID)
	blas := ""
	if run.BLAS != "" {
		blas = ", OpenBLAS " + run.BLAS + " kernels"
	}
	fmt.Fprintf(w, "Code\t%s, git %s%s, %s%s\n", orDash(run.CodeVersion), orDash(shortHash(run.GitCommit)), dirty, orDash(run.GoVersion), blas)
	fmt.Fprintf(w, "Data\t%s (fingerprint %s)\n", orDash(run.Dataset), orDash(run.DatasetFingerprint))
	fmt.Fprintf(w, "Config hash\t%s\n", run.ConfigHash)
	if err := w.Flush(); err != nil {
		return err
	}

	section(io, "Config")
	w = tabwriter.NewWriter(io.Out, 0, 0, 2, ' ', 0)
	for _, k := range slices.Sorted(maps.Keys(rec.Params)) {
		fmt.Fprintf(w, "  %s\t%s\n", k, rec.Params[k])
	}
	w.Flush()

	if len(rec.Summaries) > 0 {
		section(io, "Summaries")
		w = tabwriter.NewWriter(io.Out, 0, 0, 2, ' ', 0)
		keys := make([]string, 0, len(rec.Summaries))
		for k := range rec.Summaries {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %s\t%s\n", k, number(rec.Summaries[k]))
		}
		w.Flush()
	}

	if len(series) > 0 {
		section(io, "Metrics")
		w = tabwriter.NewWriter(io.Out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "  key\tpoints\tfirst\tlast\tmin\tmax\tlast step")
		for _, s := range series {
			first, last := s.Points[0], s.Points[len(s.Points)-1]
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, p := range s.Points {
				if !math.IsNaN(p.Value) {
					lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
				}
			}
			fmt.Fprintf(w, "  %s\t%d\t%s\t%s\t%s\t%s\t%d\n", s.Key, len(s.Points), fnum(first.Value), fnum(last.Value), fnum(lo), fnum(hi), last.Step)
		}
		w.Flush()
	}

	if len(rec.Artifacts) > 0 {
		section(io, "Artifacts")
		w = tabwriter.NewWriter(io.Out, 0, 0, 2, ' ', 0)
		for _, a := range rec.Artifacts {
			where := a.Path
			switch {
			case a.Path == "":
				where = fmt.Sprintf("inline, %d bytes", a.Size)
			default:
				if fi, err := os.Stat(a.Path); err != nil {
					where += " (missing)"
				} else {
					where += fmt.Sprintf(" (%d bytes)", fi.Size())
				}
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\n", a.Kind, orDash(a.Name), where)
		}
		w.Flush()
	}
	return nil
}

func section(io IO, title string) { fmt.Fprintf(io.Out, "\n%s\n", title) }

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func shortHash(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

func number(v *float64) string {
	if v == nil {
		return "NaN"
	}
	return fnum(*v)
}

// fnum writes a number compactly: integers in full, others with 4
// significant digits.
func fnum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 0):
		return strconv.FormatFloat(v, 'f', -1, 64)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
