package data

import (
	"bytes"
	"math"
	"testing"
)

func TestSyntheticDeterministic(t *testing.T) {
	p := SyntheticParams{Seed: 7, Classes: 6, TrainPerClass: 3, TestPerClass: 2, Difficulty: 0.5, Side: 36}
	g1, g2 := newGenerator(p), newGenerator(p)
	for c := 0; c < p.Classes; c++ {
		for i := 0; i < 3; i++ {
			a, b := g1.render(Train, c, i), g2.render(Train, c, i)
			if !bytes.Equal(a.Pix, b.Pix) {
				t.Fatalf("class %d image %d differs between two generators", c, i)
			}
		}
	}
	// Different split, index or seed: different image.
	base := g1.render(Train, 0, 0).Pix
	for name, other := range map[string][]uint8{
		"split": g1.render(Test, 0, 0).Pix,
		"index": g1.render(Train, 0, 1).Pix,
		"seed":  newGenerator(SyntheticParams{Seed: 8, Classes: 6, Difficulty: 0.5, Side: 36}).render(Train, 0, 0).Pix,
	} {
		if bytes.Equal(base, other) {
			t.Errorf("changing the %s gives the same image", name)
		}
	}
}

func TestSyntheticOpen(t *testing.T) {
	d, err := Open("synthetic:classes=5,train=8,test=4,seed=3", 32)
	if err != nil {
		t.Fatal(err)
	}
	if d.NumClasses() != 5 || d.Len(Train) != 40 || d.Len(Test) != 20 {
		t.Fatalf("classes %d train %d test %d, want 5 40 20", d.NumClasses(), d.Len(Train), d.Len(Test))
	}
	if c, h, w := d.Shape(); c != 3 || h != 32 || w != 32 {
		t.Fatalf("Shape = %d %d %d", c, h, w)
	}
	for _, n := range d.ClassCounts(Train) {
		if n != 8 {
			t.Fatalf("ClassCounts(Train) = %v", d.ClassCounts(Train))
		}
	}
	seen := map[string]bool{}
	for _, n := range d.ClassNames() {
		if n == "" || seen[n] {
			t.Fatalf("class names not distinct and non-empty: %v", d.ClassNames())
		}
		seen[n] = true
	}
	// Generating again in another order of goroutines gives the same data
	// (Open memoises, so compare with a direct render).
	g := newGenerator(syntheticParams(d.parsed, d.stored))
	for _, i := range []int{0, 7, 39} {
		want := g.render(Train, d.Label(Train, i), i/5)
		if !bytes.Equal(want.Pix, d.splits[Train].pics[i].Pix) {
			t.Fatalf("train image %d differs from a direct render", i)
		}
	}

	// Fingerprints: stable, and different for different parameters.
	fp := d.Fingerprint()
	if len(fp) != 16 {
		t.Fatalf("fingerprint %q", fp)
	}
	same, err := Open("synthetic:seed=3,train=8,test=4,classes=5", 32)
	if err != nil {
		t.Fatal(err)
	}
	if same.Fingerprint() != fp || same.Spec() != "synthetic:seed=3,train=8,test=4,classes=5" {
		t.Errorf("same parameters in another order: fingerprint %s vs %s, spec %q", same.Fingerprint(), fp, same.Spec())
	}
	for _, spec := range []string{"synthetic:classes=5,train=8,test=4,seed=4", "synthetic:classes=5,train=8,test=4,seed=3,difficulty=0.2"} {
		o, err := Open(spec, 32)
		if err != nil {
			t.Fatal(err)
		}
		if o.Fingerprint() == fp {
			t.Errorf("%s has the same fingerprint as seed=3", spec)
		}
	}
	o, err := Open("synthetic:classes=5,train=8,test=4,seed=3", 24)
	if err != nil {
		t.Fatal(err)
	}
	if o.Fingerprint() == fp {
		t.Error("size 24 has the same fingerprint as size 32")
	}
}

// Every class is one part away from another class: the set is
// fine-grained by construction.
func TestSyntheticClassesAreNeighbours(t *testing.T) {
	for _, k := range []int{2, 10, 50, 200} {
		g := newGenerator(SyntheticParams{Seed: 1, Classes: k})
		if len(g.classes) != k {
			t.Fatalf("%d classes, want %d", len(g.classes), k)
		}
		for i, a := range g.classes {
			best := numAttrs
			for j, b := range g.classes {
				if i == j {
					continue
				}
				diff := 0
				for x := range a {
					if a[x] != b[x] {
						diff++
					}
				}
				if diff == 0 {
					t.Fatalf("classes %d and %d are identical", i, j)
				}
				best = min(best, diff)
			}
			if best != 1 {
				t.Errorf("%d classes: class %d (%s) is %d parts from its nearest class", k, i, a.name(), best)
			}
		}
	}
}

// The set has an up direction: the mean image is close to left-right
// symmetric (birds face both ways) but far from top-bottom symmetric.
func TestSyntheticUpDirection(t *testing.T) {
	d, err := Open("synthetic:classes=4,train=100,test=1", 32)
	if err != nil {
		t.Fatal(err)
	}
	n := d.size
	mean := make([]float64, 3*n*n)
	for i := 0; i < d.Len(Train); i++ {
		x, _ := d.Image(Train, i, NoFlip)
		for j, v := range x {
			mean[j] += float64(v) / float64(d.Len(Train))
		}
	}
	var asymH, asymV float64
	for c := 0; c < 3; c++ {
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				v := mean[(c*n+y)*n+x]
				asymH += math.Pow(v-mean[(c*n+y)*n+n-1-x], 2)
				asymV += math.Pow(v-mean[(c*n+n-1-y)*n+x], 2)
			}
		}
	}
	t.Logf("mean-image asymmetry: left-right %.3f, top-bottom %.3f", asymH, asymV)
	if asymV < 10*asymH {
		t.Errorf("top-bottom asymmetry %.3f is not well above left-right %.3f", asymV, asymH)
	}
}

func TestSdPolyOrientation(t *testing.T) {
	// A counter-clockwise unit square: inside negative, outside positive.
	sq := [][2]float64{{0, 0}, {1, 0}, {1, 1}, {0, 1}}
	for _, c := range []struct{ x, y, want float64 }{{0.5, 0.5, -0.5}, {0.9, 0.5, -0.1}, {1.5, 0.5, 0.5}, {0.5, -0.25, 0.25}} {
		if got := sdPoly(c.x, c.y, sq...); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("sdPoly(%g, %g) = %g, want %g", c.x, c.y, got, c.want)
		}
	}
}

func BenchmarkSynthetic10k(b *testing.B) {
	for b.Loop() {
		p := SyntheticParams{Seed: 1, Classes: 10, TrainPerClass: 1000, Difficulty: DefaultSyntheticDifficulty, Side: StoredSide(32)}
		g := newGenerator(p)
		pics := make([]picture, 10000)
		if err := parallel(b.Context(), len(pics), func(i int) { pics[i] = g.render(Train, i%10, i/10) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/10k-images")
}
