package train

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(c *Config)
		want string // substring of the error; "" = valid
	}{
		{func(c *Config) {}, ""},
		{func(c *Config) { *c = tinySwinConfig() }, ""},
		{func(c *Config) { c.Backbone = "vit" }, `backbone = "vit"`},
		{func(c *Config) { c.Steps = 4 }, "steps = 4"},
		{func(c *Config) { c.Mode = "parallel" }, `mode = "parallel": want one of ["sync" "async"]`},
		{func(c *Config) { c.Distill = "logits" }, `distill = "logits"`},
		{func(c *Config) { c.Temperature = 0 }, "temperature = 0: must be > 0"},
		{func(c *Config) { c.LR = math.NaN() }, "lr = NaN: must be a finite number"},
		{func(c *Config) { c.WarmupEpochs = 20 }, "warmup_epochs = 20: must be in [0, epochs = 10]"},
		{func(c *Config) { c.LabelSmoothing = 1 }, "label_smoothing = 1"},
		{func(c *Config) { c.BatchSize = 1 }, "batch_size = 1: must be ≥ 2"},
		{func(c *Config) { c.LogEvery = 0 }, "log_every = 0"},
		{func(c *Config) { c.Widths = []int{16, 32} }, "widths = [16 32]: need 4 values"},
		{func(c *Config) { c.ImageSize = 30 }, "image_size = 30"},
		{func(c *Config) { c.Dataset = "" }, "dataset is empty"},
	} {
		c := DefaultConfig()
		tc.edit(&c)
		err := c.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

// runTrainer runs c to the end (or to an interruption after update
// stopAt > 0) with a checkpoint at path, resuming from it when resume is
// set; it returns the finished trainer.
func runTrainer(t *testing.T, c Config, path string, resume bool, stopAt int) (*trainer, Result, error) {
	t.Helper()
	tr, err := newTrainer(c, open(t, c), Options{CheckpointPath: path, Resume: resume})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.close)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if stopAt > 0 {
		tr.hook = func(step int) {
			if step == stopAt {
				cancel()
			}
		}
	}
	res, err := tr.run(ctx)
	return tr, res, err
}

// sameState fails unless two trainers hold bit-identical weights, optimizer
// state, running statistics and position.
func sameState(t *testing.T, a, b *trainer) {
	t.Helper()
	for j, p := range a.model.Params {
		if !slices.Equal(p.Value.Data().([]float32), b.model.Params[j].Value.Data().([]float32)) {
			t.Errorf("parameter %s differs", p.Name)
		}
	}
	if !slices.Equal(a.adam.m, b.adam.m) || !slices.Equal(a.adam.v, b.adam.v) || !slices.Equal(a.adam.t, b.adam.t) {
		t.Error("optimizer state differs")
	}
	for i, n := range a.model.Norms {
		if !slices.Equal(n.State.Mean, b.model.Norms[i].State.Mean) || !slices.Equal(n.State.Var, b.model.Norms[i].State.Var) {
			t.Errorf("running statistics of %s differ", n.Name)
		}
	}
	if a.st.Step != b.st.Step || a.st.Batches != b.st.Batches || a.st.Images != b.st.Images {
		t.Errorf("positions differ: %+v vs %+v", a.st, b.st)
	}
	for _, key := range []string{KeyAccS3, KeyAccS4, KeyAccEnsemble, FlipKey("vflip", "S4")} {
		if a.st.Final[key] != b.st.Final[key] {
			t.Errorf("%s: %g vs %g", key, a.st.Final[key], b.st.Final[key])
		}
	}
}

// A run interrupted in the middle of a batch (after update (a) of
// two-step) and again at the end of an epoch, each time resumed from its
// checkpoint, ends bit-identical to an uninterrupted run.
func TestResumeIsExact(t *testing.T) {
	c := tinyConfig()
	c.Steps, c.Epochs = 2, 2 // 8 batches of 2 updates per epoch
	dir := t.TempDir()
	whole, _, err := runTrainer(t, c, filepath.Join(dir, "whole.ckpt"), false, 0)
	if err != nil {
		t.Fatal(err)
	}

	path := filepath.Join(dir, "split.ckpt")
	for _, stop := range []int{7, 16} {
		_, res, err := runTrainer(t, c, path, stop != 7, stop)
		if !errors.Is(err, ErrInterrupted) {
			t.Fatalf("stop at %d: got %v, want ErrInterrupted", stop, err)
		}
		if res.Steps != stop {
			t.Errorf("interrupted after update %d, result says %d", stop, res.Steps)
		}
	}
	resumed, res, err := runTrainer(t, c, path, true, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 32 {
		t.Errorf("resumed run ended at update %d, want 32", res.Steps)
	}
	sameState(t, whole, resumed)

	// A finished run's checkpoint just gives back its result.
	_, again, err := runTrainer(t, c, path, true, 0)
	if err != nil || !reflect.DeepEqual(again.Summaries, res.Summaries) {
		t.Errorf("resuming a finished run: %v, %v", err, again)
	}

	// A checkpoint of another config is refused, saying why.
	other := c
	other.LR *= 2
	if _, _, err := runTrainer(t, other, path, true, 0); err == nil || !strings.Contains(err.Error(), "lr is 0.002 in the checkpoint, 0.004 now") {
		t.Errorf("resuming with another lr: %v", err)
	}
}

// The same config and seed give the same curve and weights; another seed
// does not.
func TestDeterministic(t *testing.T) {
	c := tinyConfig()
	c.Epochs = 1
	curve := func(c Config) ([]map[string]float64, *trainer) {
		var ev events
		tr, err := newTrainer(c, open(t, c), Options{Logger: &ev})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tr.close)
		if _, err := tr.run(context.Background()); err != nil {
			t.Fatal(err)
		}
		var losses []map[string]float64
		for _, s := range ev.steps {
			losses = append(losses, s.Losses)
		}
		return losses, tr
	}
	l1, a := curve(c)
	l2, b := curve(c)
	if !reflect.DeepEqual(l1, l2) {
		t.Errorf("same seed, different curves:\n%v\n%v", l1, l2)
	}
	sameState(t, a, b)
	c.Seed++
	if l3, _ := curve(c); reflect.DeepEqual(l1, l3) {
		t.Error("another seed gave the same curve")
	}
}

