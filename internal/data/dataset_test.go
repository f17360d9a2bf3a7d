package data

import (
	"path/filepath"
	"sync"
	"testing"
)

// Open loads a spec once per process, also when asked concurrently, and
// does not remember failures.
func TestOpenMemo(t *testing.T) {
	const spec = "synthetic:classes=3,train=5,test=2,seed=99"
	var wg sync.WaitGroup
	got := make([]*Dataset, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := Open(spec, 32)
			if err != nil {
				t.Error(err)
			}
			got[i] = d
		}()
	}
	wg.Wait()
	for _, d := range got[1:] {
		if d != got[0] {
			t.Fatal("concurrent Opens of one spec loaded it more than once")
		}
	}
	// Another spelling of the same data set shares the data but keeps
	// the caller's spelling.
	other, err := Open("synthetic:seed=99,test=2,train=5,classes=3", 32)
	if err != nil {
		t.Fatal(err)
	}
	if other.Spec() != "synthetic:seed=99,test=2,train=5,classes=3" || &other.splits[Train].pics[0] != &got[0].splits[Train].pics[0] {
		t.Error("another spelling did not share the loaded data or lost its spelling")
	}

	dir := t.TempDir()
	missing := filepath.Join(dir, "later")
	if _, err := Open("imagefolder:"+missing, 32); err == nil {
		t.Fatal("opening a missing root succeeded")
	}
	folderFixture(t, missing)
	t.Setenv(EnvCacheDir, "off")
	if _, err := Open("imagefolder:"+missing, 32); err != nil {
		t.Fatalf("the failure was remembered: %v", err)
	}
}
