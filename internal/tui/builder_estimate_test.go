package tui

import (
	"maps"
	"testing"

	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/runspec"
)

func TestTrainImages(t *testing.T) {
	for _, tc := range []struct {
		spec              string
		classes, perClass int
		ok                bool
	}{
		{"synthetic:classes=4,test=8,train=8", 4, 8, true},
		{"synthetic:classes=10,train=200", 10, 200, true},
		{"synthetic", 10, 300, true}, // the generator's defaults
		{"fashion-mnist", 10, 6000, true},
		{"fashion-mnist:train_per_class=100", 10, 100, true},
		{"imagefolder:/data/x", 0, 0, false},
		{"cub:/data/cub", 0, 0, false},
		{"nonsense:", 0, 0, false},
	} {
		c, p, ok := trainImages(tc.spec)
		if c != tc.classes || p != tc.perClass || ok != tc.ok {
			t.Errorf("%s: %d × %d (%v), want %d × %d (%v)", tc.spec, c, p, ok, tc.classes, tc.perClass, tc.ok)
		}
	}
}

// The estimate's arithmetic: classes × images per class × epochs over the
// throughput of the same network and schedule, else the same network, else
// the stated default — never the throughput of other sizes; the median
// time of identical finished runs when there are some.
func TestEstimate(t *testing.T) {
	cfg := runspec.DefaultConfig()
	cfg.Dataset, cfg.Epochs, cfg.Steps = "synthetic:classes=10,train=200", 4, 2 // 8,000 images a run
	run := experiment.RunSpec{Config: cfg}
	params := experiment.Params(cfg)
	with := func(over map[string]string, ips, secs float64) throughputSample {
		p := maps.Clone(params)
		maps.Copy(p, over)
		return throughputSample{params: p, imagesPerSec: ips, seconds: secs}
	}
	otherData := map[string]string{"dataset": "synthetic:classes=10,train=50"} // no identical runs: throughput only
	for _, tc := range []struct {
		name        string
		runs        int
		samples     []throughputSample
		text, basis string
	}{
		{
			name: "no samples: the default", runs: 2, samples: []throughputSample{},
			// 8,000 / 170 = 47.06 s a run.
			text:  "≈ 1m34s for 2 run(s), 47s a run on average",
			basis: "10 classes × 200 images × 4 epoch(s) at 170 img/s, a default (no finished resnet run of this size has measured its speed)",
		},
		{
			name: "other sizes are not borrowed", runs: 1,
			samples: []throughputSample{with(map[string]string{"widths": "64,128,256,512"}, 10000, 1)},
			text:    "≈ 47s for 1 run(s), 47s a run on average",
			basis:   "10 classes × 200 images × 4 epoch(s) at 170 img/s, a default (no finished resnet run of this size has measured its speed)",
		},
		{
			name: "same network and schedule first", runs: 1,
			samples: []throughputSample{
				with(otherData, 300, 5), with(otherData, 500, 5), // median 400: 20 s
				with(map[string]string{"dataset": "synthetic:classes=10,train=50", "steps": "0"}, 1000, 5),
			},
			text:  "≈ 20s for 1 run(s), 20s a run on average",
			basis: "10 classes × 200 images × 4 epoch(s) at 400 img/s (median of 2 finished run(s) of this network and schedule)",
		},
		{
			name: "then the same network", runs: 1,
			samples: []throughputSample{with(map[string]string{"dataset": "x", "steps": "0"}, 1000, 5)},
			text:    "≈ 8s for 1 run(s), 8s a run on average",
			basis:   "10 classes × 200 images × 4 epoch(s) at 1000 img/s (median of 1 finished run(s) of this network)",
		},
		{
			name: "identical runs' time", runs: 3,
			samples: []throughputSample{with(nil, 100, 33), with(nil, 100, 35), with(otherData, 5000, 1)},
			text:    "≈ 1m42s for 3 run(s), 34s a run on average",
			basis:   "median time of 2 identical finished run(s)",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := make([]experiment.RunSpec, tc.runs)
			for i := range runs {
				runs[i] = run
			}
			text, basis := estimate(runs, tc.samples)
			if text != tc.text || basis != tc.basis {
				t.Errorf("got  %q\n     %q\nwant %q\n     %q", text, basis, tc.text, tc.basis)
			}
		})
	}

	// Runs on different bases are counted per basis: the baseline has no
	// identical run, so it takes the two-step run's throughput on the same
	// network (8,000 / 100 = 80 s), the two-step run its time (30 s).
	base := cfg
	base.Steps, base.Distill = 0, "none"
	text, basis := estimate([]experiment.RunSpec{{Config: base}, run}, []throughputSample{with(nil, 100, 30)})
	if text != "≈ 1m50s for 2 run(s), 55s a run on average" ||
		basis != "1 run(s): 10 classes × 200 images × 4 epoch(s) at 100 img/s (median of 1 finished run(s) of this network); "+
			"1 run(s): median time of 1 identical finished run(s)" {
		t.Errorf("mixed: %q %q", text, basis)
	}
	if text, _ := estimate([]experiment.RunSpec{{Config: func() runspec.Config { c := cfg; c.Dataset = "imagefolder:/x"; return c }()}}, []throughputSample{}); text != "no estimate: the size of imagefolder:/x is known only once it is opened" {
		t.Errorf("unknown size: %q", text)
	}
}
