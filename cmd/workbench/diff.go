package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/mksmt/workbench/internal/store"
)

func init() {
	register(&command{
		Name:    "diff",
		Summary: "compare runs side by side: params, summaries and final metric values",
		Run:     runDiff,
	})
}

// diffDoc is what diff --json writes.
type diffDoc struct {
	Runs      []diffRun   `json:"runs"`
	Params    []diffRow   `json:"params"`
	Summaries []diffRow   `json:"summaries"`
	Metrics   []diffRow   `json:"metrics"`
	Differ    diffCounted `json:"differ"`
}

type diffRun struct {
	ID      int64        `json:"id"`
	Study   string       `json:"study"`
	Variant string       `json:"variant"`
	Seed    int64        `json:"seed"`
	Status  store.Status `json:"status"`
	Tags    []string     `json:"tags,omitempty"`
	Note    string       `json:"note,omitempty"`
}

// diffRow is one key across the runs: Values[i] belongs to Runs[i]; null
// where the run lacks the key (or its number is NaN).
type diffRow struct {
	Key    string `json:"key"`
	Differ bool   `json:"differ"`
	Values []any  `json:"values"`
	// Steps are the steps of the final points (metrics only).
	Steps []*int   `json:"steps,omitempty"`
	cells []string // Values as shown ("NaN" where JSON has null)
}

type diffCounted struct {
	Params    int `json:"params"`
	Summaries int `json:"summaries"`
	Metrics   int `json:"metrics"`
}

