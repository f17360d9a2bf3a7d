package train

import "github.com/mksmt/workbench/internal/runspec"

// What a run is (its Config, keys and events) is defined in the cgo-free
// internal/runspec; the trainer uses the same names through these aliases.
type (
	Config        = runspec.Config
	Switch        = runspec.Switch
	Logger        = runspec.Logger
	StepEvent     = runspec.StepEvent
	EpochEvent    = runspec.EpochEvent
	Options       = runspec.Options
	Result        = runspec.Result
	DivergedError = runspec.DivergedError
)

// Metric and summary keys (see runspec).
const (
	KeyLossCE2         = runspec.KeyLossCE2
	KeyLossCE3         = runspec.KeyLossCE3
	KeyLossCE4         = runspec.KeyLossCE4
	KeyLossKD          = runspec.KeyLossKD
	KeyLR              = runspec.KeyLR
	KeyAccS2           = runspec.KeyAccS2
	KeyAccS3           = runspec.KeyAccS3
	KeyAccS4           = runspec.KeyAccS4
	KeyAccEnsemble     = runspec.KeyAccEnsemble
	KeyParamsInference = runspec.KeyParamsInference
	KeyParamsExtra     = runspec.KeyParamsExtra
	KeyFLOPsInference  = runspec.KeyFLOPsInference
	KeyFLOPsExtra      = runspec.KeyFLOPsExtra
	KeyTrainSeconds    = runspec.KeyTrainSeconds
	KeyImagesPerSec    = runspec.KeyImagesPerSec
)

// The values of a Switch.
const (
	Unset = runspec.Unset
	On    = runspec.On
	Off   = runspec.Off
)

// ErrInterrupted: see runspec.
var ErrInterrupted = runspec.ErrInterrupted

// DefaultConfig: see runspec.
func DefaultConfig() Config { return runspec.DefaultConfig() }

// FlipKey: see runspec.
func FlipKey(flip, head string) string { return runspec.FlipKey(flip, head) }

// SwitchOf: see runspec.
func SwitchOf(b bool) Switch { return runspec.SwitchOf(b) }
