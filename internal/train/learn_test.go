package train

import (
	"context"
	"testing"
	"time"
)

// The reference resnet's stages at quarter width learn the embedded
// fine-grained set: two-step MKSMT, 4 classes (chance 25 %), 400 training
// images at 32×32, far above chance within 60 seconds.
func TestResNetTwoStepLearns(t *testing.T) {
	c := DefaultConfig()
	c.Dataset = "synthetic:classes=4,train=100,test=25,seed=1,difficulty=0.1"
	c.Widths, c.Depths = []int{8, 16, 32, 32}, []int{1, 1, 1, 1}
	c.Epochs, c.BatchSize, c.LR, c.WarmupEpochs, c.EvalEvery = 8, 16, 5e-3, 0.5, 0
	ds := open(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, c, ds, Options{})
	if err != nil {
		t.Fatalf("after %v: %v", time.Since(start), err)
	}
	t.Logf("%v: S3 %.0f %%, S4 %.0f %%, S3+S4 %.0f %% (chance 25 %%), %.0f images/s",
		time.Since(start).Round(time.Second), res.Summaries[KeyAccS3], res.Summaries[KeyAccS4], res.Summaries[KeyAccEnsemble], res.Summaries[KeyImagesPerSec])
	for _, k := range []string{KeyAccS3, KeyAccS4} {
		if res.Summaries[k] < 45 {
			t.Errorf("%s = %.0f %%: want far above the 25 %% of chance (≥ 45 %%)", k, res.Summaries[k])
		}
	}
}
