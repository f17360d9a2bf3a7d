package runspec

import (
	"fmt"
	"math"
	"slices"

	"github.com/mksmt/workbench/internal/arch"
)

// The allowed values of Config's enumerations.
var (
	Backbones = []string{arch.ResNet, arch.Swin}
	Modes     = []string{"sync", "async"}
	Distills  = []string{"decision", "feature", "none"}
)

// Validate reports the first field of c that cannot run, naming the field,
// its value and what is allowed.
func (c Config) Validate() error {
	if c.Dataset == "" {
		return fmt.Errorf("dataset is empty: name a data set spec such as \"synthetic\"")
	}
	if !slices.Contains(Backbones, c.Backbone) {
		return fmt.Errorf("backbone = %q: want one of %q", c.Backbone, Backbones)
	}
	if err := c.Arch(2).Validate(); err != nil {
		return err
	}
	if c.Steps < 0 || c.Steps > 3 {
		return fmt.Errorf("steps = %d: want 0 (baseline), 1, 2 (MKSMT) or 3", c.Steps)
	}
	if !slices.Contains(Modes, c.Mode) {
		return fmt.Errorf("mode = %q: want one of %q", c.Mode, Modes)
	}
	if !slices.Contains(Distills, c.Distill) {
		return fmt.Errorf("distill = %q: want one of %q", c.Distill, Distills)
	}
	if c.Updates < 0 || c.Updates > 3 {
		return fmt.Errorf("updates = %d: want 1, 2 or 3 (CE(z4) updates per batch of the baseline)", c.Updates)
	}
	if c.Updates > 1 && c.Steps != 0 {
		return fmt.Errorf("updates = %d: repeats the baseline's update and needs steps = 0, but steps = %d", c.Updates, c.Steps)
	}
	for _, sw := range []struct {
		name string
		v    Switch
	}{{"kd_scale_t2", c.KDScaleT2}, {"kd_detach", c.KDDetach}} {
		if sw.v > Off {
			return fmt.Errorf("%s = %v: want true or false", sw.name, sw.v)
		}
	}
	for _, e := range []struct {
		name, v string
		allowed []string
	}{
		{"three_step_pairs", c.ThreeStepPairs, ThreeStepPairsOptions},
		{"async_order", c.AsyncOrder, AsyncOrders},
		{"optimizer", c.Optimizer, Optimizers},
		{"lr_schedule", c.LRSchedule, LRSchedules},
	} {
		if e.v != "" && !slices.Contains(e.allowed, e.v) {
			return fmt.Errorf("%s = %q: want one of %q", e.name, e.v, e.allowed)
		}
	}
	if c.Resize != 0 && (c.Resize < c.ImageSize || c.Resize > 4*c.ImageSize) {
		return fmt.Errorf("resize = %d: must be in [image_size, 4·image_size] = [%d, %d] (0 = image_size + image_size/8)", c.Resize, c.ImageSize, 4*c.ImageSize)
	}
	finite := func(name string, v float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s = %g: must be a finite number", name, v)
		}
		return nil
	}
	type check struct {
		name string
		v    float64
		ok   bool
		want string
	}
	for _, ch := range []check{
		{"temperature", c.Temperature, c.Temperature > 0, "> 0"},
		{"lambda1", c.Lambda1, c.Lambda1 >= 0, "≥ 0"},
		{"lambda2", c.Lambda2, c.Lambda2 >= 0, "≥ 0"},
		{"lr", c.LR, c.LR > 0, "> 0"},
		{"weight_decay", c.WeightDecay, c.WeightDecay >= 0, "≥ 0"},
		{"warmup_epochs", c.WarmupEpochs, c.WarmupEpochs >= 0 && c.WarmupEpochs <= float64(c.Epochs), fmt.Sprintf("in [0, epochs = %d]", c.Epochs)},
		{"clip_norm", c.ClipNorm, c.ClipNorm >= 0, "≥ 0 (0 = no clipping)"},
		{"label_smoothing", c.LabelSmoothing, c.LabelSmoothing >= 0 && c.LabelSmoothing < 1, "in [0, 1)"},
	} {
		if err := finite(ch.name, ch.v); err != nil {
			return err
		}
		if !ch.ok {
			return fmt.Errorf("%s = %g: must be %s", ch.name, ch.v, ch.want)
		}
	}
	for _, ch := range []struct {
		name string
		v    int
		min  int
		note string
	}{
		{"epochs", c.Epochs, 1, ""},
		{"batch_size", c.BatchSize, 2, ""},
		{"eval_every", c.EvalEvery, 0, " (0 = only after the last epoch)"},
		{"log_every", c.LogEvery, 1, ""},
	} {
		if ch.v < ch.min {
			return fmt.Errorf("%s = %d: must be ≥ %d%s", ch.name, ch.v, ch.min, ch.note)
		}
	}
	return nil
}

// Arch is the network c describes, for a data set with the given classes.
func (c Config) Arch(classes int) arch.Arch {
	a := arch.Arch{
		Backbone: c.Backbone, InChannels: 3, ImageSize: c.ImageSize, Classes: classes,
		Depths: slices.Clone(c.Depths), HeadDim: c.HeadDim,
	}
	if c.Backbone == arch.Swin {
		a.EmbedDim, a.Heads, a.Window, a.PatchSize, a.MLPRatio = c.EmbedDim, slices.Clone(c.Heads), c.Window, c.PatchSize, c.MLPRatio
	} else {
		a.Widths = slices.Clone(c.Widths)
	}
	return a
}

// TrainedHeads are the stages whose heads the schedule trains.
func (c Config) TrainedHeads() []int {
	switch c.Steps {
	case 0:
		return []int{4}
	case 3:
		return []int{2, 3, 4}
	}
	return []int{3, 4}
}
