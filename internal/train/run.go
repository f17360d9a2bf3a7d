package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/mksmt/workbench/internal/data"
	"github.com/mksmt/workbench/internal/nets"
	"gorgonia.org/tensor"
)

// trainer is one run's state: the model, one compiled graph per kind of
// update, the evaluation graph, the optimizer and the position.
type trainer struct {
	cfg     Config
	ds      *data.Dataset
	opt     Options
	model   *nets.Model
	updates []*updateGraph
	eval    *evalGraph
	adam    *adamW
	targets *tensor.Dense // smoothed one-hot targets of the current batch
	// optimizer = "pytorch-shared": every parameter's values and decay
	// flag, and a zero gradient as long as the largest.
	all      [][]float32
	allDecay []bool
	zeros    []float32

	batchesPerEpoch, totalBatches, warmupBatches int

	st         state
	session    time.Time // when this session (Run or resume) started
	wallBefore float64   // st.WallSeconds when it started
	// hook, when set (tests), is called after every optimizer update,
	// once the checkpoints written so far are on disk.
	hook func(step int)
	bg   bgCheckpoint // the checkpoint being written in the background
}

// state is everything about a run's progress that a checkpoint carries
// besides the tensors. The data order and augmentation are pure functions
// of (Seed, Epoch, batch), so the position is the whole random state.
type state struct {
	Epoch   int  // 0-based epoch in progress
	Batch   int  // batches finished in this epoch
	Update  int  // updates finished of the batch in progress (0: none)
	Step    int  // optimizer updates so far, all batches
	Batches int  // batches finished, all epochs
	EvalDue bool // the epoch before Epoch is trained but not yet evaluated

	// Loss sums since the last StepEvent, for its averages.
	LogSums    map[string]float64
	LogBatches int

	TrainSeconds float64 // time spent on training batches, all sessions
	WallSeconds  float64 // wall time of the run, all sessions
	Images       int64   // training images processed
	Metrics      map[string]float64
	Done         bool
	Final        map[string]float64 // the summaries, once Done
}

// Run trains cfg on ds and returns its final numbers.
//
// Cancelling ctx stops the run after the update in progress; the run writes
// a checkpoint (when opt.CheckpointPath is set) and returns an error
// wrapping ErrInterrupted. A loss that becomes NaN or Inf stops the run with
// a *DivergedError, before the optimizer step that would spread it.
func Run(ctx context.Context, cfg Config, ds *data.Dataset, opt Options) (Result, error) {
	t, err := newTrainer(cfg, ds, opt)
	if err != nil {
		return Result{}, err
	}
	defer t.close()
	return t.run(ctx)
}

func newTrainer(cfg Config, ds *data.Dataset, opt Options) (*trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if ds.Size() != cfg.ImageSize {
		return nil, fmt.Errorf("config: image_size = %d, but data set %s was opened at %d", cfg.ImageSize, ds.Spec(), ds.Size())
	}
	// resize: the same data set resized to another shorter side before the
	// crop; data.OpenResized keeps it for the process, like data.Open.
	if side := cfg.StoredSide(); side != ds.StoredSide() {
		var err error
		if ds, err = data.OpenResized(ds.Spec(), cfg.ImageSize, side); err != nil {
			return nil, fmt.Errorf("config: resize = %d: %w", cfg.Resize, err)
		}
	}
	t := &trainer{cfg: cfg, ds: ds, opt: opt}
	t.batchesPerEpoch = ds.NumBatches(data.Train, cfg.BatchSize, true)
	if t.batchesPerEpoch == 0 {
		return nil, fmt.Errorf("config: batch_size = %d is larger than the %d training images of %s", cfg.BatchSize, ds.Len(data.Train), ds.Spec())
	}
	if ds.Len(data.Test) == 0 {
		return nil, fmt.Errorf("data set %s has no test images to evaluate on", ds.Spec())
	}
	t.totalBatches = cfg.Epochs * t.batchesPerEpoch
	t.warmupBatches = int(math.Round(cfg.WarmupEpochs * float64(t.batchesPerEpoch)))

	var err error
	if t.model, err = nets.New(cfg.Arch(ds.NumClasses()), tensor.Float32, cfg.Seed); err != nil {
		return nil, err
	}
	t.targets = tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(cfg.BatchSize, ds.NumClasses()))
	// Identical updates (the baseline's repeats) share one compiled graph.
	built := map[string]*updateGraph{}
	for _, u := range schedule(cfg) {
		ug := built[u.String()]
		if ug == nil {
			if ug, err = newUpdateGraph(t.model, cfg, u, t.targets); err != nil {
				t.close()
				return nil, err
			}
			built[u.String()] = ug
		}
		t.updates = append(t.updates, ug)
	}
	if cfg.OptimizerOrDefault() == "pytorch-shared" {
		t.all = make([][]float32, len(t.model.Params))
		t.allDecay = make([]bool, len(t.model.Params))
		maxSize := 0
		for j, p := range t.model.Params {
			t.all[j], t.allDecay[j] = p.Value.Float32s(), decays(cfg, p)
			maxSize = max(maxSize, p.Size())
		}
		t.zeros = make([]float32, maxSize)
	}
	if t.eval, err = newEvalGraph(t.model, cfg.BatchSize, cfg.TrainedHeads()); err != nil {
		t.close()
		return nil, err
	}
	sizes := make([]int, len(t.model.Params))
	for j, p := range t.model.Params {
		sizes[j] = p.Size()
	}
	t.adam = newAdamW(sizes)
	t.st = state{LogSums: map[string]float64{}}
	if err := t.checkMemory(); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// close drops the compiled graphs, whose op buffers are most of a run's
