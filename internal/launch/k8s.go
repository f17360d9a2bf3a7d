package launch

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Kubernetes is an Indexed Job of workers.
type Kubernetes struct {
	Workers
	Name  string // the Job's name
	Image string // a container image with the workbench binary as its entrypoint
	// Secret holds the database URL under key "url" (default workbench-db).
	Secret string
	// Claim is the PersistentVolumeClaim mounted at Artifacts, shared by
	// every pod (ReadWriteMany; default workbench-artifacts).
	Claim string
	CPU   string // cpu request per worker (default "2")
	// BackoffPerIndex is how often a failed pod of an index is retried
	// (default 3); runs are retried by the store, so this only covers
	// pods that die before claiming.
	BackoffPerIndex int
	// GracePeriod before SIGKILL after SIGTERM (eviction): time for a
	// checkpoint (default 120 s).
	GracePeriod int
}

// The manifest's types: the fields of batch/v1 Job this package writes.
type (
	k8sJob struct {
		APIVersion string  `json:"apiVersion"`
		Kind       string  `json:"kind"`
		Metadata   k8sMeta `json:"metadata"`
		Spec       k8sSpec `json:"spec"`
	}
	k8sMeta struct {
		Name   string            `json:"name,omitempty"`
		Labels map[string]string `json:"labels,omitempty"`
	}
	k8sSpec struct {
		CompletionMode       string      `json:"completionMode"`
		Completions          int         `json:"completions"`
		Parallelism          int         `json:"parallelism"`
		BackoffLimitPerIndex int         `json:"backoffLimitPerIndex"`
		MaxFailedIndexes     int         `json:"maxFailedIndexes"`
		Template             k8sTemplate `json:"template"`
	}
	k8sTemplate struct {
		Metadata k8sMeta `json:"metadata"`
		Spec     k8sPod  `json:"spec"`
	}
	k8sPod struct {
		RestartPolicy                 string         `json:"restartPolicy"`
		TerminationGracePeriodSeconds int            `json:"terminationGracePeriodSeconds"`
		Containers                    []k8sContainer `json:"containers"`
		Volumes                       []k8sVolume    `json:"volumes"`
	}
	k8sContainer struct {
		Name         string       `json:"name"`
		Image        string       `json:"image"`
		Args         []string     `json:"args"`
		WorkingDir   string       `json:"workingDir,omitempty"`
		Env          []k8sEnv     `json:"env"`
		Resources    k8sResources `json:"resources"`
		VolumeMounts []k8sMount   `json:"volumeMounts"`
	}
	k8sEnv struct {
		Name      string        `json:"name"`
		ValueFrom *k8sValueFrom `json:"valueFrom,omitempty"`
	}
	k8sValueFrom struct {
		SecretKeyRef k8sSecretKey `json:"secretKeyRef"`
	}
	k8sSecretKey struct {
		Name string `json:"name"`
		Key  string `json:"key"`
	}
	k8sResources struct {
		Requests map[string]string `json:"requests"`
	}
	k8sMount struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
	}
	k8sVolume struct {
		Name                  string      `json:"name"`
		PersistentVolumeClaim k8sClaimRef `json:"persistentVolumeClaim"`
	}
	k8sClaimRef struct {
		ClaimName string `json:"claimName"`
	}
)

// Manifest is the Job as JSON (which kubectl apply -f reads, and which is
// also YAML): Count completions, Parallel at once, the database URL from a
// Secret, the artifacts on a shared volume.
func (k Kubernetes) Manifest() ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	if k.Image == "" {
		return nil, fmt.Errorf("--image is required: a container image whose entrypoint is the workbench binary")
	}
	name := k.Name
	if name == "" {
		name = "workbench"
	}
	if strings.ToLower(name) != name || strings.ContainsAny(name, " _/") {
		return nil, fmt.Errorf("job name %q: Kubernetes names are lower case letters, digits and '-'", name)
	}
	def := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	parallel := k.Parallel
	if parallel <= 0 {
		parallel = k.Count
	}
	backoff := k.BackoffPerIndex
	if backoff <= 0 {
		backoff = 3
	}
	grace := k.GracePeriod
	if grace <= 0 {
		grace = 120
	}
	labels := map[string]string{"app.kubernetes.io/name": "workbench-worker", "workbench/job": name}
	job := k8sJob{
		APIVersion: "batch/v1", Kind: "Job",
		Metadata: k8sMeta{Name: name, Labels: labels},
		Spec: k8sSpec{
			CompletionMode: "Indexed", Completions: k.Count, Parallelism: parallel,
			BackoffLimitPerIndex: backoff, MaxFailedIndexes: k.Count,
			Template: k8sTemplate{
				Metadata: k8sMeta{Labels: labels},
				Spec: k8sPod{
					RestartPolicy: "Never", TerminationGracePeriodSeconds: grace,
					Containers: []k8sContainer{{
						Name: "worker", Image: k.Image, Args: k.args(), WorkingDir: k.Workdir,
						Env:          []k8sEnv{{Name: EnvDB, ValueFrom: &k8sValueFrom{SecretKeyRef: k8sSecretKey{Name: def(k.Secret, "workbench-db"), Key: "url"}}}},
						Resources:    k8sResources{Requests: map[string]string{"cpu": def(k.CPU, "2")}},
						VolumeMounts: []k8sMount{{Name: "artifacts", MountPath: k.Artifacts}},
					}},
					Volumes: []k8sVolume{{Name: "artifacts", PersistentVolumeClaim: k8sClaimRef{ClaimName: def(k.Claim, "workbench-artifacts")}}},
				},
			},
		},
	}
	b, err := json.MarshalIndent(job, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