func TestDivergenceStopsTheRun(t *testing.T) {
	c := tinyConfig()
	tr, err := newTrainer(c, open(t, c), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	tr.model.Param("h3.out.b").Value.Data().([]float32)[0] = float32(math.Inf(1))
	before := slices.Clone(tr.model.Param("s1.b0.conv1").Value.Data().([]float32))
	_, err = tr.run(context.Background())
	var d *DivergedError
	if !errors.As(err, &d) || d.Step != 1 || d.Loss != KeyLossCE3 {
		t.Fatalf("got %v, want divergence of %s at step 1", err, KeyLossCE3)
	}
	if !slices.Equal(before, tr.model.Param("s1.b0.conv1").Value.Data().([]float32)) {
		t.Error("the diverged update changed the weights")
	}
}

func TestRunReportsEpochsAndSummaries(t *testing.T) {
	c := tinyConfig()
	c.Steps, c.Epochs, c.EvalEvery, c.LogEvery = 3, 3, 2, 4
	var ev events
	res, err := Run(context.Background(), c, open(t, c), Options{Logger: &ev})
	if err != nil {
		t.Fatal(err)
	}
	if len(ev.steps) != 6 || ev.steps[0].Batch != 4 || ev.steps[0].TotalBatches != 24 || len(ev.steps[0].Losses) != 4 {
		t.Errorf("step events: %+v", ev.steps)
	}
	// Epoch 2 (every 2nd) and the last, 3.
	if len(ev.epochs) != 2 || ev.epochs[0].Epoch != 2 || ev.epochs[1].Epoch != 3 || ev.epochs[1].Step != res.Steps {
		t.Fatalf("epoch events: %+v", ev.epochs)
	}
	if got := len(ev.epochs[1].Metrics); got != 4 {
		t.Errorf("three-step evaluates S2, S3, S4 and S3+S4; got %v", ev.epochs[1].Metrics)
	}
	want := []string{KeyAccS2, KeyAccS3, KeyAccS4, KeyAccEnsemble, KeyParamsInference, KeyParamsExtra,
		KeyFLOPsInference, KeyFLOPsExtra, KeyTrainSeconds, KeyImagesPerSec}
	for _, flip := range []string{"hflip", "vflip"} {
		for _, h := range []string{"S2", "S3", "S4", "S3+S4"} {
			want = append(want, FlipKey(flip, h))
		}
	}
	for _, k := range want {
		v, ok := res.Summaries[k]
		if !ok || math.IsNaN(v) || v < 0 {
			t.Errorf("summary %s = %v, %v", k, v, ok)
		}
	}
	if len(res.Summaries) != len(want) {
		t.Errorf("summaries %v, want exactly %v", res.Summaries, want)
	}
	if res.Summaries[KeyParamsExtra] <= 0 || res.Summaries[KeyAccS4] > 100 {
		t.Errorf("summaries %v", res.Summaries)
	}
}

// Resume without a checkpoint on disk starts the run from the beginning;
// CheckpointEvery writes the position every N batches.
func TestCheckpointEveryAndResumeWithoutCheckpoint(t *testing.T) {
	c := tinyConfig()
	c.Steps, c.Epochs = 2, 1
	path := filepath.Join(t.TempDir(), "run.ckpt")
	tr, err := newTrainer(c, open(t, c), Options{CheckpointPath: path, Resume: true, CheckpointEvery: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	seen := map[int]int{} // update -> batches in the checkpoint on disk
	tr.hook = func(step int) {
		if step == 7 || step == 13 {
			f, err := readCheckpoint(path)
			if err != nil {
				t.Errorf("after update %d: %v", step, err)
				return
			}
			seen[step] = f.State.Batches
		}
	}
	res, err := tr.run(context.Background())
	if err != nil || res.Steps != 16 {
		t.Fatalf("run: %v, %d updates", err, res.Steps)
	}
	if seen[7] != 3 || seen[13] != 6 {
		t.Errorf("checkpoints on disk after updates 7 and 13 hold %d and %d batches, want 3 and 6", seen[7], seen[13])
	}
}