// memory, so they go even while something still holds the trainer.
func (t *trainer) close() { t.updates, t.eval = nil, nil }

// run is the training loop: epochs of batches, each batch used for the
// schedule's consecutive updates, an evaluation after each due epoch.
// Checkpoints before the last are written in the background (see
// bgCheckpoint); run returns once every one has been written.
func (t *trainer) run(ctx context.Context) (res Result, err error) {
	defer func() {
		if werr := t.checkpointWait(); werr != nil && err == nil {
			res, err = Result{Steps: t.st.Step}, werr
		}
	}()
	cfg := t.cfg
	if t.opt.Resume && t.opt.CheckpointPath != "" {
		if err := t.load(t.opt.CheckpointPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return Result{}, err
		}
	}
	if t.st.Done {
		return t.result(), nil
	}
	t.session = time.Now()
	t.wallBefore = t.st.WallSeconds
	for t.st.Epoch < cfg.Epochs || t.st.EvalDue {
		if t.st.EvalDue {
			if err := t.evaluateEpoch(ctx); err != nil {
				return t.stop(err)
			}
			continue
		}
		if err := t.trainEpoch(ctx); err != nil {
			return t.stop(err)
		}
	}

	t.st.Done = true
	t.st.Final = t.summaries()
	if err := t.checkpointWait(); err != nil {
		return Result{}, err
	}
	if err := t.checkpoint(); err != nil {
		return Result{}, err
	}
	return t.result(), nil
}

