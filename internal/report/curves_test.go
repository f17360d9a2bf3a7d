package report

import (
	"context"
	"testing"

	"github.com/mksmt/workbench/internal/store"
)

// fakeSource serves finished runs and their series from memory.
type fakeSource struct {
	runs   []store.Run
	series []store.Series
}

func (f fakeSource) Runs(context.Context, store.RunFilter) ([]store.Run, error) { return f.runs, nil }

func (f fakeSource) Summaries(_ context.Context, ids ...int64) (map[int64]map[string]float64, error) {
	out := map[int64]map[string]float64{}
	for _, id := range ids {
		out[id] = map[string]float64{"acc.S4": 50}
	}
	return out, nil
}

func (f fakeSource) Series(context.Context, []int64, []string, int) ([]store.Series, error) {
	return f.series, nil
}

// Losses are placed in epochs from the updates per epoch that the
// accuracies' steps give: a variant with twice the updates per batch (two
// steps) ends its loss curve at the same epoch as the baseline. A run with
// no accuracy point keeps steps.
func TestLossCurvesInEpochs(t *testing.T) {
	pts := func(step, epoch int) store.Point { return store.Point{Step: step, Epoch: epoch, Value: 1} }
	src := fakeSource{
		runs: []store.Run{{ID: 1, Variant: "baseline", Seed: 1, Status: store.Finished}, {ID: 2, Variant: "two-step", Seed: 1, Status: store.Finished},
			{ID: 3, Variant: "nokd", Seed: 1, Status: store.Finished}},
		series: []store.Series{
			{RunID: 1, Key: "acc.S4", Points: []store.Point{pts(100, 1), pts(200, 2)}},
			{RunID: 1, Key: "loss.ce4", Points: []store.Point{pts(50, 1), pts(100, 1), pts(150, 2), pts(200, 2)}},
			{RunID: 2, Key: "acc.S4", Points: []store.Point{pts(200, 1), pts(400, 2)}},
			{RunID: 2, Key: "loss.ce4", Points: []store.Point{pts(100, 1), pts(200, 1), pts(300, 2), pts(400, 2)}},
			{RunID: 3, Key: "loss.ce4", Points: []store.Point{pts(7, 1)}},
		},
	}
	spec := Spec{Name: "s", Variants: []string{"baseline", "two-step", "nokd"}, Seeds: []int64{1}, Metrics: []string{"acc.S4"}}
	l, err := Load(context.Background(), src, spec, Query{Series: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Series{}
	for _, s := range l.Series {
		got[s.Variant+" "+s.Metric] = s
	}
	for _, v := range []string{"baseline", "two-step"} {
		s := got[v+" loss.ce4"]
		if s.Axis != "epoch" || len(s.Points) != 4 || s.Points[0].X != 0.5 || s.Points[3].X != 2 {
			t.Errorf("%s loss: axis %q, points %v; want epochs 0.5 … 2", v, s.Axis, s.Points)
		}
		if a := got[v+" acc.S4"]; a.Axis != "epoch" || a.Points[1].X != 2 {
			t.Errorf("%s acc: %+v", v, a)
		}
	}
	if s := got["nokd loss.ce4"]; s.Axis != "step" || s.Points[0].X != 7 {
		t.Errorf("a run without accuracies: %+v, want steps", s)
	}
	for _, c := range Curves(l.Series, spec.Variants) {
		if c.Metric == "loss.ce4" && c.Variant != "nokd" && (c.Axis != "epoch" || c.X[len(c.X)-1] != 2) {
			t.Errorf("curve %s %s: axis %q, X %v", c.Variant, c.Metric, c.Axis, c.X)
		}
	}
}
