package data

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// The disk cache keeps the decoded, resized images of one data set root
// (for one stored side and crop setting) in one file, so that a data set
// is decoded once and not at every run. An entry is used only when the
// image file still has the size and modification time it had when it was
// decoded; anything else is decoded again. The cache holds no information
// that is not in the images: deleting it is always safe.

const cacheMagic = "WBIMGCACHE1\n"

// EnvCacheDir names the environment variable that overrides the disk cache
// directory; the value "off" disables the disk cache.
const EnvCacheDir = "WORKBENCH_CACHE_DIR"

// DefaultCacheDir returns the directory of the disk cache: $WORKBENCH_CACHE_DIR
// when set, otherwise mksmt-workbench/images under the user's cache
// directory. It returns "" when the cache is off or no directory is known.
func DefaultCacheDir() string {
	if v := os.Getenv(EnvCacheDir); v != "" {
		if v == "off" {
			return ""
		}
		return v
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "mksmt-workbench", "images")
}

type cacheKey struct {
	size, mtime int64
}

type cacheEntry struct {
	cacheKey
	pic picture
}

// diskCache is the cache file of one data set root, loaded into memory.
type diskCache struct {
	path    string
	mu      sync.Mutex
	entries map[string]cacheEntry // by path relative to the root
	dirty   bool
}

// openCache loads the cache file for (root, variant) from dir. A missing
// cache is empty; an unreadable one is reported by the note and rebuilt.
func openCache(dir, root, variant string) (c *diskCache, note string) {
	if dir == "" {
		return nil, ""
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		abs = root
	}
	h := sha256.Sum256([]byte(abs + "\x00" + variant))
	c = &diskCache{path: filepath.Join(dir, hex.EncodeToString(h[:8])+".imgcache"), entries: map[string]cacheEntry{}}
	f, err := os.Open(c.path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			note = fmt.Sprintf("disk cache %s cannot be read (%v); images are decoded again", c.path, err)
		}
		return c, note
	}
	defer f.Close()
	entries, err := readCache(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return c, fmt.Sprintf("disk cache %s is damaged (%v); images are decoded again and the cache rewritten", c.path, err)
	}
	c.entries = entries
	return c, ""
}

// readCache parses a cache file.
func readCache(r io.Reader) (map[string]cacheEntry, error) {
	magic := make([]byte, len(cacheMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != cacheMagic {
		return nil, fmt.Errorf("not a workbench image cache")
	}
	var n uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return nil, fmt.Errorf("reading the entry count: %w", err)
	}
	out := make(map[string]cacheEntry, min(n, 1<<16))
	le := binary.LittleEndian
	var hdr [21]byte // size, mtime int64; w, h uint16; c uint8
	for i := uint32(0); i < n; i++ {
		var nameLen [2]byte
		if _, err := io.ReadFull(r, nameLen[:]); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		name := make([]byte, le.Uint16(nameLen[:]))
		if _, err := io.ReadFull(r, name); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		k := cacheKey{int64(le.Uint64(hdr[0:])), int64(le.Uint64(hdr[8:]))}
		pic := picture{W: int(le.Uint16(hdr[16:])), H: int(le.Uint16(hdr[18:])), C: int(hdr[20])}
		if pic.W == 0 || pic.H == 0 || (pic.C != 1 && pic.C != 3) {
			return nil, fmt.Errorf("entry %d: bad image shape %dx%dx%d", i, pic.W, pic.H, pic.C)
		}
		pix, err := readN(r, pic.W*pic.H*pic.C)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		pic.Pix = pix
		out[string(name)] = cacheEntry{k, pic}
	}
	return out, nil
}

// get returns the cached image for rel if it was decoded from a file of the
// same size and modification time.
func (c *diskCache) get(rel string, k cacheKey) (picture, bool) {
	if c == nil {
		return picture{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[rel]
	if !ok || e.cacheKey != k {
		return picture{}, false
	}
	return e.pic, true
}

func (c *diskCache) put(rel string, k cacheKey, p picture) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[rel] = cacheEntry{k, p}
	c.dirty = true
}

// save writes the cache if it changed, atomically (temporary file and
// rename), so that a crash never leaves half a cache.
func (c *diskCache) save() error {
	if c == nil || !c.dirty {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".imgcache-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename this fails harmlessly
	w := bufio.NewWriterSize(tmp, 1<<16)
	if err := writeCache(w, c.entries); err != nil {
		tmp.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		return err
	}
	c.dirty = false
	return nil
}

func writeCache(w io.Writer, entries map[string]cacheEntry) error {
	if _, err := io.WriteString(w, cacheMagic); err != nil {
		return err
	}
	var valid []string
	for name, e := range entries {
		if len(name) < 1<<16 && e.pic.W < 1<<16 && e.pic.H < 1<<16 && len(e.pic.Pix) == e.pic.W*e.pic.H*e.pic.C {
			valid = append(valid, name)
		}
	}
	le := binary.LittleEndian
	if err := binary.Write(w, le, uint32(len(valid))); err != nil {
		return err
	}
	var hdr [21]byte
	for _, name := range valid {
		e := entries[name]
		le.PutUint64(hdr[0:], uint64(e.size))
		le.PutUint64(hdr[8:], uint64(e.mtime))
		le.PutUint16(hdr[16:], uint16(e.pic.W))
		le.PutUint16(hdr[18:], uint16(e.pic.H))
		hdr[20] = uint8(e.pic.C)
		for _, b := range [][]byte{le.AppendUint16(nil, uint16(len(name))), []byte(name), hdr[:], e.pic.Pix} {
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// readN reads exactly n bytes. Large reads grow with the data actually
// there, so that a damaged length cannot make it allocate gigabytes.
func readN(r io.Reader, n int) ([]byte, error) {
	if n <= 1<<20 {
		b := make([]byte, n)
		_, err := io.ReadFull(r, b)
		return b, err
	}
	var buf bytes.Buffer
	if m, err := io.CopyN(&buf, r, int64(n)); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %d of %d bytes", io.ErrUnexpectedEOF, m, n)
		}
		return nil, err
	}
	return buf.Bytes(), nil
}
