package data

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// fileItem is one image of a data set on disk.
type fileItem struct {
	rel   string // path relative to listing.root, slash-separated
	where string // where it is listed, for errors ("images.txt:12")
	label int
	split SplitKind
	box   *box
}

// listing is what a reader finds under a root: the classes and the images,
// in the format's own order.
type listing struct {
	root    string // directory the rel paths are relative to
	classes []string
	items   []fileItem
	variant string // what else changes the decoded pixels (cache key)
	notes   []string
	source  string
}

// imageExts are the file name extensions an ImageFolder tree may use.
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}

// loadFiles lists, decodes (or takes from the disk cache) and stores the
// images of an on-disk data set.
func (d *Dataset) loadFiles(ctx context.Context, o Options) error {
	sp := d.parsed
	if fi, err := os.Stat(sp.Path); err != nil {
		return fmt.Errorf("root %s: %w", sp.Path, unwrapPathErr(err))
	} else if !fi.IsDir() {
		return fmt.Errorf("root %s is not a directory", sp.Path)
	}
	l, err := listSpec(sp)
	if err != nil {
		return err
	}
	items, capNotes := capPerClass(l.items, len(l.classes), sp.caps())
	// Every image is held at least at stored x stored: refuse a listing
	// that cannot fit before decoding any of it.
	if err := checkFits(storedImageBytes(len(items), 3, d.stored), d.size, sp.Kind, false); err != nil {
		return err
	}
	d.notes = append(append(d.notes, l.notes...), capNotes...)
	d.classes = l.classes
	d.source = l.source

	dir := o.CacheDir
	if dir == "" {
		dir = DefaultCacheDir()
	} else if dir == "off" {
		dir = ""
	}
	cache, note := openCache(dir, l.root, fmt.Sprintf("side=%d %s", d.stored, l.variant))
	if note != "" {
		d.notes = append(d.notes, note)
	}
	pics := make([]picture, len(items))
	sizes := make([]int64, len(items))
	errs := make([]error, len(items))
	var done atomic.Int64
	err = parallel(ctx, len(items), func(i int) {
		it := items[i]
		path := filepath.Join(l.root, filepath.FromSlash(it.rel))
		defer func() {
			if o.Progress != nil {
				o.Progress(int(done.Add(1)), len(items))
			}
		}()
		fi, err := os.Stat(path)
		if err != nil {
			errs[i] = fmt.Errorf("image %s (listed in %s): %w", path, it.where, unwrapPathErr(err))
			return
		}
		sizes[i] = fi.Size()
		key := cacheKey{fi.Size(), fi.ModTime().UnixNano()}
		if p, ok := cache.get(it.rel, key); ok {
			pics[i] = p
			return
		}
		p, err := loadImage(path, it.box, d.stored)
		if err != nil {
			errs[i] = fmt.Errorf("%w (listed in %s)", err, it.where)
			return
		}
		pics[i] = p
		cache.put(it.rel, key, p)
	})
	if err != nil {
		return err
	}
	if err := firstError(errs); err != nil {
		return err
	}
	if err := cache.save(); err != nil {
		d.notes = append(d.notes, fmt.Sprintf("disk cache %s not written: %v", cache.path, err))
	}

	fp := newFingerprint(sp, d.size, l.variant)
	for i, it := range items {
		s := &d.splits[it.split]
		s.pics = append(s.pics, pics[i])
		s.labels = append(s.labels, it.label)
		fp.entry(it.split, it.label, it.rel+"\x00"+strconv.FormatInt(sizes[i], 10))
	}
	d.fingerprint = fp.sum()
	return nil
}

