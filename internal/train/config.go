package train

// Config is everything that defines one training run, as plain values.
// Study specs (internal/experiment) expand into Configs; the runner hands a
// Config to Run; its canonical JSON is hashed to recognise identical runs.
// Field names in JSON/TOML are the names researchers write in specs.
type Config struct {
	// Data and model.
	Dataset  string `json:"dataset" toml:"dataset"`   // data set spec, e.g. "synthetic" or "cub:/data/CUB_200_2011"
	Backbone string `json:"backbone" toml:"backbone"` // "resnet" or "swin"
	// Image size fed to the network (after resize/crop); 32 for the reference nets.
	ImageSize int `json:"image_size" toml:"image_size"`

	// resnet: stage widths and depths (DESIGN §2 defaults 16,32,64,128 and 1,1,3,1).
	Widths []int `json:"widths,omitempty" toml:"widths"`
	Depths []int `json:"depths,omitempty" toml:"depths"`
	// swin: embed dim, depths (Depths above), heads per stage, window, patch size, MLP ratio.
	EmbedDim  int     `json:"embed_dim,omitempty" toml:"embed_dim"`
	Heads     []int   `json:"heads,omitempty" toml:"heads"`
	Window    int     `json:"window,omitempty" toml:"window"`
	PatchSize int     `json:"patch_size,omitempty" toml:"patch_size"`
	MLPRatio  float64 `json:"mlp_ratio,omitempty" toml:"mlp_ratio"`
	// OPM output dimension K (128).
	HeadDim int `json:"head_dim" toml:"head_dim"`

	// The MKSMT schedule (DESIGN §1).
	Steps       int     `json:"steps" toml:"steps"`             // 0 baseline, 1, 2 (MKSMT), 3
	Mode        string  `json:"mode" toml:"mode"`               // "sync" or "async"
	Distill     string  `json:"distill" toml:"distill"`         // "decision", "feature" or "none"
	Temperature float64 `json:"temperature" toml:"temperature"` // T > 0
	Lambda1     float64 `json:"lambda1" toml:"lambda1"`
	Lambda2     float64 `json:"lambda2" toml:"lambda2"`

	// Optimisation.
	Epochs         int     `json:"epochs" toml:"epochs"`
	BatchSize      int     `json:"batch_size" toml:"batch_size"`
	LR             float64 `json:"lr" toml:"lr"`
	WeightDecay    float64 `json:"weight_decay" toml:"weight_decay"`
	WarmupEpochs   float64 `json:"warmup_epochs" toml:"warmup_epochs"`
	ClipNorm       float64 `json:"clip_norm" toml:"clip_norm"` // 0 = no clipping
	LabelSmoothing float64 `json:"label_smoothing" toml:"label_smoothing"`

	// Bookkeeping.
	Seed      int64 `json:"seed" toml:"seed"`
	EvalEvery int   `json:"eval_every" toml:"eval_every"` // evaluate every N epochs (the last epoch always)
	LogEvery  int   `json:"log_every" toml:"log_every"`   // emit a StepEvent (mean losses since the last one) every N batches
}

// DefaultConfig is the reference setting: resnet, two-step MKSMT, sync,
// decision distillation, T = 1, λ1 = λ2 = 1, on the embedded synthetic set.
// Profiles (internal/experiment) override epochs and sizes.
func DefaultConfig() Config {
	return Config{
		Dataset:        "synthetic",
		Backbone:       "resnet",
		ImageSize:      32,
		Widths:         []int{16, 32, 64, 128},
		Depths:         []int{1, 1, 3, 1},
		EmbedDim:       32,
		Heads:          []int{1, 2, 4, 8},
		Window:         4,
		PatchSize:      2,
		MLPRatio:       4,
		HeadDim:        128,
		Steps:          2,
		Mode:           "sync",
		Distill:        "decision",
		Temperature:    1,
		Lambda1:        1,
		Lambda2:        1,
		Epochs:         10,
		BatchSize:      32,
		LR:             2e-3,
		WeightDecay:    0.05,
		WarmupEpochs:   1,
		ClipNorm:       5,
		LabelSmoothing: 0,
		Seed:           1,
		EvalEvery:      1,
		LogEvery:       10,
	}
}
