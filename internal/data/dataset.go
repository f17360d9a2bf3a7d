package data

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"image"
	"image/color"
	"math"
	"sync"
)

// SplitKind names one of a data set's two splits.
type SplitKind int

// The splits.
const (
	Train SplitKind = iota
	Test
)

func (s SplitKind) String() string {
	switch s {
	case Train:
		return "train"
	case Test:
		return "test"
	}
	return fmt.Sprintf("split(%d)", int(s))
}

// Flip is a deterministic test-time flip (paper Table 8).
type Flip int

// The flips.
const (
	NoFlip Flip = iota
	FlipH       // mirror left-right
	FlipV       // mirror top-bottom
)

func (f Flip) String() string {
	switch f {
	case NoFlip:
		return "none"
	case FlipH:
		return "hflip"
	case FlipV:
		return "vflip"
	}
	return fmt.Sprintf("flip(%d)", int(f))
}

// picture is one stored image: 8-bit, planar (channel-major), at the
// stored resolution (shorter side = the data set's stored side). C is 1
// (grayscale, replicated to three channels when read) or 3 (RGB).
type picture struct {
	W, H, C int
	Pix     []uint8 // C*H*W
}

// split is the samples of one split, in a fixed order.
type split struct {
	pics   []picture
	labels []int
}

// Dataset is an opened data set: every image decoded, resized so that its
// shorter side is StoredSide, and held in memory as 8-bit pixels. A Dataset
// is immutable and safe for concurrent use.
type Dataset struct {
	spec        string
	parsed      Spec
	size        int // network input side
	stored      int // shorter side of the stored images
	classes     []string
	splits      [2]split
	mean, std   [3]float32
	lut         [3][256]float32 // (v - mean) / std per channel
	fingerprint string
	source      string   // human description of where the images came from
	notes       []string // what a user should know about the loading
}

// StoredSide is the shorter side images are stored at for a network input
// side of size: size + size/8 (36 for 32), leaving room for the random crop
// (training) and the centre crop (test), as in the paper's resize-then-crop
// preprocessing (Table 2).
func StoredSide(size int) int { return size + size/8 }

var (
	openMu   sync.Mutex
	openMemo = map[string]*memoEntry{}
)

// Options tune how Open loads a data set; they never change its content.
type Options struct {
	// CacheDir is the directory of the disk cache of decoded images: ""
	// means DefaultCacheDir(), "off" disables it.
	CacheDir string
	// Progress, when set, is called as images are loaded (from several
	// goroutines, so it must be safe for concurrent use).
	Progress func(done, total int)
}

// Open parses a data set spec (see Spec), loads or generates it, and
// computes the per-channel normalisation from the training split. size is
// the network input side (32 for the reference nets).
//
// Opened data sets are kept for the life of the process, so that the runs
// of a study that share a spec load it once; a Dataset is immutable.
func Open(spec string, size int) (*Dataset, error) {
	return openMemoised(spec, size, StoredSide(size))
}

// OpenResized is Open with the images resized to shorter side side
// instead of StoredSide(size) before the crop (the trainer's resize
// setting); side must be at least size.
func OpenResized(spec string, size, side int) (*Dataset, error) {
	return openMemoised(spec, size, side)
}

func openMemoised(spec string, size, side int) (*Dataset, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	key := fmt.Sprintf("%s|%d", sp.String(), size)
	if side != StoredSide(size) {
		key += fmt.Sprintf("|side=%d", side)
	}
	openMu.Lock()
	e, loading := openMemo[key]
	if !loading {
		// The first caller loads; others with the same spec wait for it.
		e = &memoEntry{done: make(chan struct{})}
		openMemo[key] = e
		openMu.Unlock()
		e.d, e.err = openWith(context.Background(), spec, size, side, Options{})
		if e.err != nil { // not remembered: the files may be fixed
			openMu.Lock()
			delete(openMemo, key)
			openMu.Unlock()
		}
		close(e.done)
	} else {
		openMu.Unlock()
		<-e.done
	}
	if e.err != nil || e.d.spec == spec {
		return e.d, e.err
	}
	c := *e.d // same data, the caller's spelling of the spec
	c.spec = spec
	return &c, nil
}

// memoEntry is a data set opened (or being opened) by Open.
type memoEntry struct {
	done chan struct{}
	d    *Dataset
	err  error
}

// OpenWith is Open without the per-process memo, with a context that
// cancels a long load and loading options.
func OpenWith(ctx context.Context, spec string, size int, o Options) (*Dataset, error) {
	return openWith(ctx, spec, size, StoredSide(size), o)
}

