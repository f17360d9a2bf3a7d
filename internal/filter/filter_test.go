package filter

import (
	"context"
	"errors"
	"math"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/store"
)

var known = Known{
	Params:    union([]string{"profile", "steps", "temperature", "widths"}, ConfigParams()),
	Summaries: union([]string{"acc.S3", "acc.S4", "loss.final"}, SummaryKeys()),
}

// records are four runs to filter.
func records() []Record {
	arch := time.Unix(1700000000, 0)
	return []Record{
		{Run: store.Run{ID: 1, Study: "table9", Variant: "baseline", Seed: 1, Status: store.Finished, Attempts: 1, Provenance: store.Provenance{Host: "gpu1"}},
			Params:    map[string]string{"profile": "smoke", "temperature": "4", "steps": "0", "widths": "16,32"},
			Summaries: map[string]float64{"acc.S4": 61.25, "acc.S3": 55, "loss.final": math.NaN()},
			Marks:     store.Marks{Note: "LR too high; rerun", Tags: []string{"bad-lr", "keep"}},
			Studies:   []store.Membership{{Study: "table10", Variant: "sync"}, {Study: "table9", Variant: "baseline"}}},
		{Run: store.Run{ID: 2, Study: "table9", Variant: "two-step", Seed: 1, Status: store.Diverged, Error: "diverged: loss.kd is not finite"},
			Params: map[string]string{"profile": "smoke", "temperature": "4.0", "steps": "2"}},
		{Run: store.Run{ID: 3, Study: "table9", Variant: "three-step", Seed: 2, Status: store.Finished},
			Params:    map[string]string{"profile": "quick", "temperature": "2", "steps": "3"},
			Summaries: map[string]float64{"acc.S4": 58, "acc.S3": 57},
			Marks:     store.Marks{Archived: arch, Tags: []string{"paper"}}},
		{Run: store.Run{ID: 4, Study: "table8", Variant: "t=4", Seed: 1, Status: store.Running},
			Params: map[string]string{"profile": "smoke", "temperature": "4"}},
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		expr string
		want []int64
	}{
		{"", []int64{1, 2, 3, 4}},
		{"   ,, ", []int64{1, 2, 3, 4}},
		{"temperature=4", []int64{1, 2, 4}}, // "4.0" is 4
		{"temperature:4", []int64{1, 2, 4}},
		{"temperature!=4", []int64{3}},
		{"temperature>=3", []int64{1, 2, 4}},
		{"temperature<3", []int64{3}},
		{"acc.S4>60", []int64{1}},
		{"acc.S4>=58", []int64{1, 3}},
		{"acc.S4<60", []int64{3}},
		{"acc.S4<=61.25", []int64{1, 3}},
		{"acc.S4=58", []int64{3}},
		{"acc.S4!=58", []int64{1, 2, 4}}, // a run without it is "not 58"
		{"loss.final<1", nil},            // NaN compares false
		{"status:finished", []int64{1, 3}},
		{"status:failed|diverged", []int64{2}},
		{"status!=finished|running", []int64{2}},
		{"-status:finished", []int64{2, 4}},
		{"tag:keep", []int64{1}},
		{"tag:paper|keep", []int64{1, 3}},
		{"tag!=keep", []int64{2, 3, 4}},
		{"-tag:keep", []int64{2, 3, 4}},
		{"study:table10", []int64{1}}, // reused by table10
		{"study:table9", []int64{1, 2, 3}},
		{"variant:sync", []int64{1}},
		{"variant=t=4", []int64{4}},
		{"note~lr", []int64{1}},
		{`note~"too high"`, []int64{1}},
		{`note=""`, []int64{2, 3, 4}},
		{"note!~lr", []int64{2, 3, 4}},
		{"error~finite", []int64{2}},
		{"archived:true", []int64{3}},
		{"archived=no", []int64{1, 2, 4}},
		{"id>=2 id<4", []int64{2, 3}},
		{"id=1|3", []int64{1, 3}},
		{"seed=2", []int64{3}},
		{"host=gpu1", []int64{1}},
		{"profile=smoke temperature=4 status:finished", []int64{1}},
		{"profile=smoke, temperature=4,status:finished", []int64{1}},
		{"profile=smoke AND temperature=4 and status:finished", []int64{1}},
		{"profile~SMO", []int64{1, 2, 4}},
		{`widths="16,32"`, []int64{1}},
		{"steps>1", []int64{2, 3}},
		{"acc.S4 > 60", []int64{1}},
		{"acc.S4 >60, status : finished", []int64{1}},
		{`note ~ "too high"`, []int64{1}},
	}
	for _, tt := range tests {
		f, err := Parse(tt.expr, known)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.expr, err)
			continue
		}
		var got []int64
		for _, r := range records() {
			if f.Match(r) {
				got = append(got, r.Run.ID)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q (%s) selects %v, want %v", tt.expr, f, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"temprature=4", `"temprature=4": unknown field "temprature" (did you mean temperature?)`},
		{"s4>20", `unknown field "s4" (did you mean acc.S4`},
		{"acc.s4>60", `unknown field "acc.s4" (did you mean acc.S4?)`},
		{"stauts:finished", `(did you mean status?)`},
		{"tags:x", `(did you mean tag?)`},
		{"zzzzzzzz=1", `unknown field "zzzzzzzz": fields are run fields (archived, attempts,`},
		{"status:finised", `unknown status "finised" (did you mean finished?)`},
		{"status>finished", "status takes = or !="},
		{"acc.S4>high", `acc.S4 compares numbers; "high" is not one`},
		{"acc.S4~6", "acc.S4 is a number"},
		{"id~3", "id is a number"},
		{"study>t", "study is text"},
		{"temperature>warm", `temperature compares numbers; "warm" is not one`},
		{"archived:maybe", `archived is true or false, not "maybe"`},
		{"finished", `"finished": want field, operator and value`},
		{"status:finished OR status:failed", "terms are all ANDed"},
		{"tag:", `no value after ":"`},
		{"tag: status:finished", `"tag: status:finished": no value after ":"?`},
		{"acc.S4 >", `no value after ">"`},
		{"acc.S4 >, status:finished", `no value after ">"`},
		{"=4", "no field before"},
		{`note~"open`, "a quote is not closed"},
		{`note~"a"b`, "text after the closing quote"},
		{"status:finished|", "an empty alternative"},
		{`"note"=x`, "a field name cannot be quoted"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.expr, known)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q): %v, want an error with %q", tt.expr, err, tt.want)
		}
	}
	var uf *UnknownField
	if _, err := Parse("temprature=4", known); !errors.As(err, &uf) || uf.Field != "temprature" || uf.Suggest[0] != "temperature" {
		t.Errorf("errors.As UnknownField: %#v", uf)
	}
}

