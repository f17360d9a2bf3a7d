package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// IDX is an array read from an IDX file (the MNIST / Fashion-MNIST
// format): a big-endian header with the element type and the dimensions,
// then the elements. Only unsigned bytes (type 0x08) are supported, which
// is what image and label files use.
type IDX struct {
	Dims []int
	Data []byte // row-major, len = product of Dims
}

// maxIDXElements bounds the array size an IDX header may declare (1 Gi
// elements; Fashion-MNIST's largest file has 47 M).
const maxIDXElements = 1 << 30

// maxDeflateRatio is the most deflate can expand its input (about 1032:1):
// a gzip'd IDX file of n bytes holds at most n × maxDeflateRatio bytes.
const maxDeflateRatio = 1032

// ReadIDX reads one IDX array from r, gzip-compressed or not (detected
// from the first bytes). It checks that exactly the declared number of
// bytes follows the header.
func ReadIDX(r io.Reader) (*IDX, error) { return readIDX(r, -1) }

// readIDX is ReadIDX for a file of fileSize bytes (-1: unknown): a header
// that declares more data than the file can hold is refused before any of
// it is read or allocated.
func readIDX(r io.Reader, fileSize int64) (*IDX, error) {
	br := bufio.NewReader(r)
	gzipped := false
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		gzipped = true
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		zr.Multistream(false)
		br = bufio.NewReader(zr)
	}
	var magic [4]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil {
		return nil, fmt.Errorf("IDX header: %w", eofToUnexpected(err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("not an IDX file: magic %x should start with two zero bytes", magic)
	}
	if magic[2] != 0x08 {
		return nil, fmt.Errorf("IDX element type 0x%02x is not supported (only 0x08, unsigned bytes)", magic[2])
	}
	nd := int(magic[3])
	if nd < 1 || nd > 4 {
		return nil, fmt.Errorf("IDX file has %d dimensions; want 1 to 4", nd)
	}
	x := &IDX{Dims: make([]int, nd)}
	total := 1
	for i := range x.Dims {
		var b [4]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return nil, fmt.Errorf("IDX header, dimension %d: %w", i, eofToUnexpected(err))
		}
		v := binary.BigEndian.Uint32(b[:])
		if v == 0 || v > maxIDXElements || uint64(total)*uint64(v) > maxIDXElements {
			return nil, fmt.Errorf("IDX dimension %d is %d: an empty or too large array (at most %d elements)", i, v, maxIDXElements)
		}
		x.Dims[i] = int(v)
		total *= int(v)
	}
	if fileSize >= 0 {
		room := fileSize - int64(4+4*nd) // what follows the header
		if gzipped {
			room = fileSize * maxDeflateRatio
		}
		if int64(total) > room {
			return nil, fmt.Errorf("IDX header %v promises %d bytes of data, more than the %d-byte file can hold", x.Dims, total, fileSize)
		}
	}
	// Read what is there, not what the header promises, before allocating.
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, br, int64(total))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("IDX data: %w", err)
	}
	if n < int64(total) {
		return nil, fmt.Errorf("IDX data is truncated: the header %v promises %d bytes, the file has %d", x.Dims, total, n)
	}
	if extra, _ := br.Read(make([]byte, 1)); extra > 0 {
		return nil, fmt.Errorf("IDX file has bytes after the %d the header %v promises", total, x.Dims)
	}
	x.Data = buf.Bytes()
	return x, nil
}

func eofToUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// FashionMNISTClasses are the Fashion-MNIST class names, by label.
var FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// fashionFiles are the file names of the two splits, without ".gz".
var fashionFiles = [2][2]string{
	{"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
	{"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"},
}

// FashionMNISTPresent reports whether dir holds the four Fashion-MNIST
// IDX files (gzip'd or not).
func FashionMNISTPresent(dir string) bool {
	for _, s := range fashionFiles {
		for _, f := range s {
			if _, err := findIDX(dir, f); err != nil {
				return false
			}
		}
	}
	return true
}

// findIDX returns the path of base or base.gz in dir.
func findIDX(dir, base string) (string, error) {
	for _, name := range []string{base + ".gz", base} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("missing %s (or %s.gz) in %s", base, base, dir)
}

// readIDXFile reads an IDX file, hashing its decompressed content.
func readIDXFile(path string, h io.Writer) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	x, err := readIDX(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, d := range x.Dims {
		binary.Write(h, binary.BigEndian, uint32(d))
	}
	h.Write(x.Data)
	return x, nil
}

// loadFashionMNIST reads the four IDX files: 28x28 grayscale images are
// resized to the stored side and kept as one channel (replicated to three
// when batched); the official 60,000 / 10,000 split is kept.
func (d *Dataset) loadFashionMNIST(ctx context.Context) error {
	dir := d.parsed.Path
	if fi, err := os.Stat(dir); err != nil {
		hint := ""
		if dir == DefaultFashionMNISTPath && errors.Is(err, fs.ErrNotExist) {
			hint = " (install Debian's dataset-fashion-mnist package, or give fashion-mnist:PATH)"
		}
		return fmt.Errorf("root %s: %w%s", dir, unwrapPathErr(err), hint)
	} else if !fi.IsDir() {
		return fmt.Errorf("root %s is not a directory", dir)
	}
	d.classes = append([]string(nil), FashionMNISTClasses...)
	d.source = "Fashion-MNIST IDX files in " + dir
	content := sha256.New()
	caps := d.parsed.caps()
	for s, names := range fashionFiles {
		ip, err := findIDX(dir, names[0])
		if err != nil {
			return err
		}
		lp, err := findIDX(dir, names[1])
		if err != nil {
			return err
		}
		imgs, err := readIDXFile(ip, content)
		if err != nil {
			return err
		}
		labs, err := readIDXFile(lp, content)
		if err != nil {
			return err
		}
		if len(imgs.Dims) != 3 {
			return fmt.Errorf("%s: want a 3-dimensional array (images x rows x columns), got dimensions %v", ip, imgs.Dims)
		}
		if len(labs.Dims) != 1 {
			return fmt.Errorf("%s: want a 1-dimensional array of labels, got dimensions %v", lp, labs.Dims)
		}
		n, h, w := imgs.Dims[0], imgs.Dims[1], imgs.Dims[2]
		if labs.Dims[0] != n {
			return fmt.Errorf("%s has %d images but %s has %d labels", ip, n, lp, labs.Dims[0])
		}
		var keep []int
		count := make([]int, len(d.classes))
		for i, l := range labs.Data {
			if int(l) >= len(d.classes) {
				return fmt.Errorf("%s: label %d of image %d out of range [0, %d)", lp, l, i, len(d.classes))
			}
			if caps[s] > 0 && count[l] >= caps[s] {
				continue
			}
			count[l]++
			keep = append(keep, i)
		}
		if caps[s] > 0 {
			d.notes = append(d.notes, capNote(SplitKind(s), caps[s], n-len(keep)))
		}
		sp := split{pics: make([]picture, len(keep)), labels: make([]int, len(keep))}
		side := d.stored
		if err := parallel(ctx, len(keep), func(k int) {
			i := keep[k]
			src := picture{W: w, H: h, C: 1, Pix: imgs.Data[i*h*w : (i+1)*h*w]}
			sp.pics[k] = resizeShorter(src, side)
			sp.labels[k] = int(labs.Data[i])
		}); err != nil {
			return err
		}
		d.splits[s] = sp
	}
	fp := newFingerprint(d.parsed, d.size, "idx content "+hex.EncodeToString(content.Sum(nil)))
	for s := range d.splits {
		for _, l := range d.splits[s].labels {
			fp.entry(SplitKind(s), l, "")
		}
	}
	d.fingerprint = fp.sum()
	return nil
}
