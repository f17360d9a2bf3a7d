package data

import (
	"context"
	"errors"
	"math"
	"runtime"
	"slices"
	"testing"
	"time"
)

func smallSet(t testing.TB) *Dataset {
	t.Helper()
	d, err := Open("synthetic:classes=4,train=25,test=6,seed=11", 32)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// collect runs one pass and copies every batch.
func collect(t *testing.T, d *Dataset, o IterOptions) []Batch {
	t.Helper()
	it := d.Batches(context.Background(), o)
	defer it.Close()
	var out []Batch
	for it.Next() {
		b := it.Batch()
		out = append(out, Batch{X: slices.Clone(b.X), Y: slices.Clone(b.Y), N: b.N, Index: slices.Clone(b.Index), Pos: b.Pos})
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestIteratorCoversSplit(t *testing.T) {
	d := smallSet(t)
	tests := []struct {
		name      string
		o         IterOptions
		batches   int
		lastN     int
		wantOrder bool // indices in split order
	}{
		{"train shuffled", IterOptions{Split: Train, BatchSize: 32, Shuffle: true, Augment: true, Seed: 1}, 4, 4, false},
		{"train drop last", IterOptions{Split: Train, BatchSize: 32, Shuffle: true, DropLast: true}, 3, 32, false},
		{"test in order", IterOptions{Split: Test, BatchSize: 10}, 3, 4, true},
		{"one batch", IterOptions{Split: Test, BatchSize: 100}, 1, 24, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := collect(t, d, tt.o)
			if len(bs) != tt.batches || len(bs) != d.NumBatches(tt.o.Split, tt.o.BatchSize, tt.o.DropLast) {
				t.Fatalf("%d batches, want %d", len(bs), tt.batches)
			}
			if bs[len(bs)-1].N != tt.lastN {
				t.Fatalf("last batch has %d images, want %d", bs[len(bs)-1].N, tt.lastN)
			}
			var idx []int
			for p, b := range bs {
				if b.Pos != p || len(b.X) != b.N*3*32*32 || len(b.Y) != b.N || len(b.Index) != b.N {
					t.Fatalf("batch %d: pos %d, len X %d Y %d Index %d for N %d", p, b.Pos, len(b.X), len(b.Y), len(b.Index), b.N)
				}
				for k, i := range b.Index {
					if b.Y[k] != d.Label(tt.o.Split, i) {
						t.Fatalf("batch %d image %d: label %d, split says %d", p, k, b.Y[k], d.Label(tt.o.Split, i))
					}
				}
				idx = append(idx, b.Index...)
			}
			if tt.wantOrder && !slices.IsSorted(idx) {
				t.Errorf("unshuffled pass is not in split order: %v", idx)
			}
			if !tt.wantOrder && slices.IsSorted(idx) {
				t.Errorf("shuffled pass is in split order")
			}
			slices.Sort(idx)
			idx = slices.Compact(idx)
			if want := len(bs[0].Y)*(len(bs)-1) + tt.lastN; len(idx) != want {
				t.Errorf("%d distinct images, want %d (an image repeated or missing)", len(idx), want)
			}
		})
	}
}

// The same seed and epoch give the same batches whatever the number of
// workers; resuming at a batch gives the rest of the same pass.
func TestIteratorDeterministic(t *testing.T) {
	d := smallSet(t)
	o := IterOptions{Split: Train, BatchSize: 8, Shuffle: true, Augment: true, Seed: 5, Epoch: 2, Workers: 1}
	ref := collect(t, d, o)
	o.Workers = 4
	if got := collect(t, d, o); !sameBatches(got, ref) {
		t.Fatal("4 workers give other batches than 1 worker")
	}
	o.StartBatch = 5
	got := collect(t, d, o)
	if len(got) != len(ref)-5 || !sameBatches(got, ref[5:]) {
		t.Fatal("resuming at batch 5 does not give the rest of the pass")
	}
	o.StartBatch = 0
	o.Epoch = 3
	if sameBatches(collect(t, d, o), ref) {
		t.Fatal("another epoch gives the same batches")
	}
	o.Epoch, o.Seed = 2, 6
	if sameBatches(collect(t, d, o), ref) {
		t.Fatal("another seed gives the same batches")
	}
}

func sameBatches(a, b []Batch) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].N != b[i].N || !slices.Equal(a[i].X, b[i].X) || !slices.Equal(a[i].Index, b[i].Index) || a[i].Pos != b[i].Pos {
			return false
		}
	}
	return true
}