func TestString(t *testing.T) {
	f, err := ParseAll([]string{"temperature=4 acc.S4>60", `-tag:a|b note~"x y"`}, known)
	if err != nil {
		t.Fatal(err)
	}
	want := `temperature = 4 (param) AND acc.S4 > 60 (summary) AND NOT tag = a|b (run field) AND note ~ "x y" (run field)`
	if got := f.String(); got != want {
		t.Fatalf("String:\n %s\nwant\n %s", got, want)
	}
	if (&Filter{}).String() != "every run" || !(*Filter)(nil).Empty() {
		t.Fatal("empty filter")
	}
}

func TestCheckParam(t *testing.T) {
	if err := known.CheckParam("temperature"); err != nil {
		t.Fatal(err)
	}
	if err := known.CheckParam("temprature"); err == nil || !strings.Contains(err.Error(), `unknown param "temprature" (did you mean temperature?)`) {
		t.Fatalf("CheckParam: %v", err)
	}
	if err := (Known{}).CheckParam("x"); err == nil || !strings.Contains(err.Error(), "none yet") {
		t.Fatalf("CheckParam with none: %v", err)
	}
}

func TestSuggest(t *testing.T) {
	all := append(Columns(), known.Params...)
	all = append(all, known.Summaries...)
	for name, want := range map[string]string{
		"temprature": "temperature", "lamda1": "lambda1", "batchsize": "batch_size", "STATUS": "status",
		"S4": "acc.S4", "inference": "flops.inference",
	} {
		if got := Suggest(name, all); len(got) == 0 || got[0] != want {
			t.Errorf("Suggest(%q) = %v, want %s first", name, got, want)
		}
	}
	if got := Suggest("qqqqqqqq", all); len(got) != 0 {
		t.Errorf("Suggest of nonsense: %v", got)
	}
}