// firstError returns the first error in list order, saying how many more
// there are.
func firstError(errs []error) error {
	var first error
	n := 0
	for _, e := range errs {
		if e != nil {
			if first == nil {
				first = e
			}
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("%w (and %d more images that fail)", first, n-1)
	}
	return first
}

// unwrapPathErr drops the path from an *fs.PathError whose path the caller
// already names.
func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// listSpec lists the images of an on-disk data set of a file-based kind.
func listSpec(sp Spec) (listing, error) {
	switch sp.Kind {
	case KindImageFolder:
		return listImageFolder(sp.Path, sp.floatOpt("test", 0.2), sp.int64Opt("split_seed", 1))
	case KindCUB, KindNABirds:
		return listOfficial(sp.Path, sp.Kind, sp.boolOpt("bbox", false))
	case KindDogs:
		return listDogs(sp.Path)
	}
	return listing{}, nil
}

// capNote says what a positive per-class cap on split s left out.
func capNote(s SplitKind, c, dropped int) string {
	return fmt.Sprintf("%s_per_class=%d: kept the first %d %s images of each class (%d left out)", s, c, c, s, dropped)
}

// capPerClass keeps the first caps[Train] (caps[Test]) images of each
// class in list order, when the cap is positive.
func capPerClass(items []fileItem, classes int, caps [2]int) ([]fileItem, []string) {
	if caps[0] <= 0 && caps[1] <= 0 {
		return items, nil
	}
	var count [2][]int
	count[0], count[1] = make([]int, classes), make([]int, classes)
	out := make([]fileItem, 0, len(items))
	dropped := [2]int{}
	for _, it := range items {
		c := caps[it.split]
		if c > 0 && count[it.split][it.label] >= c {
			dropped[it.split]++
			continue
		}
		count[it.split][it.label]++
		out = append(out, it)
	}
	var notes []string
	for s, c := range caps {
		if c > 0 {
			notes = append(notes, capNote(SplitKind(s), c, dropped[s]))
		}
	}
	return out, notes
}

// ---- ImageFolder ----

// listImageFolder lists root/<class>/**/*.jpg|jpeg|png. Classes are the
// subdirectories, sorted; files that are not images are left out and
// counted in a note. The split is stratified: in each class, a fraction
// test of the images (rounded, at least one left for training) chosen by
// a shuffle seeded with seed and the class name.
func listImageFolder(root string, test float64, seed int64) (listing, error) {
	l := listing{root: root, source: "image folder " + root}
	entries, err := os.ReadDir(root)
	if err != nil {
		return l, fmt.Errorf("root %s: %w", root, unwrapPathErr(err))
	}
	var other []string
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "."):
			other = append(other, e.Name())
		case e.IsDir():
			l.classes = append(l.classes, e.Name())
		default:
			other = append(other, e.Name())
		}
	}
	sort.Strings(l.classes)
	if len(l.classes) == 0 {
		return l, fmt.Errorf("root %s has no class directories (want root/<class>/*.jpg|png)", root)
	}
	for label, class := range l.classes {
		var files []string
		err := filepath.WalkDir(filepath.Join(root, class), func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			if e.IsDir() {
				return nil
			}
			if imageExts[strings.ToLower(filepath.Ext(p))] && !strings.HasPrefix(e.Name(), ".") {
				files = append(files, rel)
			} else {
				other = append(other, rel)
			}
			return nil
		})
		if err != nil {
			return l, fmt.Errorf("class %s: %w", class, err)
		}
		if len(files) == 0 {
			return l, fmt.Errorf("class %q (%s) has no images (.jpg, .jpeg or .png), so no training images", class, filepath.Join(root, class))
		}
		sort.Strings(files)
		h := fnv.New64a()
		h.Write([]byte(class))
		r := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
		r.Shuffle(len(files), func(i, j int) { files[i], files[j] = files[j], files[i] })
		nTest := min(int(math.Round(test*float64(len(files)))), len(files)-1)
		isTest := map[string]bool{}
		for _, f := range files[:nTest] {
			isTest[f] = true
		}
		sort.Strings(files)
		for _, f := range files {
			s := Train
			if isTest[f] {
				s = Test
			}
			l.items = append(l.items, fileItem{rel: f, where: "the folder of class " + class, label: label, split: s})
		}
	}
	if len(other) > 0 {
		sort.Strings(other)
		l.notes = append(l.notes, fmt.Sprintf("%d files that are not .jpg/.jpeg/.png images (or are hidden) are not used, e.g. %s", len(other), other[0]))
	}
	l.variant = "imagefolder"
	return l, nil
}

// ---- CUB-200-2011 and NABirds ----