// Without augmentation a batch holds exactly what Image returns; flips
// mirror it; augmentation changes pixels but not labels.
func TestIteratorPreprocessing(t *testing.T) {
	d := smallSet(t)
	const n = 32
	per := 3 * n * n
	for _, f := range []Flip{NoFlip, FlipH, FlipV} {
		bs := collect(t, d, IterOptions{Split: Test, BatchSize: 24, Flip: f})
		for k, i := range bs[0].Index {
			want, label := d.Image(Test, i, f)
			if !slices.Equal(bs[0].X[k*per:(k+1)*per], want) || label != bs[0].Y[k] {
				t.Fatalf("flip %v: batch image %d differs from Image(Test, %d)", f, k, i)
			}
		}
	}
	plain, _ := d.Image(Test, 3, NoFlip)
	h, _ := d.Image(Test, 3, FlipH)
	v, _ := d.Image(Test, 3, FlipV)
	for c := 0; c < 3; c++ {
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				p := plain[(c*n+y)*n+x]
				if h[(c*n+y)*n+n-1-x] != p || v[(c*n+n-1-y)*n+x] != p {
					t.Fatalf("flips are not mirrors at c=%d y=%d x=%d", c, y, x)
				}
			}
		}
	}
	aug := collect(t, d, IterOptions{Split: Test, BatchSize: 24, Augment: true, Seed: 1})
	base := collect(t, d, IterOptions{Split: Test, BatchSize: 24})
	if slices.Equal(aug[0].X, base[0].X) {
		t.Error("augmentation changed nothing")
	}
	if !slices.Equal(aug[0].Y, base[0].Y) {
		t.Error("augmentation changed labels")
	}
}

// Normalised training batches have about zero mean and unit variance per
// channel.
func TestNormalisation(t *testing.T) {
	d := smallSet(t)
	bs := collect(t, d, IterOptions{Split: Train, BatchSize: 100})
	const hw = 32 * 32
	for c := 0; c < 3; c++ {
		var s, sq, n float64
		for k := 0; k < bs[0].N; k++ {
			for _, v := range bs[0].X[(k*3+c)*hw : (k*3+c+1)*hw] {
				s += float64(v)
				sq += float64(v) * float64(v)
				n++
			}
		}
		mean := s / n
		std := math.Sqrt(sq/n - mean*mean)
		if math.Abs(mean) > 0.1 || math.Abs(std-1) > 0.1 {
			t.Errorf("channel %d: mean %.3f std %.3f, want about 0 and 1", c, mean, std)
		}
	}
	m, s := d.Norm()
	for c := 0; c < 3; c++ {
		if !(m[c] > 0 && m[c] < 1 && s[c] > 0.01 && s[c] < 1) {
			t.Errorf("Norm channel %d = %g, %g", c, m[c], s[c])
		}
	}
}

func TestIteratorCancelAndClose(t *testing.T) {
	d := smallSet(t)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	it := d.Batches(ctx, IterOptions{Split: Train, BatchSize: 4, Workers: 3})
	if !it.Next() {
		t.Fatal("no first batch")
	}
	cancel()
	for it.Next() {
	}
	if !errors.Is(it.Err(), context.Canceled) {
		t.Errorf("Err after cancel = %v, want context.Canceled", it.Err())
	}
	it.Close()
	it.Close() // twice is fine

	// Closing early without draining stops the goroutines.
	it = d.Batches(context.Background(), IterOptions{Split: Train, BatchSize: 1, Workers: 3})
	it.Next()
	it.Close()
	if it.Next() {
		t.Error("Next after Close returned true")
	}
	if it.Err() != nil {
		t.Errorf("Err after Close = %v, want nil", it.Err())
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before {
		t.Errorf("%d goroutines after Close, %d before", g, before)
	}
}

// BenchmarkIterator measures the batches the trainer gets per second at
// batch 32 with augmentation (the trainer consumes about 300-500 images/s).
func BenchmarkIterator(b *testing.B) {
	d, err := Open("synthetic", 32)
	if err != nil {
		b.Fatal(err)
	}
	o := IterOptions{Split: Train, BatchSize: 32, Shuffle: true, Augment: true, DropLast: true}
	batches, images := 0, 0
	b.ResetTimer()
	for b.Loop() {
		it := d.Batches(context.Background(), o)
		for it.Next() {
			bt := it.Batch()
			batches++
			images += bt.N
		}
		it.Close()
		o.Epoch++
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(batches)/s, "batches/s")
	b.ReportMetric(float64(images)/s, "images/s")
}
