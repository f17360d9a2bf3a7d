package data

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func openErr(t *testing.T, spec string, size int) error {
	t.Helper()
	start := time.Now()
	_, err := OpenWith(context.Background(), spec, size, Options{CacheDir: "off"})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing %s took %v", spec, d)
	}
	if err == nil {
		t.Fatalf("%s opened", spec)
	}
	return err
}

// TestListLineLimit: a line of MaxListLine bytes is read, one byte more is
// an error naming the file and the line, whatever the end of line.
func TestListLineLimit(t *testing.T) {
	ok := strings.Repeat("a", MaxListLine)
	long := ok + "a"
	for _, tc := range []struct {
		text string
		want string // "" = no error
	}{
		{"1 x\n" + ok + "\n2 y\n", ""},
		{"1 x\r\n" + ok + "\r\n", ""},
		{ok, ""},
		{"1 x\n" + long + "\n", "f.txt:line 2: longer than 65536 bytes"},
		{"1 x\n\n" + long + "\r\n", "f.txt:line 3: longer than 65536 bytes"},
		{long, "f.txt:line 1: longer than 65536 bytes"},
		{"1 x\n" + strings.Repeat("b", 10<<20) + "\n", "f.txt:line 2: longer than 65536 bytes"},
	} {
		err := scanLines(strings.NewReader(tc.text), "f.txt", func(int, string) error { return nil })
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
			t.Errorf("%d bytes: got %v, want %q", len(tc.text), err, tc.want)
		}
	}
}

// TestLongListLinesInDataSets: a CUB images.txt line over 64 KiB used to
// give "bufio.Scanner: token too long"; every list file of CUB and
// Stanford Dogs now names itself and the line.
func TestLongListLinesInDataSets(t *testing.T) {
	long := strings.Repeat("x", 70000)
	for _, file := range []string{"images.txt", "image_class_labels.txt", "train_test_split.txt", "classes.txt"} {
		dir := t.TempDir()
		replaceLine(t, filepath.Join(cubFixture(t, dir), file), 2, "2 "+long)
		err := openErr(t, "cub:"+dir, 32)
		want := fmt.Sprintf("data set cub:%s: %s:line 2: longer than 65536 bytes", dir, filepath.Join(dir, file))
		if err.Error() != want {
			t.Errorf("%s:\n got %v\nwant %s", file, err, want)
		}
	}
	dir := t.TempDir()
	dogsFixture(t, dir)
	appendFile(t, filepath.Join(dir, "lists", "train_list.txt"), long+"/a.jpg 1\n")
	if err := openErr(t, "dogs:"+dir, 32); !strings.Contains(err.Error(), "train_list.txt:line ") || !strings.HasSuffix(err.Error(), ": longer than 65536 bytes") {
		t.Errorf("dogs: %v", err)
	}
}