// listOfficial reads the CUB-200-2011 / NABirds layout: images.txt,
// image_class_labels.txt and train_test_split.txt (required), classes.txt
// (names, optional) and bounding_boxes.txt (required when bbox is set),
// with the images under images/. Classes are the labels that have images,
// in numeric order.
func listOfficial(root, kind string, bbox bool) (listing, error) {
	// Accept the parent of the extracted archive too.
	sub := map[string]string{KindCUB: "CUB_200_2011", KindNABirds: "nabirds"}[kind]
	if _, err := os.Stat(filepath.Join(root, "images.txt")); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(root, sub, "images.txt")); err == nil {
			root = filepath.Join(root, sub)
		}
	}
	name := map[string]string{KindCUB: "CUB-200-2011", KindNABirds: "NABirds"}[kind]
	l := listing{root: filepath.Join(root, "images"), source: name + " at " + root}
	need := func(file string) string { return filepath.Join(root, file) }
	read := func(file, what string) ([]listEntry, error) {
		es, err := readList(need(file), func(r io.Reader, n string) ([]listEntry, error) { return parseIDList(r, n, what) })
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("missing split file %s (the %s layout needs images.txt, image_class_labels.txt and train_test_split.txt in %s)", need(file), name, root)
		}
		return es, err
	}
	images, err := read("images.txt", "path")
	if err != nil {
		return l, err
	}
	labels, err := read("image_class_labels.txt", "class id")
	if err != nil {
		return l, err
	}
	splits, err := read("train_test_split.txt", "is_training_image")
	if err != nil {
		return l, err
	}
	var classNames map[int]string
	if es, err := readList(need("classes.txt"), func(r io.Reader, n string) ([]listEntry, error) { return parseIDList(r, n, "class name") }); err == nil {
		classNames = map[int]string{}
		for _, e := range es {
			id, err := strconv.Atoi(e.ID)
			if err != nil {
				return l, fmt.Errorf("%s:%d: class id %q is not an integer", need("classes.txt"), e.Line, clip(e.ID))
			}
			classNames[id] = e.Value
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return l, err
	}
	var boxes map[string]box
	if bbox {
		boxes, err = readList(need("bounding_boxes.txt"), parseBoxes)
		if errors.Is(err, fs.ErrNotExist) {
			return l, fmt.Errorf("bbox=true but %s is missing", need("bounding_boxes.txt"))
		} else if err != nil {
			return l, err
		}
		l.variant = "bbox"
	}

	// Cross-check the lists: every image has exactly one label and split,
	// and no list names an image that images.txt does not have.
	index := map[string]int{}
	for i, e := range images {
		p := filepath.ToSlash(e.Value)
		if !filepath.IsLocal(filepath.FromSlash(p)) {
			return l, fmt.Errorf("%s:%d: image path %q leaves the images directory", need("images.txt"), e.Line, clip(e.Value))
		}
		images[i].Value = p
		index[e.ID] = i
	}
	label := make([]int, len(images))
	labelLine := make([]int, len(images))
	for _, e := range labels {
		i, ok := index[e.ID]
		if !ok {
			return l, fmt.Errorf("%s:%d: image id %s is not in images.txt", need("image_class_labels.txt"), e.Line, e.ID)
		}
		c, err := strconv.Atoi(e.Value)
		if err != nil {
			return l, fmt.Errorf("%s:%d: class id %q is not an integer", need("image_class_labels.txt"), e.Line, clip(e.Value))
		}
		if classNames != nil {
			if _, ok := classNames[c]; !ok {
				return l, fmt.Errorf("%s:%d: label %d out of range: classes.txt has no class %d", need("image_class_labels.txt"), e.Line, c, c)
			}
		}
		label[i], labelLine[i] = c, e.Line
	}
	split := make([]int, len(images))
	for i := range split {
		split[i] = -1
	}
	for _, e := range splits {
		i, ok := index[e.ID]
		if !ok {
			return l, fmt.Errorf("%s:%d: image id %s is not in images.txt", need("train_test_split.txt"), e.Line, e.ID)
		}
		switch e.Value {
		case "1":
			split[i] = int(Train)
		case "0":
			split[i] = int(Test)
		default:
			return l, fmt.Errorf("%s:%d: is_training_image must be 0 or 1, got %q", need("train_test_split.txt"), e.Line, clip(e.Value))
		}
	}
	used := map[int]bool{}
	for i, e := range images {
		if labelLine[i] == 0 {
			return l, fmt.Errorf("%s:%d: image %s has no label in image_class_labels.txt", need("images.txt"), e.Line, e.ID)
		}
		if split[i] < 0 {
			return l, fmt.Errorf("%s:%d: image %s has no entry in train_test_split.txt", need("images.txt"), e.Line, e.ID)
		}
		if bbox {
			if _, ok := boxes[e.ID]; !ok {
				return l, fmt.Errorf("%s:%d: image %s has no bounding box in bounding_boxes.txt", need("images.txt"), e.Line, e.ID)
			}
		}
		used[label[i]] = true
	}
	ids := make([]int, 0, len(used))
	for c := range used {
		ids = append(ids, c)
	}
	sort.Ints(ids)
	dense := map[int]int{}
	for k, c := range ids {
		dense[c] = k
		n := classNames[c]
		if n == "" {
			n = fmt.Sprintf("class %d", c)
		}
		l.classes = append(l.classes, n)
	}
	if kind == KindCUB && classNames != nil && len(classNames) > len(ids) {
		l.notes = append(l.notes, fmt.Sprintf("classes.txt lists %d classes but only %d have images; the others are not used", len(classNames), len(ids)))
	}
	for i, e := range images {
		it := fileItem{rel: e.Value, where: fmt.Sprintf("%s:%d", need("images.txt"), e.Line), label: dense[label[i]], split: SplitKind(split[i])}
		if bbox {
			b := boxes[e.ID]
			it.box = &b
		}
		l.items = append(l.items, it)
	}
	return l, nil
}

