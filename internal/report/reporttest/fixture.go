// Package reporttest generates the fixture studies that the report, plot and
// CLI tests render: the paper's tables 7–11 and Figure 3 with three seeds
// each, deterministic numbers chosen so that every verdict (reproduced, not
// reproduced, inconclusive) occurs, and learning-curve series.
//
// It is test support only: nothing here is a measured result, and no
// command may print these numbers as if they were.
package reporttest

import (
	"fmt"
	"math"

	"github.com/mksmt/workbench/internal/report"
	"github.com/mksmt/workbench/internal/runspec"
)

// Study is one fixture study: the spec, the final numbers of its runs and
// the per-epoch / per-step series of those runs.
type Study struct {
	Spec    report.Spec
	Results []report.RunResult
	Series  []report.Series
	// Configs are the config JSON texts WriteDB records per variant and
	// seed (nil: the stand-in Config).
	Configs map[string]map[int64]string
}

// Synthesize makes fixture results for any spec: every variant and seed
// gets every head's accuracy (rising with the variant's position, with a
// per-seed offset), flip accuracies, parameter and FLOP counts and a train
// time, plus learning-curve series. configs is recorded as Study.Configs
// (e.g. report.StudyConfigs of a real spec, so that Load selects the runs).
func Synthesize(spec report.Spec, configs map[string]map[int64]string) Study {
	fns := map[string]func(int64) map[string]float64{}
	for i, v := range spec.Variants {
		i := float64(i)
		fns[v] = func(s int64) map[string]float64 {
			m := accs(map[string]float64{
				runspec.KeyAccS2: 48 + 0.3*i, runspec.KeyAccS3: 57 + 0.5*i, runspec.KeyAccS4: 62 + 0.6*i,
				runspec.FlipKey("hflip", "S4"): 61.8 + 0.6*i, runspec.FlipKey("vflip", "S4"): 51 + 1.1*i,
			}, s, 0.8+0.1*i)
			return merge(complexity(i > 0), m)
		}
	}
	rs := results(fns, spec.Variants, spec.Seeds...)
	return Study{Spec: spec, Results: rs, Series: series(rs, 4), Configs: configs}
}

// TestImages is the test set of the data set the fixture runs record
// ("synthetic": 10 classes × 100 test images), so accuracies resolve to
// 0.1 points.
const TestImages = 1000

// Seeds of every fixture study.
var Seeds = []int64{1, 2, 3}

// noise is a fixed per-seed offset (mean 0, std 0.5 over seeds 1–3) so
// cells have spread; other seeds get offsets of their own.
var noise = map[int64]float64{1: -0.5, 2: 0.5, 3: 0, 4: 0.3, 5: -0.3}

// Studies returns the six fixture studies, in paper order.
func Studies() []Study {
	return []Study{table7(), table8(), table9(), table10(), table11(), fig3()}
}

// ByName returns the fixture study called name.
func ByName(name string) (Study, bool) {
	for _, s := range Studies() {
		if s.Spec.Name == name {
			return s, true
		}
	}
	return Study{}, false
}

// accs gives per-head accuracies of a variant: base values plus the seed's
// noise scaled by spread (so a variant's spread can differ).
func accs(base map[string]float64, seed int64, spread float64) map[string]float64 {
	m := map[string]float64{}
	for k, v := range base {
		m[k] = v + spread*noise[seed]
	}
	return m
}

func ptr(x float64) *float64 { return &x }

