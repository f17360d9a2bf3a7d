// Package data opens the image data sets of the workbench and feeds them to
// the trainer as normalised mini-batches.
//
// A data set is named by a spec (see Spec and ParseSpec), used the same way
// in the CLI, the study files and the TUI:
//
//	synthetic[:key=value,...]   the embedded default, generated in memory
//	imagefolder:PATH            PATH/<class>/*.jpg|png, stratified split
//	cub:PATH                    CUB-200-2011 official layout and split
//	nabirds:PATH                NABirds official layout and split
//	dogs:PATH                   Stanford Dogs, Images/<wnid-name>/*.jpg + lists
//	fashion-mnist[:PATH]        IDX files (default /usr/share/datasets/fashion-mnist)
//
// Open loads every image once, resizes it so that its shorter side is
// StoredSide(size) (36 for a 32-pixel network input) and keeps the 8-bit
// pixels in memory; it computes the per-channel mean and standard deviation
// of the training split. Batches then cuts, flips and normalises on the fly:
// training takes a random size x size crop and a random horizontal flip,
// test takes the centre crop, and a deterministic horizontal or vertical
// test-time flip can be applied to every image (the robustness table). This
// is the resize / random crop / flip / normalise family of the paper's
// Table 2, at the workbench's small scale. Grayscale images (Fashion-MNIST,
// gray JPEGs) are replicated to three channels; paletted, CMYK and other
// colour models are converted to RGB; transparent pixels are composited
// onto black.
//
// The batch iterator prepares batches on its own goroutines into a bounded
// set of reusable buffers while the trainer computes. Which images a batch
// holds and how they are cropped and flipped depend only on (seed, epoch,
// batch number), never on goroutine timing, so a run can resume exactly at
// any batch.
//
// # The synthetic fine-grained set
//
// "synthetic" is a procedural stand-in for CUB-200-2011 that needs no
// download and is generated in about a second. It is fixed by (seed,
// classes, images per class, image size, difficulty): the same parameters
// give the same bytes on every machine, whatever the number of goroutines,
// because every image draws from its own random stream keyed by (seed,
// split, class, index).
//
// Every image shows one bird drawn from a shared template: body, belly,
// head, eye, beak, wing, tail and legs, standing on a branch. Classes differ
// only in small local parts, six attributes with a few levels each: beak
// length (stubby, medium, long), wing bars (none, white, yellow, two white),
// a white eye ring, a forked tail, a cap on the crown (red or black) and a
// dark throat bib. Classes come in genera of three (four for the last one
// when needed), as in a real bird data set: a genus starts at a random
// point of this attribute space and its other species are a random walk
// from it, one attribute at a time. So every class has a sibling that
// differs in a single small part (tested), while different genera differ
// in several parts; the class names spell the attributes. Within a
// class almost everything else varies: plumage colour (any hue; it carries
// no label), facing left or right, rotation, scale and position, the sky-
// to-ground background with value-noise texture, clutter (twigs, blobs and
// leaves, some in the very colours of the class parts, so colour counting
// does not give the class away), occluders in front of the bird, and the
// illumination (brightness, colour cast, contrast, sensor noise).
//
// The scene has an up direction: sky above, ground and branch below, light
// from above, legs under the body. A horizontal flip gives another valid
// image (birds face both ways), while a vertical flip is a real shift of
// the distribution, as in the paper's robustness table.
//
// Difficulty in [0, 1] (default 0.2) scales the within-class variation:
// pose and scale ranges, clutter and occluders, texture and noise, the
// fading of the part colours into the plumage, the jitter of beak length
// and the thinning of bars and eye rings. Plumage, background colour and
// facing vary fully at every difficulty. Classes never overlap
// completely: at difficulty 1 beak lengths of neighbouring levels start to
// overlap but the other parts stay distinct. The default was chosen with
// the trainer's quick profile (reference resnet, two-step MKSMT, 10 classes
// x 200 training images, 4 epochs), where it leaves the S4 head clearly
// above chance and far from perfect; a raw-pixel nearest-class-mean
// classifier stays near chance (tested), so the task needs features.
//
// # Bounded input
//
// A line of a list file longer than MaxListLine (64 KiB) is an error
// "FILE:line N: longer than 65536 bytes". An IDX header must fit its file
// (the bytes after the header, or at most 1032 times a gzip'd file's size,
// deflate's largest expansion) and declare at most 2^30 elements before
// anything is read or allocated. Before loading, Open estimates the memory
// the images take (3 × StoredSide(size)² bytes and some bookkeeping per
// image: exact for synthetic specs, from the spec alone, see
// EstimateMemory; a lower bound for file-backed sets, after listing) and
// fails, naming the options to lower, when it exceeds MachineMemory:
// MemAvailable of /proc/meminfo or a smaller cgroup memory.max, else
// FallbackMemoryBytes (16 GiB). Errors of Open are *OpenError and start
// "data set SPEC: " once.
//
// What this package must not do: train, know about networks, or write
// anywhere but its own disk cache. It never drops an image silently: a
// missing list file, an unparseable line, a label out of range, a class
// without training images or an unreadable image is an error that names the
// file (and line), and Open fails.
package data
