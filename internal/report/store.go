package report

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/mksmt/workbench/internal/data"
	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/store"
)

// This file is report's only contact with runs.db: it reads through the
// store's query methods, never SQL.

// Source is the part of *store.Store that report reads.
type Source interface {
	Runs(ctx context.Context, f store.RunFilter) ([]store.Run, error)
	Summaries(ctx context.Context, ids ...int64) (map[int64]map[string]float64, error)
	Series(ctx context.Context, ids []int64, keys []string, maxPoints int) ([]store.Series, error)
}

// Query says which runs of runs.db make a study's table.
type Query struct {
	// Configs, when set, keeps only the runs whose config is the one the
	// spec expands to for their variant and seed (variant → seed → canonical
	// config JSON; see StudyConfigs): the runs of this spec at this profile.
	// Nil counts every finished run of the study.
	Configs map[string]map[int64]string
	// Series also loads the runs' metric series (learning curves).
	Series bool
	// MaxPoints caps each series (0: 200).
	MaxPoints int
}

// Loaded is what Load read: the spec's results and, when asked, series.
type Loaded struct {
	Spec    Spec
	Results []RunResult
	Series  []Series
	// RunIDs maps variant → seed → the run behind the results.
	RunIDs map[string]map[int64]int64
	// Notes say which finished runs were left out and why.
	Notes []string
}

// Load reads the finished runs of spec.Name from src: for each variant and
// seed the newest finished run that Query selects.
func Load(ctx context.Context, src Source, spec Spec, q Query) (*Loaded, error) {
	runs, err := src.Runs(ctx, store.RunFilter{Study: spec.Name, Statuses: []store.Status{store.Finished}})
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", spec.Name, err)
	}
	l := &Loaded{Spec: spec, RunIDs: map[string]map[int64]int64{}}
	other := 0
	datasetOf := map[int64]string{}
	for _, r := range runs { // id order: a newer run replaces an older one
		datasetOf[r.ID] = r.Dataset
		if q.Configs != nil {
			want, ok := q.Configs[r.Variant][r.Seed]
			if !ok || !sameConfig(want, r.Config) {
				other++
				continue
			}
		}
		if l.RunIDs[r.Variant] == nil {
			l.RunIDs[r.Variant] = map[int64]int64{}
		}
		l.RunIDs[r.Variant][r.Seed] = r.ID
	}
	if other > 0 {
		l.Notes = append(l.Notes, fmt.Sprintf("%d finished run(s) of study %s have another config (another profile, seed list or an edited spec) and are not counted", other, spec.Name))
	}
	var ids []int64
	type key struct {
		variant string
		seed    int64
	}
	byID := map[int64]key{}
	for v, seeds := range l.RunIDs {
		for s, id := range seeds {
			ids = append(ids, id)
			byID[id] = key{v, s}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	sums, err := src.Summaries(ctx, ids...)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", spec.Name, err)
	}
	testImages := map[string]int{} // data set spec → test images (0: unknown)
	for _, id := range ids {
		k := byID[id]
		ds := datasetOf[id]
		n, ok := testImages[ds]
		if !ok {
			n = testSetSize(ds)
			testImages[ds] = n
			if n == 0 && ds != "" {
				l.Notes = append(l.Notes, fmt.Sprintf("test set size of data set %s unknown: no accuracy resolution", ds))
			}
		}
		l.Results = append(l.Results, RunResult{Variant: k.variant, Seed: k.seed, Summaries: sums[id], RunID: id, TestImages: n})
	}
	if q.Series && len(ids) > 0 {
		maxPoints := q.MaxPoints
		if maxPoints <= 0 {
			maxPoints = 200
		}
		ss, err := src.Series(ctx, ids, nil, maxPoints)
		if err != nil {
			return nil, fmt.Errorf("report %s: %w", spec.Name, err)
		}
		// A run's updates per epoch, from an accuracy point: accuracies
		// are logged at an epoch's end with the updates so far. Losses
		// (logged per update) are then placed in fractional epochs, so
		// that variants with more updates per batch line up with the rest
		// and with the accuracy panels.
		perEpoch := map[int64]float64{}
		for _, s := range ss {
			if !strings.HasPrefix(s.Key, "acc.") {
				continue
			}
			for _, p := range s.Points {
				if _, ok := perEpoch[s.RunID]; !ok && p.Epoch > 0 && p.Step > 0 {
					perEpoch[s.RunID] = float64(p.Step) / float64(p.Epoch)
				}
			}
		}
		for _, s := range ss {
			k, ok := byID[s.RunID]
			if !ok || !curveMetric(s.Key) {
				continue
			}
			out := Series{Variant: k.variant, Seed: k.seed, Metric: s.Key, Axis: "step"}
			upe, hasUPE := perEpoch[s.RunID]
			switch {
			case strings.HasPrefix(s.Key, "acc."):
				out.Axis = "epoch"
			case hasUPE:
				out.Axis = "epoch"
			}
			for _, p := range s.Points {
				x := float64(p.Step)
				switch {
				case strings.HasPrefix(s.Key, "acc."):
					x = float64(p.Epoch)
				case hasUPE:
					x = round12(float64(p.Step) / upe)
				}
				out.Points = append(out.Points, Point{X: x, Y: p.Value})
			}
			l.Series = append(l.Series, out)
		}
	}
	return l, nil
}

// testSetSize counts the test images of a run's data set spec without
// decoding any image (the synthetic set from its parameters, real sets
// from their lists); 0 when it cannot be read.
func testSetSize(spec string) int {
	if spec == "" {
		return 0
	}
	s, err := data.Summarize(spec)
	if err != nil {
		return 0
	}
	return s.Test
}

