package data

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func openFixture(t *testing.T, spec string) *Dataset {
	t.Helper()
	d, err := OpenWith(context.Background(), spec, 32, Options{CacheDir: "off"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkColours checks that the centre pixel of every image is near the
// colour of its class: labels and pixels stayed together.
func checkColours(t *testing.T, d *Dataset, colour func(label int) color.RGBA) {
	t.Helper()
	for _, s := range []SplitKind{Train, Test} {
		for i := 0; i < d.Len(s); i++ {
			img, label := d.Raw(s, i)
			got := color.RGBAModel.Convert(img.At(16, 16)).(color.RGBA)
			want := colour(label)
			if diff(got.R, want.R) > 12 || diff(got.G, want.G) > 12 || diff(got.B, want.B) > 12 {
				t.Fatalf("%s image %d (label %d): centre colour %v, want about %v", s, i, label, got, want)
			}
		}
	}
}

func diff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestReaders(t *testing.T) {
	tests := []struct {
		name        string
		spec        func(dir string) string
		classes     []string
		train, test int
		colour      func(label int) color.RGBA
	}{
		{
			name:    "cub",
			spec:    func(dir string) string { return "cub:" + cubFixture(t, dir) },
			classes: []string{"001.Bird_1", "002.Bird_2", "003.Bird_3"},
			train:   9, test: 3,
			// Without bbox the centre of the image is where the two halves meet;
			// check the colours through the bbox variant below instead.
		},
		{
			name:    "cub bbox",
			spec:    func(dir string) string { return "cub:" + cubFixture(t, dir) + ",bbox=true" },
			classes: []string{"001.Bird_1", "002.Bird_2", "003.Bird_3"},
			train:   9, test: 3,
			colour: classColour,
		},
		{
			name: "cub parent directory",
			spec: func(dir string) string {
				cubFixture(t, filepath.Join(dir, "CUB_200_2011"))
				return "cub:" + dir
			},
			classes: []string{"001.Bird_1", "002.Bird_2", "003.Bird_3"},
			train:   9, test: 3,
		},
		{
			name:    "nabirds",
			spec:    func(dir string) string { return "nabirds:" + nabirdsFixture(t, filepath.Join(dir, "nabirds")) },
			classes: []string{"Red-tailed Hawk (Adult)", "Common Loon", "Snow Bunting"}, // by class id: 295, 817, 1000
			train:   6, test: 3,
			// class id 817 is written first with colour 0, 295 with colour 1.
			colour: func(l int) color.RGBA { return classColour([]int{1, 0, 2}[l]) },
		},
		{
			name: "nabirds bbox, parent directory",
			spec: func(dir string) string {
				nabirdsFixture(t, filepath.Join(dir, "nabirds"))
				return "nabirds:" + dir + ",bbox=1"
			},
			classes: []string{"Red-tailed Hawk (Adult)", "Common Loon", "Snow Bunting"},
			train:   6, test: 3,
			colour: func(l int) color.RGBA { return classColour([]int{1, 0, 2}[l]) },
		},
		{
			name:    "dogs",
			spec:    func(dir string) string { return "dogs:" + dogsFixture(t, dir) },
			classes: []string{"Chihuahua", "Japanese_spaniel", "African_hunting_dog"},
			train:   6, test: 3,
			colour: classColour,
		},
		{
			name:    "imagefolder",
			spec:    func(dir string) string { return "imagefolder:" + folderFixture(t, dir) },
			classes: []string{"antelope", "cat", "zebra"},
			train:   12, test: 3, // 20% of 5 per class
			// Colour models differ per file here (gray, paletted, transparent);
			// TestToPlanarColourModels checks the conversions.
		},
		{
			name:    "imagefolder caps",
			spec:    func(dir string) string { return "imagefolder:" + folderFixture(t, dir) + ",test=0.4,train_per_class=2" },
			classes: []string{"antelope", "cat", "zebra"},
			train:   6, test: 6,
		},
		{
			name:    "fashion-mnist",
			spec:    func(dir string) string { return "fashion-mnist:" + fashionFixture(t, dir, 30, 20) },
			classes: FashionMNISTClasses,
			train:   30, test: 20,
			colour: func(l int) color.RGBA { v := uint8(20 * l); return color.RGBA{v, v, v, 255} },
		},
		{
			name: "fashion-mnist caps",
			spec: func(dir string) string {
				return "fashion-mnist:" + fashionFixture(t, dir, 30, 20) + ",train_per_class=1"
			},
			classes: FashionMNISTClasses,
			train:   10, test: 20,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := openFixture(t, tt.spec(t.TempDir()))
			if !slices.Equal(d.ClassNames(), tt.classes) {
				t.Errorf("classes %q, want %q", d.ClassNames(), tt.classes)
			}
			if d.Len(Train) != tt.train || d.Len(Test) != tt.test {
				t.Errorf("train %d test %d, want %d %d", d.Len(Train), d.Len(Test), tt.train, tt.test)
			}
			if tt.colour != nil {
				checkColours(t, d, tt.colour)
			}
			// Every stored image has its shorter side at 36 and batches work.
			for _, p := range d.splits[Train].pics {
				if min(p.W, p.H) != StoredSide(32) {
					t.Fatalf("stored image %dx%d, want shorter side %d", p.W, p.H, StoredSide(32))
				}
			}
			it := d.Batches(context.Background(), IterOptions{Split: Train, BatchSize: 4, Augment: true, Shuffle: true})
			n := 0
			for it.Next() {
				n += it.Batch().N
			}
			it.Close()
			if n != tt.train {
				t.Errorf("one pass gave %d images, want %d", n, tt.train)
			}
			if len(d.Fingerprint()) != 16 {
				t.Errorf("fingerprint %q", d.Fingerprint())
			}
		})
	}
}

// The ImageFolder split is stratified and fixed by split_seed; the
// fingerprint does not depend on where the tree lies.
func TestImageFolderSplit(t *testing.T) {
	a, b := folderFixture(t, t.TempDir()), folderFixture(t, t.TempDir())
	testSet := func(d *Dataset) []int {
		var out []int
		for i := 0; i < d.Len(Test); i++ {
			out = append(out, d.Label(Test, i))
		}
		return out
	}
	d1 := openFixture(t, "imagefolder:"+a+",test=0.4")
	d2 := openFixture(t, "imagefolder:"+b+",test=0.4")
	if d1.Fingerprint() != d2.Fingerprint() {
		t.Errorf("the same tree in two places has fingerprints %s and %s", d1.Fingerprint(), d2.Fingerprint())
	}
	if got := testSet(d1); !slices.Equal(got, []int{0, 0, 1, 1, 2, 2}) {
		t.Errorf("test labels %v, want two per class", got)
	}
	// Another split seed chooses other test images (same counts).
	d3 := openFixture(t, "imagefolder:"+a+",test=0.4,split_seed=9")
	if d3.Fingerprint() == d1.Fingerprint() {
		t.Error("split_seed does not change the split")
	}
	if !slices.Contains(d1.Notes()[0:1], d1.Notes()[0]) || !strings.Contains(strings.Join(d1.Notes(), "\n"), "README.txt") {
		t.Errorf("notes %q do not mention the README that was left out", d1.Notes())
	}
	// A class with a single image keeps it for training.
	dir := t.TempDir()
	writeImage(t, filepath.Join(dir, "a", "1.png"), solid("rgba", 40, 40, classColour(0)))
	writeImage(t, filepath.Join(dir, "a", "2.png"), solid("rgba", 40, 40, classColour(0)))
	writeImage(t, filepath.Join(dir, "b", "1.png"), solid("rgba", 40, 40, classColour(1)))
	d := openFixture(t, "imagefolder:"+dir+",test=0.5")
	if got := d.ClassCounts(Train); !slices.Equal(got, []int{1, 1}) {
		t.Errorf("train class counts %v, want [1 1]", got)
	}
}

// Bad input: each case builds a fixture, breaks it, and expects an error
// that names what is wrong and where.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the spec
		want  []string                              // substrings of the error
	}{
		{"missing root", func(t *testing.T, dir string) string { return "cub:" + filepath.Join(dir, "nope") },
			[]string{"root", "nope", "no such file"}},
		{"root is a file", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "f"), "x")
			return "imagefolder:" + filepath.Join(dir, "f")
		}, []string{"is not a directory"}},
		{"missing split file", func(t *testing.T, dir string) string {
			os.Remove(filepath.Join(cubFixture(t, dir), "train_test_split.txt"))
			return "cub:" + dir
		}, []string{"missing split file", "train_test_split.txt"}},
		{"line does not parse", func(t *testing.T, dir string) string {
			appendFile(t, filepath.Join(cubFixture(t, dir), "image_class_labels.txt"), "13\n")
			return "cub:" + dir
		}, []string{"image_class_labels.txt:13:", `want "<id> <class id>"`}},
		{"label is not a number", func(t *testing.T, dir string) string {
			replaceLine(t, filepath.Join(cubFixture(t, dir), "image_class_labels.txt"), 2, "2 two")
			return "cub:" + dir
		}, []string{"image_class_labels.txt:2:", `class id "two" is not an integer`}},
		{"label out of range", func(t *testing.T, dir string) string {
			replaceLine(t, filepath.Join(cubFixture(t, dir), "image_class_labels.txt"), 5, "5 201")
			return "cub:" + dir
		}, []string{"image_class_labels.txt:5:", "label 201 out of range"}},
		{"split flag not 0 or 1", func(t *testing.T, dir string) string {
			replaceLine(t, filepath.Join(cubFixture(t, dir), "train_test_split.txt"), 3, "3 2")
			return "cub:" + dir
		}, []string{"train_test_split.txt:3:", "must be 0 or 1"}},
		{"duplicate id", func(t *testing.T, dir string) string {
			replaceLine(t, filepath.Join(cubFixture(t, dir), "images.txt"), 4, "3 001.Bird_1/Bird_1_0003.png")
			return "cub:" + dir
		}, []string{"images.txt:4:", "id 3 is listed twice (first on line 3)"}},
		{"image without a label", func(t *testing.T, dir string) string {
			replaceLine(t, filepath.Join(cubFixture(t, dir), "image_class_labels.txt"), 7, "")
			return "cub:" + dir
		}, []string{"images.txt:7:", "image 7 has no label"}},
		{"label for an unknown image", func(t *testing.T, dir string) string {
			appendFile(t, filepath.Join(cubFixture(t, dir), "train_test_split.txt"), "99 1\n")
			return "cub:" + dir
		}, []string{"train_test_split.txt:13:", "image id 99 is not in images.txt"}},
		{"path leaves the root", func(t *testing.T, dir string) string {
			replaceLine(t, filepath.Join(cubFixture(t, dir), "images.txt"), 1, "1 ../../etc/passwd")
			return "cub:" + dir
		}, []string{"images.txt:1:", "leaves the images directory"}},
		{"class with no training images", func(t *testing.T, dir string) string {
			root := cubFixture(t, dir)
			for _, l := range []int{9, 10, 11} { // class 3's training images
				replaceLine(t, filepath.Join(root, "train_test_split.txt"), l, fmt.Sprintf("%d 0", l))
			}
			return "cub:" + dir
		}, []string{`class "003.Bird_3" has no training images`}},
		{"missing image file", func(t *testing.T, dir string) string {
			os.Remove(filepath.Join(cubFixture(t, dir), "images", "002.Bird_2", "Bird_2_0001.png"))
			return "cub:" + dir
		}, []string{"Bird_2_0001.png", "listed in", "images.txt:6", "no such file"}},
		{"corrupt image", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(cubFixture(t, dir), "images", "001.Bird_1", "Bird_1_0002.png"), "this is not a PNG")
			return "cub:" + dir
		}, []string{"Bird_1_0002.png", "cannot decode", "images.txt:3"}},
		{"truncated image", func(t *testing.T, dir string) string {
			p := filepath.Join(cubFixture(t, dir), "images", "001.Bird_1", "Bird_1_0002.png")
			b, _ := os.ReadFile(p)
			writeFile(t, p, string(b[:len(b)/2]))
			return "cub:" + dir
		}, []string{"Bird_1_0002.png", "cannot decode"}},
		{"bbox asked but missing", func(t *testing.T, dir string) string {
			os.Remove(filepath.Join(cubFixture(t, dir), "bounding_boxes.txt"))
			return "cub:" + dir + ",bbox=true"
		}, []string{"bbox=true", "bounding_boxes.txt is missing"}},
		{"bbox line does not parse", func(t *testing.T, dir string) string {
			replaceLine(t, filepath.Join(cubFixture(t, dir), "bounding_boxes.txt"), 2, "2 0 0 wide 40")
			return "cub:" + dir + ",bbox=true"
		}, []string{"bounding_boxes.txt:2:", `"wide" is not a number`}},
		{"bbox outside the image", func(t *testing.T, dir string) string {
			replaceLine(t, filepath.Join(cubFixture(t, dir), "bounding_boxes.txt"), 2, "2 500 500 10 10")
			return "cub:" + dir + ",bbox=true"
		}, []string{"Bird_1_0001.png", "outside the image"}},
		{"nabirds missing labels file", func(t *testing.T, dir string) string {
			os.Remove(filepath.Join(nabirdsFixture(t, dir), "image_class_labels.txt"))
			return "nabirds:" + dir
		}, []string{"missing split file", "image_class_labels.txt", "NABirds"}},
		{"dogs without text lists, .mat present", func(t *testing.T, dir string) string {
			root := dogsFixture(t, dir)
			os.Remove(filepath.Join(root, "lists", "train_list.txt"))
			writeFile(t, filepath.Join(root, "lists", "train_list.mat"), "MATLAB 5.0 MAT-file")
			return "dogs:" + root
		}, []string{"train_list.mat", "does not parse MATLAB", "train_list.txt and test_list.txt", "n02085620-Chihuahua/n02085620_5927.jpg"}},
		{"dogs without lists", func(t *testing.T, dir string) string {
			root := dogsFixture(t, dir)
			os.Remove(filepath.Join(root, "lists", "test_list.txt"))
			return "dogs:" + root
		}, []string{"missing split file test_list.txt"}},
		{"dogs label mismatch", func(t *testing.T, dir string) string {
			root := dogsFixture(t, dir)
			replaceLine(t, filepath.Join(root, "lists", "train_list.txt"), 3, "n02085782-Japanese_spaniel/n02085782_0.jpg 7")
			return "dogs:" + root
		}, []string{"train_list.txt:3:", "label 7 out of range"}},
		{"dogs unknown class directory", func(t *testing.T, dir string) string {
			root := dogsFixture(t, dir)
			appendFile(t, filepath.Join(root, "lists", "test_list.txt"), "n0000-Wolf/w.jpg\n")
			return "dogs:" + root
		}, []string{"test_list.txt:4:", "class directory n0000-Wolf"}},
		{"dogs image in both splits", func(t *testing.T, dir string) string {
			root := dogsFixture(t, dir)
			appendFile(t, filepath.Join(root, "lists", "test_list.txt"), "n02085620-Chihuahua/n02085620_0.jpg\n")
			return "dogs:" + root
		}, []string{"test_list.txt:4:", "also listed in", "train_list.txt:1"}},
		{"imagefolder empty class", func(t *testing.T, dir string) string {
			root := folderFixture(t, dir)
			os.MkdirAll(filepath.Join(root, "empty"), 0o755)
			return "imagefolder:" + root
		}, []string{`class "empty"`, "no images"}},
		{"imagefolder no classes", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "a.png"), "x")
			return "imagefolder:" + dir
		}, []string{"no class directories"}},
		{"imagefolder corrupt jpeg", func(t *testing.T, dir string) string {
			root := folderFixture(t, dir)
			writeFile(t, filepath.Join(root, "cat", "bad.jpg"), "\xff\xd8\xff garbage")
			return "imagefolder:" + root
		}, []string{"cat/bad.jpg", "cannot decode"}},
		{"fashion label out of range", func(t *testing.T, dir string) string {
			root := fashionFixture(t, dir, 10, 10)
			writeFile(t, filepath.Join(root, "t10k-labels-idx1-ubyte"), string(idxBytes([]int{10}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 10})))
			return "fashion-mnist:" + root
		}, []string{"t10k-labels-idx1-ubyte", "label 10 of image 9 out of range"}},
		{"fashion count mismatch", func(t *testing.T, dir string) string {
			root := fashionFixture(t, dir, 10, 10)
			writeFile(t, filepath.Join(root, "t10k-labels-idx1-ubyte"), string(idxBytes([]int{9}, make([]byte, 9))))
			return "fashion-mnist:" + root
		}, []string{"has 10 images but", "has 9 labels"}},
		{"fashion truncated", func(t *testing.T, dir string) string {
			root := fashionFixture(t, dir, 10, 10)
			b := idxBytes([]int{10, 28, 28}, make([]byte, 10*28*28))
			writeFile(t, filepath.Join(root, "t10k-images-idx3-ubyte"), string(b[:len(b)-5]))
			return "fashion-mnist:" + root
		}, []string{"t10k-images-idx3-ubyte", "truncated"}},
		{"fashion missing file", func(t *testing.T, dir string) string {
			root := fashionFixture(t, dir, 10, 10)
			os.Remove(filepath.Join(root, "train-labels-idx1-ubyte.gz"))
			return "fashion-mnist:" + root
		}, []string{"missing train-labels-idx1-ubyte"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.setup(t, t.TempDir())
			_, err := OpenWith(context.Background(), spec, 32, Options{CacheDir: "off"})
			if err == nil {
				t.Fatalf("Open(%s) succeeded", spec)
			}
			t.Log(err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(b)+s)
}

// replaceLine replaces 1-based line n of a file.
func replaceLine(t *testing.T, path string, n int, s string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	lines[n-1] = s
	writeFile(t, path, strings.Join(lines, "\n"))
}

// Colour models are converted to RGB (grayscale kept as one channel).
func TestToPlanarColourModels(t *testing.T) {
	want := color.RGBA{200, 100, 50, 255}
	cmyk := image.NewCMYK(image.Rect(0, 0, 4, 4))
	c, m, y, k := color.RGBToCMYK(want.R, want.G, want.B)
	for i := 0; i < len(cmyk.Pix); i += 4 {
		cmyk.Pix[i], cmyk.Pix[i+1], cmyk.Pix[i+2], cmyk.Pix[i+3] = c, m, y, k
	}
	ycc := image.NewYCbCr(image.Rect(0, 0, 4, 4), image.YCbCrSubsampleRatio420)
	yy, cb, cr := color.RGBToYCbCr(want.R, want.G, want.B)
	for i := range ycc.Y {
		ycc.Y[i] = yy
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = cb, cr
	}
	tests := []struct {
		name  string
		img   image.Image
		c     int
		first [3]uint8
	}{
		{"rgba", solid("rgba", 4, 4, want), 3, [3]uint8{200, 100, 50}},
		{"paletted", solid("paletted", 4, 4, want), 3, func() [3]uint8 {
			p := solid("paletted", 1, 1, want).(*image.Paletted)
			r, g, b, _ := p.At(0, 0).RGBA()
			return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
		}()},
		{"cmyk", cmyk, 3, [3]uint8{200, 100, 50}},
		{"ycbcr", ycc, 3, [3]uint8{200, 100, 50}},
		{"gray", solid("gray", 4, 4, want), 1, [3]uint8{200}},
		{"nrgba half transparent, onto black", solid("nrgba", 4, 4, want), 3, [3]uint8{100, 50, 25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := toPlanar(tt.img)
			if p.C != tt.c || p.W != 4 || p.H != 4 {
				t.Fatalf("shape %dx%dx%d", p.W, p.H, p.C)
			}
			for ch := 0; ch < p.C; ch++ {
				if diff(p.Pix[ch*16], tt.first[ch]) > 2 {
					t.Errorf("channel %d = %d, want %d", ch, p.Pix[ch*16], tt.first[ch])
				}
			}
		})
	}
}

func TestResize(t *testing.T) {
	// A 2-pixel checkerboard shrunk 4x averages to grey (no aliasing), a
	// constant image stays constant, and shapes follow the shorter side.
	p := picture{W: 80, H: 40, C: 1, Pix: make([]uint8, 80*40)}
	for y := 0; y < 40; y++ {
		for x := 0; x < 80; x++ {
			if (x/2+y/2)%2 == 0 {
				p.Pix[y*80+x] = 255
			}
		}
	}
	r := resizeShorter(p, 10)
	if r.W != 20 || r.H != 10 {
		t.Fatalf("resized to %dx%d, want 20x10", r.W, r.H)
	}
	for i, v := range r.Pix {
		if diff(v, 128) > 20 {
			t.Fatalf("pixel %d = %d after shrinking a checkerboard, want about 128", i, v)
		}
	}
	c := picture{W: 7, H: 13, C: 3, Pix: slices.Repeat([]uint8{77}, 7*13*3)}
	for _, v := range resizeShorter(c, 36).Pix {
		if v != 77 {
			t.Fatalf("constant image changed to %d", v)
		}
	}
}

// The disk cache serves an unchanged file without decoding it, and decodes
// again when the file's size or modification time changes.
func TestDiskCache(t *testing.T) {
	root := dogsFixture(t, t.TempDir())
	cacheDir := t.TempDir()
	spec := "dogs:" + root
	open := func() (*Dataset, error) {
		return OpenWith(context.Background(), spec, 32, Options{CacheDir: cacheDir})
	}
	d1, err := open()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(cacheDir, "*.imgcache"))
	if len(files) != 1 {
		t.Fatalf("cache files %v, want one", files)
	}
	// Overwrite an image with garbage of the same size and time: the
	// cache still serves it, so no decode happened.
	img := filepath.Join(root, "Images", "n02085620-Chihuahua", "n02085620_0.jpg")
	fi, _ := os.Stat(img)
	writeFile(t, img, strings.Repeat("x", int(fi.Size())))
	os.Chtimes(img, fi.ModTime(), fi.ModTime())
	d2, err := open()
	if err != nil {
		t.Fatalf("cached open decoded the file again: %v", err)
	}
	if d2.Fingerprint() != d1.Fingerprint() {
		t.Error("fingerprint changed between a fresh and a cached open")
	}
	x1, _ := d1.Image(Train, 0, NoFlip)
	x2, _ := d2.Image(Train, 0, NoFlip)
	if !slices.Equal(x1, x2) {
		t.Error("cached pixels differ from decoded pixels")
	}
	// A newer modification time invalidates the entry: now the garbage is
	// decoded and fails.
	os.Chtimes(img, fi.ModTime().Add(time.Second), fi.ModTime().Add(time.Second))
	if _, err := open(); err == nil || !strings.Contains(err.Error(), "cannot decode") {
		t.Errorf("changed file: error %v, want a decode error", err)
	}
	// A damaged cache file is noted and rebuilt.
	writeImage(t, img, solid("rgba", 40, 56, classColour(0)))
	writeFile(t, files[0], "garbage")
	d3, err := open()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(d3.Notes(), "\n"), "damaged") {
		t.Errorf("notes %q do not mention the damaged cache", d3.Notes())
	}
	if _, err := open(); err != nil {
		t.Fatal(err)
	}
}
