package filter

import (
	"context"
	"math"
	"reflect"
	"slices"
	"strings"

	"github.com/mksmt/workbench/internal/runspec"
	"github.com/mksmt/workbench/internal/store"
)

// Record is a run with what a filter may look at.
type Record struct {
	Run       store.Run
	Params    map[string]string
	Summaries map[string]float64
	Marks     store.Marks
	// Studies are the studies that use the run, with their labels for it;
	// nil: only Run.Study and Run.Variant count.
	Studies []store.Membership
}

// Match reports whether the record passes every term.
func (f *Filter) Match(r Record) bool {
	if f == nil {
		return true
	}
	for _, t := range f.terms {
		if t.match(r) == t.neg {
			return false
		}
	}
	return true
}

func (t term) match(r Record) bool {
	switch t.kind {
	case kindSummary:
		v, ok := r.Summaries[t.field]
		if !ok || math.IsNaN(v) {
			return t.op == opNe
		}
		return t.compareNum(v)
	case kindParam:
		v, ok := r.Params[t.field]
		if !ok {
			return t.op == opNe || t.op == opHasNot
		}
		return t.compareParam(v)
	}
	switch t.col {
	case colNumber:
		var v float64
		switch t.field {
		case "id":
			v = float64(r.Run.ID)
		case "seed":
			v = float64(r.Run.Seed)
		case "attempts":
			v = float64(r.Run.Attempts)
		}
		return t.compareNum(v)
	case colBool:
		return r.Marks.IsArchived() == t.flag
	case colStatus:
		return t.compareText([]string{string(r.Run.Status)})
	case colSet:
		return t.compareText(r.Marks.Tags)
	}
	var vals []string
	switch t.field {
	case "study", "variant":
		if t.field == "study" {
			vals = append(vals, r.Run.Study)
		} else {
			vals = append(vals, r.Run.Variant)
		}
		for _, m := range r.Studies {
			if t.field == "study" {
				vals = append(vals, m.Study)
			} else {
				vals = append(vals, m.Variant)
			}
		}
	case "note":
		vals = []string{r.Marks.Note}
	case "error":
		vals = []string{r.Run.Error}
	case "host":
		vals = []string{r.Run.Host}
	case "dataset":
		vals = []string{r.Run.Dataset}
	case "config_hash":
		vals = []string{r.Run.ConfigHash}
	case "code_version":
		vals = []string{r.Run.CodeVersion}
	case "git_commit":
		vals = []string{r.Run.GitCommit}
	}
	return t.compareText(vals)
}

// compareText: = any value is one of the alternatives; ~ any value
// contains one (ignoring case); != and !~ are their negations.
func (t term) compareText(have []string) bool {
	hit := false
	for _, h := range have {
		for _, v := range t.values {
			switch t.op {
			case opEq, opNe:
				hit = hit || h == v
			case opHas, opHasNot:
				hit = hit || strings.Contains(strings.ToLower(h), strings.ToLower(v))
			}
		}
	}
	if t.op == opNe || t.op == opHasNot {
		return !hit
	}
	return hit
}

func (t term) compareNum(v float64) bool {
	hit := false
	for _, x := range t.nums {
		switch t.op {
		case opEq, opNe:
			hit = hit || v == x
		case opGt:
			hit = hit || v > x
		case opGe:
			hit = hit || v >= x
		case opLt:
			hit = hit || v < x
		case opLe:
			hit = hit || v <= x
		}
	}
	if t.op == opNe {
		return !hit
	}
	return hit
}

// compareParam compares as numbers where both sides are numbers, else as
// text.
func (t term) compareParam(v string) bool {
	if t.op == opHas || t.op == opHasNot {
		return t.compareText([]string{v})
	}
	x := parseNum(v)
	switch t.op {
	case opGt, opGe, opLt, opLe:
		if math.IsNaN(x) {
			return false
		}
		return t.compareNum(x)
	}
	hit := false
	for i, want := range t.values {
		if n := t.nums[i]; !math.IsNaN(n) && !math.IsNaN(x) {
			hit = hit || n == x
		} else {
			hit = hit || want == v
		}
	}
	if t.op == opNe {
		return !hit
	}
	return hit
}

