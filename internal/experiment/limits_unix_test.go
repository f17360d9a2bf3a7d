//go:build unix

package experiment

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadFIFO: opening a FIFO without a writer would block; it is refused
// at once.
func TestLoadFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "spec.toml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	err := loadWithin(t, fifo, 5*time.Second)
	if want := fifo + ": a named pipe (FIFO), not a regular file"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("FIFO:\n got %v\nwant %s...", err, want)
	}
}
