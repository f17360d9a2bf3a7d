package experiment

import (
	"strings"
	"testing"

	"github.com/mksmt/workbench/internal/runspec"
)

// The issue-12 settings: written at their defaults, or where they have no
// effect, they are the run without them (same JSON, same hash), so runs
// recorded before the settings existed are still found; set, they change
// the config as written.
func TestAblationSettingsCanonical(t *testing.T) {
	run := func(variant string) RunSpec {
		t.Helper()
		return expand(t, mustParse(t, "name = \"a\"\nseeds = [1]\n[[variant]]\nlabel = \"x\"\n"+variant), ExpandOptions{CodeVersion: "c", Profile: "smoke"})[0]
	}
	twoStep := run("steps = 2\n")
	for _, key := range []string{"updates", "kd_scale_t2", "kd_detach", "three_step_pairs", "async_order", "optimizer", "decay_norms", "lr_schedule", "resize"} {
		if strings.Contains(twoStep.ConfigJSON, `"`+key+`"`) {
			t.Errorf("default config JSON has %s: %s", key, twoStep.ConfigJSON)
		}
		if _, ok := twoStep.Params[key]; ok {
			t.Errorf("default params have %s", key)
		}
	}
	for _, tc := range []struct {
		what, variant, same string
	}{
		{"every default written out", `steps = 2
kd_scale_t2 = true
kd_detach = true
three_step_pairs = "4>2,4>3"
async_order = "ce-first"
optimizer = "skip-unreached"
decay_norms = false
lr_schedule = "cosine"
resize = 36
`, "steps = 2\n"},
		{"updates = 1", "steps = 0\nupdates = 1\n", "steps = 0\n"},
		{"no T² at T = 1", "steps = 2\nkd_scale_t2 = false\n", "steps = 2\n"},
		{"no T² under feature KD", "steps = 2\ndistill = \"feature\"\ntemperature = 4.0\nkd_scale_t2 = false\n", "steps = 2\ndistill = \"feature\"\n"},
		{"kd_detach without KD", "steps = 2\ndistill = \"none\"\nkd_detach = false\n", "steps = 2\ndistill = \"none\"\n"},
		{"pairs on two-step", "steps = 2\nthree_step_pairs = \"3>2,4>3\"\n", "steps = 2\n"},
		{"async order on sync", "steps = 2\nasync_order = \"kd-first\"\n", "steps = 2\n"},
		{"pytorch-shared on the baseline", "steps = 0\noptimizer = \"pytorch-shared\"\n", "steps = 0\n"},
		{"decay_norms without weight decay", "steps = 2\nweight_decay = 0.0\ndecay_norms = true\n", "steps = 2\nweight_decay = 0.0\n"},
		{"onecycle's own warm-up", "steps = 2\nlr_schedule = \"onecycle\"\nwarmup_epochs = 0.5\n", "steps = 2\nlr_schedule = \"onecycle\"\n"},
	} {
		a, b := run(tc.variant), run(tc.same)
		if a.Hash != b.Hash {
			t.Errorf("%s: another run\n%s\n%s", tc.what, a.ConfigJSON, b.ConfigJSON)
		}
	}
	for _, tc := range []struct{ variant, json, param string }{
		{"steps = 0\nupdates = 2\n", `"updates":2`, "2"},
		{"steps = 2\ntemperature = 4.0\nkd_scale_t2 = false\n", `"kd_scale_t2":false`, "false"},
		{"steps = 2\nkd_detach = false\n", `"kd_detach":false`, "false"},
		{"steps = 3\nthree_step_pairs = \"3>2,4>3\"\n", `"three_step_pairs":"3\u003e2,4\u003e3"`, "3>2,4>3"},
		{"steps = 2\nmode = \"async\"\nasync_order = \"kd-first\"\n", `"async_order":"kd-first"`, "kd-first"},
		{"steps = 2\noptimizer = \"pytorch-shared\"\n", `"optimizer":"pytorch-shared"`, "pytorch-shared"},
		{"steps = 2\ndecay_norms = true\n", `"decay_norms":true`, "true"},
		{"steps = 2\nlr_schedule = \"onecycle\"\n", `"lr_schedule":"onecycle"`, "onecycle"},
		{"steps = 2\nresize = 40\n", `"resize":40`, "40"},
	} {
		r := run(tc.variant)
		if !strings.Contains(r.ConfigJSON, tc.json) || r.Hash == twoStep.Hash && !strings.HasPrefix(tc.variant, "steps = 0") {
			t.Errorf("%q: config %s", tc.variant, r.ConfigJSON)
		}
		key, _, _ := strings.Cut(tc.json[1:], `"`)
		if r.Params[key] != tc.param {
			t.Errorf("%q: params[%s] = %q, want %q", tc.variant, key, r.Params[key], tc.param)
		}
		if err := r.Config.Validate(); err != nil {
			t.Errorf("%q: %v", tc.variant, err)
		}
	}
	// The switches reach the trainer as set.
	if r := run("steps = 2\nkd_detach = false\ntemperature = 2.0\nkd_scale_t2 = false\n"); r.Config.DetachTeacher() || r.Config.ScaleKDByT2() {
		t.Errorf("switches: %v %v", r.Config.KDDetach, r.Config.KDScaleT2)
	}
}

func TestAblationSettingsChecked(t *testing.T) {
	for _, tc := range []struct{ variant, want string }{
		{"steps = 0\nupdates = 4\n", "updates: 4 is outside 1–3 (allowed: 1, 2, 3)"},
		{"steps = 2\nupdates = 2\n", "updates = 2 repeats the baseline's CE(z4) update"},
		{"three_step_pairs = \"2>4\"\n", `three_step_pairs: "2>4" is not allowed`},
		{"async_order = \"ce-last\"\n", `async_order: "ce-last" is not allowed`},
		{"optimizer = \"sgd\"\n", `optimizer: "sgd" is not allowed`},
		{"lr_schedule = \"step\"\n", `lr_schedule: "step" is not allowed`},
		{"kd_detach = \"no\"\n", "kd_detach: expected true or false"},
		{"resize = 20\n", "resize = 20: must be in [image_size, 4·image_size]"},
	} {
		_, err := Parse("t.toml", []byte("name = \"a\"\nseeds = [1]\n[[variant]]\nlabel = \"x\"\n"+tc.variant))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.variant, err, tc.want)
		}
	}
	// Every default the registry names is what the trainer does unset.
	c := runspec.DefaultConfig()
	if AblationDefaults["updates"] != c.UpdatesPerBatch() || AblationDefaults["kd_scale_t2"] != c.ScaleKDByT2() ||
		AblationDefaults["kd_detach"] != c.DetachTeacher() || AblationDefaults["three_step_pairs"] != c.ThreeStepPairsOrDefault() ||
		AblationDefaults["async_order"] != c.AsyncOrderOrDefault() || AblationDefaults["optimizer"] != c.OptimizerOrDefault() ||
		AblationDefaults["decay_norms"] != c.DecayNorms || AblationDefaults["lr_schedule"] != c.LRScheduleOrDefault() {
		t.Errorf("AblationDefaults %v disagree with runspec.DefaultConfig", AblationDefaults)
	}
	for name, def := range switchDefaults {
		if AblationDefaults[name] != def {
			t.Errorf("%s: switch default %v, registry %v", name, def, AblationDefaults[name])
		}
	}
}
