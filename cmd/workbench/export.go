package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mksmt/workbench/internal/store"
)

func init() {
	register(&command{
		Name:    "export",
		Summary: "export runs with params, summaries and artifacts (and metrics) as JSON or CSV",
		Run:     runExport,
	})
}

// runRecord is one run as `runs --json`, `show --json` and `export` write it.
type runRecord struct {
	ID                 int64               `json:"id"`
	Study              string              `json:"study"`
	Variant            string              `json:"variant"`
	Seed               int64               `json:"seed"`
	Status             store.Status        `json:"status"`
	Error              string              `json:"error,omitempty"`
	DivergedStep       *int64              `json:"diverged_step,omitempty"`
	ConfigHash         string              `json:"config_hash"`
	Config             json.RawMessage     `json:"config"`
	Created            *time.Time          `json:"created,omitempty"`
	Started            *time.Time          `json:"started,omitempty"`
	Ended              *time.Time          `json:"ended,omitempty"`
	Heartbeat          *time.Time          `json:"heartbeat,omitempty"`
	Seconds            float64             `json:"seconds"`
	Attempts           int                 `json:"attempts"`
	Host               string              `json:"host"`
	PID                int                 `json:"pid"`
	GoVersion          string              `json:"go_version"`
	GitCommit          string              `json:"git_commit"`
	GitDirty           bool                `json:"git_dirty"`
	CodeVersion        string              `json:"code_version"`
	BLAS               string              `json:"blas"`
	Dataset            string              `json:"dataset"`
	DatasetFingerprint string              `json:"dataset_fingerprint"`
	Progress           *progressRecord     `json:"progress,omitempty"`
	Studies            []membershipRecord  `json:"studies,omitempty"`
	Params             map[string]string   `json:"params"`
	Summaries          map[string]*float64 `json:"summaries"`
	Artifacts          []artifactRecord    `json:"artifacts,omitempty"`
	Metrics            []seriesRecord      `json:"metrics,omitempty"`
}

// membershipRecord is one study that uses a run, named as study_runs'
// columns are (store.Membership has no JSON names: it came out as
// "Study" and "Variant").
type membershipRecord struct {
	Study   string `json:"study"`
	Variant string `json:"variant"`
}

type progressRecord struct {
	Step         int                 `json:"step"`
	Batch        int                 `json:"batch"`
	TotalBatches int                 `json:"total_batches"`
	Epoch        int                 `json:"epoch"`
	ImagesPerSec float64             `json:"images_per_sec"`
	Latest       map[string]*float64 `json:"latest,omitempty"`
}

type artifactRecord struct {
	ID      int64     `json:"id"`
	Kind    string    `json:"kind"`
	Name    string    `json:"name,omitempty"`
	Path    string    `json:"path,omitempty"`
	Size    int64     `json:"size,omitempty"`
	Created time.Time `json:"created"`
}

type seriesRecord struct {
	Key    string        `json:"key"`
	Points []pointRecord `json:"points"`
}

type pointRecord struct {
	Step  int       `json:"step"`
	Epoch int       `json:"epoch"`
	Value *float64  `json:"value"` // null: NaN
	Time  time.Time `json:"time"`
}

// recordOptions choose the heavier parts of a record.
type recordOptions struct {
	artifacts bool
	studies   bool
	metrics   bool
}

