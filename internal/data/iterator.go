package data

import (
	"context"
	"math/rand/v2"
	"runtime"
)

// IterOptions configure one pass (epoch) over a split.
type IterOptions struct {
	Split     SplitKind
	BatchSize int
	// Seed and Epoch fix the shuffle order and the augmentation: the same
	// (Seed, Epoch) gives the same batches whatever the goroutine timing.
	Seed    int64
	Epoch   int
	Shuffle bool
	// Augment applies a random crop (size x size out of the stored image)
	// and a random horizontal flip (training). Without it every image is
	// centre-cropped (test).
	Augment bool
	// Flip is a deterministic test-time flip applied to every image, after
	// the crop (and after the random flip, if Augment is set).
	Flip     Flip
	DropLast bool // drop a last, smaller batch
	// StartBatch skips the first StartBatch batches of this epoch (exact
	// resume): the batches that follow are the same as in a full pass.
	StartBatch int
	// Workers is the number of goroutines preparing batches; 0 means a
	// sensible default. At most 2*Workers+2 batches are prepared ahead.
	Workers int
}

// Batch is one mini-batch.
type Batch struct {
	X     []float32 // N*C*H*W, NCHW, normalised
	Y     []int     // labels in [0, NumClasses)
	N     int       // images in this batch
	Index []int     // indices of the images in the split
	Pos   int       // 0-based number of this batch in the epoch
}

// Iterator yields the batches of one epoch in order, prepared ahead on
// other goroutines. Use it as
//
//	it := d.Batches(ctx, opts)
//	defer it.Close()
//	for it.Next() {
//		b := it.Batch()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
type Iterator struct {
	cancel  context.CancelFunc
	ctx     context.Context
	parent  context.Context
	pending chan *job
	free    chan *Batch
	cur     *Batch
	err     error
	done    bool
}

type job struct {
	pos   int
	batch *Batch
	ready chan struct{}
}

// NumBatches returns the number of batches in a full pass over split s.
func (d *Dataset) NumBatches(s SplitKind, batchSize int, dropLast bool) int {
	n := d.Len(s)
	if batchSize <= 0 {
		return 0
	}
	if dropLast {
		return n / batchSize
	}
	return (n + batchSize - 1) / batchSize
}

// Order returns the order in which an epoch visits the images of a split:
// a permutation fixed by (Seed, Epoch, Split) when Shuffle is set, the
// split's order otherwise.
func (d *Dataset) Order(o IterOptions) []int {
	n := d.Len(o.Split)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if o.Shuffle {
		r := rand.New(rand.NewPCG(mix(uint64(o.Seed), 0x5f0ff1e), mix(uint64(o.Epoch), uint64(o.Split))))
		r.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	}
	return idx
}

// mix is splitmix64 of a^b-with-rotation, to derive independent streams.
func mix(a, b uint64) uint64 {
	z := a ^ (b*0x9e3779b97f4a7c15 + 0x632be59bd9b4e019)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Batches starts an iterator over one epoch of a split. The batch returned
// by Batch is valid until the next call of Next or Close: its buffers are
// reused. Close must be called (it is safe to call it twice).
func (d *Dataset) Batches(ctx context.Context, o IterOptions) *Iterator {
	if o.BatchSize <= 0 {
		o.BatchSize = 32
	}
	workers := o.Workers
	if workers <= 0 {
		workers = 1
		if runtime.GOMAXPROCS(0) > 2 {
			workers = 2
		}
	}
	depth := 2*workers + 2
	order := d.Order(o)
	nb := d.NumBatches(o.Split, o.BatchSize, o.DropLast)

	ictx, cancel := context.WithCancel(ctx)
	it := &Iterator{
		cancel:  cancel,
		ctx:     ictx,
		parent:  ctx,
		pending: make(chan *job, depth),
		free:    make(chan *Batch, depth),
	}
	per := 3 * d.size * d.size
	for i := 0; i < depth; i++ {
		it.free <- &Batch{
			X:     make([]float32, o.BatchSize*per),
			Y:     make([]int, o.BatchSize),
			Index: make([]int, o.BatchSize),
		}
	}
	work := make(chan *job, depth)
	// Dispatcher: hands out batches in order, one buffer each; the pending
	// queue keeps the order for the consumer.
	go func() {
		defer close(work)
		defer close(it.pending)
		for pos := max(0, o.StartBatch); pos < nb; pos++ {
			var b *Batch
			select {
			case b = <-it.free:
			case <-ictx.Done():
				return
			}
			j := &job{pos: pos, batch: b, ready: make(chan struct{})}
			select {
			case it.pending <- j:
			case <-ictx.Done():
				return
			}
			select {
			case work <- j:
			case <-ictx.Done():
				return
			}
		}
	}()
	for w := 0; w < workers; w++ {
		go func() {
			for j := range work {
				d.fill(j.batch, o, order, j.pos)
				close(j.ready)
			}
		}()
	}
	return it
}

// fill prepares batch pos of an epoch. Its randomness (crop, flip) comes
// from a stream fixed by (Seed, Epoch, Split, pos).
func (d *Dataset) fill(b *Batch, o IterOptions, order []int, pos int) {
	lo := pos * o.BatchSize
	hi := min(lo+o.BatchSize, len(order))
	b.N = hi - lo
	b.Pos = pos
	b.X = b.X[:cap(b.X)][:b.N*3*d.size*d.size]
	b.Y = b.Y[:cap(b.Y)][:b.N]
	b.Index = b.Index[:cap(b.Index)][:b.N]
	r := rand.New(rand.NewPCG(mix(uint64(o.Seed), uint64(o.Epoch)<<1|1), mix(uint64(pos), uint64(o.Split)+0xa09)))
	per := 3 * d.size * d.size
	sp := &d.splits[o.Split]
	for k := 0; k < b.N; k++ {
		i := order[lo+k]
		p := &sp.pics[i]
		ox, oy := (p.W-d.size)/2, (p.H-d.size)/2
		hflip := false
		if o.Augment {
			ox, oy = r.IntN(p.W-d.size+1), r.IntN(p.H-d.size+1)
			hflip = r.IntN(2) == 1
		}
		if o.Flip == FlipH {
			hflip = !hflip
		}
		d.render(b.X[k*per:(k+1)*per], p, ox, oy, hflip, o.Flip == FlipV)
		b.Y[k] = sp.labels[i]
		b.Index[k] = i
	}
}

// Next prepares the next batch and reports whether there is one. It blocks
// until the batch is ready.
func (it *Iterator) Next() bool {
	if it.done {
		return false
	}
	if it.cur != nil {
		it.free <- it.cur // never blocks: there are as many slots as buffers
		it.cur = nil
	}
	var j *job
	select {
	case j = <-it.pending: // nil once the dispatcher is done
	case <-it.ctx.Done():
	}
	if j != nil {
		select {
		case <-j.ready:
			it.cur = j.batch
			return true
		case <-it.ctx.Done():
		}
	}
	it.done = true
	if err := it.parent.Err(); err != nil {
		it.err = err
	}
	it.cancel()
	return false
}

// Batch returns the current batch. It is valid until the next call of Next
// or Close.
func (it *Iterator) Batch() Batch {
	if it.cur == nil {
		return Batch{}
	}
	return *it.cur
}

// Err returns the context's error if the pass stopped because the context
// given to Batches was cancelled, nil otherwise.
func (it *Iterator) Err() error { return it.err }

// Close stops the iterator and its goroutines.
func (it *Iterator) Close() {
	it.done = true
	it.cur = nil
	it.cancel()
}