// ---- Stanford Dogs ----

// listDogs reads Stanford Dogs: Images/<wnid-name>/*.jpg with the official
// split as text lists train_list.txt and test_list.txt (in the root or in
// lists/). Classes are the directories under Images/, sorted (the official
// label order).
func listDogs(root string) (listing, error) {
	l := listing{root: filepath.Join(root, "Images"), source: "Stanford Dogs at " + root}
	entries, err := os.ReadDir(l.root)
	if err != nil {
		return l, fmt.Errorf("Stanford Dogs: %s: %w (want %s/Images/<wnid-name>/*.jpg)", l.root, unwrapPathErr(err), root)
	}
	classIndex := map[string]int{}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			dirs = append(dirs, e.Name())
		}
	}
	sort.Strings(dirs)
	for i, dir := range dirs {
		classIndex[dir] = i
		name := dir
		if _, n, ok := strings.Cut(dir, "-"); ok && n != "" {
			name = n
		}
		l.classes = append(l.classes, name)
	}
	find := func(base string) string {
		for _, p := range []string{filepath.Join(root, base), filepath.Join(root, "lists", base)} {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		return ""
	}
	seen := map[string]string{}
	for _, s := range []SplitKind{Train, Test} {
		base := s.String() + "_list"
		path := find(base + ".txt")
		if path == "" {
			if mat := find(base + ".mat"); mat != "" {
				return l, fmt.Errorf("Stanford Dogs: found %s but no %s.txt; this reader does not parse MATLAB files. "+
					"Provide train_list.txt and test_list.txt next to the .mat files, one image per line as a path under Images/ "+
					"(e.g. n02085620-Chihuahua/n02085620_5927.jpg), optionally followed by its 1-based label; "+
					"they are the file_list and labels fields of train_list.mat and test_list.mat", mat, base)
			}
			return l, fmt.Errorf("Stanford Dogs: missing split file %s.txt in %s or %s", base, root, filepath.Join(root, "lists"))
		}
		es, err := readList(path, parseDogsList)
		if err != nil {
			return l, err
		}
		for _, e := range es {
			where := fmt.Sprintf("%s:%d", path, e.Line)
			dir, _, _ := strings.Cut(e.Path, "/")
			c, ok := classIndex[dir]
			if !ok {
				return l, fmt.Errorf("%s: class directory %s is not in %s", where, dir, l.root)
			}
			if e.Label != 0 && e.Label != c+1 {
				return l, fmt.Errorf("%s: label %d out of range for %s: its directory is class %d of %d", where, e.Label, e.Path, c+1, len(dirs))
			}
			if prev, dup := seen[e.Path]; dup {
				return l, fmt.Errorf("%s: %s is also listed in %s", where, e.Path, prev)
			}
			seen[e.Path] = where
			l.items = append(l.items, fileItem{rel: e.Path, where: where, label: c, split: s})
		}
	}
	l.variant = "dogs"
	return l, nil
}