// curveMetric reports whether a metric series belongs in the learning
// curves: per-epoch head accuracies and per-step losses (not lr or rates).
func curveMetric(key string) bool {
	return strings.HasPrefix(key, "acc.") || strings.HasPrefix(key, "loss.")
}

// sameConfig compares two canonical config JSON texts, ignoring
// insignificant white space at the ends.
func sameConfig(a, b string) bool { return strings.TrimSpace(a) == strings.TrimSpace(b) }

// StudySpec is the report's view of an experiment study: its labels, seeds,
// metrics, baseline, paper figures and claims, and — for a sweep (one
// numeric [grid] axis, or Figure 3's temperature) — each variant's position.
func StudySpec(st *experiment.Study) Spec {
	s := Spec{Name: st.Name, Title: st.Title, Table: st.Table, Variants: st.Labels(),
		Seeds: append([]int64(nil), st.Seeds...), Baseline: st.Baseline,
		Metrics: append([]string(nil), st.Metrics...),
		Paper:   append([]PaperFigure(nil), st.Paper...), Claims: append([]Claim(nil), st.Claims...)}
	axis := ""
	if len(st.Grid) == 1 {
		axis = st.Grid[0].Key
	} else if st.Table == "fig3" {
		axis = "temperature"
	}
	if axis != "" {
		x := map[string]float64{}
		for _, v := range st.Variants {
			switch n := v.Overrides[axis].(type) {
			case float64:
				x[v.Label] = n
			case int:
				x[v.Label] = float64(n)
			}
		}
		if len(x) == len(st.Variants) && len(x) > 1 {
			s.Sweep = &Sweep{Label: axisLabel(axis), X: x}
		}
	}
	return s
}

func axisLabel(key string) string {
	if key == "temperature" {
		return "temperature T"
	}
	return key
}

// StudyConfigs expands st with profile ("" = the study's) and returns the
// canonical config JSON of every variant and seed, for Query.Configs.
func StudyConfigs(st *experiment.Study, profile string) (map[string]map[int64]string, error) {
	runs, err := st.Expand(experiment.ExpandOptions{Profile: profile})
	if err != nil {
		return nil, err
	}
	out := map[string]map[int64]string{}
	for _, r := range runs {
		if out[r.Variant] == nil {
			out[r.Variant] = map[int64]string{}
		}
		out[r.Variant][r.Seed] = r.ConfigJSON
	}
	return out, nil
}

// StudyProfile is the profile whose runs a study's table shows when none
// is asked for: the study's own, else experiment.DefaultProfile.
func StudyProfile(study *experiment.Study) string {
	if study.Profile != "" {
		return study.Profile
	}
	return experiment.DefaultProfile
}

// StudyTable is the table of an experiment study from the runs of profile,
// with the series for learning curves when asked: StudySpec, StudyConfigs,
// Load and Build in one.
//
// With profile "" it shows the study's own profile (StudyProfile) when that
// has finished runs, else the profile with the most finished runs (the
// profiles' order breaks ties), and its Headline says which and why. A table
// with no finished run says so in its Headline, with the command that fills
// it or the flag that shows the runs of another profile. Table.Profile is
// the profile shown; the notes name it too.
func StudyTable(ctx context.Context, src Source, study *experiment.Study, profile string, series bool) (*Table, *Loaded, error) {
	spec := StudySpec(study)
	own := StudyProfile(study)
	used := profile
	if used == "" {
		used = own
	}
	// Finished runs of every other profile, for the pick and the hints.
	counts := map[string]int{}
	var others []string
	countOf := func(p string) (int, error) {
		if n, ok := counts[p]; ok {
			return n, nil
		}
		cfgs, err := StudyConfigs(study, p)
		if err != nil {
			return 0, err
		}
		l, err := Load(ctx, src, spec, Query{Configs: cfgs})
		if err != nil {
			return 0, err
		}
		counts[p] = len(l.Results)
		return counts[p], nil
	}
	n, err := countOf(used)
	if err != nil {
		return nil, nil, err
	}
	if n == 0 {
		for _, p := range experiment.ProfileNames() {
			if p == used {
				continue
			}
			k, err := countOf(p)
			if err != nil {
				continue // a profile the study cannot expand to
			}
			if k > 0 {
				others = append(others, p)
			}
		}
		// The most finished runs first; ProfileNames' order breaks ties.
		sort.SliceStable(others, func(i, j int) bool { return counts[others[i]] > counts[others[j]] })
	}
	var headline []string
	switch {
	case n > 0:
	case profile == "" && len(others) > 0:
		pick := others[0]
		headline = append(headline, fmt.Sprintf("profile %s: the study's own profile %s has no finished runs; %s has %d (--profile chooses)",
			pick, own, pick, counts[pick]))
		used, others = pick, others[1:]
	default:
		headline = append(headline, fmt.Sprintf("no finished runs of study %s at profile %s yet: the cells are empty and the verdicts inconclusive until some finish (workbench run %s --profile %s)",
			spec.Name, used, spec.Name, used))
	}
	for _, p := range others {
		headline = append(headline, fmt.Sprintf("%d finished run(s) of profile %s: add --profile %s", counts[p], p, p))
	}
	cfgs, err := StudyConfigs(study, used)
	if err != nil {
		return nil, nil, err
	}
	l, err := Load(ctx, src, spec, Query{Configs: cfgs, Series: series})
	if err != nil {
		return nil, nil, err
	}
	t, err := Build(l.Spec, l.Results)
	if err != nil {
		return nil, nil, err
	}
	t.Profile = used
	t.Headline = headline
	t.Notes = append(t.Notes, "profile "+used)
	t.Notes = append(t.Notes, l.Notes...)
	return t, l, nil
}
