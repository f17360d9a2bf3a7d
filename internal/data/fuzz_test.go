package data

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// Fuzz targets for everything that parses files a user hands us. Seed
// corpora are in testdata/fuzz/<Target>; run one with e.g.
//
//	go test ./internal/data -run '^$' -fuzz FuzzParseIDList -fuzztime 30s

func FuzzParseIDList(f *testing.F) {
	f.Add([]byte("1 001.Black_footed_Albatross/Black_Footed_Albatross_0046_18.jpg\n2 a/b.jpg\n"))
	f.Add([]byte("\ufeff0 Birds\n1 Perching Birds\n\n295 Red-tailed Hawk (Adult)\r\n"))
	f.Add([]byte("1\n"))
	f.Add([]byte("1 a\n1 b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := parseIDList(bytes.NewReader(data), "list.txt", "value")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "list.txt:") {
				t.Fatalf("error without file and line: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		last := 0
		for _, e := range es {
			if e.ID == "" || e.Value == "" || seen[e.ID] || e.Line <= last || strings.ContainsAny(e.ID, " \t") {
				t.Fatalf("bad entry %+v (after line %d)", e, last)
			}
			seen[e.ID], last = true, e.Line
		}
	})
}

func FuzzParseBoxes(f *testing.F) {
	f.Add([]byte("1 60.0 27.0 325.0 304.0\n2 139.0 30.0 153.0 264.0\n"))
	f.Add([]byte("0000139e-21dc-4d0c-bfe1-4cae3c85c829 83 59 128 228\n"))
	f.Add([]byte("1 0 0 -5 3\n"))
	f.Add([]byte("1 NaN 0 5 3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		bs, err := parseBoxes(bytes.NewReader(data), "bounding_boxes.txt")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "bounding_boxes.txt:") {
				t.Fatalf("error without file and line: %v", err)
			}
			return
		}
		for id, b := range bs {
			if !(b.W > 0 && b.H > 0) || b.X != b.X || b.Y != b.Y {
				t.Fatalf("box %s = %+v", id, b)
			}
		}
	})
}

func FuzzParseDogsList(f *testing.F) {
	f.Add([]byte("n02085620-Chihuahua/n02085620_5927.jpg\nn02085620-Chihuahua/n02085620_4441.jpg\n"))
	f.Add([]byte("Images/n02085620-Chihuahua/n02085620_5927.jpg 1\nn02085782-Japanese_spaniel/n02085782_1.jpg 2\n"))
	f.Add([]byte("../x/y.jpg\n"))
	f.Add([]byte("a/b.jpg 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := parseDogsList(bytes.NewReader(data), "train_list.txt")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "train_list.txt:") {
				t.Fatalf("error without file and line: %v", err)
			}
			return
		}
		for _, e := range es {
			dir, file, ok := strings.Cut(e.Path, "/")
			if !ok || dir == "" || file == "" || strings.Contains(file, "/") || dir == ".." || e.Label < 0 {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}

func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes([]int{2, 3, 3}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}))
	f.Add(gzipBytes(idxBytes([]int{4}, []byte{9, 8, 7, 6})))
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 5, 1, 2})             // truncated
	f.Add([]byte{0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0, 0}) // huge header
	f.Add([]byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0})    // float elements
	f.Fuzz(func(t *testing.T, data []byte) {
		x, err := ReadIDX(bytes.NewReader(data))
		if err != nil {
			return
		}
		n := 1
		for _, d := range x.Dims {
			if d <= 0 {
				t.Fatalf("dimension %d", d)
			}
			n *= d
		}
		if len(x.Data) != n {
			t.Fatalf("%d bytes for dimensions %v", len(x.Data), x.Dims)
		}
		// Writing it back and reading again gives the same array.
		y, err := ReadIDX(bytes.NewReader(idxBytes(x.Dims, x.Data)))
		if err != nil || !slices.Equal(x.Dims, y.Dims) || !bytes.Equal(x.Data, y.Data) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzReadCache(f *testing.F) {
	var good bytes.Buffer
	writeCache(&good, map[string]cacheEntry{"a/b.jpg": {cacheKey{10, 20}, picture{W: 2, H: 1, C: 3, Pix: []byte{1, 2, 3, 4, 5, 6}}}})
	f.Add(good.Bytes())
	f.Add([]byte(cacheMagic + "\x01\x00\x00\x00\x03\x00abc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := readCache(bytes.NewReader(data))
		if err != nil {
			return
		}
		for name, e := range es {
			if len(e.pic.Pix) != e.pic.W*e.pic.H*e.pic.C || (e.pic.C != 1 && e.pic.C != 3) {
				t.Fatalf("entry %q: %dx%dx%d with %d bytes", name, e.pic.W, e.pic.H, e.pic.C, len(e.pic.Pix))
			}
		}
	})
}