// TestIDXHeaderAgainstFileSize: a header that promises more data than the
// file can hold is refused before reading or allocating any of it.
func TestIDXHeaderAgainstFileSize(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain-idx3-ubyte")
	writeFile(t, plain, string(idxBytes([]int{60000, 28, 28}, make([]byte, 100))))
	gz := filepath.Join(dir, "gz-idx3-ubyte.gz")
	gzData := gzipBytes(idxBytes([]int{1 << 10, 1 << 10, 1 << 10}, make([]byte, 64)))
	writeFile(t, gz, string(gzData))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, errPlain := readIDXFile(plain, discard{})
	_, errGz := readIDXFile(gz, discard{})
	runtime.ReadMemStats(&after)
	if want := plain + ": IDX header [60000 28 28] promises 47040000 bytes of data, more than the 116-byte file can hold"; errPlain == nil || errPlain.Error() != want {
		t.Errorf("plain:\n got %v\nwant %s", errPlain, want)
	}
	if want := fmt.Sprintf("%s: IDX header [1024 1024 1024] promises 1073741824 bytes of data, more than the %d-byte file can hold", gz, len(gzData)); errGz == nil || errGz.Error() != want {
		t.Errorf("gzip:\n got %v\nwant %s", errGz, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("refusing the headers allocated %d bytes", alloc)
	}
	// A header that matches its file is read as before.
	good := filepath.Join(dir, "good-idx1-ubyte")
	writeFile(t, good, string(idxBytes([]int{3}, []byte{1, 2, 3})))
	if x, err := readIDXFile(good, discard{}); err != nil || len(x.Data) != 3 {
		t.Errorf("good file: %v", err)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := readIDXFile("/dev/zero", discard{}); err == nil || err.Error() != "/dev/zero: not a regular file" {
			t.Errorf("/dev/zero: %v", err)
		}
	}
}

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// TestSyntheticMemoryEstimate: the estimate is the stored pixels plus the
// bookkeeping per image; the profiles' sets are small, and a set that
// cannot fit is refused before any image is generated, naming the options.
func TestSyntheticMemoryEstimate(t *testing.T) {
	huge := "synthetic:classes=200,train=100000,test=100000"
	need, err := EstimateMemory(huge, 32)
	if want := int64(200*200000) * (3*36*36 + pictureOverhead); err != nil || need != want {
		t.Fatalf("estimate %d, %v; want %d", need, err, want)
	}
	for _, small := range []string{"synthetic:classes=4,train=8,test=8", "synthetic:classes=20,train=500,test=100", "synthetic"} {
		if err := CheckMemory(small, 32); err != nil {
			t.Errorf("%s: %v", small, err)
		}
	}
	if n, err := EstimateMemory("cub:/data/CUB_200_2011", 32); n != 0 || err != nil {
		t.Errorf("a file-backed set is estimated after listing, got %d, %v", n, err)
	}
	if have, _ := MachineMemory(); have >= need {
		t.Skipf("this machine has %d bytes, enough for %s", have, huge)
	}
	err = openErr(t, huge, 32)
	var oe *OpenError
	if !errors.As(err, &oe) || !strings.HasPrefix(err.Error(), "data set "+huge+": needs ~158 GB of memory for its images at 32 px, this machine has ") ||
		!strings.HasSuffix(err.Error(), ": lower train= / test= / classes=") {
		t.Errorf("got %v", err)
	}
	if n := strings.Count(err.Error(), "data set "); n != 1 {
		t.Errorf("data set named %d times: %v", n, err)
	}
}

// TestListingMemoryEstimate: a file-backed set is checked after listing,
// before any image is decoded (the listed images need not even exist).
func TestListingMemoryEstimate(t *testing.T) {
	const size = 1024
	have, _ := MachineMemory()
	// A quarter more than fits: available memory moves while the test runs.
	n := int(have/storedImageBytes(1, 3, StoredSide(size)))*5/4 + 2
	if n > 2_000_000 {
		t.Skipf("this machine has %d bytes; the listing would need %d lines", have, n)
	}
	dir := t.TempDir()
	var images, labels, split strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&images, "%d %03d.B/%d.jpg\n", i, i%2+1, i)
		fmt.Fprintf(&labels, "%d %d\n", i, i%2+1)
		fmt.Fprintf(&split, "%d %d\n", i, i%3/2)
	}
	writeFile(t, filepath.Join(dir, "images.txt"), images.String())
	writeFile(t, filepath.Join(dir, "image_class_labels.txt"), labels.String())
	writeFile(t, filepath.Join(dir, "train_test_split.txt"), split.String())
	err := openErr(t, "cub:"+dir, size)
	if !strings.HasPrefix(err.Error(), "data set cub:"+dir+": needs at least ~") ||
		!strings.HasSuffix(err.Error(), ": set train_per_class= / test_per_class= or a smaller image size") {
		t.Errorf("got %v", err)
	}
}

// TestDataSetNamedOnce: errors of OpenWith name the data set once, also
// when the cause was already an *OpenError.
func TestDataSetNamedOnce(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	for _, spec := range []string{"cub:" + missing, "fashion-mnist:" + missing} {
		err := openErr(t, spec, 32)
		if n := strings.Count(err.Error(), "data set "); n != 1 {
			t.Errorf("data set named %d times: %v", n, err)
		}
	}
	if err := openErr(t, "synthetic", 4); err.Error() != "data set synthetic: image size 4 out of range [8, 1024]" {
		t.Errorf("size: %v", err)
	}
}