// loadRecords builds the records of runs with their params and summaries.
func loadRecords(ctx context.Context, st *store.Store, runs []store.Run, o recordOptions) ([]runRecord, error) {
	ids := idsOf(runs)
	params, err := st.Params(ctx, ids...)
	if err != nil {
		return nil, err
	}
	sums, err := st.Summaries(ctx, ids...)
	if err != nil {
		return nil, err
	}
	var series map[int64][]seriesRecord
	if o.metrics {
		all, err := st.Series(ctx, ids, nil, 0)
		if err != nil {
			return nil, err
		}
		series = map[int64][]seriesRecord{}
		for _, s := range all {
			sr := seriesRecord{Key: s.Key, Points: make([]pointRecord, len(s.Points))}
			for i, p := range s.Points {
				sr.Points[i] = pointRecord{Step: p.Step, Epoch: p.Epoch, Value: jsonFloat(p.Value), Time: p.Time.UTC()}
			}
			series[s.RunID] = append(series[s.RunID], sr)
		}
	}
	out := make([]runRecord, len(runs))
	for i, r := range runs {
		rec := runRecord{ID: r.ID, Study: r.Study, Variant: r.Variant, Seed: r.Seed, Status: r.Status, Error: r.Error,
			ConfigHash: r.ConfigHash, Config: json.RawMessage(r.Config),
			Created: timePtr(r.Created), Started: timePtr(r.Started), Ended: timePtr(r.Ended), Heartbeat: timePtr(r.Heartbeat),
			Seconds: math.Round(r.Duration().Seconds()*1000) / 1000, Attempts: r.Attempts,
			Host: r.Host, PID: r.PID, GoVersion: r.GoVersion, GitCommit: r.GitCommit, GitDirty: r.GitDirty,
			CodeVersion: r.CodeVersion, BLAS: r.BLAS, Dataset: r.Dataset, DatasetFingerprint: r.DatasetFingerprint,
			Params: params[r.ID], Summaries: jsonFloats(sums[r.ID]), Metrics: series[r.ID]}
		if !json.Valid(rec.Config) {
			rec.Config = json.RawMessage("null")
		}
		if rec.Params == nil {
			rec.Params = map[string]string{}
		}
		if r.Status == store.Diverged {
			step := r.DivergedStep
			rec.DivergedStep = &step
		}
		if r.Progress.TotalBatches > 0 || r.Status == store.Running {
			p := r.Progress
			rec.Progress = &progressRecord{Step: p.Step, Batch: p.Batch, TotalBatches: p.TotalBatches, Epoch: p.Epoch,
				ImagesPerSec: p.ImagesPerSec, Latest: jsonFloats(p.Latest)}
		}
		if o.artifacts {
			arts, err := st.Artifacts(ctx, r.ID)
			if err != nil {
				return nil, err
			}
			for _, a := range arts {
				rec.Artifacts = append(rec.Artifacts, artifactRecord{ID: a.ID, Kind: a.Kind, Name: a.Name, Path: a.Path, Size: a.Size, Created: a.Created.UTC()})
			}
		}
		if o.studies {
			ms, err := st.RunStudies(ctx, r.ID)
			if err != nil {
				return nil, err
			}
			for _, m := range ms {
				rec.Studies = append(rec.Studies, membershipRecord{Study: m.Study, Variant: m.Variant})
			}
		}
		out[i] = rec
	}
	return out, nil
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// jsonFloat is nil for NaN and ±Inf, which JSON cannot hold.
func jsonFloat(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func jsonFloats(m map[string]float64) map[string]*float64 {
	out := make(map[string]*float64, len(m))
	for k, v := range m {
		out[k] = jsonFloat(v)
	}
	return out
}

// writeRecordsCSV writes one row per run: the run's columns, then its
// summaries (one column per key found in any run), then its params as
// param.KEY.
func writeRecordsCSV(w io.Writer, recs []runRecord, marks map[int64]store.Marks) error {
	sumKeys, paramKeys := map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		for k := range r.Summaries {
			sumKeys[k] = true
		}
		for k := range r.Params {
			paramKeys[k] = true
		}
	}
	sk, pk := slices.Sorted(maps.Keys(sumKeys)), slices.Sorted(maps.Keys(paramKeys))
	cw := csv.NewWriter(w)
	header := []string{"id", "study", "variant", "seed", "status", "error", "diverged_step", "config_hash", "code_version",
		"dataset", "dataset_fingerprint", "host", "pid", "go_version", "git_commit", "git_dirty", "blas",
		"created", "started", "ended", "seconds", "attempts", "archived", "tags", "note"}
	header = append(header, sk...)
	for _, k := range pk {
		header = append(header, "param."+k)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range recs {
		div := ""
		if r.DivergedStep != nil {
			div = strconv.FormatInt(*r.DivergedStep, 10)
		}
		row := []string{strconv.FormatInt(r.ID, 10), r.Study, r.Variant, strconv.FormatInt(r.Seed, 10), string(r.Status),
			r.Error, div, r.ConfigHash, r.CodeVersion, r.Dataset, r.DatasetFingerprint, r.Host, strconv.Itoa(r.PID),
			r.GoVersion, r.GitCommit, strconv.FormatBool(r.GitDirty), r.BLAS,
			csvTime(r.Created), csvTime(r.Started), csvTime(r.Ended),
			strconv.FormatFloat(r.Seconds, 'f', -1, 64), strconv.Itoa(r.Attempts)}
		m := marks[r.ID]
		archived := ""
		if m.IsArchived() {
			archived = csvTime(&m.Archived)
		}
		row = append(row, archived, strings.Join(m.Tags, " "), m.Note)
		for _, k := range sk {
			v, ok := r.Summaries[k]
			switch {
			case !ok:
				row = append(row, "")
			case v == nil:
				row = append(row, "NaN")
			default:
				row = append(row, strconv.FormatFloat(*v, 'g', -1, 64))
			}
		}
		for _, k := range pk {
			row = append(row, r.Params[k])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeMetricsCSV writes every metric point of the runs, one per row.
func writeMetricsCSV(w io.Writer, recs []runRecord) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"run_id", "study", "variant", "seed", "key", "step", "epoch", "value", "time"}); err != nil {
		return err
	}
	for _, r := range recs {
		for _, s := range r.Metrics {
			for _, p := range s.Points {
				v := "NaN"
				if p.Value != nil {
					v = strconv.FormatFloat(*p.Value, 'g', -1, 64)
				}
				if err := cw.Write([]string{strconv.FormatInt(r.ID, 10), r.Study, r.Variant, strconv.FormatInt(r.Seed, 10),
					s.Key, strconv.Itoa(p.Step), strconv.Itoa(p.Epoch), v, p.Time.Format(time.RFC3339Nano)}); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// exportDoc is the JSON export: the studies, and the runs with everything
// recorded about them.
type exportDoc struct {
	SchemaVersion int            `json:"schema_version"`
	Exported      time.Time      `json:"exported"`
	Database      string         `json:"database"`
	Studies       []studyRecord  `json:"studies"`
	Runs          []markedRecord `json:"runs"`
}

type studyRecord struct {
	Name     string `json:"name"`
	Title    string `json:"title"`
	SpecHash string `json:"spec_hash"`
	Spec     string `json:"spec"`
	Total    int    `json:"runs"`
	Finished int    `json:"finished"`
}

func runExport(ctx context.Context, args []string, io IO) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB)")
	asCSV := fs.Bool("csv", false, "write CSV: one row per run (with --metrics: one row per metric point)")
	asJSON := fs.Bool("json", false, "write JSON: studies and runs (the default)")
	study := fs.String("study", "", "only the runs of this study")
	status := fs.String("status", "", "only runs with these statuses, comma-separated")
	metrics := fs.Bool("metrics", false, "include every logged metric point")
	out := fs.String("out", "", "write to this file instead of standard output")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench export [--json|--csv] [--study S] [--status S] [--metrics] [--out FILE] [--db runs.db]")
		fs.PrintDefaults()
	}
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if *asCSV && *asJSON {
		return errors.New("export: choose one of --csv and --json")
	}
	if err := checkDBFlag("export", *db); err != nil {
		return err
	}
	filter, err := runFilter("export", *study, *status, "", nil)
	if err != nil {
		return err
	}
	// --out is checked before the store is opened: it must never be the
	// store itself (that truncated runs.db once).
	outSet := false
	fs.Visit(func(f *flag.Flag) { outSet = outSet || f.Name == "out" })
	guard, err := newStoreGuard(*db)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if outSet {
		if err := guard.check("--out", *out); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	st, err := openForRead(io, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := st.Runs(ctx, filter)
	if err != nil {
		return err
	}
	recs, err := loadRecords(ctx, st, runs, recordOptions{artifacts: true, studies: true, metrics: *metrics})
	if err != nil {
		return err
	}
	marks, err := st.Marks(ctx, idsOf(runs)...)
	if err != nil {
		return err
	}

	write := exportWriter(ctx, st, recs, marks, *study, *asCSV, *metrics)
	if !outSet {
		bw := bufio.NewWriter(io.Out)
		err = write(bw)
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		return nil
	}
	// Whole or not at all: a failed export leaves the old file as it was.
	if err := writeOutput(guard, "--out", *out, write); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(io.Err, "exported %d run(s) to %s\n", len(recs), *out)
	return nil
}

// exportWriter writes the export in the chosen format.
func exportWriter(ctx context.Context, st *store.Store, recs []runRecord, marks map[int64]store.Marks, study string, asCSV, metrics bool) func(io.Writer) error {
	return func(w io.Writer) error {
		switch {
		case asCSV && metrics:
			return writeMetricsCSV(w, recs)
		case asCSV:
			return writeRecordsCSV(w, recs, marks)
		}
		return writeExportJSON(ctx, w, st, recs, marks, study)
	}
}

func writeExportJSON(ctx context.Context, w io.Writer, st *store.Store, recs []runRecord, marks map[int64]store.Marks, onlyStudy string) error {
	version, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	infos, err := st.Studies(ctx)
	if err != nil {
		return err
	}
	doc := exportDoc{SchemaVersion: version, Exported: time.Now().UTC(), Database: st.Path(), Studies: []studyRecord{},
		Runs: make([]markedRecord, len(recs))}
	for i, r := range recs {
		doc.Runs[i] = withMarks(r, marks[r.ID])
	}
	for _, s := range infos {
		if onlyStudy != "" && s.Name != onlyStudy {
			continue
		}
		doc.Studies = append(doc.Studies, studyRecord{Name: s.Name, Title: s.Title, SpecHash: s.SpecHash, Spec: s.Spec, Total: s.Total, Finished: s.Finished})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// idsOf lists the runs' ids, in order.
func idsOf(runs []store.Run) []int64 {
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	return ids
}
