package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fixtures are written by the tests themselves, into t.TempDir().

// solid returns a w x h image of one colour in the given colour model:
// "rgba", "gray", "paletted" or "nrgba" (half transparent).
func solid(model string, w, h int, c color.RGBA) image.Image {
	r := image.Rect(0, 0, w, h)
	switch model {
	case "gray":
		g := image.NewGray(r)
		for i := range g.Pix {
			g.Pix[i] = c.R
		}
		return g
	case "paletted":
		p := image.NewPaletted(r, palette.Plan9)
		idx := uint8(p.Palette.Index(c))
		for i := range p.Pix {
			p.Pix[i] = idx
		}
		return p
	case "nrgba":
		n := image.NewNRGBA(r)
		for i := 0; i < len(n.Pix); i += 4 {
			n.Pix[i], n.Pix[i+1], n.Pix[i+2], n.Pix[i+3] = c.R, c.G, c.B, 128
		}
		return n
	}
	m := image.NewRGBA(r)
	for i := 0; i < len(m.Pix); i += 4 {
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = c.R, c.G, c.B, 255
	}
	return m
}

// writeImage encodes img as PNG or JPEG by the file's extension.
func writeImage(t testing.TB, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var err error
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jpg", ".jpeg":
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95})
	default:
		err = png.Encode(&buf, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.String())
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// classColour is the colour of the images of class c in the fixtures, so
// tests can check that labels and pixels stay together.
func classColour(c int) color.RGBA {
	return []color.RGBA{{200, 30, 30, 255}, {30, 200, 30, 255}, {30, 30, 200, 255}, {200, 200, 30, 255}}[c%4]
}

// cubFixture writes a CUB-200-2011 layout with 3 classes of 4 images each
// (3 train, 1 test) into root and returns root. Images of class c have
// colour classColour(c) inside their bounding box (the left half) and white
// outside.
func cubFixture(t testing.TB, root string) string {
	t.Helper()
	var images, labels, split, boxes, classes strings.Builder
	id := 0
	for c := 1; c <= 3; c++ {
		dir := fmt.Sprintf("%03d.Bird_%d", c, c)
		fmt.Fprintf(&classes, "%d %s\n", c, dir)
		for k := 0; k < 4; k++ {
			id++
			rel := fmt.Sprintf("%s/Bird_%d_%04d.png", dir, c, k)
			img := image.NewRGBA(image.Rect(0, 0, 60, 40))
			for y := 0; y < 40; y++ {
				for x := 0; x < 60; x++ {
					if x < 30 {
						img.Set(x, y, classColour(c-1))
					} else {
						img.Set(x, y, color.White)
					}
				}
			}
			writeImage(t, filepath.Join(root, "images", rel), img)
			fmt.Fprintf(&images, "%d %s\n", id, rel)
			fmt.Fprintf(&labels, "%d %d\n", id, c)
			train := 1
			if k == 3 {
				train = 0
			}
			fmt.Fprintf(&split, "%d %d\n", id, train)
			fmt.Fprintf(&boxes, "%d 0.0 0.0 30.0 40.0\n", id)
		}
	}
	writeFile(t, filepath.Join(root, "images.txt"), images.String())
	writeFile(t, filepath.Join(root, "image_class_labels.txt"), labels.String())
	writeFile(t, filepath.Join(root, "train_test_split.txt"), split.String())
	writeFile(t, filepath.Join(root, "bounding_boxes.txt"), boxes.String())
	writeFile(t, filepath.Join(root, "classes.txt"), classes.String())
	return root
}

