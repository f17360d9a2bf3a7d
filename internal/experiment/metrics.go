package experiment

import (
	"slices"

	"github.com/mksmt/workbench/internal/runspec"
)

// Heads whose accuracy a run reports (DESIGN §1): the stage heads and the
// S3+S4 ensemble.
var Heads = []string{"S2", "S3", "S4", "S3+S4"}

// Flips are the test-time flips of the robustness table (paper Table 8).
var Flips = []string{"hflip", "vflip"}

// SummaryMetrics are the keys a finished run stores as summaries, that a study
// may tabulate directly.
func SummaryMetrics() []string {
	keys := []string{runspec.KeyAccS2, runspec.KeyAccS3, runspec.KeyAccS4, runspec.KeyAccEnsemble}
	for _, f := range Flips {
		for _, h := range Heads {
			keys = append(keys, runspec.FlipKey(f, h))
		}
	}
	return append(keys,
		runspec.KeyParamsInference, runspec.KeyParamsExtra,
		runspec.KeyFLOPsInference, runspec.KeyFLOPsExtra,
		runspec.KeyTrainSeconds, runspec.KeyImagesPerSec)
}

// Derived metrics are computed per run from its summaries:
//
//	params.total      = params.inference + params.extra  (the model as trained)
//	flops.total       = flops.inference + flops.extra
//	drop.<flip>.<head> = acc.<head> − acc.<flip>.<head>  (points lost under the flip)
type derived struct {
	plus, minus []string
}

var derivedMetrics = func() map[string]derived {
	m := map[string]derived{
		"params.total": {plus: []string{runspec.KeyParamsInference, runspec.KeyParamsExtra}},
		"flops.total":  {plus: []string{runspec.KeyFLOPsInference, runspec.KeyFLOPsExtra}},
	}
	for _, f := range Flips {
		for _, h := range Heads {
			m["drop."+f+"."+h] = derived{plus: []string{"acc." + h}, minus: []string{runspec.FlipKey(f, h)}}
		}
	}
	return m
}()

// MetricKeys lists every metric key a spec may name: the summary keys, then
// the derived ones.
func MetricKeys() []string {
	keys := SummaryMetrics()
	var d []string
	for k := range derivedMetrics {
		d = append(d, k)
	}
	slices.Sort(d)
	return append(keys, d...)
}

// KnownMetric reports whether key is a summary or derived metric.
func KnownMetric(key string) bool {
	if _, ok := derivedMetrics[key]; ok {
		return true
	}
	return slices.Contains(SummaryMetrics(), key)
}

// MetricValue computes metric key for one run from its summaries: the stored
// value for a summary key, the combination for a derived key. ok is false when
// a needed summary is missing (e.g. acc.S3 of a baseline run).
func MetricValue(key string, summaries map[string]float64) (value float64, ok bool) {
	d, isDerived := derivedMetrics[key]
	if !isDerived {
		v, ok := summaries[key]
		return v, ok
	}
	for _, k := range d.plus {
		v, ok := summaries[k]
		if !ok {
			return 0, false
		}
		value += v
	}
	for _, k := range d.minus {
		v, ok := summaries[k]
		if !ok {
			return 0, false
		}
		value -= v
	}
	return value, true
}