// trainEpoch trains the rest of epoch st.Epoch.
func (t *trainer) trainEpoch(ctx context.Context) error {
	cfg := t.cfg
	it := t.ds.Batches(ctx, trainBatches(cfg, t.st.Epoch, t.st.Batch))
	defer it.Close()
	interval := time.Now()
	intervalImages := 0
	for it.Next() {
		began := time.Now()
		b := it.Batch()
		t.setBatch(b)
		lr, beta1 := rates(cfg, t.st.Batches, t.warmupBatches, t.totalBatches)
		t.adam.beta1 = beta1
		for t.st.Update < len(t.updates) {
			if ctx.Err() != nil {
				t.st.TrainSeconds += time.Since(began).Seconds()
				return ctx.Err()
			}
			if err := t.step(t.updates[t.st.Update], lr); err != nil {
				return err
			}
			t.st.Update++
			t.st.Step++
			if t.hook != nil {
				if err := t.checkpointWait(); err != nil {
					return err
				}
				t.hook(t.st.Step)
			}
		}
		t.st.Update = 0
		t.st.Batch++
		t.st.Batches++
		t.st.Images += int64(b.N)
		t.st.LogBatches++
		t.st.TrainSeconds += time.Since(began).Seconds()
		intervalImages += b.N

		if t.st.Batches%cfg.LogEvery == 0 {
			t.logStep(lr, float64(intervalImages)/time.Since(interval).Seconds())
			interval, intervalImages = time.Now(), 0
		}
		if t.opt.CheckpointEvery > 0 && t.st.Batches%t.opt.CheckpointEvery == 0 {
			if err := t.checkpointSoon(); err != nil {
				return err
			}
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	if t.st.Batch < t.batchesPerEpoch {
		return fmt.Errorf("epoch %d: the data set gave %d of %d batches", t.st.Epoch+1, t.st.Batch, t.batchesPerEpoch)
	}
	t.st.Epoch++
	t.st.Batch = 0
	t.st.EvalDue = true
	return t.checkpointSoon()
}

// trainBatches is the training pass over epoch (0-based), from batch start
// on: shuffled and augmented by (Seed, epoch), full batches only.
func trainBatches(c Config, epoch, start int) data.IterOptions {
	return data.IterOptions{
		Split: data.Train, BatchSize: c.BatchSize, Seed: c.Seed, Epoch: epoch,
		Shuffle: true, Augment: true, DropLast: true, StartBatch: start,
	}
}

// setBatch loads a batch's images into every update graph and its labels,
// label-smoothed, into the shared targets.
func (t *trainer) setBatch(b data.Batch) {
	for i, ug := range t.updates {
		if i == 0 || ug != t.updates[i-1] {
			copy(ug.net.XValue.Float32s(), b.X)
		}
	}
	k := t.ds.NumClasses()
	eps := float32(t.cfg.LabelSmoothing)
	tv := t.targets.Float32s()
	for i := range tv {
		tv[i] = eps / float32(k)
	}
	for i, y := range b.Y {
		tv[i*k+y] += 1 - eps
	}
}

// step is one optimizer update: forward and backward through ug's graph,
// then AdamW on the parameters its loss reaches.
func (t *trainer) step(ug *updateGraph, lr float64) error {
	bad, err := ug.forward()
	if err != nil {
		return err
	}
	if bad != "" {
		return &DivergedError{Step: t.st.Step + 1, Loss: bad}
	}
	for _, c := range ug.components {
		t.st.LogSums[c.key] += scalarValue(ug.exec.value(c.node))
	}
	if err := ug.gradients(); err != nil {
		return err
	}
	scale := 1.0
	if t.cfg.ClipNorm > 0 {
		if n := gradNorm(ug.grads); n > t.cfg.ClipNorm {
			scale = t.cfg.ClipNorm / n
		}
	}
	t.adam.step(ug.wrt, ug.w, ug.grads, ug.decay, lr, t.cfg.WeightDecay, scale)
	if t.zeros != nil {
		t.adam.coast(ug.idle, t.all, t.allDecay, t.zeros, lr, t.cfg.WeightDecay)
	}
	return nil
}

func (t *trainer) logStep(lr, imagesPerSec float64) {
	if t.opt.Logger != nil && t.st.LogBatches > 0 {
		losses := make(map[string]float64, len(t.st.LogSums))
		for k, v := range t.st.LogSums {
			losses[k] = v / float64(t.st.LogBatches)
		}
		t.opt.Logger.Step(StepEvent{
			Step: t.st.Step, Batch: t.st.Batches, TotalBatches: t.totalBatches, Epoch: t.st.Epoch + 1,
			LR: lr, Losses: losses, ImagesPerSec: imagesPerSec,
		})
	}
	clear(t.st.LogSums)
	t.st.LogBatches = 0
}

// evaluateEpoch evaluates the epoch just trained, when it is due, and
// reports it. The last epoch's evaluation also runs the test-time flips.
func (t *trainer) evaluateEpoch(ctx context.Context) error {
	epoch := t.st.Epoch // 1-based number of the epoch just trained
	last := epoch == t.cfg.Epochs
	if last || (t.cfg.EvalEvery > 0 && epoch%t.cfg.EvalEvery == 0) {
		flips := []data.Flip{data.NoFlip}
		if last {
			flips = append(flips, data.FlipH, data.FlipV)
		}
		metrics, err := t.evaluate(ctx, flips...)
		if err != nil {
			return err
		}
		t.st.Metrics = metrics
		if t.opt.Logger != nil {
			em := map[string]float64{}
			for k, v := range metrics {
				if isPlainAccuracy(k) {
					em[k] = v
				}
			}
			t.opt.Logger.Epoch(EpochEvent{Epoch: epoch, Step: t.st.Step, Metrics: em, Seconds: t.wallSeconds()})
		}
	}
	t.st.EvalDue = false
	return t.checkpointSoon()
}

// stop ends a run early: on cancellation it saves the position reached and
// wraps ErrInterrupted.
func (t *trainer) stop(err error) (Result, error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		cerr := t.checkpointWait()
		if cerr == nil {
			cerr = t.checkpoint()
		}
		if cerr != nil {
			return Result{}, fmt.Errorf("%w at step %d (%v); writing the checkpoint failed: %v", ErrInterrupted, t.st.Step, err, cerr)
		}
		return Result{Steps: t.st.Step}, fmt.Errorf("%w at step %d (%v)", ErrInterrupted, t.st.Step, err)
	}
	return Result{Steps: t.st.Step}, err
}

// summaries are the final numbers of a finished run.
func (t *trainer) summaries() map[string]float64 {
	s := map[string]float64{}
	for k, v := range t.st.Metrics {
		s[k] = v
	}
	if c, err := nets.ComplexityOf(t.cfg.Arch(t.ds.NumClasses()), t.cfg.TrainedHeads()); err == nil {
		s[KeyParamsInference] = float64(c.ParamsInference)
		s[KeyParamsExtra] = float64(c.ParamsExtra)
		s[KeyFLOPsInference] = float64(c.FLOPsInference)
		s[KeyFLOPsExtra] = float64(c.FLOPsExtra)
	}
	s[KeyTrainSeconds] = t.st.TrainSeconds
	if t.st.TrainSeconds > 0 {
		s[KeyImagesPerSec] = float64(t.st.Images) / t.st.TrainSeconds
	}
	return s
}

func (t *trainer) wallSeconds() float64 { return t.wallBefore + time.Since(t.session).Seconds() }

func (t *trainer) result() Result {
	return Result{Summaries: t.st.Final, Steps: t.st.Step}
}
