package train

import (
	"testing"

	"github.com/mksmt/workbench/internal/data"
)

// tinyConfig is a resnet small enough to train in a fraction of a second:
// 16×16 images, 4 classes, 64 training images.
func tinyConfig() Config {
	c := DefaultConfig()
	c.Dataset = "synthetic:classes=4,train=16,test=6,seed=5"
	c.ImageSize = 16
	c.Widths, c.Depths, c.HeadDim = []int{4, 6, 8, 8}, []int{1, 1, 1, 1}, 8
	c.Epochs, c.BatchSize, c.LogEvery, c.WarmupEpochs = 2, 8, 1, 0.5
	return c
}

func tinySwinConfig() Config {
	c := tinyConfig()
	c.Backbone = "swin"
	c.Widths = nil
	c.Depths, c.EmbedDim, c.Heads, c.Window, c.PatchSize, c.MLPRatio = []int{2, 2, 1, 1}, 8, []int{1, 2, 2, 4}, 2, 1, 2
	return c
}

func open(t testing.TB, c Config) *data.Dataset {
	t.Helper()
	ds, err := data.Open(c.Dataset, c.ImageSize)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// events records what a run reports.
type events struct {
	steps  []StepEvent
	epochs []EpochEvent
}

func (e *events) Step(s StepEvent)   { e.steps = append(e.steps, s) }
func (e *events) Epoch(s EpochEvent) { e.epochs = append(e.epochs, s) }
