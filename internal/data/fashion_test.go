package data

import (
	"slices"
	"testing"
	"time"
)

// TestFashionMNISTReal reads Debian's dataset-fashion-mnist files when they
// are installed (CI installs them).
func TestFashionMNISTReal(t *testing.T) {
	if !FashionMNISTPresent(DefaultFashionMNISTPath) {
		t.Skipf("Fashion-MNIST is not installed in %s (apt-get install dataset-fashion-mnist)", DefaultFashionMNISTPath)
	}
	start := time.Now()
	d, err := OpenWith(t.Context(), "fashion-mnist", 32, Options{CacheDir: "off"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded in %v, fingerprint %s", time.Since(start), d.Fingerprint())
	if d.Len(Train) != 60000 || d.Len(Test) != 10000 {
		t.Fatalf("train %d test %d, want 60000 10000", d.Len(Train), d.Len(Test))
	}
	// Fashion-MNIST is balanced: 6,000 and 1,000 images per class.
	for s, want := range map[SplitKind]int{Train: 6000, Test: 1000} {
		if got := d.ClassCounts(s); slices.ContainsFunc(got, func(n int) bool { return n != want }) {
			t.Errorf("%s class counts %v, want %d each", s, got, want)
		}
	}
	if !slices.Equal(d.ClassNames(), FashionMNISTClasses) {
		t.Errorf("class names %v", d.ClassNames())
	}
	if c, h, w := d.Shape(); c != 3 || h != 32 || w != 32 {
		t.Errorf("Shape %d %d %d", c, h, w)
	}
	x, _ := d.Image(Test, 0, NoFlip)
	for i := 0; i < 32*32; i++ {
		if x[i] != x[32*32+i] || x[i] != x[2*32*32+i] {
			t.Fatal("grayscale image is not replicated to three equal channels")
		}
	}
}
