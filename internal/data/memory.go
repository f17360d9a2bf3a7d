package data

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// FallbackMemoryBytes is the memory assumed when the machine's cannot be
// read (no /proc/meminfo): 16 GiB.
const FallbackMemoryBytes = 16 << 30

// pictureOverhead is what Open keeps per image besides its pixels: the
// picture header and the label.
const pictureOverhead = 64

// OpenError is an error about one data set from Open, OpenWith or
// CheckMemory. Its message starts "data set SPEC: " exactly once, so a
// caller that wraps it need not name the data set again (errors.As tells).
type OpenError struct {
	Spec string
	Err  error
}

func (e *OpenError) Error() string { return "data set " + e.Spec + ": " + e.Err.Error() }

// Unwrap gives errors.Is/As access to the cause.
func (e *OpenError) Unwrap() error { return e.Err }

// openError wraps err as an *OpenError for spec unless it already is one.
func openError(spec string, err error) error {
	var oe *OpenError
	if err == nil || errors.As(err, &oe) {
		return err
	}
	return &OpenError{Spec: spec, Err: err}
}

// storedImageBytes estimates what n images of c channels held at stored
// side take: the square (a file image's longer side adds to it) plus the
// per-image bookkeeping.
func storedImageBytes(n, c, stored int) int64 {
	return int64(n) * (int64(c)*int64(stored)*int64(stored) + pictureOverhead)
}

// EstimateMemory returns the memory (bytes) the images of a data set take
// once opened at network input side size, when the spec alone tells: for
// synthetic specs, classes × (train + test) × 3 × StoredSide(size)² plus
// bookkeeping. For the kinds read from files it returns 0 (Open estimates
// them after listing the files).
func EstimateMemory(spec string, size int) (int64, error) {
	return estimateMemory(spec, StoredSide(size))
}

func estimateMemory(spec string, side int) (int64, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return 0, err
	}
	if sp.Kind != KindSynthetic {
		return 0, nil
	}
	p := syntheticParams(sp, side)
	return storedImageBytes(p.Classes*(p.TrainPerClass+p.TestPerClass), 3, p.Side), nil
}

// CheckMemory fails, with an *OpenError naming the options to lower, when
// EstimateMemory of a spec exceeds the machine's memory (MachineMemory).
// Specs whose size needs their files pass; Open checks them after listing.
func CheckMemory(spec string, size int) error {
	return checkMemorySide(spec, size, StoredSide(size))
}

func checkMemorySide(spec string, size, side int) error {
	need, err := estimateMemory(spec, side)
	if err != nil || need == 0 {
		return err
	}
	return openError(spec, checkFits(need, size, KindSynthetic, true))
}

// checkFits compares need with the machine's memory; exact says need is
// the estimate itself rather than a lower bound.
func checkFits(need int64, size int, kind string, exact bool) error {
	have, what := MachineMemory()
	if need <= have {
		return nil
	}
	fix := "set train_per_class= / test_per_class= or a smaller image size"
	if kind == KindSynthetic {
		fix = "lower train= / test= / classes="
	}
	about := "~"
	if !exact {
		about = "at least ~"
	}
	return fmt.Errorf("needs %s%s of memory for its images at %d px, this machine has %s%s: %s",
		about, fmtBytes(need), size, fmtBytes(have), what, fix)
}

// MachineMemory returns the memory a data set may take, in bytes, and how
// it was found, for messages: MemAvailable (else MemTotal) of
// /proc/meminfo, lowered to a cgroup v2 memory.max when one is set; when
// neither can be read, FallbackMemoryBytes.
func MachineMemory() (int64, string) {
	have, what := int64(0), ""
	if info, err := readMeminfo("/proc/meminfo"); err == nil {
		if v, ok := info["MemAvailable"]; ok {
			have, what = v, " available"
		} else if v, ok := info["MemTotal"]; ok {
			have, what = v, " in all"
		}
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 && (have == 0 || v < have) {
			have, what = v, " (cgroup memory.max)"
		}
	}
	if have == 0 {
		return FallbackMemoryBytes, " (assumed: /proc/meminfo unreadable)"
	}
	return have, what
}

// readMeminfo reads the "Key: N kB" lines of a meminfo file, in bytes.
func readMeminfo(path string) (map[string]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			n <<= 10
		}
		out[k] = n
	}
	return out, sc.Err()
}

// fmtBytes writes a byte count for messages: "158 GB", "3.2 GB", "640 MB".
func fmtBytes(n int64) string {
	const gb, mb = 1e9, 1e6
	switch {
	case n >= 100*gb:
		return fmt.Sprintf("%.0f GB", float64(n)/gb)
	case n >= gb:
		return fmt.Sprintf("%.1f GB", float64(n)/gb)
	}
	return fmt.Sprintf("%.0f MB", float64(n)/mb)
}