func openWith(ctx context.Context, spec string, size, side int, o Options) (*Dataset, error) {
	sp, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	if size < 8 || size > 1024 {
		return nil, openError(spec, fmt.Errorf("image size %d out of range [8, 1024]", size))
	}
	if side < size || side > 4*size {
		return nil, openError(spec, fmt.Errorf("stored side %d out of range [%d, %d] for image size %d", side, size, 4*size, size))
	}
	d := &Dataset{spec: spec, parsed: sp, size: size, stored: side}
	switch sp.Kind {
	case KindSynthetic:
		// Refuse a set that cannot fit before generating any of it.
		if err = checkMemorySide(spec, size, side); err == nil {
			err = d.loadSynthetic(ctx)
		}
	case KindFashionMNIST:
		err = d.loadFashionMNIST(ctx)
	case KindImageFolder, KindCUB, KindNABirds, KindDogs:
		err = d.loadFiles(ctx, o)
	default:
		err = fmt.Errorf("kind %q has no loader", sp.Kind)
	}
	if err == nil {
		err = d.finish()
	}
	if err != nil {
		return nil, openError(spec, err)
	}
	return d, nil
}

// finish checks the splits and computes normalisation statistics.
func (d *Dataset) finish() error {
	k := len(d.classes)
	if k < 2 {
		return fmt.Errorf("%d classes; need at least 2", k)
	}
	trainCount := make([]int, k)
	for s := range d.splits {
		for i, l := range d.splits[s].labels {
			if l < 0 || l >= k {
				return fmt.Errorf("%s image %d: label %d out of range [0, %d)", SplitKind(s), i, l, k)
			}
			if s == int(Train) {
				trainCount[l]++
			}
		}
	}
	for c, n := range trainCount {
		if n == 0 {
			return fmt.Errorf("class %q has no training images", d.classes[c])
		}
	}
	if len(d.splits[Test].labels) == 0 {
		return fmt.Errorf("the test split is empty")
	}
	d.computeNorm()
	return nil
}

// computeNorm sets mean and std per channel over every stored pixel of the
// training split, and the lookup table that applies them.
func (d *Dataset) computeNorm() {
	// One histogram per channel over all training pixels, plus one for
	// grayscale pictures, which count in every channel.
	var hist [3][256]int64
	var gray [256]int64
	var n float64
	for _, p := range d.splits[Train].pics {
		hw := p.W * p.H
		if p.C == 1 {
			for _, v := range p.Pix[:hw] {
				gray[v]++
			}
		} else {
			for c := 0; c < 3; c++ {
				h := &hist[c]
				for _, v := range p.Pix[c*hw : (c+1)*hw] {
					h[v]++
				}
			}
		}
		n += float64(hw)
	}
	var sum, sq [3]float64
	for c := 0; c < 3; c++ {
		for v := range hist[c] {
			cnt := float64(hist[c][v] + gray[v])
			f := float64(v) / 255
			sum[c] += f * cnt
			sq[c] += f * f * cnt
		}
	}
	for c := 0; c < 3; c++ {
		m := sum[c] / n
		v := sq[c]/n - m*m
		s := math.Sqrt(math.Max(v, 0))
		if s < 1e-3 {
			s = 1e-3 // a constant channel: avoid dividing by zero
		}
		d.mean[c], d.std[c] = float32(m), float32(s)
		for i := 0; i < 256; i++ {
			d.lut[c][i] = float32((float64(i)/255 - m) / s)
		}
	}
}

// Spec returns the spec the data set was opened with.
func (d *Dataset) Spec() string { return d.spec }

// Kind returns the parsed kind ("synthetic", "cub", ...).
func (d *Dataset) Kind() string { return d.parsed.Kind }

// Source describes where the images came from, for listings.
func (d *Dataset) Source() string { return d.source }

// Notes are remarks about the loading a user should see: files that are
// not images and were not used, per-class caps, a disk cache rebuilt.
func (d *Dataset) Notes() []string { return append([]string(nil), d.notes...) }

// Fingerprint is a hash of the spec (without its root directory, so that
// the same files elsewhere give the same fingerprint), the network input
// size, and the list of images (relative path or generator parameters,
// label and split of each). Runs record it to tell data sets apart.
func (d *Dataset) Fingerprint() string { return d.fingerprint }

// NumClasses returns the number of classes; labels are in [0, NumClasses).
func (d *Dataset) NumClasses() int { return len(d.classes) }

