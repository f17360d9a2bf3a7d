package train

import (
	"fmt"
	"math"

	"github.com/mksmt/workbench/internal/data"
	"github.com/mksmt/workbench/internal/nets"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GradCAMStages are the stages GradCAM explains, in the order of
// GradCAMResult.Maps.
var GradCAMStages = []int{2, 3, 4}

// GradCAMResult is Grad-CAM for one test image (the paper's Figure 4).
type GradCAMResult struct {
	Image int // index in the test split
	Label int // the image's true class
	Class int // the class whose S4 logit is explained
	Pred  int // S4's predicted class
	H, W  int // size of the maps: the network's input
	// Maps[k] is the map of stage GradCAMStages[k], H×W row-major, scaled
	// to [0, 1] by its maximum (all zero when the weighted sum is ≤ 0
	// everywhere).
	Maps [][]float32
}

// GradCAM computes Grad-CAM maps at the outputs of S2, S3 and S4 for test
// images of ds, from the weights and running statistics in a run's
// checkpoint: for the S4 logit of class[i] (or, when class is nil, of the
// image's true label), the gradient with respect to each stage's feature
// map; channel weights are its spatial mean; the map is the ReLU of the
// weighted sum of the channels, upsampled bilinearly to the input size.
// The network runs in inference mode (batch norms use their running
// statistics), so each image's maps depend on that image only.
func GradCAM(ckptPath string, cfg Config, ds *data.Dataset, images []int, class []int) ([]GradCAMResult, error) {
	if class != nil && len(class) != len(images) {
		return nil, fmt.Errorf("grad-cam: %d images but %d classes", len(images), len(class))
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("grad-cam: config: %w", err)
	}
	f, err := readCheckpoint(ckptPath)
	if err != nil {
		return nil, fmt.Errorf("grad-cam: %w", err)
	}
	if why := sameRun(f.Config, cfg); why != "" {
		return nil, fmt.Errorf("grad-cam: checkpoint %s belongs to another run: %s", ckptPath, why)
	}
	k := ds.NumClasses()
	for i, idx := range images {
		if idx < 0 || idx >= ds.Len(data.Test) {
			return nil, fmt.Errorf("grad-cam: image %d out of range: the test split of %s has %d images", idx, ds.Spec(), ds.Len(data.Test))
		}
		if class != nil && (class[i] < 0 || class[i] >= k) {
			return nil, fmt.Errorf("grad-cam: class %d out of range [0, %d)", class[i], k)
		}
	}
	m, err := nets.New(cfg.Arch(k), tensor.Float32, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("grad-cam: %w", err)
	}
	if err := f.restore(ckptPath, m); err != nil {
		return nil, fmt.Errorf("grad-cam: %w", err)
	}

	const chunk = 16
	var out []GradCAMResult
	for lo := 0; lo < len(images); lo += chunk {
		hi := min(lo+chunk, len(images))
		var cls []int
		if class != nil {
			cls = class[lo:hi]
		}
		res, err := gradCAMBatch(m, ds, images[lo:hi], cls)
		if err != nil {
			return nil, fmt.Errorf("grad-cam: %w", err)
		}
		out = append(out, res...)
	}
	return out, nil
}

func gradCAMBatch(m *nets.Model, ds *data.Dataset, images, class []int) ([]GradCAMResult, error) {
	n := max(2, len(images)) // nets.Build needs two images at least; the pad is zeros
	k := m.Arch.Classes
	g := G.NewGraph()
	net, err := m.Build(g, nets.Spec{Mode: nets.Infer, Batch: n, UpTo: 4, Heads: []int{4}, Probes: true})
	if err != nil {
		return nil, err
	}
	res := make([]GradCAMResult, len(images))
	mask := make([]float32, n*k)
	x := net.XValue.Data().([]float32)
	per := len(x) / n
	for i, idx := range images {
		img, label := ds.Image(data.Test, idx, data.NoFlip)
		copy(x[i*per:(i+1)*per], img)
		c := label
		if class != nil {
			c = class[i]
		}
		mask[i*k+c] = 1
		res[i] = GradCAMResult{Image: idx, Label: label, Class: c, H: m.Arch.ImageSize, W: m.Arch.ImageSize}
	}
	// cost = Σ_i z4[i, class_i]: the images are independent in inference
	// mode, so its gradient at image i is that of image i's own logit.
	mn := G.NewTensor(g, tensor.Float32, 2, G.WithShape(n, k), G.WithName("classmask"),
		G.WithValue(tensor.New(tensor.WithShape(n, k), tensor.WithBacking(mask))))
	var c chain
	cost := c.do(G.Sum(c.do(G.HadamardProd(net.Z[4], mn))))
	if c.err != nil {
		return nil, c.err
	}
	probes := G.Nodes{net.Probes[2], net.Probes[3], net.Probes[4]}
	if _, err := G.Grad(cost, probes...); err != nil {
		return nil, fmt.Errorf("gradient: %w", err)
	}
	var acts [3]G.Value
	for s, st := range GradCAMStages {
		G.Read(net.Stages[st], &acts[s])
	}
	var logits G.Value
	G.Read(net.Z[4], &logits)
	vm := G.NewTapeMachine(g, G.BindDualValues(probes...))
	defer closeVM(vm)
	if err := vm.RunAll(); err != nil {
		return nil, err
	}
	z := logits.Data().([]float32)
	for i := range images {
		res[i].Pred = argmax(z[i*k : (i+1)*k])
	}
	for s, st := range GradCAMStages {
		gv, err := probes[s].Grad()
		if err != nil {
			return nil, fmt.Errorf("gradient at S%d: %w", st, err)
		}
		l := nets.StageLayout(m.Arch, st)
		a, d := acts[s].Data().([]float32), gv.Data().([]float32)
		size := l.C * l.H * l.W
		for i := range images {
			cam := camMap(a[i*size:(i+1)*size], d[i*size:(i+1)*size], l)
			res[i].Maps = append(res[i].Maps, upsample(cam, l.H, l.W, m.Arch.ImageSize, m.Arch.ImageSize))
		}
	}
	return res, nil
}

// camMap is ReLU(Σ_c w_c·A_c) with w_c the spatial mean of dA_c, for one
// image's feature map a and its gradient d in layout l.
func camMap(a, d []float32, l nets.Layout) []float64 {
	hw := l.H * l.W
	at := func(c, p int) int { // index of channel c at spatial position p
		if l.Tokens {
			return p*l.C + c
		}
		return c*hw + p
	}
	cam := make([]float64, hw)
	for c := 0; c < l.C; c++ {
		var w float64
		for p := 0; p < hw; p++ {
			w += float64(d[at(c, p)])
		}
		w /= float64(hw)
		for p := 0; p < hw; p++ {
			cam[p] += w * float64(a[at(c, p)])
		}
	}
	for p := range cam {
		cam[p] = math.Max(0, cam[p])
	}
	return cam
}

// upsample resizes a h×w map to H×W bilinearly (pixel centres aligned, as
// align_corners=False) and scales it to [0, 1] by its maximum.
func upsample(src []float64, h, w, H, W int) []float32 {
	out := make([]float32, H*W)
	coord := func(o, in, outSize int) (int, int, float64) {
		x := (float64(o)+0.5)*float64(in)/float64(outSize) - 0.5
		x = math.Max(0, x)
		i0 := min(int(x), in-1)
		i1 := min(i0+1, in-1)
		return i0, i1, x - float64(i0)
	}
	var mx float64
	vals := make([]float64, H*W)
	for y := 0; y < H; y++ {
		y0, y1, fy := coord(y, h, H)
		for x := 0; x < W; x++ {
			x0, x1, fx := coord(x, w, W)
			top := src[y0*w+x0]*(1-fx) + src[y0*w+x1]*fx
			bot := src[y1*w+x0]*(1-fx) + src[y1*w+x1]*fx
			v := top*(1-fy) + bot*fy
			vals[y*W+x] = v
			mx = math.Max(mx, v)
		}
	}
	if mx > 0 {
		for i, v := range vals {
			out[i] = float32(v / mx)
		}
	}
	return out
}