func TestConfigParamsAreTomlNames(t *testing.T) {
	ps := ConfigParams()
	for _, want := range []string{"temperature", "steps", "lambda1", "batch_size", "profile", "image_size"} {
		if !strings.Contains(" "+strings.Join(ps, " ")+" ", " "+want+" ") {
			t.Errorf("ConfigParams lacks %s: %v", want, ps)
		}
	}
}

// TestSelect runs the whole path on a store: known fields, archived
// runs hidden by default, the limit applied after the filter.
func TestSelect(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.PutStudy(ctx, store.Study{Name: "s", Spec: "x", SpecHash: "h"}); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i, temp := range []string{"4", "2", "4", "4"} {
		id, err := st.CreateRun(ctx, store.NewRun{Study: "s", Variant: "v", Seed: int64(i), Config: "{}", ConfigHash: temp + string(rune('a'+i)),
			Params: map[string]string{"temperature": temp}})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.StartRun(ctx, id, store.Provenance{Host: "h", PID: 1}); err != nil {
			t.Fatal(err)
		}
		if err := st.EndRun(ctx, id, store.End{Status: store.Finished, Summaries: map[string]float64{"acc.S4": float64(50 + 5*i)}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := st.Archive(ctx, []int64{ids[3]}, true); err != nil {
		t.Fatal(err)
	}
	k, err := KnownIn(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("temperature=4", k)
	if err != nil {
		t.Fatal(err)
	}
	sel, err := Select(ctx, st, store.RunFilter{}, f, HideArchived)
	if err != nil {
		t.Fatal(err)
	}
	if got := recIDs(sel.Records); !reflect.DeepEqual(got, []int64{1, 3}) || sel.Hidden != 1 || sel.Considered != 4 {
		t.Fatalf("hide archived: %v, hidden %d, considered %d", got, sel.Hidden, sel.Considered)
	}
	sel, _ = Select(ctx, st, store.RunFilter{}, f, WithArchived)
	if got := recIDs(sel.Records); !reflect.DeepEqual(got, []int64{1, 3, 4}) {
		t.Fatalf("with archived: %v", got)
	}
	sel, _ = Select(ctx, st, store.RunFilter{}, f, OnlyArchived)
	if got := recIDs(sel.Records); !reflect.DeepEqual(got, []int64{4}) {
		t.Fatalf("only archived: %v", got)
	}
	// The limit counts matching runs, the newest kept.
	sel, _ = Select(ctx, st, store.RunFilter{Limit: 1, Newest: true}, f, HideArchived)
	if got := recIDs(sel.Records); !reflect.DeepEqual(got, []int64{3}) {
		t.Fatalf("limit 1 newest: %v", got)
	}
	// No filter, archived runs too: the store applies the limit.
	sel, _ = Select(ctx, st, store.RunFilter{Limit: 2, Newest: true}, nil, WithArchived)
	if got := recIDs(sel.Records); !reflect.DeepEqual(got, []int64{3, 4}) {
		t.Fatalf("limit 2 newest, all runs: %v", got)
	}
	// Naming archived in the filter overrides the default.
	g, _ := Parse("archived:true", k)
	sel, _ = Select(ctx, st, store.RunFilter{}, g, HideArchived)
	if got := recIDs(sel.Records); !reflect.DeepEqual(got, []int64{4}) {
		t.Fatalf("archived:true: %v", got)
	}
	// The store's summary keys are known; a typo is refused.
	if _, err := Parse("acc.S4>=55", k); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse("temprature=4", k); err == nil {
		t.Fatal("typo accepted")
	}
}

func recIDs(rs []Record) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.Run.ID)
	}
	return out
}

// TestNoTrainer: the filter links neither the trainer nor cgo beyond
// SQLite, so the TUI can use it.
func TestNoTrainer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{if .CgoFiles}}cgo{{end}}",
		"github.com/mksmt/workbench/internal/filter").CombinedOutput()
	if err != nil {
		t.Skipf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, bad := range []string{"internal/train", "internal/nets", "internal/ops", "internal/runner", "gorgonia.org/"} {
			if strings.Contains(f[0], bad) {
				t.Errorf("internal/filter links %s", f[0])
			}
		}
		if len(f) > 1 && f[1] == "cgo" && f[0] != "runtime/cgo" && f[0] != "github.com/mattn/go-sqlite3" && f[0] != "net" && f[0] != "os/user" {
			t.Errorf("internal/filter links cgo: %s", f[0])
		}
	}
}