// nabirdsFixture writes a NABirds layout: UUID image ids, class ids that
// are not contiguous, and a classes.txt that also lists the inner nodes of
// the hierarchy (which have no images).
func nabirdsFixture(t testing.TB, root string) string {
	t.Helper()
	var images, labels, split, boxes strings.Builder
	classIDs := []int{817, 295, 1000}
	classes := "0 Birds\n1 Perching Birds\n295 Red-tailed Hawk (Adult)\n817 Common Loon\n1000 Snow Bunting\n"
	for ci, c := range classIDs {
		for k := 0; k < 3; k++ {
			uuid := fmt.Sprintf("%08x-aaaa-bbbb-cccc-%012x", c, k)
			rel := fmt.Sprintf("%04d/%s.jpg", c, strings.ReplaceAll(uuid, "-", ""))
			writeImage(t, filepath.Join(root, "images", rel), solid("rgba", 50, 40, classColour(ci)))
			fmt.Fprintf(&images, "%s %s\n", uuid, rel)
			fmt.Fprintf(&labels, "%s %d\n", uuid, c)
			fmt.Fprintf(&split, "%s %d\n", uuid, map[bool]int{true: 0, false: 1}[k == 2])
			fmt.Fprintf(&boxes, "%s 5 5 30 20\n", uuid)
		}
	}
	writeFile(t, filepath.Join(root, "images.txt"), images.String())
	writeFile(t, filepath.Join(root, "image_class_labels.txt"), labels.String())
	writeFile(t, filepath.Join(root, "train_test_split.txt"), split.String())
	writeFile(t, filepath.Join(root, "bounding_boxes.txt"), boxes.String())
	writeFile(t, filepath.Join(root, "classes.txt"), classes)
	return root
}

// dogsFixture writes Stanford Dogs: Images/<wnid-name>/*.jpg and text
// lists in lists/, the train list with labels, the test list without.
func dogsFixture(t testing.TB, root string) string {
	t.Helper()
	dirs := []string{"n02085620-Chihuahua", "n02085782-Japanese_spaniel", "n02116738-African_hunting_dog"}
	var train, test strings.Builder
	for c, dir := range dirs {
		for k := 0; k < 3; k++ {
			rel := fmt.Sprintf("%s/%s_%d.jpg", dir, dir[:9], k)
			writeImage(t, filepath.Join(root, "Images", rel), solid("rgba", 40, 56, classColour(c)))
			if k < 2 {
				fmt.Fprintf(&train, "%s %d\n", rel, c+1)
			} else {
				fmt.Fprintf(&test, "%s\n", rel)
			}
		}
	}
	writeFile(t, filepath.Join(root, "lists", "train_list.txt"), train.String())
	writeFile(t, filepath.Join(root, "lists", "test_list.txt"), test.String())
	return root
}

// folderFixture writes an ImageFolder tree: 3 classes of 5 images in
// several colour models and formats, one of them in a subdirectory, and a
// README that is not an image.
func folderFixture(t testing.TB, root string) string {
	t.Helper()
	models := []string{"rgba", "gray", "paletted", "nrgba", "rgba"}
	for c, class := range []string{"zebra", "antelope", "cat"} {
		for k := 0; k < 5; k++ {
			name := fmt.Sprintf("%s_%d.png", class, k)
			if k == 4 {
				name = "more/" + strings.TrimSuffix(name, ".png") + ".JPG"
			}
			writeImage(t, filepath.Join(root, class, name), solid(models[k], 48+k, 40, classColour(c)))
		}
	}
	writeFile(t, filepath.Join(root, "zebra", "README.txt"), "not an image")
	return root
}

// idxBytes encodes an unsigned-byte IDX array.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gzipBytes(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// fashionFixture writes Fashion-MNIST-style IDX files with n train and m
// test images of 28x28 (train gzip'd, test not), labels i % 10, pixel
// value 20*label.
func fashionFixture(t testing.TB, root string, n, m int) string {
	t.Helper()
	for s, count := range []int{n, m} {
		imgs := make([]byte, count*28*28)
		labs := make([]byte, count)
		for i := range labs {
			labs[i] = byte(i % 10)
			for p := 0; p < 28*28; p++ {
				imgs[i*28*28+p] = 20 * labs[i]
			}
		}
		ib, lb := idxBytes([]int{count, 28, 28}, imgs), idxBytes([]int{count}, labs)
		names := fashionFiles[s]
		if s == 0 {
			writeFile(t, filepath.Join(root, names[0]+".gz"), string(gzipBytes(ib)))
			writeFile(t, filepath.Join(root, names[1]+".gz"), string(gzipBytes(lb)))
		} else {
			writeFile(t, filepath.Join(root, names[0]), string(ib))
			writeFile(t, filepath.Join(root, names[1]), string(lb))
		}
	}
	return root
}
