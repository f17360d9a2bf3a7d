package experiment

import (
	"fmt"
	"maps"
)

// Profile sets the run length and sizes of every run of a study: epochs,
// batch size, network widths, and the size of the synthetic data set. The
// study's [base] and variants still win for the keys they set, so a profile
// never changes an ablated factor.
type Profile struct {
	Name        string
	Description string
	// Overrides are train.Config settings by toml name, applied on top of
	// the defaults and under the study's own settings.
	Overrides map[string]any
	// Data are keys merged into a synthetic data set spec where the spec
	// does not set them ("synthetic:classes=10,test=100,train=200"; train
	// and test count images per class). Real are merged the same way into
	// the other kinds (train_per_class, test_per_class), where the kind
	// accepts them.
	Data, Real map[string]string
}

// DefaultProfile is used when neither the command line nor the study names one.
const DefaultProfile = "quick"

// profiles is the one place where the profiles' numbers live; the lead
// calibrates them against the trainer's measured speed. Data set keys are
// internal/data's: classes, and train/test images per class.
var profiles = []Profile{
	{
		Name:        "smoke",
		Description: "a whole study in well under a minute: 4 synthetic classes × 8 images, one epoch, narrow nets; for tests and wiring checks, not for conclusions",
		Overrides: map[string]any{
			"epochs":        1,
			"batch_size":    16,
			"warmup_epochs": 0.0,
			"widths":        []int{8, 8, 16, 16},
			"depths":        []int{1, 1, 1, 1},
			"embed_dim":     8,
			"heads":         []int{1, 1, 2, 2},
			"head_dim":      16,
			"eval_every":    1,
			"log_every":     1,
		},
		Data: map[string]string{"classes": "4", "train": "8", "test": "8"},
		Real: map[string]string{"train_per_class": "2", "test_per_class": "2"},
	},
	{
		Name: "quick",
		// Measured 2026-12-01 on a 2-core AMD EPYC (AVX-512), clean clone,
		// go run ./cmd/workbench reproduce at commit 5767279 (two runs at a
		// time): 42 distinct runs in 14 min 24 s, load average median 3.5,
		// 1,453 s of CPU. See the README's note on profiles.
		Description: "the default: every paper study with 3 seeds (14 distinct variants × 3 seeds; " +
			"the reference resnet on 10 synthetic classes × 200 training images, 4 epochs; " +
			"about 15 minutes on a 2-core CPU)",
		Overrides: map[string]any{
			"epochs":        4,
			"batch_size":    32,
			"warmup_epochs": 0.5,
			"eval_every":    1,
			"log_every":     10,
		},
		Data: map[string]string{"classes": "10", "train": "200", "test": "100"},
	},
	{
		Name:        "paper",
		Description: "larger and longer, closer to the paper's setting: 20 synthetic classes × 500 training images, 30 epochs; hours on a CPU",
		Overrides: map[string]any{
			"epochs":        30,
			"batch_size":    32,
			"warmup_epochs": 2.0,
			"eval_every":    1,
			"log_every":     20,
		},
		Data: map[string]string{"classes": "20", "train": "500", "test": "100"},
	},
}

// backboneDefaults are the DESIGN §2 settings where a backbone's reference
// differs from train.DefaultConfig() (which is the resnet's).
var backboneDefaults = map[string]map[string]any{
	"swin": {"depths": []int{2, 2, 6, 2}},
}

// LookupProfile returns the named profile (a copy the caller may change).
func LookupProfile(name string) (Profile, error) {
	for _, p := range profiles {
		if p.Name == name {
			return cloneProfile(p), nil
		}
	}
	return Profile{}, fmt.Errorf("unknown profile %q%s (allowed: %v)", name, didYouMean(name, ProfileNames()), ProfileNames())
}

// Profiles lists the profiles, smallest first.
func Profiles() []Profile {
	out := make([]Profile, len(profiles))
	for i, p := range profiles {
		out[i] = cloneProfile(p)
	}
	return out
}

// ProfileNames lists the profile names, smallest first.
func ProfileNames() []string {
	out := make([]string, len(profiles))
	for i, p := range profiles {
		out[i] = p.Name
	}
	return out
}

func cloneProfile(p Profile) Profile {
	p.Overrides = cloneOverrides(p.Overrides)
	p.Data = maps.Clone(p.Data)
	p.Real = maps.Clone(p.Real)
	return p
}
