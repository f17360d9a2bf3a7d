package data

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
)

// Detect recognises every layout by its files, and Summarize counts what
// Open loads, without decoding.
func TestDetectAndSummarize(t *testing.T) {
	dir := t.TempDir()
	cubFixture(t, filepath.Join(dir, "CUB_200_2011"))
	nabirdsFixture(t, filepath.Join(dir, "nabirds"))
	dogsFixture(t, filepath.Join(dir, "stanford-dogs"))
	fashionFixture(t, filepath.Join(dir, "fmnist"), 20, 10)
	folderFixture(t, filepath.Join(dir, "mine"))
	writeFile(t, filepath.Join(dir, "notes", "readme.txt"), "not a data set")
	t.Setenv(EnvDataDir, dir)

	specs := Detect()
	want := []string{
		"cub:" + filepath.Join(dir, "CUB_200_2011"),
		"dogs:" + filepath.Join(dir, "stanford-dogs"),
		"fashion-mnist:" + filepath.Join(dir, "fmnist"),
		"imagefolder:" + filepath.Join(dir, "mine"),
		"nabirds:" + filepath.Join(dir, "nabirds"),
	}
	if specs[0] != "synthetic" {
		t.Errorf("Detect()[0] = %q, want synthetic", specs[0])
	}
	for _, w := range want {
		if !slices.Contains(specs, w) {
			t.Errorf("Detect() = %q lacks %q", specs, w)
		}
	}
	for _, spec := range append(want, "synthetic:classes=4,train=7,test=3", want[3]+",train_per_class=2") {
		s, err := Summarize(spec)
		if err != nil {
			t.Fatalf("Summarize(%s): %v", spec, err)
		}
		d, err := OpenWith(context.Background(), spec, 32, Options{CacheDir: "off"})
		if err != nil {
			t.Fatal(err)
		}
		if s.Classes != d.NumClasses() || s.Train != d.Len(Train) || s.Test != d.Len(Test) || s.Source != d.Source() {
			t.Errorf("%s: Summarize %+v, Open has %d classes %d train %d test from %q", spec, s, d.NumClasses(), d.Len(Train), d.Len(Test), d.Source())
		}
	}
	if _, err := Summarize("cub:" + filepath.Join(dir, "nope")); err == nil {
		t.Error("Summarize of a missing root succeeded")
	}
}