func runDiff(ctx context.Context, args []string, io IO) error {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB)")
	asJSON := fs.Bool("json", false, "write the comparison as JSON")
	onlyDiff := fs.Bool("only-diff", false, "leave out the params, summaries and metrics that are the same in every run")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench diff RUN RUN [RUN...] [--only-diff] [--json] [--db runs.db]")
		fmt.Fprintln(io.Err, "\nShows the runs side by side: their params, summaries and the final value of each")
		fmt.Fprintln(io.Err, "metric series. Rows that differ come first, marked *; with two runs, numbers get")
		fmt.Fprintln(io.Err, "their difference (second minus first).")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	ids, err := parseRunIDs("diff", rest)
	if err != nil {
		return err
	}
	if len(ids) < 2 {
		fs.Usage()
		return errors.New("diff: name two or more runs (see workbench runs)")
	}
	if err := checkDBFlag("diff", *db); err != nil {
		return err
	}
	st, err := openForRead(io, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	runs, err := namedRuns(ctx, st, "diff", ids)
	if err != nil {
		return err
	}
	doc, err := buildDiff(ctx, st, runs)
	if err != nil {
		return err
	}
	totals := diffCounted{Params: len(doc.Params), Summaries: len(doc.Summaries), Metrics: len(doc.Metrics)}
	if *onlyDiff {
		doc.Params = onlyDiffering(doc.Params)
		doc.Summaries = onlyDiffering(doc.Summaries)
		doc.Metrics = onlyDiffering(doc.Metrics)
	}
	if *asJSON {
		enc := json.NewEncoder(io.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	return writeDiff(io, doc, totals)
}

func onlyDiffering(rows []diffRow) []diffRow {
	return slices.DeleteFunc(rows, func(r diffRow) bool { return !r.Differ })
}

func buildDiff(ctx context.Context, st *store.Store, runs []store.Run) (diffDoc, error) {
	ids := runIDs(runs)
	params, err := st.Params(ctx, ids...)
	if err != nil {
		return diffDoc{}, err
	}
	sums, err := st.Summaries(ctx, ids...)
	if err != nil {
		return diffDoc{}, err
	}
	finals, err := st.FinalPoints(ctx, ids...)
	if err != nil {
		return diffDoc{}, err
	}
	marks, err := st.Marks(ctx, ids...)
	if err != nil {
		return diffDoc{}, err
	}
	var doc diffDoc
	for _, r := range runs {
		m := marks[r.ID]
		doc.Runs = append(doc.Runs, diffRun{ID: r.ID, Study: r.Study, Variant: r.Variant, Seed: r.Seed, Status: r.Status, Tags: m.Tags, Note: m.Note})
	}

	pkeys := map[string]bool{}
	for _, id := range ids {
		for k := range params[id] {
			pkeys[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(pkeys)) {
		row := diffRow{Key: k}
		var seen []string
		for _, id := range ids {
			v, ok := params[id][k]
			if ok {
				row.Values = append(row.Values, v)
				row.cells = append(row.cells, v)
			} else {
				row.Values = append(row.Values, nil)
				row.cells = append(row.cells, "-")
				v = "\x00missing"
			}
			seen = append(seen, v)
		}
		row.Differ = !allSame(seen)
		doc.Params = append(doc.Params, row)
	}

	skeys := map[string]bool{}
	for _, id := range ids {
		for k := range sums[id] {
			skeys[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(skeys)) {
		row := diffRow{Key: k}
		var seen []string
		for _, id := range ids {
			v, ok := sums[id][k]
			row.Values = append(row.Values, numOrNil(v, ok))
			row.cells = append(row.cells, numCell(v, ok))
			seen = append(seen, numKey(v, ok))
		}
		row.Differ = !allSame(seen)
		doc.Summaries = append(doc.Summaries, row)
	}

	mkeys := map[string]bool{}
	for _, id := range ids {
		for k := range finals[id] {
			mkeys[k] = true
		}
	}
	for _, k := range slices.Sorted(maps.Keys(mkeys)) {
		row := diffRow{Key: k}
		var seen []string
		for _, id := range ids {
			p, ok := finals[id][k]
			row.Values = append(row.Values, numOrNil(p.Value, ok))
			row.cells = append(row.cells, numCell(p.Value, ok))
			if ok {
				step := p.Step
				row.Steps = append(row.Steps, &step)
				row.cells[len(row.cells)-1] += fmt.Sprintf(" @%d", step)
			} else {
				row.Steps = append(row.Steps, nil)
			}
			seen = append(seen, numKey(p.Value, ok))
		}
		row.Differ = !allSame(seen)
		doc.Metrics = append(doc.Metrics, row)
	}
	// Rows that differ first, each group by key.
	for _, rows := range [][]diffRow{doc.Params, doc.Summaries, doc.Metrics} {
		slices.SortStableFunc(rows, func(a, b diffRow) int {
			if a.Differ != b.Differ {
				if a.Differ {
					return -1
				}
				return 1
			}
			return 0
		})
	}
	doc.Differ = diffCounted{Params: countDiffer(doc.Params), Summaries: countDiffer(doc.Summaries), Metrics: countDiffer(doc.Metrics)}
	return doc, nil
}

func countDiffer(rows []diffRow) int {
	n := 0
	for _, r := range rows {
		if r.Differ {
			n++
		}
	}
	return n
}

func allSame(vs []string) bool {
	for _, v := range vs[1:] {
		if v != vs[0] {
			return false
		}
	}
	return true
}

// numOrNil is a number for JSON: nil when missing or NaN (JSON has no NaN).
func numOrNil(v float64, ok bool) any {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		if ok && math.IsInf(v, 0) {
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return nil
	}
	return v
}

func numCell(v float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fnum(v)
}

func numKey(v float64, ok bool) string {
	if !ok {
		return "missing"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func writeDiff(io IO, doc diffDoc, totals diffCounted) error {
	n := len(doc.Runs)
	w := tabwriter.NewWriter(io.Out, 0, 0, 2, ' ', 0)
	cells := func(label string, vals []string) {
		fmt.Fprintf(w, "%s\t%s\n", label, strings.Join(vals, "\t"))
	}
	header := make([]string, n)
	for i, r := range doc.Runs {
		header[i] = fmt.Sprintf("run %d", r.ID)
	}
	cells("  ", header)
	for _, f := range []struct {
		label string
		get   func(r diffRun) string
	}{
		{"study", func(r diffRun) string { return r.Study }},
		{"variant", func(r diffRun) string { return r.Variant }},
		{"seed", func(r diffRun) string { return strconv.FormatInt(r.Seed, 10) }},
		{"status", func(r diffRun) string { return string(r.Status) }},
		{"tags", func(r diffRun) string { return orDash(strings.Join(r.Tags, ",")) }},
		{"note", func(r diffRun) string { return orDash(trimText(firstLineOf(r.Note), 30)) }},
	} {
		vals := make([]string, n)
		for i, r := range doc.Runs {
			vals[i] = f.get(r)
		}
		mark := "  "
		if !allSame(vals) {
			mark = "* "
		}
		cells(mark+f.label, vals)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	sectionRows := func(title string, rows []diffRow, total, differ int, numbers bool) error {
		switch {
		case total == 0:
			section(io, title+": none")
			return nil
		case len(rows) == 0:
			section(io, fmt.Sprintf("%s: all %d the same in every run", title, total))
			return nil
		}
		section(io, fmt.Sprintf("%s (%d of %d differ)", title, differ, total))
		w := tabwriter.NewWriter(io.Out, 0, 0, 2, ' ', 0)
		for _, row := range rows {
			vals := slices.Clone(row.cells)
			if d := ""; numbers && n == 2 {
				if d = delta(row.Values[0], row.Values[1]); d != "" {
					vals = append(vals, d)
				}
			}
			mark := "  "
			if row.Differ {
				mark = "* "
			}
			fmt.Fprintf(w, "%s%s\t%s\n", mark, row.Key, strings.Join(vals, "\t"))
		}
		return w.Flush()
	}
	if err := sectionRows("Params", doc.Params, totals.Params, doc.Differ.Params, false); err != nil {
		return err
	}
	if err := sectionRows("Summaries", doc.Summaries, totals.Summaries, doc.Differ.Summaries, true); err != nil {
		return err
	}
	return sectionRows("Metrics, final value @ step", doc.Metrics, totals.Metrics, doc.Differ.Metrics, true)
}

// delta is b - a for two numbers ("" otherwise, or when equal).
func delta(a, b any) string {
	x, ok1 := a.(float64)
	y, ok2 := b.(float64)
	if !ok1 || !ok2 || x == y {
		return ""
	}
	d := y - x
	if d > 0 {
		return "Δ +" + fnum(d)
	}
	return "Δ " + fnum(d)
}