// ConfigParams are the param names every run may have: the toml names of
// runspec.Config, and profile.
func ConfigParams() []string {
	out := []string{"profile"}
	rt := reflect.TypeOf(runspec.Config{})
	for i := 0; i < rt.NumField(); i++ {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("toml"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// SummaryKeys are the summary keys the trainer writes (runspec.Key*).
func SummaryKeys() []string {
	out := []string{runspec.KeyAccS2, runspec.KeyAccS3, runspec.KeyAccS4, runspec.KeyAccEnsemble,
		runspec.KeyParamsInference, runspec.KeyParamsExtra, runspec.KeyFLOPsInference, runspec.KeyFLOPsExtra,
		runspec.KeyTrainSeconds, runspec.KeyImagesPerSec}
	for _, flip := range []string{"hflip", "vflip"} {
		for _, head := range []string{"S2", "S3", "S4", "S3+S4"} {
			out = append(out, runspec.FlipKey(flip, head))
		}
	}
	slices.Sort(out)
	return out
}

// KnownIn is what a filter on st may name: the param names and summary
// keys present in the store, the config's param names and the trainer's
// summary keys.
func KnownIn(ctx context.Context, st *store.Store) (Known, error) {
	params, err := st.ParamKeys(ctx)
	if err != nil {
		return Known{}, err
	}
	sums, err := st.SummaryKeys(ctx)
	if err != nil {
		return Known{}, err
	}
	return Known{Params: union(params, ConfigParams()), Summaries: union(sums, SummaryKeys())}, nil
}

func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Load reads the params, summaries, marks and study memberships of runs.
func Load(ctx context.Context, st *store.Store, runs []store.Run) ([]Record, error) {
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	params, err := st.Params(ctx, ids...)
	if err != nil {
		return nil, err
	}
	sums, err := st.Summaries(ctx, ids...)
	if err != nil {
		return nil, err
	}
	marks, err := st.Marks(ctx, ids...)
	if err != nil {
		return nil, err
	}
	studies, err := st.Memberships(ctx, ids...)
	if err != nil {
		return nil, err
	}
	out := make([]Record, len(runs))
	for i, r := range runs {
		out[i] = Record{Run: r, Params: params[r.ID], Summaries: sums[r.ID], Marks: marks[r.ID], Studies: studies[r.ID]}
		if out[i].Studies == nil {
			out[i].Studies = []store.Membership{}
		}
	}
	return out, nil
}

// Archived says which runs Select keeps by their archived mark, when the
// filter does not name archived itself.
type Archived int

const (
	HideArchived Archived = iota // the default: archived runs are hidden
	OnlyArchived
	WithArchived // archived or not
)

// Selection is what Select kept and what it left out.
type Selection struct {
	Records []Record
	// Considered counts the runs the base filter selected; Matched, those
	// the filter and the archived rule kept, before the limit; Hidden, the
	// archived ones among those the filter matched that were left out.
	Considered, Matched, Hidden int
}

// Select lists the runs that base (the store's own filter: study, status,
// variant, params) and f select, with their records, in id order. Archived
// runs are kept as arch says, unless f names archived. base.Limit is
// applied last, to the matching runs (the newest when base.Newest).
func Select(ctx context.Context, st *store.Store, base store.RunFilter, f *Filter, arch Archived) (Selection, error) {
	limit, newest := base.Limit, base.Newest
	if !f.Empty() || arch != WithArchived {
		// The limit counts the runs that match, not the runs read.
		base.Limit, base.Newest = 0, false
	}
	runs, err := st.Runs(ctx, base)
	if err != nil {
		return Selection{}, err
	}
	recs, err := Load(ctx, st, runs)
	if err != nil {
		return Selection{}, err
	}
	sel := Selection{Considered: len(recs)}
	for _, r := range recs {
		if !f.Match(r) {
			continue
		}
		if !f.MentionsArchived() {
			switch {
			case arch == HideArchived && r.Marks.IsArchived():
				sel.Hidden++
				continue
			case arch == OnlyArchived && !r.Marks.IsArchived():
				continue
			}
		}
		sel.Records = append(sel.Records, r)
	}
	sel.Matched = len(sel.Records)
	if limit > 0 && len(sel.Records) > limit {
		if newest {
			sel.Records = sel.Records[len(sel.Records)-limit:]
		} else {
			sel.Records = sel.Records[:limit]
		}
	}
	return sel, nil
}