// ClassNames returns a copy of the class names, indexed by label.
func (d *Dataset) ClassNames() []string { return append([]string(nil), d.classes...) }

// Len returns the number of images in a split.
func (d *Dataset) Len(s SplitKind) int { return len(d.splits[s].labels) }

// Shape returns the network input shape: 3 x size x size (grayscale images
// are replicated to three channels).
func (d *Dataset) Shape() (c, h, w int) { return 3, d.size, d.size }

// Size returns the network input side.
func (d *Dataset) Size() int { return d.size }

// StoredSide returns the shorter side the images are stored at, before
// the crop: the package's StoredSide(Size()) unless opened by OpenResized.
func (d *Dataset) StoredSide() int { return d.stored }

// Norm returns the per-channel mean and standard deviation (pixel values
// scaled to [0, 1]) computed from the training split.
func (d *Dataset) Norm() (mean, std [3]float32) { return d.mean, d.std }

// Label returns the label of image i of a split.
func (d *Dataset) Label(s SplitKind, i int) int { return d.splits[s].labels[i] }

// ClassCounts returns the number of images per class in a split.
func (d *Dataset) ClassCounts(s SplitKind) []int {
	n := make([]int, len(d.classes))
	for _, l := range d.splits[s].labels {
		n[l]++
	}
	return n
}

// Image returns image i of a split preprocessed in test mode (centre crop,
// then the flip f, normalised; 3*size*size floats, CHW) and its label. It
// is what the evaluation sees, for Grad-CAM and contact sheets.
func (d *Dataset) Image(s SplitKind, i int, f Flip) (x []float32, label int) {
	x = make([]float32, 3*d.size*d.size)
	p := &d.splits[s].pics[i]
	ox, oy := (p.W-d.size)/2, (p.H-d.size)/2
	d.render(x, p, ox, oy, f == FlipH, f == FlipV)
	return x, d.splits[s].labels[i]
}

// Raw returns image i of a split as the network sees it in test mode
// (centre crop, size x size, no flip) but not normalised, as RGB for
// display, and its label.
func (d *Dataset) Raw(s SplitKind, i int) (image.Image, int) {
	p := &d.splits[s].pics[i]
	ox, oy := (p.W-d.size)/2, (p.H-d.size)/2
	img := image.NewRGBA(image.Rect(0, 0, d.size, d.size))
	hw := p.W * p.H
	for y := 0; y < d.size; y++ {
		for x := 0; x < d.size; x++ {
			o := (oy+y)*p.W + ox + x
			var r, g, b uint8
			if p.C == 1 {
				r = p.Pix[o]
				g, b = r, r
			} else {
				r, g, b = p.Pix[o], p.Pix[hw+o], p.Pix[2*hw+o]
			}
			img.SetRGBA(x, y, color.RGBA{r, g, b, 255})
		}
	}
	return img, d.splits[s].labels[i]
}

// render writes the size x size crop of p at (ox, oy), optionally mirrored,
// normalised, into dst (3*size*size, CHW).
func (d *Dataset) render(dst []float32, p *picture, ox, oy int, hflip, vflip bool) {
	n := d.size
	hw := p.W * p.H
	for c := 0; c < 3; c++ {
		sc := c
		if p.C == 1 {
			sc = 0
		}
		lut := &d.lut[c]
		plane := p.Pix[sc*hw : (sc+1)*hw]
		out := dst[c*n*n : (c+1)*n*n]
		for y := 0; y < n; y++ {
			sy := oy + y
			if vflip {
				sy = oy + n - 1 - y
			}
			row := plane[sy*p.W+ox : sy*p.W+ox+n]
			o := out[y*n : (y+1)*n]
			if hflip {
				for x := range o {
					o[x] = lut[row[n-1-x]]
				}
			} else {
				for x := range o {
					o[x] = lut[row[x]]
				}
			}
		}
	}
}

func newFingerprint(sp Spec, size int, extra string) *hashWriter {
	w := &hashWriter{h: sha256.New()}
	fmt.Fprintf(w.h, "workbench-data v1\n%s\nsize=%d\n%s\n", sp.optionString(), size, extra)
	return w
}

// hashWriter hashes the image list entries of a data set.
type hashWriter struct{ h hash.Hash }

func (w *hashWriter) entry(s SplitKind, label int, name string) {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(s))
	binary.LittleEndian.PutUint64(b[8:], uint64(label))
	w.h.Write(b[:])
	w.h.Write([]byte(name))
	w.h.Write([]byte{0})
}

func (w *hashWriter) sum() string { return hex.EncodeToString(w.h.Sum(nil))[:16] }