func merge(ms ...map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// complexity is what the reference resnet would report: the baseline has
// the S4 head only; MKSMT adds the S3 OPM and output layer for training.
func complexity(extra bool) map[string]float64 {
	m := map[string]float64{
		runspec.KeyParamsInference: 512_330,
		runspec.KeyFLOPsInference:  81_920_000,
		runspec.KeyParamsExtra:     0,
		runspec.KeyFLOPsExtra:      0,
		runspec.KeyTrainSeconds:    120,
	}
	if extra {
		m[runspec.KeyParamsExtra] = 9_546
		m[runspec.KeyFLOPsExtra] = 19_092
		m[runspec.KeyTrainSeconds] = 150
	}
	return m
}

func results(variants map[string]func(seed int64) map[string]float64, order []string, seeds ...int64) []report.RunResult {
	if len(seeds) == 0 {
		seeds = Seeds
	}
	var rs []report.RunResult
	for _, v := range order {
		for _, s := range seeds {
			rs = append(rs, report.RunResult{Variant: v, Seed: s, Summaries: variants[v](s), TestImages: TestImages})
		}
	}
	return rs
}

// series makes learning curves that rise towards the run's final accuracy
// and losses that fall, for every head the run reports.
func series(rs []report.RunResult, epochs int) []report.Series {
	var out []report.Series
	for _, r := range rs {
		for _, h := range []string{"S2", "S3", "S4"} {
			final, ok := r.Summaries["acc."+h]
			if !ok {
				continue
			}
			s := report.Series{Variant: r.Variant, Seed: r.Seed, Metric: "acc." + h, Axis: "epoch"}
			for e := 1; e <= epochs; e++ {
				frac := 1 - math.Exp(-3*float64(e)/float64(epochs))
				y := final*frac/(1-math.Exp(-3)) + 0.3*noise[r.Seed]*float64(e%2)
				s.Points = append(s.Points, report.Point{X: float64(e), Y: y})
			}
			out = append(out, s)
		}
		// Losses every 10 of the 100 updates of each epoch, in epochs (as
		// report.Load places them from the accuracies' steps; WriteDB
		// stores them at step 100·X).
		loss := report.Series{Variant: r.Variant, Seed: r.Seed, Metric: runspec.KeyLossCE4, Axis: "epoch"}
		for step := 10; step <= 100*epochs; step += 10 {
			loss.Points = append(loss.Points, report.Point{X: float64(step) / 100, Y: 2.3*math.Exp(-float64(step)/(40*float64(epochs))) + 0.4 + 0.05*noise[r.Seed]})
		}
		out = append(out, loss)
	}
	return out
}

func table7() Study {
	order := []string{"baseline", "mksmt"}
	rs := results(map[string]func(int64) map[string]float64{
		"baseline": func(s int64) map[string]float64 {
			return merge(complexity(false), accs(map[string]float64{runspec.KeyAccS4: 62.0}, s, 1))
		},
		"mksmt": func(s int64) map[string]float64 {
			return merge(complexity(true), accs(map[string]float64{runspec.KeyAccS3: 58.1, runspec.KeyAccS4: 63.4}, s, 0.8))
		},
	}, order)
	return Study{Spec: report.Spec{
		Name: "table7", Title: "Table 7: complexity of MKSMT", Table: "table7",
		Variants: order, Seeds: Seeds, Baseline: "baseline",
		Paper: []report.PaperFigure{
			{Variant: "baseline", Metric: runspec.KeyAccS4, Value: 91.9},
			{Variant: "mksmt", Metric: runspec.KeyAccS4, Value: 92.8},
			{Variant: "mksmt", Metric: "params.total", Versus: "baseline", Percent: true, Value: 1.1, Note: "params +1.1 %"},
			{Variant: "mksmt", Metric: runspec.KeyAccS4, Versus: "baseline", Value: 1.0, Note: "accuracy +1.0"},
		},
		Claims: []report.Claim{
			{Text: "inference FLOPs about equal", Metric: runspec.KeyFLOPsInference, Variant: "mksmt", Expect: "equal"},
			{Text: "training parameters grow (+1.1 %)", Metric: "params.total", Variant: "mksmt", Expect: "higher"},
			{Text: "accuracy +1.0", Metric: runspec.KeyAccS4, Variant: "mksmt", Expect: "higher"},
		},
	}, Results: rs, Series: series(rs, 5)}
}

func table8() Study {
	order := []string{"baseline", "mksmt"}
	flips := func(base, h, v, spread float64) func(int64) map[string]float64 {
		return func(s int64) map[string]float64 {
			return accs(map[string]float64{runspec.KeyAccS4: base, runspec.FlipKey("hflip", "S4"): base + h,
				runspec.FlipKey("vflip", "S4"): base + v}, s, spread)
		}
	}
	rs := results(map[string]func(int64) map[string]float64{
		"baseline": flips(62.0, -0.2, -11.0, 1),
		"mksmt":    flips(63.4, -0.1, -7.5, 0.8),
	}, order)
	// Give the vflip change a spread of its own so its CI is not degenerate.
	for i := range rs {
		rs[i].Summaries[runspec.FlipKey("vflip", "S4")] += 0.4 * noise[rs[i].Seed] * float64(i%2+1)
	}
	return Study{Spec: report.Spec{
		Name: "table8", Title: "Table 8: robustness to test-time flips", Table: "table8",
		Variants: order, Seeds: Seeds, Baseline: "baseline",
		Metrics: []string{runspec.KeyAccS4, runspec.FlipKey("hflip", "S4"), runspec.FlipKey("vflip", "S4"),
			report.DropKey("hflip", "S4"), report.DropKey("vflip", "S4")},
		Paper: []report.PaperFigure{
			{Variant: "baseline", Metric: report.DropKey("vflip", "S4"), Value: 11},
			{Variant: "mksmt", Metric: report.DropKey("vflip", "S4"), Value: 7},
			{Variant: "mksmt", Metric: runspec.FlipKey("vflip", "S4"), VersusMetric: runspec.KeyAccS4, Value: -7, Note: "MKSMT under vflip"},
		},
		Claims: []report.Claim{
			{Text: "vertical flip hurts MKSMT less", Metric: report.DropKey("vflip", "S4"), Variant: "mksmt", Expect: "lower"},
			{Text: "horizontal flip: drop about equal", Metric: report.DropKey("hflip", "S4"), Variant: "mksmt", Expect: "equal"},
			{Text: "horizontal flip: MKSMT about unchanged", Metric: runspec.FlipKey("hflip", "S4"), VersusMetric: runspec.KeyAccS4,
				Variant: "mksmt", Baseline: "mksmt", Expect: "equal", Tolerance: 0.3, Delta: ptr(0)},
		},
	}, Results: rs, Series: series(rs, 5)}
}

func table9() Study {
	order := []string{"baseline", "one-step", "two-step", "three-step", "two-step-nokd"}
	head := func(s2, s3, s4, spread float64) func(int64) map[string]float64 {
		return func(s int64) map[string]float64 {
			m := map[string]float64{runspec.KeyAccS4: s4}
			if s3 > 0 {
				m[runspec.KeyAccS3] = s3
			}
			if s2 > 0 {
				m[runspec.KeyAccS2] = s2
			}
			return accs(m, s, spread)
		}
	}
	rs := results(map[string]func(int64) map[string]float64{
		"baseline":      head(0, 0, 62.0, 1),
		"one-step":      head(0, 58.0, 62.9, 1.2),
		"two-step":      head(0, 58.1, 63.4, 0.8),
		"three-step":    head(49.5, 57.0, 63.6, 1),
		"two-step-nokd": head(0, 57.2, 62.5, 3),
	}, order)
	return Study{Spec: report.Spec{
		Name: "table9", Title: "Table 9: number of steps", Table: "table9",
		Variants: order, Seeds: Seeds, Baseline: "two-step",
		Paper: []report.PaperFigure{
			{Variant: "baseline", Metric: runspec.KeyAccS4, Value: 91.9},
			{Variant: "one-step", Metric: runspec.KeyAccS4, Value: 92.4},
			{Variant: "two-step", Metric: runspec.KeyAccS4, Value: 92.8},
			{Variant: "two-step-nokd", Metric: runspec.KeyAccS3, Value: 90.9},
			{Variant: "two-step-nokd", Metric: runspec.KeyAccS4, Value: 92.1},
			{Variant: "one-step", Metric: runspec.KeyAccS4, Versus: "two-step", Value: -0.4, Note: "single-step: S4 0.4 lower"},
		},
		Claims: []report.Claim{
			{Text: "two-step beats the baseline", Metric: runspec.KeyAccS4, Variant: "two-step", Baseline: "baseline", Expect: "higher", Delta: ptr(0.9)},
			{Text: "single-step: S3 equal", Metric: runspec.KeyAccS3, Variant: "one-step", Expect: "equal"},
			{Text: "single-step: S4 lower", Metric: runspec.KeyAccS4, Variant: "one-step", Expect: "lower", Delta: ptr(-0.4)},
			{Text: "three-step: S4 lower", Metric: runspec.KeyAccS4, Variant: "three-step", Expect: "lower"},
			{Text: "no KD: S4 lower", Metric: runspec.KeyAccS4, Variant: "two-step-nokd", Expect: "lower", Delta: ptr(-0.7)},
		},
	}, Results: rs, Series: series(rs, 5)}
}

func table10() Study {
	order := []string{"sync", "async"}
	rs := results(map[string]func(int64) map[string]float64{
		"sync": func(s int64) map[string]float64 {
			return accs(map[string]float64{runspec.KeyAccS3: 58.1, runspec.KeyAccS4: 63.4}, s, 0.8)
		},
		"async": func(s int64) map[string]float64 {
			return accs(map[string]float64{runspec.KeyAccS3: 58.3, runspec.KeyAccS4: 63.0}, s, 1.1)
		},
	}, order)
	return Study{Spec: report.Spec{
		Name: "table10", Title: "Table 10: sync vs async", Table: "table10",
		Variants: order, Seeds: Seeds, Baseline: "sync",
		Paper: []report.PaperFigure{
			{Variant: "async", Metric: runspec.KeyAccS3, Versus: "sync", Value: 0.1},
			{Variant: "async", Metric: runspec.KeyAccS4, Versus: "sync", Value: -0.3},
		},
		Claims: []report.Claim{
			{Text: "async: S3 +0.1", Metric: runspec.KeyAccS3, Variant: "async", Expect: "higher"},
			{Text: "async: S4 −0.3", Metric: runspec.KeyAccS4, Variant: "async", Expect: "lower"},
		},
	}, Results: rs, Series: series(rs, 5)}
}

func table11() Study {
	order := []string{"decision", "feature", "none"}
	rs := results(map[string]func(int64) map[string]float64{
		"decision": func(s int64) map[string]float64 {
			return accs(map[string]float64{runspec.KeyAccS3: 58.1, runspec.KeyAccS4: 63.4}, s, 0.8)
		},
		"feature": func(s int64) map[string]float64 {
			return accs(map[string]float64{runspec.KeyAccS3: 56.0, runspec.KeyAccS4: 61.6}, s, 0.9)
		},
		"none": func(s int64) map[string]float64 {
			return accs(map[string]float64{runspec.KeyAccS3: 57.2, runspec.KeyAccS4: 62.5}, s, 3)
		},
	}, order)
	return Study{Spec: report.Spec{
		Name: "table11", Title: "Table 11: decision vs feature distillation", Table: "table11",
		Variants: order, Seeds: Seeds, Baseline: "decision",
		Paper: []report.PaperFigure{
			{Variant: "feature", Metric: runspec.KeyAccS4, Value: 91.6},
			{Variant: "feature", Metric: runspec.KeyAccS4, Versus: "decision", Value: -1.2, Note: "feature KD: S4 1.2 lower"},
		},
		Claims: []report.Claim{
			{Text: "feature KD: S4 1.2 lower", Metric: runspec.KeyAccS4, Variant: "feature", Expect: "lower", Delta: ptr(-1.2)},
			{Text: "no KD: S3 lower", Metric: runspec.KeyAccS3, Variant: "none", Expect: "lower", Source: "workbench"},
		},
	}, Results: rs, Series: series(rs, 5)}
}

func fig3() Study {
	temps := []float64{1, 2, 3, 4, 7, 10}
	var order []string
	x := map[string]float64{}
	fns := map[string]func(int64) map[string]float64{}
	for i, T := range temps {
		v := fmt.Sprintf("T=%g", T)
		order = append(order, v)
		x[v] = T
		s3, s4 := 58.1-0.25*float64(i), 63.4-0.3*float64(i)
		fns[v] = func(s int64) map[string]float64 {
			return accs(map[string]float64{runspec.KeyAccS3: s3, runspec.KeyAccS4: s4}, s, 0.8)
		}
	}
	rs := results(fns, order)
	return Study{Spec: report.Spec{
		Name: "fig3-temperature", Title: "Figure 3: accuracy against temperature", Table: "fig3",
		Variants: order, Seeds: Seeds, Baseline: "T=1",
		Sweep: &report.Sweep{Label: "T", X: x},
		Paper: []report.PaperFigure{{Variant: "T=1", Metric: runspec.KeyAccS4, Value: 92.8}},
		Claims: []report.Claim{
			{Text: "accuracy falls as T rises (T=10 vs T=1)", Metric: runspec.KeyAccS4, Variant: "T=10", Expect: "lower"},
		},
	}, Results: rs, Series: series(rs, 5)}
}
